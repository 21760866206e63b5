package realpeer

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// HandshakeStores names the store files and settings for JavaHandshake.
// Type applies to the server stores and, unless ClientType is set, to the
// client stores too; likewise Password and ClientPassword. Host is the name
// the client verifies the server certificate against (default "localhost");
// the client always connects to 127.0.0.1.
type HandshakeStores struct {
	ServerKeystore, ServerTruststore string
	ClientKeystore, ClientTruststore string
	Type, ClientType                 string
	Password, ClientPassword         string
	Host                             string
}

// javaHandshakeTimeout bounds one run of MutualTLS (JVM start included); the
// program itself gives up on sockets after 20 s.
const javaHandshakeTimeout = 90 * time.Second

// JavaHandshake runs testdata/java/MutualTLS.java: a JSSE server with
// needClientAuth and a JSSE client with hostname verification (HTTPS), each
// loading its stores from the files in s. It returns the client principal as
// the Java server saw it (X500Principal.getName(), what Kafka turns into
// User:<DN>); err (with the program output) if the handshake failed. Missing
// java/javac skip the test (fail it under CI).
func JavaHandshake(t testing.TB, s HandshakeStores) (principal string, err error) {
	t.Helper()
	classes := JavaClasses(t)
	args := []string{"-cp", classes, "MutualTLS",
		"--server-keystore", s.ServerKeystore,
		"--server-truststore", s.ServerTruststore,
		"--client-keystore", s.ClientKeystore,
		"--client-truststore", s.ClientTruststore,
		"--type", s.Type,
		"--password", s.Password,
	}
	if s.ClientType != "" {
		args = append(args, "--client-type", s.ClientType)
	}
	if s.ClientPassword != "" {
		args = append(args, "--client-password", s.ClientPassword)
	}
	if s.Host != "" {
		args = append(args, "--host", s.Host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), javaHandshakeTimeout)
	defer cancel()
	out, runErr := exec.CommandContext(ctx, "java", args...).CombinedOutput()
	if ctx.Err() != nil {
		return "", fmt.Errorf("java MutualTLS: timed out after %v\n%s", javaHandshakeTimeout, out)
	}
	if runErr != nil {
		return "", fmt.Errorf("java MutualTLS: %v\n%s", runErr, out)
	}
	var protocol string
	found := false
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimRight(line, "\r")
		if p, ok := strings.CutPrefix(line, "PRINCIPAL "); ok {
			principal, found = p, true
		}
		if p, ok := strings.CutPrefix(line, "PROTOCOL "); ok {
			protocol = p
		}
	}
	if !found {
		return "", fmt.Errorf("java MutualTLS: exit 0 but no PRINCIPAL line\n%s", out)
	}
	t.Logf("java MutualTLS: %s, client principal %q", protocol, principal)
	return principal, nil
}
