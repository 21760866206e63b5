package bundle

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/stores"
	"github.com/kafkatls/kafkatls/templates"
)

// Bundle-level files in the PKI directory.
const (
	TruststoreJKS      = "truststore.jks"
	TruststoreP12      = "truststore.p12"
	TruststorePassword = "truststore.password"
	ACLScript          = "acls.sh"
	SuperUsersFile     = "super-users.properties"
	SummaryFile        = "SUMMARY.md"
	SpecFile           = "kafkatls.yaml"
	K8sDir             = "k8s"
)

type outFile struct {
	name string
	data []byte
	perm os.FileMode
}

// textOutputs renders the deterministic bundle-level files from the spec
// and the index, so an unchanged cluster renders byte-identical files.
func (plan *Plan) textOutputs(o Options) []outFile {
	var out []outFile
	ctx, _ := plan.clusterContext(plan.spec.Entities())
	if len(ctx.SuperUsers) > 0 {
		out = append(out, outFile{SuperUsersFile, []byte("# Principals of every broker and controller, for server.properties (kafkatls bundle).\n" +
			templates.SuperUsersLine(ctx.SuperUsers) + "\n"), fsx.PublicFile})
	}
	if script := plan.aclScript(ctx); script != nil {
		out = append(out, outFile{ACLScript, script, 0o755})
	}
	if script := plan.scramScript(ctx); script != nil {
		out = append(out, outFile{ScramScript, script, 0o755})
	}
	out = append(out, outFile{SummaryFile, plan.summary(), fsx.PublicFile})
	if slices.Contains(o.Export, "k8s") {
		out = append(out, plan.k8sSecrets()...)
	}
	return out
}

