package cmd

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/bundle"
	"github.com/kafkatls/kafkatls/engine/stepca"
	"github.com/kafkatls/kafkatls/engine/vault"
	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/inspect"
	"github.com/kafkatls/kafkatls/kafkaacl"
	"github.com/kafkatls/kafkatls/lifecycle"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/verify"
)

// The core speaks domain words ("the IP address 10.0.0.1 was given as a
// DNS name"); only the CLI knows which flag a value came from and which
// command fixes a state. explain adds both to a core error, the way
// smallstep's step CLI keeps flag-worded errors in its CLI layer.

// fieldFlags are the flags that can carry a pki.Field, in order of
// preference.
var fieldFlags = map[pki.Field][]string{
	pki.FieldName:            {"name"},
	pki.FieldRole:            {"role"},
	pki.FieldSubject:         {"subject"},
	pki.FieldDNS:             {"dns"},
	pki.FieldIP:              {"ip"},
	pki.FieldEmail:           {"email"},
	pki.FieldDays:            {"days"},
	pki.FieldLeafDays:        {"leaf-days"},
	pki.FieldKeyType:         {"key-type"},
	pki.FieldKeySize:         {"key-size"},
	pki.FieldPassword:        {"password-file", "password-env"},
	pki.FieldCACert:          {"import-ca"},
	pki.FieldCAKey:           {"import-key"},
	pki.FieldPassphrase:      {"ca-passphrase-file"},
	verify.FieldBootstrap:    {"bootstrap"},
	verify.FieldMappingRules: {"principal-mapping-rules", "rules"},
}

// dnFlags are init's flags for the attributes of the CA subject.
var dnFlags = map[string]string{"CN": "cn", "OU": "ou", "O": "org", "L": "locality", "ST": "state", "C": "country"}

// fieldFlag returns the flag of command c that carries field f: one the
// user gave when given is set, else any c has; "" if none.
func fieldFlag(c *cobra.Command, f pki.Field, given bool) string {
	names := fieldFlags[f]
	if f == pki.FieldCADays && c.Name() != "bundle" { // bundle's --days is the leaves'
		names = []string{"days"}
	}
	for _, n := range names {
		if fl := c.Flags().Lookup(n); fl != nil && (fl.Changed || !given) {
			return n
		}
	}
	return ""
}

