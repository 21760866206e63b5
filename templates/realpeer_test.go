package templates_test

// Real-peer checks: the rendered files as their real consumers read them.
//   - java: java.util.Properties.load on every .properties file and zoo.cfg
//     (and on the loader fixture, pinning the Go test parser to Java).
//   - ZooKeeper 3.8 (Debian's zookeeper.jar): QuorumPeerConfig.parse on zoo.cfg.
//   - kcat: kcat -F kcat.conf -X dump.
//   - node: require() of kafkajs-ssl.js against real files.
// A missing tool skips the test (fails it under CI=true, see realpeer);
// -short skips them all.

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/internal/realpeer"
	"github.com/kafkatls/kafkatls/templates"
)

// propsDumpJava prints, per file, "F <hex path>" and then "<hex key> <hex
// value>" for every property as java.util.Properties.load(InputStream)
// read it (UTF-8 hex, "x" prefix so empty strings are visible).
const propsDumpJava = `
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class PropsDump {
    static String hex(String s) {
        StringBuilder b = new StringBuilder("x");
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x & 0xff));
        return b.toString();
    }
    public static void main(String[] args) throws Exception {
        for (String f : args) {
            Properties p = new Properties();
            try (InputStream in = new FileInputStream(f)) { p.load(in); }
            System.out.println("F " + hex(f));
            for (String k : new TreeSet<>(p.stringPropertyNames())) System.out.println(hex(k) + " " + hex(p.getProperty(k)));
        }
    }
}
`

// zkCfgJava parses each zoo.cfg with ZooKeeper's own QuorumPeerConfig and
// prints what ZooKeeper ends up with: the secure client port, sslQuorum and
// the zookeeper.* system properties it sets for the TLS keys.
const zkCfgJava = `
import java.nio.charset.StandardCharsets;
import java.util.*;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;

public class ZkCfg {
    static String hex(String s) {
        StringBuilder b = new StringBuilder("x");
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x & 0xff));
        return b.toString();
    }
    public static void main(String[] args) throws Exception {
        for (String f : args) {
            for (String k : System.getProperties().stringPropertyNames())
                if (k.startsWith("zookeeper.")) System.clearProperty(k);
            QuorumPeerConfig c = new QuorumPeerConfig();
            c.parse(f);
            System.out.println("F " + hex(f));
            System.out.println(hex("secureClientPort") + " " + hex(String.valueOf(c.getSecureClientPortAddress().getPort())));
            System.out.println(hex("sslQuorum") + " " + hex(String.valueOf(c.isSslQuorum())));
            for (String k : new TreeSet<>(System.getProperties().stringPropertyNames()))
                if (k.startsWith("zookeeper.")) System.out.println(hex(k) + " " + hex(System.getProperty(k)));
        }
    }
}
`

// runDump runs a single-file Java program (JDK 11+ source launcher) and
// parses its "F"/pair output into path -> key -> value.
func runDump(t *testing.T, classpath, source, class string, files []string) map[string]map[string]string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, class+".java")
	if err := os.WriteFile(src, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{}
	if classpath != "" {
		args = append(args, "-cp", classpath)
	}
	args = append(args, src)
	args = append(args, files...)
	cmd := exec.Command("java", args...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("java %s: %v\n%s", class, err, stderr)
	}
	unhex := func(s string) string {
		b, err := hex.DecodeString(strings.TrimPrefix(s, "x"))
		if err != nil || !strings.HasPrefix(s, "x") {
			t.Fatalf("bad %s output token %q", class, s)
		}
		return string(b)
	}
	res := map[string]map[string]string{}
	var cur map[string]string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		a, b, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			t.Fatalf("bad %s output line %q", class, sc.Text())
		}
		if a == "F" {
			cur = map[string]string{}
			res[unhex(b)] = cur
			continue
		}
		cur[unhex(a)] = unhex(b)
	}
	return res
}

