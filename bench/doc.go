// Package bench holds kafkatls's performance benchmarks: `go test -bench`
// micro-benchmarks of every step of a bundle (key generation per type,
// signing, JKS and PKCS12 encoding, writing an identity), whole bundles
// (the classic CA + 2 brokers + ZooKeeper + 1 client set, and 100 ECDSA
// clients), the share of a bundle spent beyond key generation, and the
// 100-client bundle signed by a real OpenBao beside the local CA
// (engine_bench_test.go; skipped without bao).
//
// classic.sh reproduces the hand-written openssl + keytool flow and
// compare.sh races it against `kafkatls bundle`; `make bench` runs both.
// Results and the machine they came from are in docs/performance.md.
// Nothing here asserts a timing: the targets are reported, not tested.
package bench
