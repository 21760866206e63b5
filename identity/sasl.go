package identity

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
	"github.com/kafkatls/kafkatls/templates"
)

// AuthFile records, in an identity's directory, how it authenticates to
// Kafka (sasl.Auth), so a renewal keeps its principal and configs. Absent:
// mutual TLS.
const AuthFile = "auth.txt"

// SASLOptions are an identity's SASL_SSL settings (Options.SASL).
type SASLOptions struct {
	// Auth is how a client authenticates (default mutual TLS).
	Auth sasl.Auth
	// ScramPassword is a SCRAM identity's password; empty generates one.
	ScramPassword string
	// Mechanisms are the SASL mechanisms a broker's SASL_SSL listener
	// enables (none: no SASL_SSL listener).
	Mechanisms []sasl.Auth
	// Port is the brokers' SASL_SSL port (default sasl.DefaultPort).
	Port int
	// Issuer is the local token issuer: an OAUTHBEARER client gets a token
	// from it, a broker that enables OAUTHBEARER validates against its
	// JWKS. Required for either.
	Issuer *sasl.Issuer
	// Token shapes the token minted for an OAUTHBEARER client.
	Token sasl.TokenOptions
	// IdP is an external identity provider (Keycloak, any OIDC provider):
	// an OAUTHBEARER client gets its tokens from the IdP's token endpoint
	// with Client, a broker validates them against the IdP's JWKS. When
	// set, Issuer is not used.
	IdP *sasl.IdP
	// Client is an external-IdP client's id and secret.
	Client sasl.ClientCredentials
}

// ClientIDFile records an external-IdP client's client id in its
// directory; its secret is in sasl.ClientSecretFile (0600).
const ClientIDFile = "client-id.txt"

// ErrNeedsClient: an external-IdP OAUTHBEARER client was issued without
// its client id or secret.
var ErrNeedsClient = errors.New("an OAUTHBEARER client of an external identity provider needs its client id and secret")

// principal is the principal Kafka sees for the identity name: for an
// external-IdP client the one its sub claim yields (sasl.IdP.Principal),
// else sasl.Principal's.
func (o SASLOptions) principal(name, certPrincipal string) string {
	if o.Auth.Spec().OAuth && o.IdP != nil {
		return principal.User(o.IdP.Principal(o.Client.ID))
	}
	return sasl.Principal(o.Auth, name, certPrincipal)
}

// DirSASLPrincipal is the principal of the SASL identity name in dir: an
// external-IdP client's (ClientIDFile present) is the one recorded in its
// principal.txt at issue, chosen by the IdP's sub claim then; any other's
// is sasl.Principal's.
func DirSASLPrincipal(dir string, a sasl.Auth, name string) (string, error) {
	if a.Spec().OAuth {
		if _, err := readFile(dir, ClientIDFile); err == nil {
			b, err := readFile(dir, PrincipalFile)
			if err != nil {
				return "", err
			}
			return strings.TrimSpace(string(b)), nil
		}
	}
	return sasl.Principal(a, name, ""), nil
}

// ErrNeedsIssuer: OAUTHBEARER was asked for, and the PKI directory has no
// token issuer.
var ErrNeedsIssuer = errors.New("OAUTHBEARER needs the PKI directory's token issuer")

