import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * One mutual-TLS handshake between a JSSE server and a JSSE client, each
 * loading its keystore and truststore from files, as Kafka does.
 *
 * <pre>
 * java -cp CLASSES MutualTLS --server-keystore F --server-truststore F
 *     --client-keystore F --client-truststore F --type JKS|PKCS12
 *     [--client-type T] --password P [--client-password P] [--host localhost]
 * </pre>
 *
 * The server listens on 127.0.0.1 (ephemeral port) and requires a client
 * certificate. The client always connects to 127.0.0.1 but verifies the
 * server certificate against --host (endpoint identification "HTTPS", as
 * Kafka's default ssl.endpoint.identification.algorithm=https).
 *
 * Success: prints "PRINCIPAL <X500Principal.getName() of the client cert>"
 * and "PROTOCOL <negotiated protocol>", exit 0. Failure: prints
 * "FAIL <exception class>: <message>" (the side that detected the problem),
 * details on stderr, exit 1.
 */
public final class MutualTLS {
    private static final int TIMEOUT_MS = 20_000;

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (Throwable t) {
            fail(t);
            System.exit(1);
        }
    }

    private static int run(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        String type = require(opt, "--type");
        String password = require(opt, "--password");
        String clientType = opt.getOrDefault("--client-type", type);
        String clientPassword = opt.getOrDefault("--client-password", password);
        String host = opt.getOrDefault("--host", "localhost");

        SSLContext serverCtx = context(require(opt, "--server-keystore"), require(opt, "--server-truststore"), type, password);
        SSLContext clientCtx = context(require(opt, "--client-keystore"), require(opt, "--client-truststore"), clientType, clientPassword);

        SSLServerSocket server = (SSLServerSocket) serverCtx.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        server.setNeedClientAuth(true);
        server.setSoTimeout(TIMEOUT_MS);
        int port = server.getLocalPort();

        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mtls-server");
            t.setDaemon(true);
            return t;
        });
        Future<String[]> serverResult = pool.submit(() -> {
            try (SSLSocket s = (SSLSocket) server.accept()) {
                s.setSoTimeout(TIMEOUT_MS);
                s.startHandshake();
                InputStream in = s.getInputStream();
                int b = in.read();
                if (b != 'Q') {
                    throw new IllegalStateException("server expected byte 'Q', read " + b);
                }
                OutputStream out = s.getOutputStream();
                out.write('A');
                out.flush();
                Certificate[] peer = s.getSession().getPeerCertificates();
                String principal = ((X509Certificate) peer[0]).getSubjectX500Principal().getName();
                return new String[] {principal, s.getSession().getProtocol()};
            } finally {
                server.close();
            }
        });

        Throwable clientErr = null;
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), TIMEOUT_MS);
            plain.setSoTimeout(TIMEOUT_MS);
            // The host given here is the one the certificate is checked against.
            try (SSLSocket c = (SSLSocket) clientCtx.getSocketFactory().createSocket(plain, host, port, true)) {
                SSLParameters params = c.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                c.setSSLParameters(params);
                c.startHandshake();
                OutputStream out = c.getOutputStream();
                out.write('Q');
                out.flush();
                int b = c.getInputStream().read();
                if (b != 'A') {
                    throw new IllegalStateException("client expected byte 'A', read " + b);
                }
            }
        } catch (Throwable t) {
            clientErr = t;
        }

        Throwable serverErr = null;
        String[] result = null;
        try {
            result = serverResult.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            serverErr = e.getCause();
        } catch (Throwable t) {
            serverErr = t;
        } finally {
            server.close();
            pool.shutdownNow();
        }

        if (serverErr != null || clientErr != null) {
            if (serverErr != null) {
                System.err.println("server: " + describe(serverErr));
            }
            if (clientErr != null) {
                System.err.println("client: " + describe(clientErr));
            }
            fail(origin(serverErr, clientErr));
            return 1;
        }
        System.out.println("PRINCIPAL " + result[0]);
        System.out.println("PROTOCOL " + result[1]);
        return 0;
    }

    /** The error of the side that detected the problem, not the side told about it by an alert. */
    private static Throwable origin(Throwable serverErr, Throwable clientErr) {
        if (serverErr == null) {
            return clientErr;
        }
        if (clientErr == null) {
            return serverErr;
        }
        if (isRemoteAlert(serverErr) && !isRemoteAlert(clientErr)) {
            return clientErr;
        }
        return serverErr;
    }

    private static boolean isRemoteAlert(Throwable t) {
        String m = String.valueOf(t.getMessage());
        return m.startsWith("Received fatal alert") || t instanceof java.net.SocketException
                || t instanceof java.io.EOFException;
    }

    private static SSLContext context(String keystore, String truststore, String type, String password) throws Exception {
        char[] pw = password.toCharArray();
        KeyStore ks = load(keystore, type, pw);
        KeyStore ts = load(truststore, type, pw);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    private static KeyStore load(String path, String type, char[] password) throws Exception {
        KeyStore ks = KeyStore.getInstance(type);
        try (FileInputStream in = new FileInputStream(path)) {
            ks.load(in, password);
        }
        return ks;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--server-keystore": case "--server-truststore": case "--client-keystore":
                case "--client-truststore": case "--type": case "--client-type": case "--password":
                case "--client-password": case "--host":
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    opt.put(a, args[++i]);
                    break;
                default:
                    throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        return opt;
    }

    private static String require(Map<String, String> opt, String name) {
        String v = opt.get(name);
        if (v == null) {
            throw new IllegalArgumentException(name + " is required");
        }
        return v;
    }

    private static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.getClass().getName() + ": " + t.getMessage());
        for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            sb.append(" <- ").append(c.getClass().getName()).append(": ").append(c.getMessage());
        }
        return sb.toString();
    }

    private static void fail(Throwable t) {
        System.out.println("FAIL " + t.getClass().getName() + ": " + t.getMessage());
        System.out.flush();
    }
}
