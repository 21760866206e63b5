package bundle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/sasl"
)

// SASLSpec is the spec's cluster-level sasl: key: the mechanisms the
// brokers' SASL_SSL listener enables, beside their mTLS listener, and its
// port.
type SASLSpec struct {
	Mechanisms []string `yaml:"mechanisms,omitempty"`
	Port       int      `yaml:"port,omitempty"` // default sasl.DefaultPort
}

// ScramScript is the bundle's scram.sh (sasl.ScramScriptFile).
const ScramScript = sasl.ScramScriptFile

// mechanisms are the parsed SASL mechanisms (nil if invalid: Validate
// reports it).
func (s SASLSpec) mechanisms() []sasl.Auth {
	m, err := sasl.ParseMechanisms(s.Mechanisms)
	if err != nil {
		return nil
	}
	return m
}

func (s SASLSpec) port() int {
	if s.Port == 0 {
		return sasl.DefaultPort
	}
	return s.Port
}

// validateSASL checks the sasl: key and every client's auth: against it.
func (s *Spec) validateSASL() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	mechs, err := sasl.ParseMechanisms(s.SASL.Mechanisms)
	if err != nil {
		bad("sasl.mechanisms: %v", err)
	}
	if s.SASL.Port < 0 || s.SASL.Port > 65535 {
		bad("sasl.port %d out of range", s.SASL.Port)
	}
	if len(mechs) > 0 && len(s.Brokers) == 0 {
		bad("sasl: a SASL_SSL listener is the brokers', and the spec lists none")
	}
	for _, n := range s.Brokers {
		if p := n.Port; p != 0 && p == s.SASL.port() && len(mechs) > 0 {
			bad("broker %q: port %d is also the SASL_SSL listener's (sasl.port)", n.Name, p)
		}
	}
	for _, c := range s.Clients {
		a, err := sasl.ParseAuth(c.Auth)
		if err != nil {
			bad("client %q: auth: %v", c.Name, err)
			continue
		}
		if a.Spec().SASL() && !slices.Contains(mechs, a) {
			bad("client %q: auth %s, but sasl.mechanisms does not enable it on the brokers", c.Name, a)
		}
		if c.ScramPassword != (Password{}) && !a.Spec().Scram {
			bad("client %q: scramPassword is for auth scram-sha-512 or scram-sha-256", c.Name)
		}
		if c.ScramPassword.Env != "" && c.ScramPassword.File != "" {
			bad("client %q: scramPassword.env and scramPassword.file are exclusive", c.Name)
		}
	}
	return errs
}

// readScram resolves a SCRAM password source ("" = generate).
func (p Password) readScram() (string, error) {
	if p == (Password{}) {
		return "", nil
	}
	pw, err := p.readRaw()
	if err != nil {
		return "", fmt.Errorf("scramPassword: %w", err)
	}
	if err := sasl.ValidateScramPassword(pw); err != nil {
		return "", fmt.Errorf("scramPassword: %w", err)
	}
	return pw, nil
}

// ErrIdPNotInBundle: the PKI directory has an external identity provider
// (oauth init --issuer https://...), which bundle does not handle yet.
var ErrIdPNotInBundle = errors.New("bundle does not handle an external identity provider yet")

