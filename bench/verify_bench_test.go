package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/verify"
)

// BenchmarkVerify is `kafkatls verify` of the classic set: every identity
// connects to the test broker with every store format, and the must-fail
// probes are refused. The bundle is built once, outside the timing.
func BenchmarkVerify(b *testing.B) {
	for _, ks := range bundleKeys {
		b.Run("classic-"+keyName(ks), func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "pki")
			runBundle(b, classicSpec(ks), bundle.Options{Dir: dir})
			checks := 0
			for b.Loop() {
				rep, err := verify.Bundle(context.Background(), verify.Options{Dir: dir})
				if err != nil {
					b.Fatal(err)
				}
				if !rep.Passed {
					var failed []string
					for _, c := range rep.Checks {
						if !c.OK {
							failed = append(failed, fmt.Sprintf("%s→%s %s: %s %s", c.Identity, c.Server, c.Store, c.Result, c.Diagnosis))
						}
					}
					b.Fatalf("verify failed:\n%s", strings.Join(failed, "\n"))
				}
				checks = len(rep.Checks)
			}
			b.ReportMetric(float64(checks), "checks")
		})
	}
}
