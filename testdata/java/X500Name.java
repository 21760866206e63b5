import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;

/**
 * Real-peer oracle for kafkatls' DN code (package pki).
 *
 * <pre>
 * java -cp C X500Name HEX...
 *     one line per argument: new X500Principal(hexDecode(arg)).getName(),
 *     the string Kafka and ZooKeeper use as the principal.
 * java -cp C X500Name -x HEX...
 *     the same, but each line is the hex of the UTF-8 bytes of getName(),
 *     so values holding CR, LF or other control characters survive.
 * java -cp C X500Name -regex [PATTERN REPLACEMENT CASE N INPUT1..INPUTN]...
 *     for each input: if Pattern.matches(PATTERN, input), the hex of the
 *     UTF-8 of input.replaceAll(PATTERN, REPLACEMENT), lowered (CASE "L") or
 *     uppercased (CASE "U") with Locale.ENGLISH; "NOMATCH" otherwise.
 *     These are the java.util.regex and String primitives Kafka's
 *     ssl.principal.mapping.rules apply once a rule is parsed.
 * </pre>
 *
 * A failure prints "ERROR " and the exception (class: message) on that line.
 */
public class X500Name {
    public static void main(String[] args) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        if (args.length > 0 && args[0].equals("-regex")) {
            regex(out, args);
            return;
        }
        boolean hexOut = args.length > 0 && args[0].equals("-x");
        for (int i = hexOut ? 1 : 0; i < args.length; i++) {
            String line;
            try {
                String name = new X500Principal(unhex(args[i])).getName();
                line = hexOut ? hex(name) : name;
            } catch (Exception e) {
                line = "ERROR " + e.getClass().getName() + ": " + e.getMessage();
            }
            out.println(line);
        }
        out.flush();
    }

    private static void regex(PrintStream out, String[] args) {
        int i = 1;
        while (i + 3 < args.length) {
            String pattern = args[i], replacement = args[i + 1], caseFlag = args[i + 2];
            int n = Integer.parseInt(args[i + 3]);
            i += 4;
            for (int k = 0; k < n; k++, i++) {
                String input = args[i];
                String line;
                try {
                    if (!Pattern.compile(pattern).matcher(input).matches()) {
                        line = "NOMATCH";
                    } else {
                        String r = input.replaceAll(pattern, replacement);
                        if (caseFlag.equals("L")) {
                            r = r.toLowerCase(Locale.ENGLISH);
                        } else if (caseFlag.equals("U")) {
                            r = r.toUpperCase(Locale.ENGLISH);
                        }
                        line = hex(r);
                    }
                } catch (Exception e) {
                    line = "ERROR " + e.getClass().getName() + ": " + String.valueOf(e.getMessage()).replace('\n', ' ');
                }
                out.println(line);
            }
        }
        out.flush();
    }

    private static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            b.append(String.format("%02x", x & 0xff));
        }
        return b.toString();
    }

    private static byte[] unhex(String s) {
        if (s.length() % 2 != 0) {
            throw new IllegalArgumentException("odd hex length");
        }
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }
}
