// Package verify proves a kafkatls bundle works before it reaches a real
// cluster: it starts the bundled test broker with a broker's own stores,
// connects every identity with every store format it has, runs Kafka
// requests, and checks that bad certificates are refused. It also checks a
// client's stores against a real remote broker and turns each failure into
// a diagnosis with a fix.
package verify
