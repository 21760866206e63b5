import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A JSSE client for the kafkatls tests: loads a keystore and truststore the
 * way a Kafka Java client does, connects to 127.0.0.1:PORT verifying the
 * broker certificate against --host (endpoint identification HTTPS), and
 * sends a Kafka ApiVersions v0 request. Prints "OK <protocol> <apiCount>"
 * and exits 0, or "FAIL <exception>" and exits 1.
 *
 * Usage: KafkaTLSClient --port P --host NAME --keystore F --truststore F --type JKS|PKCS12 --password P
 */
public class KafkaTLSClient {
    public static void main(String[] args) {
        String port = null, host = "localhost", ks = null, ts = null, type = "PKCS12", pw = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--port": port = args[i + 1]; break;
                case "--host": host = args[i + 1]; break;
                case "--keystore": ks = args[i + 1]; break;
                case "--truststore": ts = args[i + 1]; break;
                case "--type": type = args[i + 1]; break;
                case "--password": pw = args[i + 1]; break;
                default: System.out.println("FAIL usage: unknown flag " + args[i]); System.exit(2);
            }
        }
        try {
            char[] pass = pw.toCharArray();
            KeyStore keys = KeyStore.getInstance(type);
            try (FileInputStream in = new FileInputStream(ks)) { keys.load(in, pass); }
            KeyStore trust = KeyStore.getInstance(type);
            try (FileInputStream in = new FileInputStream(ts)) { trust.load(in, pass); }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, pass);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

            java.net.Socket raw = new java.net.Socket("127.0.0.1", Integer.parseInt(port));
            raw.setSoTimeout(15000);
            SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, host, Integer.parseInt(port), true);
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            s.startHandshake();

            byte[] clientId = "kafkatls-java".getBytes(StandardCharsets.UTF_8);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(2 + 2 + 4 + 2 + clientId.length);
            out.writeShort(18); // ApiVersions
            out.writeShort(0);  // v0
            out.writeInt(42);   // correlation id
            out.writeShort(clientId.length);
            out.write(clientId);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            int size = in.readInt();
            int corr = in.readInt();
            short err = in.readShort();
            int apis = in.readInt();
            if (corr != 42 || err != 0 || size < 10) {
                System.out.println("FAIL bad ApiVersions response: correlation " + corr + " error " + err);
                System.exit(1);
            }
            System.out.println("OK " + s.getSession().getProtocol() + " " + apis);
            s.close();
        } catch (Exception e) {
            System.out.println("FAIL " + e.getClass().getName() + ": " + e.getMessage());
            System.exit(1);
        }
    }
}
