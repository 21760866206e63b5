package fsx

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// FaultEnv names the test-only hook that kills the process at a durable
// step: "N" kills it at the N-th durable step of the run, whatever its
// name; "NAME" at the first step called NAME, "NAME:N" at the N-th. The
// fault-injection suite (e2e) walks N = 1, 2, ... until a run completes,
// so every durable step of a command is a point it is killed at once.
const FaultEnv = "KAFKATLS_FAULT_KILL_AT"

var fault = sync.OnceValue(func() (f struct {
	on   bool
	name string
	n    int64
}) {
	v := os.Getenv(FaultEnv)
	if v == "" {
		return f
	}
	f.on, f.n = true, 1
	name, count, hasCount := strings.Cut(v, ":")
	if n, err := strconv.ParseInt(name, 10, 64); err == nil && !hasCount {
		f.n = n
		return f
	}
	f.name = name
	if hasCount {
		if n, err := strconv.ParseInt(count, 10, 64); err == nil {
			f.n = n
		}
	}
	return f
})

var faultSeen, faultSeenNamed atomic.Int64

// Fault marks a durable step: the point just before something becomes
// visible or durable on disk (a rename into place, an index commit). With
// FaultEnv unset it costs one load of a cached value. With it set, the
// step it names kills the process with SIGKILL, as a crash or the OOM
// killer would: no deferred cleanup runs.
func Fault(step string) {
	f := fault()
	if !f.on {
		return
	}
	if f.name == "" {
		if faultSeen.Add(1) != f.n {
			return
		}
	} else if step != f.name || faultSeenNamed.Add(1) != f.n {
		return
	}
	fmt.Fprintf(os.Stderr, "kafkatls: %s=%s: killed at durable step %q\n", FaultEnv, os.Getenv(FaultEnv), step)
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}