// explain returns the message for err as the command c reports it: the
// core's message, prefixed with the flag the bad value came from, followed
// by how to fix it with kafkatls's flags and commands.
func explain(err error, c *cobra.Command, g *globals) string {
	msg := err.Error()
	if c == nil {
		return msg
	}
	has := func(flag string) bool { return c.Flags().Lookup(flag) != nil }
	prefix := func(flag string) {
		if flag != "" && !strings.Contains(msg, "--"+flag) {
			msg = "--" + flag + ": " + msg
		}
	}
	var hints []string
	hint := func(h string) {
		if !strings.Contains(msg, h) {
			hints = append(hints, h)
		}
	}
	name := "NAME"
	if args := c.Flags().Args(); len(args) > 0 {
		name = args[0]
	}
	passFlags := "--ca-passphrase-file FILE or KAFKATLS_CA_PASSPHRASE"
	if !has("ca-passphrase-file") {
		passFlags = "KAFKATLS_CA_PASSPHRASE"
	}

	var fe *pki.InvalidFieldError
	var de *principal.DNError
	var oe *pki.OutlivesCAError
	if errors.Is(err, identity.ErrNeedsIssuer) {
		hint("create it with `kafkatls oauth init --dir " + g.dir + "`")
	}
	switch {
	case errors.As(err, &fe):
		switch {
		case fe.BelongsIn != "":
			if f := fieldFlag(c, fe.BelongsIn, false); f != "" {
				hint(fmt.Sprintf("use --%s %s", f, fe.Value))
			}
		case fe.Field == pki.FieldSANs && has("dns"):
			hint("give --dns and/or --ip")
		case fe.Field == pki.FieldName && has("name"):
			hint("give it one with --name")
		default:
			prefix(fieldFlag(c, fe.Field, true))
		}
	case errors.As(err, &de):
		if fl := c.Flags().Lookup("subject"); fl != nil && fl.Changed {
			prefix("subject")
		} else if f := dnFlags[de.Type]; f != "" && has(f) {
			prefix(f)
		}
	}
	const initForce = "`kafkatls init --force` moves every file of the old CA to ca/replaced-<time>/ (nothing is deleted) and creates a new one"
	var existing *pki.ExistingCAError
	var unplaced *lifecycle.UnplacedError
	switch {
	case errors.As(err, &existing) && !existing.Same():
		if existing.HasCert && existing.HasKey && len(existing.Identities) > 0 {
			hint(fmt.Sprintf("to move %s to a new CA without breaking them, run `kafkatls ca rotate start`", existing.Orphans()))
		}
		hint(fmt.Sprintf("to give up this CA, %s (%s would have to be issued again); use --force", initForce, existing.Orphans()))
	case errors.Is(err, pki.ErrIncompleteCA) || errors.Is(err, pki.ErrMissingCAKey):
		hint("`kafkatls init` will not replace the key; to give up this CA, " + initForce + " (every identity it signed would have to be issued again)")
	case errors.Is(err, pki.ErrCAExists) && has("force"):
		hint("use --force to move it aside and create a new one")
	case errors.Is(err, identity.ErrExists) && has("force"):
		hint("use --force to replace it")
	case errors.Is(err, pki.ErrNoCA):
		hint(fmt.Sprintf("run `kafkatls init --dir %s` first", g.dir))
	case errors.Is(err, pki.ErrCAKeyEncrypted):
		hint("give its passphrase with " + passFlags)
	case errors.Is(err, pki.ErrWrongPassphrase) || errors.Is(err, pem.ErrWrongPassphrase):
		hint("check " + strings.Replace(passFlags, " FILE", "", 1))
	case errors.As(err, &oe):
		if has("days") {
			hint(fmt.Sprintf("use --days %d or less, or rotate the CA (kafkatls ca rotate start)", oe.MaxDays))
		} else {
			hint("rotate the CA (kafkatls ca rotate start)")
		}
	case errors.Is(err, pki.ErrCAExpired):
		hint("rotate it: kafkatls ca rotate start")
	case errors.Is(err, pki.ErrCACannotSignCRL):
		hint("rotate to a CA made by kafkatls: kafkatls ca rotate start")
	case errors.Is(err, lifecycle.ErrSerialNeverReturned):
		hint("look again at the engine with `kafkatls reconcile`; see `kafkatls list --all`")
	case errors.Is(err, pki.ErrNotRevocable):
		hint("see `kafkatls list --all`")
	case errors.Is(err, lifecycle.ErrRevoked):
		hint(fmt.Sprintf("issue a new certificate with `kafkatls issue %s --force` (and grant its ACLs again)", name))
	case errors.As(err, &unplaced):
		hint(fmt.Sprintf("issue it with `kafkatls issue %s`, and revoke the unplaced one with `kafkatls revoke %s --serial %s`", unplaced.Name, unplaced.Name, unplaced.Serial))
	case errors.Is(err, lifecycle.ErrNoCertificate):
		hint("see `kafkatls list`")
	case errors.Is(err, lifecycle.ErrUnreadableIdentity):
		hint(fmt.Sprintf("restore the directory, or issue it again with `kafkatls issue %s --force`", name))
	case errors.Is(err, lifecycle.ErrExternalKey):
		hint("send a new CSR and sign it with `kafkatls sign`")
	case errors.Is(err, lifecycle.ErrRotationInProgress):
		hint("run `kafkatls ca rotate reissue`, then `kafkatls ca rotate finish` (see `kafkatls ca rotate status`)")
	case errors.Is(err, lifecycle.ErrNoRotation) && c.Name() == "reissue":
		hint("run `kafkatls ca rotate start` first (to renew certificates without a new CA: kafkatls renew NAME)")
	case errors.Is(err, lifecycle.ErrNoRotation):
		hint("see `kafkatls ca rotate status`")
	case errors.Is(err, lifecycle.ErrStragglers):
		hint("run `kafkatls ca rotate reissue` first (or --force to drop them)")
	case errors.Is(err, identity.ErrNotIssued):
		hint(fmt.Sprintf("issue it first: kafkatls issue %s", name))
	case errors.Is(err, identity.ErrNoIdentities):
		hint("run `kafkatls issue` or `kafkatls bundle` first")
	case errors.Is(err, verify.ErrNoServer):
		hint("issue one with `kafkatls issue NAME --role broker`")
	case errors.Is(err, inspect.ErrPasswordRequired) && has("password-file"):
		hint("give its password with --password-file FILE or --password-env VAR")
	case errors.Is(err, inspect.ErrIsDirectory):
		hint("give files, or lint the directory with `kafkatls lint DIR`")
	case errors.Is(err, pki.ErrEngineCAChanged):
		hint("to take the engine's new CA, initialise again: `kafkatls init --engine ENGINE --force` with the same engine flags (identities must then be issued again)")
	case errors.Is(err, pki.ErrEngineSigns):
		hint("rotate the CA at the engine (a new issuing CA in Vault/OpenBao or step-ca), take its chain with `kafkatls init --engine ENGINE --force` and the same engine flags, then issue each identity again with `kafkatls issue NAME --force` and deploy its stores")
	case errors.Is(err, pki.ErrNoEngine):
		hint("this program cannot reach the engine the directory names")
	case errors.Is(err, pki.ErrEngineNeedsCSR):
		hint("send a new CSR and sign it with `kafkatls sign`")
	case errors.Is(err, vault.ErrPermissionDenied):
		hint("give a token allowed to (VAULT_TOKEN or --vault-token-file FILE; the policy: docs/engines.md)")
	case errors.Is(err, vault.ErrConfig) && strings.Contains(msg, "no token"):
		hint("set VAULT_TOKEN or give --vault-token-file FILE")
	case errors.Is(err, vault.ErrConfig) && strings.Contains(msg, "no engine address"):
		hint("give --vault-addr URL (init) or set VAULT_ADDR")
	case errors.Is(err, stepca.ErrPassword):
		hint("check the file --provisioner-password-file (or STEP_PROVISIONER_PASSWORD_FILE) names: it is the password of the provisioner's key")
	case errors.Is(err, stepca.ErrConfig) && strings.Contains(msg, "no provisioner password"):
		hint("give --provisioner-password-file FILE or set STEP_PROVISIONER_PASSWORD_FILE")
	case errors.Is(err, stepca.ErrPasswordFileMode):
		hint("the password is a credential: chmod 600 the --provisioner-password-file")
	case errors.Is(err, stepca.ErrPermissionDenied):
		hint("check --provisioner (a JWK provisioner of this step-ca) and its password file")
	case errors.Is(err, vault.ErrTokenFileMode):
		hint("the token is a credential: chmod 600 the --vault-token-file")
	case errors.Is(err, bundle.ErrSpecConflict):
		hint(fmt.Sprintf("edit %s and run `kafkatls bundle -f` on it, or use another --dir", filepath.Join(g.dir, bundle.SpecFile)))
	case errors.Is(err, kafkaacl.ErrNoGroup) && has("group"):
		hint("give --group")
	}
	if len(hints) > 0 {
		msg += "; " + strings.Join(hints, "; ")
	}
	return msg
}