func (plan *Plan) aclScript(ctx clusterCtx) []byte {
	var brokers []Entity
	var lines []string
	for _, e := range plan.spec.Entities() {
		if e.Role.Spec().Bootstrap { // a broker: its client.properties is an admin config
			brokers = append(brokers, e)
		}
		for _, g := range e.Grants {
			lines = append(lines, kafkaacl.Commands(ctx.principals[e.Name], g, kafkaacl.Target{
				Tool: `"$KAFKA_ACLS"`, Bootstrap: `"$BOOTSTRAP"`, CommandConfig: `"$COMMAND_CONFIG"`})...)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	admin := "client.properties"
	if len(brokers) > 0 {
		if abs, err := filepath.Abs(filepath.Join(identity.Dir(plan.Dir, brokers[0].Name), "client.properties")); err == nil {
			admin = abs
		}
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# Kafka ACLs for every grant in the bundle spec: clients, Connect workers and their connectors (kafkatls bundle).\n")
	b.WriteString("# Works for KRaft and for 3.x ZooKeeper-mode clusters (uses --bootstrap-server).\n")
	b.WriteString("# COMMAND_CONFIG must be a super user's client config: a broker identity is one.\n")
	b.WriteString("set -eu\n")
	fmt.Fprintf(&b, "KAFKA_ACLS=\"${KAFKA_ACLS:-kafka-acls.sh}\"\nBOOTSTRAP=\"${BOOTSTRAP:-%s}\"\nCOMMAND_CONFIG=\"${COMMAND_CONFIG:-%s}\"\n\n", ctx.Bootstrap, admin)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return []byte(b.String())
}

// summary renders SUMMARY.md from the plan's Preview (and the index, for
// expiry dates).
func (plan *Plan) summary() []byte {
	pv := plan.Preview
	var b strings.Builder
	fmt.Fprintf(&b, "# Kafka TLS bundle\n\nMode: %s. Trust anchor: `%s` (every truststore holds it).\n", plan.Mode, pki.TrustFile)
	if plan.pki != nil {
		fmt.Fprintf(&b, "CA: `%s`, expires %s, SHA-256 %s.\n", subjectOf(plan.pki.CA), plan.pki.CA.NotAfter.UTC().Format(time.DateOnly), pki.Fingerprint(plan.pki.CA))
	}
	if pv.Bootstrap != "" {
		fmt.Fprintf(&b, "Bootstrap: `%s`.\n", pv.Bootstrap)
	}
	b.WriteString("\n| name | role | principal | SANs | advertised | expires | files |\n|---|---|---|---|---|---|---|\n")
	for _, e := range pv.Identities {
		rec, ok := plan.idx.Current(e.Name)
		expires := "(not issued)"
		if ok {
			expires = rec.NotAfter.Format(time.DateOnly)
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s | %s | `%s/` |\n", e.Name, e.Role, strings.ReplaceAll(e.Principal, "|", `\|`), e.SANs, e.Advertised, expires, e.Dir)
	}
	if len(pv.SuperUsers) > 0 {
		fmt.Fprintf(&b, "\nBrokers and controllers: add this line to server.properties (also in `%s`):\n\n    %s\n", SuperUsersFile, templates.SuperUsersLine(pv.SuperUsers))
	}
	if slices.Contains(pv.Files, ACLScript) {
		fmt.Fprintf(&b, "\nClient ACLs: run `./%s` against a running cluster.\n", ACLScript)
	}
	b.WriteString("\n## Files\n\n")
	for _, e := range pv.Identities {
		fmt.Fprintf(&b, "- `%s/`: %s\n", e.Dir, codeList(e.Files))
	}
	fmt.Fprintf(&b, "- bundle: %s\n", codeList(pv.Files))
	return []byte(b.String())
}

// codeList renders names as Markdown code spans separated by spaces.
func codeList(names []string) string {
	return "`" + strings.Join(names, "` `") + "`"
}

func subjectOf(c *x509.Certificate) string {
	s, err := principal.JavaName(c.RawSubject)
	if err != nil {
		return c.Subject.String()
	}
	return s
}

// k8sSecrets renders one Secret manifest per entity, using cert-manager's
// key names, from the files on disk.
func (plan *Plan) k8sSecrets() []outFile {
	var out []outFile
	for _, e := range plan.spec.Entities() {
		dir := identity.Dir(plan.Dir, e.Name)
		keys := []string{identity.CertPEM, identity.KeyPEM, identity.CAPEM, identity.KeystoreJKS, identity.TruststoreJKS, identity.KeystoreP12, identity.TruststoreP12, identity.PasswordFile,
			sasl.ScramPasswordFile, sasl.TokenFile} // the last two: SASL clients only
		data := map[string]string{}
		for _, k := range keys {
			b, err := fsx.ReadFileLimit(filepath.Join(dir, k), fsx.LimitStore)
			if err != nil {
				continue
			}
			if k == identity.PasswordFile || k == sasl.ScramPasswordFile || k == sasl.TokenFile {
				b = bytes.TrimRight(b, "\r\n")
			}
			data[k] = base64.StdEncoding.EncodeToString(b)
		}
		if len(data) == 0 {
			continue
		}
		typ := "Opaque"
		if data[identity.CertPEM] != "" && data[identity.KeyPEM] != "" {
			typ = "kubernetes.io/tls"
		}
		names := make([]string, 0, len(data))
		for k := range data {
			names = append(names, k)
		}
		sort.Strings(names)
		var b strings.Builder
		fmt.Fprintf(&b, "# Kafka TLS secret for %s %s (kafkatls bundle --export k8s). Holds a private key: keep it out of git.\n", e.Role, e.Name)
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s-tls\n  labels:\n    app.kubernetes.io/managed-by: kafkatls\n    kafkatls/role: %s\ntype: %s\ndata:\n", k8sName(e.Name), e.Role, typ)
		for _, k := range names {
			fmt.Fprintf(&b, "  %s: %s\n", k, data[k])
		}
		out = append(out, outFile{k8sFile(e.Name), []byte(b.String()), fsx.PrivateFile})
	}
	return out
}

// k8sName lowercases a name and replaces characters Kubernetes object
// names cannot hold.
func k8sName(n string) string {
	n = strings.ToLower(n)
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '-'
	}, n)
}

// truststoresNeeded reports whether the bundle truststores are missing or
// hold other certificates than the trust anchor.
func (plan *Plan) truststoresNeeded() bool {
	if plan.pki == nil {
		return true
	}
	pw, err := fsx.ReadFileLimit(filepath.Join(plan.Dir, TruststorePassword), fsx.LimitSecret)
	if err != nil {
		return true
	}
	for _, name := range []string{TruststoreJKS, TruststoreP12} {
		b, err := fsx.ReadFileLimit(filepath.Join(plan.Dir, name), fsx.LimitStore)
		if err != nil {
			return true
		}
		st, err := stores.Read(b, strings.TrimRight(string(pw), "\r\n"))
		if err != nil || !identity.SameTrust(st, identity.TrustSet(plan.pki)) {
			return true
		}
	}
	return false
}

// bundleTrust holds the bundle truststores, encoded and ready to write.
type bundleTrust struct {
	files []outFile // the password first, if it is new
}

// encodeTruststores builds the bundle truststores (JKS, PKCS12 and PEM)
// for the current trust set, under the existing password or a new one. It
// only reads the PKI, so Run starts it while identities are being issued.
func (plan *Plan) encodeTruststores() (*bundleTrust, error) {
	var t bundleTrust
	pw := pki.GeneratePassword()
	if data, err := fsx.ReadFileLimit(filepath.Join(plan.Dir, TruststorePassword), fsx.LimitSecret); err == nil && pki.ValidatePassword(strings.TrimRight(string(data), "\r\n")) == nil {
		pw = strings.TrimRight(string(data), "\r\n")
	} else {
		t.files = append(t.files, outFile{TruststorePassword, []byte(pw + "\n"), fsx.PrivateFile})
	}
	trust := identity.TrustSet(plan.pki) // both CAs during a CA rotation
	entries := identity.TrustEntries(trust)
	j, err := stores.JKSTruststore(entries, pw, time.Now().UTC().Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	p12, err := stores.PKCS12Truststore(entries, pw, stores.Modern)
	if err != nil {
		return nil, err
	}
	t.files = append(t.files,
		outFile{TruststoreJKS, j, fsx.PublicFile},
		outFile{TruststoreP12, p12, fsx.PublicFile})
	if plan.pki.StagedTrust() == nil { // else pki.Init has staged it
		t.files = append(t.files, outFile{pki.TrustFile, pem.EncodeCerts(trust...), fsx.PublicFile})
	}
	return &t, nil
}

// startTruststores encodes the bundle truststores in the background if
// the plan needs new ones; the returned function waits for them (nil, nil
// when none are needed).
func (plan *Plan) startTruststores() func() (*bundleTrust, error) {
	if !plan.newTruststores {
		return func() (*bundleTrust, error) { return nil, nil }
	}
	var (
		t   *bundleTrust
		err error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t, err = plan.encodeTruststores()
	}()
	return func() (*bundleTrust, error) {
		<-done
		return t, err
	}
}

// outputChanges lists the bundle-level files a run would write.
func (plan *Plan) outputChanges(o Options) ([]string, error) {
	var names []string
	plan.newTruststores = plan.truststoresNeeded()
	if plan.newTruststores {
		names = append(names, TruststoreJKS, TruststoreP12)
	}
	for _, f := range plan.textOutputs(o) {
		if fileDiffers(filepath.Join(plan.Dir, f.name), f.data) {
			names = append(names, f.name)
		}
	}
	return names, nil
}

// stageOutputs stages, in b, the bundle-level files whose content changed
// and the truststores if the plan needs new ones (waiting for trust, which
// encodes them). Should a crash land only some of the truststore files,
// the next run finds that the stores do not open with the password on
// disk and writes them again.
func (plan *Plan) stageOutputs(b *fsx.Batch, o Options, trust func() (*bundleTrust, error)) ([]string, error) {
	t, err := trust()
	if err != nil {
		return nil, err
	}
	var written []string
	if t != nil {
		for _, f := range t.files {
			path := filepath.Join(plan.Dir, f.name)
			if !fileDiffers(path, f.data) {
				continue // unchanged, e.g. an existing CA's ca.crt
			}
			if err := b.WriteFile(path, f.data, f.perm); err != nil {
				return nil, err
			}
		}
		written = append(written, TruststoreJKS, TruststoreP12)
	}
	for _, f := range plan.textOutputs(o) {
		path := filepath.Join(plan.Dir, f.name)
		if !fileDiffers(path, f.data) {
			continue
		}
		if err := b.WriteFile(path, f.data, f.perm); err != nil {
			return nil, err
		}
		written = append(written, f.name)
	}
	return written, nil
}