// trickyCases is every golden case with every tricky password, Windows-ish
// paths full of Properties metacharacters and a DN with escaped commas.
func trickyCases() []renderCase {
	var out []renderCase
	for _, pw := range trickyPasswords {
		for _, c := range goldenCases() {
			d := c.d
			d.Password = pw
			d.Files = filesIn(`C:\Kafka Secrets\#1 !dir=x:y\` + d.Name)
			if d.Role == "broker" || d.Role == "controller" {
				d.Principal = trickyPrincipal
				d.SuperUsers = []string{trickyPrincipal, `User:CN=Müller\+Co\=X,O=ACME\, Inc.`}
			}
			out = append(out, renderCase{c.dir + " password " + strconv.Quote(pw), d})
		}
	}
	return out
}

func TestJavaPropertiesPeer(t *testing.T) {
	skipShort(t)
	realpeer.Need(t, "java")
	dir := t.TempDir()
	want := map[string]map[string]string{}
	var files []string
	add := func(data []byte) {
		path := filepath.Join(dir, fmt.Sprintf("f%04d.properties", len(files)))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ps, err := loadProperties(data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		m := map[string]string{}
		for _, p := range ps {
			m[p.Key] = p.Value // last wins, as in Java
		}
		want[path] = m
		files = append(files, path)
	}
	for _, c := range append(goldenCases(), trickyCases()...) {
		out := render(t, c.d)
		for _, name := range sortedNames(out) {
			if isProperties(name) {
				add(out[name])
			}
		}
	}
	// connect-mirror-maker.properties with every tricky password.
	for _, pw := range append([]string{goldenPassword}, trickyPasswords...) {
		d := mirrorMakerData()
		for i, st := range d.Source.Settings {
			if strings.HasSuffix(st.Key, ".password") {
				d.Source.Settings[i].Value = pw
			}
		}
		out, err := templates.RenderMirrorMaker(d)
		if err != nil {
			t.Fatal(err)
		}
		add(out)
	}
	add([]byte(loaderFixture))
	// The escapers on awkward strings, as keys and as values.
	var b strings.Builder
	samples := append(slices.Clone(trickyPasswords), " lead", "trail ", "\ttab", "\\", "é€😀", "\x00\x01\x7f",
		"a\nb\rc\fd", trickyPrincipal, `C:\Program Files\Kafka`)
	for i, s := range samples {
		fmt.Fprintf(&b, "v%d=%s\n%s=k%d\n", i, templates.PropertiesValue(s), templates.PropertiesKey(s), i)
	}
	add([]byte(b.String()))

	got := runDump(t, "", propsDumpJava, "PropsDump", files)
	for _, f := range files {
		if !mapsEqual(got[f], want[f]) {
			t.Errorf("%s: java.util.Properties and the Go loader differ\njava: %q\ngo:   %q\nfile:\n%s", f, got[f], want[f], readFile(t, f))
		}
	}
	// And the escapers' samples came back exactly.
	last := got[files[len(files)-1]]
	for i, s := range samples {
		if v := last["v"+strconv.Itoa(i)]; v != s {
			t.Errorf("java loaded PropertiesValue(%q) as %q", s, v)
		}
		if k := last[s]; k != "k"+strconv.Itoa(i) {
			t.Errorf("java did not load PropertiesKey(%q) as the key (got value %q)", s, k)
		}
	}
}

func TestZooKeeperPeer(t *testing.T) {
	skipShort(t)
	realpeer.Need(t, "java")
	jars := []string{"/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-api.jar"}
	for _, j := range jars {
		if _, err := os.Stat(j); err != nil {
			msg := "real peer ZooKeeper: " + j + " not found (Debian package zookeeper)"
			if realpeer.InCI() {
				t.Fatal(msg + "; CI=true requires it")
			}
			t.Skip(msg)
		}
	}
	if _, err := os.Stat("/usr/share/java/slf4j-nop.jar"); err == nil {
		jars = append(jars, "/usr/share/java/slf4j-nop.jar")
	}
	dir := t.TempDir()
	type zkCase struct {
		d      templates.Data
		parsed map[string]string // the Go loader's view of zoo.cfg
	}
	cases := map[string]zkCase{}
	var files []string
	for _, c := range append(goldenCases(), trickyCases()...) {
		out := render(t, c.d)
		cfg, ok := out["zoo.cfg"]
		if !ok {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("zoo%03d.cfg", len(files)))
		// zoo.cfg is a snippet: a real one also has dataDir.
		full := append(append([]byte{}, cfg...), []byte("dataDir="+templates.PropertiesValue(filepath.Join(dir, "data"))+"\n")...)
		if err := os.WriteFile(path, full, 0o644); err != nil {
			t.Fatal(err)
		}
		cases[path] = zkCase{c.d, mustProps(t, c.dir+"/zoo.cfg", cfg)}
		files = append(files, path)
	}
	// Why Render refuses passwords with surrounding white space: ZooKeeper
	// trims every zoo.cfg value, escaped or not.
	trim := filepath.Join(dir, "trim.cfg")
	os.WriteFile(trim, []byte("secureClientPort=2182\ndataDir=/tmp/x\nssl.keyStore.password="+templates.PropertiesValue(" padded ")+"\n"), 0o644)
	files = append(files, trim)

	got := runDump(t, strings.Join(jars, string(os.PathListSeparator)), zkCfgJava, "ZkCfg", files)
	if v := got[trim]["zookeeper.ssl.keyStore.password"]; v != "padded" {
		t.Errorf("ZooKeeper read an escaped padded password as %q; the white-space rule in Render may be stale", v)
	}
	for _, path := range files[:len(files)-1] {
		c, zk := cases[path], got[path]
		if zk == nil {
			t.Fatalf("%s: no ZooKeeper output", path)
		}
		if zk["secureClientPort"] != "2182" || zk["sslQuorum"] != "true" {
			t.Errorf("%s: ZooKeeper secureClientPort=%q sslQuorum=%q", path, zk["secureClientPort"], zk["sslQuorum"])
		}
		for k, v := range c.parsed {
			if k == "secureClientPort" || k == "sslQuorum" {
				continue
			}
			if zk["zookeeper."+k] != v {
				t.Errorf("%s: ZooKeeper has zookeeper.%s=%q, want %q", path, k, zk["zookeeper."+k], v)
			}
		}
		stores := expectedStores(c.d)
		if stores.typ != "PEM" {
			for _, k := range []string{"ssl.keyStore.password", "ssl.trustStore.password", "ssl.quorum.keyStore.password", "ssl.quorum.trustStore.password"} {
				if zk["zookeeper."+k] != c.d.Password {
					t.Errorf("%s: ZooKeeper has zookeeper.%s=%q, want %q", path, k, zk["zookeeper."+k], c.d.Password)
				}
			}
		}
		if zk["zookeeper.ssl.keyStore.location"] != stores.keystore {
			t.Errorf("%s: ZooKeeper keystore %q, want %q", path, zk["zookeeper.ssl.keyStore.location"], stores.keystore)
		}
	}
}

func TestKcatPeer(t *testing.T) {
	skipShort(t)
	realpeer.Need(t, "kcat")
	dir := t.TempDir()
	n := 0
	for _, c := range append(goldenCases(), trickyCases()...) {
		data, ok := render(t, c.d)["kcat.conf"]
		if !ok {
			continue
		}
		n++
		path := filepath.Join(dir, fmt.Sprintf("kcat%03d.conf", n))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("kcat", "-F", path, "-X", "dump").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: kcat -F kcat.conf -X dump: %v\n%s\nkcat.conf:\n%s", c.dir, err, out, data)
		}
		dump := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(line, " = "); ok {
				dump[k] = v
			}
		}
		d := c.d
		// kcat's dump names bootstrap.servers metadata.broker.list and
		// shows certificate verification on.
		want := kcatWant(d)
		if b, ok := want["bootstrap.servers"]; ok {
			delete(want, "bootstrap.servers")
			want["metadata.broker.list"] = b
		}
		want["enable.ssl.certificate.verification"] = "true"
		for k, v := range want {
			if dump[k] != v {
				t.Errorf("%s: kcat has %s = %q, want %q", c.dir, k, dump[k], v)
			}
		}
		for _, k := range []string{"ssl.truststore.location", "ssl.keystore.location", "ssl.key.password"} {
			if _, wanted := want[k]; !wanted && dump[k] != "" {
				t.Errorf("%s: kcat has unexpected %s = %q", c.dir, k, dump[k])
			}
		}
	}
	if n == 0 {
		t.Fatal("no kcat.conf rendered")
	}
}

func TestNodeKafkaJSPeer(t *testing.T) {
	skipShort(t)
	realpeer.Need(t, "node")
	// A directory name JavaScript string literals must escape.
	dir := filepath.Join(t.TempDir(), `it's "quoted" \ ${x} é`)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f := filesIn(dir)
	contents := map[string]string{f.CAPEM: "CA PEM\n", f.ChainPEM: "LEAF+CA PEM\n", f.KeyPEM: "KEY PEM\n"}
	for p, s := range contents {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, encrypted := range []bool{false, true} {
		for _, pw := range []string{goldenPassword, `a\b#c!d=e:f g`, `"quote' ${x} \u2028`} {
			d := goldenCases()[4].d // client pem-only
			d.Files, d.KeyPEMEncrypted, d.Password = f, encrypted, pw
			out, err := templates.Render(d)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			js := filepath.Join(t.TempDir(), "kafkajs-ssl.js")
			if err := os.WriteFile(js, out["kafkajs-ssl.js"], 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := exec.Command("node", "-e", "process.stdout.write(JSON.stringify(require(process.argv[1])))", js).CombinedOutput()
			if err != nil {
				t.Fatalf("node: %v\n%s\n%s", err, res, out["kafkajs-ssl.js"])
			}
			var got struct {
				RejectUnauthorized *bool    `json:"rejectUnauthorized"`
				CA                 []string `json:"ca"`
				Cert, Key          string
				Passphrase         *string `json:"passphrase"`
			}
			if err := json.Unmarshal(res, &got); err != nil {
				t.Fatalf("%v: %s", err, res)
			}
			if got.RejectUnauthorized == nil || !*got.RejectUnauthorized {
				t.Error("rejectUnauthorized is not true")
			}
			if !slices.Equal(got.CA, []string{contents[f.CAPEM]}) || got.Cert != contents[f.ChainPEM] || got.Key != contents[f.KeyPEM] {
				t.Errorf("node read ca=%q cert=%q key=%q", got.CA, got.Cert, got.Key)
			}
			switch {
			case encrypted && (got.Passphrase == nil || *got.Passphrase != pw):
				t.Errorf("passphrase %v, want %q", got.Passphrase, pw)
			case !encrypted && got.Passphrase != nil:
				t.Errorf("unexpected passphrase %q", *got.Passphrase)
			}
		}
	}
}

// skipShort skips real-peer tests under -short (make test-short runs no
// external processes).
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("real peer: skipped with -short")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
