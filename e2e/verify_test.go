package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestVerifyInterrupted: Ctrl-C during verify of a bundle with many
// clients stops it and says "canceled" in one line, exit 130, and with
// --json prints a JSON error object; before, every check cut short was
// reported as a failed handshake with a wrong diagnosis.
func TestVerifyInterrupted(t *testing.T) {
	dir := newPKI(t)
	var clients []string
	for i := range 40 {
		clients = append(clients, fmt.Sprintf("app-%02d", i))
	}
	ok(t, dir, "bundle", "--brokers", "kafka-1", "--clients", strings.Join(clients, ","))
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"human", []string{"verify"}},
		{"json", []string{"verify", "--json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "NO_COLOR=1", "KAFKATLS_DIR=", "KAFKATLS_CA_PASSPHRASE=")
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			errPipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			stderr := bufio.NewReader(errPipe)
			var errOut strings.Builder
			// Interrupt it in the handshakes: once its test broker listens.
			waitListening(t, cmd.Process.Pid)
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stderr)
			errOut.Write(rest)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 130 {
				t.Fatalf("exit %v, want 130\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), errOut.String())
			}
			lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
			if last := lines[len(lines)-1]; last != "kafkatls: canceled" {
				t.Errorf("stderr ends with %q, want \"kafkatls: canceled\":\n%s", last, errOut.String())
			}
			if tc.name == "human" {
				if len(lines) != 2 || stdout.Len() != 0 {
					t.Errorf("more than the one canceled line:\nstdout:\n%s\nstderr:\n%s", stdout.String(), errOut.String())
				}
				return
			}
			var obj map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &obj); err != nil {
				t.Fatalf("--json stdout is not one JSON object: %v\n%s", err, stdout.String())
			}
			if obj["error"] != "canceled" || obj["code"] != "canceled" || obj["exit"] != float64(130) || obj["checks"] != nil {
				t.Errorf("--json error object: %s", stdout.String())
			}
		})
	}
}

// waitListening waits until process pid has a listening TCP socket (the
// test broker verify starts before its first handshake), reading Linux's
// /proc: the socket inodes among its descriptors against /proc/net/tcp*.
func waitListening(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		listening := map[string]bool{}
		for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
			b, _ := os.ReadFile(f)
			for _, line := range strings.Split(string(b), "\n")[1:] {
				fields := strings.Fields(line)
				if len(fields) > 9 && fields[3] == "0A" { // TCP_LISTEN
					listening["socket:["+fields[9]+"]"] = true
				}
			}
		}
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			t.Fatalf("process %d: %v", pid, err)
		}
		for _, fd := range fds {
			if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && listening[l] {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("verify never started its test broker")
}
