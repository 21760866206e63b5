package fsx

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestFaultHelper is the child process of TestFault: it passes the steps
// named in FAULT_STEPS to Fault in order and prints each one it survives.
func TestFaultHelper(t *testing.T) {
	steps := os.Getenv("FAULT_STEPS")
	if steps == "" {
		t.Skip("child of TestFault")
	}
	for _, s := range strings.Split(steps, ",") {
		Fault(s)
		os.Stdout.WriteString(s + "\n")
	}
}

func TestFault(t *testing.T) {
	for _, tc := range []struct {
		name, at string
		survived string // steps printed before the kill; all of them when no kill
		killed   bool
	}{
		{"the N-th step", "3", "a\nb\n", true},
		{"a named step", "b", "a\n", true},
		{"the N-th step of a name", "a:2", "a\nb\n", true},
		{"past the last step", "9", "a\nb\na\nc\n", false},
		{"a step never reached", "zzz", "a\nb\na\nc\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestFaultHelper$")
			cmd.Env = append(os.Environ(), "FAULT_STEPS=a,b,a,c", FaultEnv+"="+tc.at)
			out, err := cmd.Output()
			var ee *exec.ExitError
			killed := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
			if killed != tc.killed {
				t.Fatalf("killed = %v (err %v), want %v", killed, err, tc.killed)
			}
			if got := strings.TrimSuffix(string(out), "PASS\n"); got != tc.survived {
				t.Errorf("survived %q, want %q", got, tc.survived)
			}
		})
	}
}