// saslOptions puts an entity's SASL settings into its identity options.
func (plan *Plan) saslOptions(e Entity, o *identity.Options, ctx clusterCtx) error {
	port := plan.spec.SASL.port()
	o.SASL = identity.SASLOptions{Auth: e.Auth, Port: port}
	if e.Role == pki.RoleBroker {
		o.SASL.Mechanisms = plan.spec.SASL.mechanisms()
	}
	if e.Auth.Spec().SASL() {
		o.Config.Bootstrap = ctx.saslBootstrap
	}
	if e.Auth.Spec().Scram {
		pw, err := e.ScramPassword.readScram()
		if err != nil {
			return fmt.Errorf("client %q: %w", e.Name, err)
		}
		if pw == "" { // keep the one it has: a re-run must not change it
			if b, err := fsx.ReadFileLimit(filepath.Join(identity.Dir(plan.Dir, e.Name), sasl.ScramPasswordFile), fsx.LimitSecret); err == nil {
				pw = strings.TrimRight(string(b), "\r\n")
			}
		}
		o.SASL.ScramPassword = pw
	}
	if e.Auth.Spec().OAuth || slices.Contains(o.SASL.Mechanisms, sasl.OAuthBearer) {
		// kafkatls issue would take the external IdP; bundle has no client
		// ids or secrets to give it, and must not fall back to the local
		// issuer behind the IdP's back.
		if idp, err := sasl.OpenIdP(plan.Dir); err == nil {
			return fmt.Errorf("%s %q uses OAUTHBEARER: %w (%s); issue its OAUTHBEARER identities one by one, clients with their client ids and secrets", e.Role, e.Name, ErrIdPNotInBundle, idp.Issuer)
		} else if !errors.Is(err, sasl.ErrNoIdP) {
			return err
		}
		iss, err := sasl.OpenIssuer(plan.Dir)
		if errors.Is(err, sasl.ErrNoIssuer) && plan.initIssuer {
			iss, err = plan.standInIssuer()
		}
		if errors.Is(err, sasl.ErrNoIssuer) {
			return fmt.Errorf("%s %q uses OAUTHBEARER: %w", e.Role, e.Name, identity.ErrNeedsIssuer)
		}
		if err != nil {
			return err
		}
		o.SASL.Issuer = iss
	}
	return nil
}

// saslReasons say why an existing identity must be rewritten for its
// SASL settings: its authentication changed.
func saslReasons(dir string, e Entity) []string {
	have, err := identity.DirAuth(dir)
	if err != nil {
		return []string{"unreadable " + identity.AuthFile}
	}
	want := e.Auth
	if want == "" {
		want = sasl.MTLS
	}
	if have != want {
		return []string{fmt.Sprintf("auth %s → %s", have, want)}
	}
	return nil
}

// scramScript renders scram.sh for the spec's SCRAM clients (nil: none).
func (plan *Plan) scramScript(ctx clusterCtx) []byte {
	var users []sasl.ScramUser
	var admin string
	for _, e := range plan.spec.Entities() {
		if e.Role.Spec().Bootstrap && admin == "" {
			admin, _ = filepath.Abs(filepath.Join(identity.Dir(plan.Dir, e.Name), "client.properties"))
		}
		if e.Auth.Spec().Scram {
			pw, _ := filepath.Abs(filepath.Join(identity.Dir(plan.Dir, e.Name), sasl.ScramPasswordFile))
			users = append(users, sasl.ScramUser{Name: e.Name, Auth: e.Auth, PasswordFile: pw})
		}
	}
	if len(users) == 0 && !fsx.Exists(filepath.Join(plan.Dir, ScramScript)) {
		return nil
	}
	// With no SCRAM identity left, an existing scram.sh is rewritten to
	// create nothing rather than left to create credentials of clients
	// that moved to another authentication.
	b, err := sasl.ScramScript(users, sasl.ScramScriptOptions{Bootstrap: ctx.Bootstrap, CommandConfig: admin})
	if err != nil {
		return nil // only SCRAM users are passed
	}
	return b
}

// standInIssuer is the issuer a plan that creates the directory's is made
// with: one made in a temporary directory, removed at once (the key stays
// in memory). Planning writes nothing in the PKI directory; the run makes
// the real issuer once the plan holds (Run).
func (plan *Plan) standInIssuer() (*sasl.Issuer, error) {
	if plan.standIn == nil {
		tmp, err := os.MkdirTemp("", "kafkatls-issuer-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if plan.standIn, err = sasl.InitIssuer(tmp, sasl.IssuerOptions{}); err != nil {
			return nil, err
		}
	}
	plan.CreateIssuer = true
	return plan.standIn, nil
}