// Check refuses SASL settings an identity of role cannot have, before
// anything is signed: SASL authentication is a client's, a SASL_SSL
// listener a broker's, and OAUTHBEARER needs the token issuer.
func (o SASLOptions) Check(name string, role pki.Role) error {
	a := o.Auth.Spec()
	if a.SASL() && role != pki.RoleClient {
		return fmt.Errorf("%s: authentication %s is for clients; a %s authenticates with its certificate", name, a.Auth, role)
	}
	if len(o.Mechanisms) > 0 && role != pki.RoleBroker {
		return fmt.Errorf("%s: a SASL_SSL listener is a broker's, not a %s's", name, role)
	}
	if o.Issuer == nil && o.IdP == nil && (a.OAuth || slices.Contains(o.Mechanisms, sasl.OAuthBearer)) {
		return fmt.Errorf("%s: %w", name, ErrNeedsIssuer)
	}
	if a.OAuth && o.IdP != nil {
		if o.Client.ID == "" || o.Client.Secret == "" {
			return fmt.Errorf("%s: %w", name, ErrNeedsClient)
		}
		if err := o.Client.Check(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if a.Scram && o.ScramPassword != "" {
		return sasl.ValidateScramPassword(o.ScramPassword)
	}
	return nil
}

// saslFiles are the files an identity's SASL settings add to its
// directory: the auth kind, a SCRAM password, a token. It settles
// o.SASL.ScramPassword (generated if empty) for the configs.
func (m Material) saslFiles(o *Options) ([]file, error) {
	if err := o.SASL.Check(m.Name, m.Role); err != nil {
		return nil, err
	}
	a := o.SASL.Auth
	if !a.Spec().SASL() {
		return nil, nil
	}
	spec := a.Spec()
	out := []file{{AuthFile, []byte(string(a) + "\n"), fsx.PublicFile}}
	switch {
	case spec.Scram:
		if o.SASL.ScramPassword == "" {
			o.SASL.ScramPassword = pki.GeneratePassword()
		}
		if err := sasl.ValidateScramPassword(o.SASL.ScramPassword); err != nil {
			return nil, err
		}
		out = append(out, file{sasl.ScramPasswordFile, []byte(o.SASL.ScramPassword + "\n"), fsx.PrivateFile})
	case spec.OAuth && o.SASL.IdP != nil:
		// No token: the client gets its own from the IdP at every login.
		out = append(out, file{ClientIDFile, []byte(o.SASL.Client.ID + "\n"), fsx.PublicFile},
			file{sasl.ClientSecretFile, []byte(o.SASL.Client.Secret + "\n"), fsx.PrivateFile})
	case spec.OAuth:
		if o.SASL.Issuer == nil {
			return nil, fmt.Errorf("%s: %w", m.Name, ErrNeedsIssuer)
		}
		t, err := o.SASL.Issuer.Mint(m.Name, o.SASL.Token)
		if err != nil {
			return nil, err
		}
		out = append(out, file{sasl.TokenFile, []byte(t.JWT + "\n"), fsx.PrivateFile})
	}
	return out, nil
}

// saslConfig is the templates' view of the identity's SASL settings (nil
// for mutual TLS only); at gives a file's path as configs write it.
func (m Material) saslConfig(o Options, at func(string) string) (*templates.SASL, error) {
	port := o.SASL.Port
	if port == 0 {
		port = sasl.DefaultPort
	}
	a := o.SASL.Auth.Spec()
	switch {
	case a.Scram:
		jaas, err := sasl.ScramJAAS(m.Name, o.SASL.ScramPassword)
		if err != nil {
			return nil, err
		}
		return &templates.SASL{Mechanism: a.Mechanism, JAASConfig: jaas, Username: m.Name, Password: o.SASL.ScramPassword,
			PasswordFile: at(sasl.ScramPasswordFile), Port: port}, nil
	case a.OAuth && o.SASL.IdP != nil:
		jaas, err := sasl.IdPClientJAAS(o.SASL.Client, o.SASL.idpTrust(at))
		if err != nil {
			return nil, err
		}
		return &templates.SASL{Mechanism: a.Mechanism, JAASConfig: jaas, LoginCallbackHandler: sasl.OAuthLoginHandler,
			TokenEndpointURL: o.SASL.IdP.TokenURL, AllowList: sasl.AllowListOption(o.SASL.IdP.TokenURL), Port: port,
			ClientID: o.SASL.Client.ID, ClientSecret: o.SASL.Client.Secret, ClientSecretFile: at(sasl.ClientSecretFile),
			IdPTrustFile: o.SASL.idpTrust(at)}, nil
	case a.OAuth:
		u, err := sasl.FileURL(at(sasl.TokenFile))
		if err != nil {
			return nil, err
		}
		return &templates.SASL{Mechanism: a.Mechanism, JAASConfig: sasl.OAuthClientJAAS, LoginCallbackHandler: sasl.OAuthLoginHandler,
			TokenEndpointURL: u, TokenFile: at(sasl.TokenFile), AllowList: sasl.AllowListOption(u), Port: port}, nil
	}
	if len(o.SASL.Mechanisms) == 0 || m.Role != pki.RoleBroker {
		return nil, nil
	}
	s := &templates.SASL{Port: port}
	for _, k := range o.SASL.Mechanisms {
		sm := templates.ServerMechanism{Mechanism: k.Spec().Mechanism, JAASConfig: sasl.ServerJAAS(k)}
		if k.Spec().OAuth && o.SASL.IdP != nil {
			p := o.SASL.IdP
			jaas, err := sasl.IdPServerJAAS(o.SASL.idpTrust(at))
			if err != nil {
				return nil, err
			}
			sm.JAASConfig, sm.CallbackHandler = jaas, sasl.OAuthValidatorHandler
			s.JWKSURL, s.AllowList = p.JWKSURL, sasl.AllowListOption(p.JWKSURL)
			s.ExpectedIssuer, s.ExpectedAudience, s.SubClaim = p.Issuer, p.Audience, p.SubClaim
		} else if k.Spec().OAuth {
			if o.SASL.Issuer == nil {
				return nil, fmt.Errorf("%s: %w", m.Name, ErrNeedsIssuer)
			}
			sm.CallbackHandler = sasl.OAuthValidatorHandler
			// The host path, as the bundle's other shared files: a broker in
			// a container needs the JWKS at the same path (or its own line).
			jwks, err := filepath.Abs(o.SASL.Issuer.JWKSPath())
			if err != nil {
				return nil, err
			}
			u, err := sasl.FileURL(jwks)
			if err != nil {
				return nil, err
			}
			s.JWKSURL, s.AllowList = u, sasl.AllowListOption(u)
			s.ExpectedIssuer, s.ExpectedAudience = o.SASL.Issuer.Settings.Issuer, o.SASL.Issuer.Settings.Audience
		}
		s.Mechanisms = append(s.Mechanisms, sm)
	}
	return s, nil
}

// idpTrust is the PEM file Kafka's HTTPS client trusts the IdP with: the
// IdP's CA file (--idp-ca) or, when the PKI's CA issued the IdP's
// certificate, the identity's own ca.crt.
func (o SASLOptions) idpTrust(at func(string) string) string {
	if o.IdP.CAFile != "" {
		return o.IdP.CAFile
	}
	return at(CAPEM)
}

// DirAuth reads how the identity in dir authenticates (AuthFile); mutual
// TLS when it has none.
func DirAuth(dir string) (sasl.Auth, error) {
	b, err := readFile(dir, AuthFile)
	if errors.Is(err, fs.ErrNotExist) {
		return sasl.MTLS, nil
	}
	if err != nil {
		return "", err
	}
	return sasl.ParseAuth(strings.TrimSpace(string(b)))
}

// readClient reads an external-IdP client's id and secret.
func readClient(dir string) (sasl.ClientCredentials, error) {
	id, err := readFile(dir, ClientIDFile)
	if err != nil {
		return sasl.ClientCredentials{}, err
	}
	secret, err := readFile(dir, sasl.ClientSecretFile)
	if err != nil {
		return sasl.ClientCredentials{}, err
	}
	return sasl.ClientCredentials{ID: strings.TrimSpace(string(id)), Secret: strings.TrimRight(string(secret), "\r\n")}, nil
}

// readScramPassword reads a SCRAM identity's password file.
func readScramPassword(dir string) (string, error) {
	b, err := readFile(dir, sasl.ScramPasswordFile)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// WriteToken mints a token for the OAUTHBEARER identity name of pkiDir
// and replaces its token file (0600). The identity must authenticate with
// OAUTHBEARER; its configs already point at the file.
func WriteToken(pkiDir, name string, iss *sasl.Issuer, o sasl.TokenOptions) (*sasl.Token, string, error) {
	dir := Dir(pkiDir, name)
	if !fsx.Exists(dir) {
		return nil, "", fmt.Errorf("%s %w", dir, ErrNotIssued)
	}
	a, err := DirAuth(dir)
	if err != nil {
		return nil, "", err
	}
	if !a.Spec().OAuth {
		return nil, "", fmt.Errorf("%s authenticates with %s: %w", name, a, ErrNotOAuth)
	}
	if _, err := readFile(dir, ClientIDFile); err == nil {
		return nil, "", fmt.Errorf("%s: %w", name, ErrIdPClient)
	}
	t, err := iss.Mint(name, o)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, sasl.TokenFile)
	if err := fsx.WriteFile(path, []byte(t.JWT+"\n"), fsx.PrivateFile); err != nil {
		return nil, "", err
	}
	return t, path, nil
}

// ErrIdPClient: a token was asked for a client of an external identity
// provider, which gets its own tokens from the provider.
var ErrIdPClient = errors.New("gets its tokens from the external identity provider (client credentials), not from kafkatls")

// ErrNotOAuth: a token was asked for an identity that does not use OAUTHBEARER.
var ErrNotOAuth = errors.New("not OAUTHBEARER")

// ScramPassword reads the SCRAM password of the identity in dir (its
// scram-password file), for verify and the test broker.
func ScramPassword(dir string) (string, error) { return readScramPassword(dir) }

// Token reads the OAUTHBEARER token of the identity in dir (its token.jwt).
func Token(dir string) (string, error) {
	b, err := readFile(dir, sasl.TokenFile)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// Client reads an external-IdP client's id and secret (ClientIDFile and
// sasl.ClientSecretFile), for verify to get a token as the client would.
func Client(dir string) (sasl.ClientCredentials, error) { return readClient(dir) }
