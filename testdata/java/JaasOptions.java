import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StreamTokenizer;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * Loads a .properties file with java.util.Properties and parses the value of
 * one key as a JAAS configuration line with java.io.StreamTokenizer set up
 * as Kafka's org.apache.kafka.common.security.JaasConfig sets it up, then
 * prints the login module, the control flag and each option as
 * "name<TAB>hex(UTF-8 value)". Used by the sasl package's tests to check
 * kafkatls' JAAS quoting inside .properties escaping with the JDK's own
 * readers.
 *
 * Usage: java JaasOptions FILE KEY
 */
public class JaasOptions {
    public static void main(String[] args) throws IOException {
        Properties props = new Properties();
        try (InputStream in = new FileInputStream(args[0])) {
            props.load(in);
        }
        String jaas = props.getProperty(args[1]);
        if (jaas == null) {
            System.err.println("no " + args[1]);
            System.exit(2);
        }
        StreamTokenizer t = new StreamTokenizer(new StringReader(jaas));
        t.slashSlashComments(true);
        t.slashStarComments(true);
        t.wordChars('-', '-');
        t.wordChars('_', '_');
        t.wordChars('$', '$');
        t.wordChars('{', '{');
        t.wordChars('}', '}');
        if (t.nextToken() != StreamTokenizer.TT_WORD) fail("login module");
        System.out.println("module\t" + hex(t.sval));
        if (t.nextToken() != StreamTokenizer.TT_WORD) fail("control flag");
        System.out.println("flag\t" + hex(t.sval));
        while (t.nextToken() != ';') {
            if (t.ttype != StreamTokenizer.TT_WORD) fail("option name");
            String key = t.sval;
            if (t.nextToken() != '=') fail("= after " + key);
            if (t.nextToken() == StreamTokenizer.TT_EOF || t.sval == null) fail("value of " + key);
            System.out.println(key + "\t" + hex(t.sval));
        }
        if (t.nextToken() != StreamTokenizer.TT_EOF) fail("end after ;");
    }

    static void fail(String what) {
        System.err.println("JAAS syntax: expected " + what);
        System.exit(3);
    }

    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x));
        return b.toString();
    }
}
