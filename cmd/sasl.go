package cmd

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pem"
	"github.com/kafkatls/kafkatls/pki"
	"github.com/kafkatls/kafkatls/principal"
	"github.com/kafkatls/kafkatls/sasl"
)

func init() { extraCommands = append(extraCommands, newOAuthCmd, newTokenCmd) }

// saslFlags are issue's SASL_SSL flags.
type saslFlags struct {
	auth        string
	mechanisms  []string
	port        int
	scramPWFile string
	ttl         time.Duration
	scope       []string
	clientID    string
	secretFile  string
}

func (f *saslFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.auth, "auth", "mtls", "client: how it authenticates to Kafka: "+sasl.Names())
	fl.StringSliceVar(&f.mechanisms, "sasl", nil, "broker: add a SASL_SSL listener with these mechanisms (scram-sha-512, scram-sha-256, oauthbearer)")
	fl.IntVar(&f.port, "sasl-port", sasl.DefaultPort, "the brokers' SASL_SSL listener port")
	fl.StringVar(&f.scramPWFile, "scram-password-file", "", "SCRAM client: read its password from this file instead of generating one")
	fl.DurationVar(&f.ttl, "token-ttl", sasl.DefaultTokenTTL, "OAUTHBEARER client: lifetime of the first token (kafkatls token NAME mints more)")
	fl.StringSliceVar(&f.scope, "scope", nil, "OAUTHBEARER client: the token's scope claim (repeatable)")
	fl.StringVar(&f.clientID, "client-id", "", "OAUTHBEARER client of an external identity provider (oauth init --issuer https://...): its client id there")
	fl.StringVar(&f.secretFile, "client-secret-file", "", "OAUTHBEARER client of an external identity provider: read its client secret from this file (copied, 0600)")
}

// apply puts the flags into o for an identity of role in dir.
func (f *saslFlags) apply(o *identity.Options, role pki.Role, dir string) error {
	a, err := sasl.ParseAuth(f.auth)
	if err != nil {
		return usageErr("--auth: %v", err)
	}
	if a != sasl.MTLS && role != pki.RoleClient {
		return usageErr("--auth %s: only a client authenticates with SASL; a %s presents its certificate (give a broker --sasl)", a, role)
	}
	mechs, err := sasl.ParseMechanisms(f.mechanisms)
	if err != nil {
		return usageErr("--sasl: %v", err)
	}
	if len(mechs) > 0 && role != pki.RoleBroker {
		return usageErr("--sasl: only a broker has a SASL_SSL listener, not a %s (give a client --auth)", role)
	}
	if f.port < 1 || f.port > 65535 {
		return usageErr("--sasl-port %d: not a TCP port", f.port)
	}
	o.SASL = identity.SASLOptions{Auth: a, Mechanisms: mechs, Port: f.port,
		Token: sasl.TokenOptions{TTL: f.ttl, Scope: pki.SplitList(f.scope)}}
	if f.scramPWFile != "" {
		if !a.Spec().Scram {
			return usageErr("--scram-password-file: only for --auth scram-sha-512 or scram-sha-256")
		}
		b, err := fsx.ReadFileLimit(f.scramPWFile, fsx.LimitSecret)
		if err != nil {
			return fmt.Errorf("--scram-password-file: %w", err)
		}
		o.SASL.ScramPassword = strings.TrimRight(string(b), "\r\n")
		if err := sasl.ValidateScramPassword(o.SASL.ScramPassword); err != nil {
			return usageErr("--scram-password-file %s: %v", f.scramPWFile, err)
		}
	}
	if (f.clientID != "" || f.secretFile != "") && !a.Spec().OAuth {
		return usageErr("--client-id/--client-secret-file: only for --auth oauthbearer with an external identity provider")
	}
	if a.Spec().OAuth || containsAuth(mechs, sasl.OAuthBearer) {
		// An external IdP, when the PKI directory has one, is where
		// OAUTHBEARER tokens come from; else kafkatls's own issuer.
		idp, err := sasl.OpenIdP(dir)
		if err == nil {
			o.SASL.IdP = idp
			if !a.Spec().OAuth {
				return nil
			}
			if f.clientID == "" || f.secretFile == "" {
				return usageErr("--auth oauthbearer with the identity provider %s: give --client-id and --client-secret-file", idp.Issuer)
			}
			b, err := fsx.ReadFileLimit(f.secretFile, fsx.LimitSecret)
			if err != nil {
				return fmt.Errorf("--client-secret-file: %w", err)
			}
			o.SASL.Client = sasl.ClientCredentials{ID: f.clientID, Secret: strings.TrimRight(string(b), "\r\n")}
			if err := o.SASL.Client.Check(); err != nil {
				return usageErr("--client-id/--client-secret-file: %v", err)
			}
			return nil
		}
		if !errors.Is(err, sasl.ErrNoIdP) {
			return err
		}
		if f.clientID != "" || f.secretFile != "" {
			return usageErr("--client-id/--client-secret-file: %s has no external identity provider (kafkatls oauth init --issuer https://... --sub-claim ...)", dir)
		}
		iss, err := sasl.OpenIssuer(dir)
		if errors.Is(err, sasl.ErrNoIssuer) {
			return usageErr("OAUTHBEARER: %v; create it first with `kafkatls oauth init --dir %s`", err, dir)
		}
		if err != nil {
			return err
		}
		o.SASL.Issuer = iss
	}
	return nil
}

func containsAuth(list []sasl.Auth, a sasl.Auth) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func newOAuthCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "oauth",
		Short: "kafkatls as a local OAuth token issuer for SASL/OAUTHBEARER",
		Long: `oauth manages the PKI directory's token issuer: a signing key (DIR/oauth/signing.key,
mode 0600), the JWKS brokers validate tokens against (DIR/oauth/jwks.json) and
its issuer and audience (DIR/oauth/issuer.json). No IdP is involved: it is for
laptops, CI and tests, where kafkatls also issues every certificate.`,
		Example: `  kafkatls oauth init
  kafkatls oauth init --alg RS256 --issuer https://kafkatls.example.com --audience kafka-prod`,
		Args: exactArgs(0, ""),
	}
	var (
		alg, issuer, audience string
		force                 bool
		idp                   idpFlags
	)
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create the token issuer: a signing key and its JWKS",
		Long: `init creates the token issuer of the PKI directory. With --force it replaces the
signing key; the previous public key stays in the JWKS, so tokens it signed are
accepted until they expire (brokers re-read a file JWKS when it changes).

With --sub-claim (or --token-url, --jwks-url, --idp-ca) it records an external
identity provider instead (DIR/oauth/idp.json): Keycloak or any OIDC provider
with the client-credentials grant. The token and JWKS URLs come from the
issuer's discovery document (ISSUER/.well-known/openid-configuration), read over
HTTPS trusting the PKI's CA, or --idp-ca, or from --token-url and --jwks-url.
--sub-claim names the claim Kafka takes the principal from: azp (the client
id) or preferred_username (Keycloak: service-account-<client id>); Keycloak's
sub is the service account's UUID. OAUTHBEARER clients are then issued with
--client-id and --client-secret-file.`,
		Example: `  kafkatls oauth init
  kafkatls oauth init --alg RS256
  kafkatls oauth init --force    # rotate the signing key
  # an external identity provider (Keycloak): its discovery document, over HTTPS
  kafkatls oauth init --issuer https://idp.example.com:8443/realms/kafka --sub-claim azp --audience kafka`,
		Args: exactArgs(0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := fsx.MkdirPrivate(g.dir); err != nil {
				return err
			}
			unlock, err := fsx.Lock(g.dir)
			if err != nil {
				return err
			}
			defer unlock()
			if idp.external(cmd) {
				if cmd.Flags().Changed("alg") {
					return usageErr("--alg: an external identity provider signs its own tokens")
				}
				return initIdP(cmd, g, issuer, audience, force, idp)
			}
			iss, err := sasl.InitIssuer(g.dir, sasl.IssuerOptions{Algorithm: alg, Issuer: issuer, Audience: audience, Force: force})
			var ie *sasl.IssuerError
			switch {
			case errors.Is(err, sasl.ErrIssuerExists):
				return usageErr("%v (--force replaces its key, keeping the old public key in the JWKS)", err)
			case errors.As(err, &ie):
				flag := ie.Field // issuer, audience
				if flag == "algorithm" {
					flag = "alg"
				}
				return usageErr("--%s: %v", flag, err)
			case err != nil:
				return err
			}
			out := struct {
				Dir string `json:"dir"`
				sasl.IssuerSettings
				JWKS string `json:"jwks"`
			}{iss.Dir, iss.Settings, iss.JWKSPath()}
			return g.emit(out, func(w io.Writer) {
				fmt.Fprintf(w, "Token issuer in %s\n  alg %s  kid %s\n  iss %s  aud %s\n  JWKS %s (brokers validate against it)\n",
					iss.Dir, iss.Settings.Algorithm, iss.Settings.KeyID, iss.Settings.Issuer, iss.Settings.Audience, iss.JWKSPath())
			})
		},
	}
	initCmd.Flags().StringVar(&alg, "alg", sasl.ES256, "signing algorithm: ES256 or RS256")
	initCmd.Flags().StringVar(&issuer, "issuer", sasl.DefaultIssuer, "the tokens' iss claim (brokers expect it)")
	initCmd.Flags().StringVar(&audience, "audience", sasl.DefaultAudience, "the tokens' aud claim (brokers expect it)")
	initCmd.Flags().BoolVar(&force, "force", false, "replace the signing key (the old public key stays in the JWKS), or the identity provider's settings")
	idp.register(initCmd)
	c.AddCommand(initCmd)
	return c
}

func newTokenCmd(g *globals) *cobra.Command {
	var (
		ttl      time.Duration
		scope    []string
		issuedAt string
		print    bool
	)
	c := &cobra.Command{
		Use:   "token NAME",
		Short: "Mint a JWT for an OAUTHBEARER client into its directory",
		Long: `token mints a JWT for the OAUTHBEARER client NAME with the PKI directory's token
issuer (sub NAME, iss, aud, iat, nbf, exp, scope; kid in the header) and
replaces DIR/certs/NAME/token.jwt (mode 0600), which its client.properties
reads through sasl.oauthbearer.token.endpoint.url (Java clients re-read it when
it changes) and its kafkajs-ssl.js at every authentication. The token is never
printed unless --print is given.`,
		Example: `  kafkatls token orders-app
  kafkatls token orders-app --ttl 8h --scope kafka.read --scope kafka.write`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := identity.ValidateName(name); err != nil {
				return usageErr("%v", err)
			}
			o := sasl.TokenOptions{TTL: ttl, Scope: pki.SplitList(scope)}
			if issuedAt != "" {
				t, err := time.Parse(time.RFC3339, issuedAt)
				if err != nil {
					return usageErr("--issued-at %q: want an RFC 3339 time, e.g. 2026-01-02T15:04:05Z", issuedAt)
				}
				o.Now = t
			}
			if fsx.Exists(filepath.Join(identity.Dir(g.dir, name), identity.ClientIDFile)) {
				return usageErr("%s %v", name, identity.ErrIdPClient)
			}
			iss, err := sasl.OpenIssuer(g.dir)
			if errors.Is(err, sasl.ErrNoIssuer) {
				return usageErr("%v; create it first with `kafkatls oauth init`", err)
			}
			if err != nil {
				return err
			}
			unlock, err := fsx.Lock(g.dir)
			if err != nil {
				return err
			}
			defer unlock()
			tok, path, err := identity.WriteToken(g.dir, name, iss, o)
			var te *sasl.TokenError
			switch {
			case errors.Is(err, identity.ErrIdPClient):
				return usageErr("%v", err)
			case errors.Is(err, identity.ErrNotOAuth):
				return usageErr("%v (issue it with --auth oauthbearer)", err)
			case errors.Is(err, identity.ErrNotIssued):
				return usageErr("%v: issue it first with `kafkatls issue %s --auth oauthbearer`", err, name)
			case errors.As(err, &te):
				return usageErr("%v", err)
			case err != nil:
				return err
			}
			out := struct {
				File string `json:"file"`
				*sasl.Token
				JWT string `json:"jwt,omitempty"`
			}{File: path, Token: tok}
			if print {
				out.JWT = tok.JWT
			}
			return g.emit(out, func(w io.Writer) {
				if print {
					fmt.Fprintln(w, tok.JWT)
					return
				}
				fmt.Fprintf(w, "Token for %s in %s\n  sub %s  iss %s  aud %s  kid %s\n  expires %s\n",
					name, path, tok.Subject, tok.Issuer, tok.Aud, tok.KeyID, tok.Expires.Format(time.RFC3339))
			})
		},
	}
	c.Flags().DurationVar(&ttl, "ttl", sasl.DefaultTokenTTL, "token lifetime (at most 90 days: a JWT cannot be revoked)")
	c.Flags().StringSliceVar(&scope, "scope", nil, "the scope claim (repeatable, comma lists)")
	c.Flags().StringVar(&issuedAt, "issued-at", "", "mint as if at this RFC 3339 time (tests: an already expired token)")
	c.Flags().BoolVar(&print, "print", false, "also print the JWT on stdout (it is a credential)")
	return c
}

// idpFlags are oauth init's flags for an external identity provider.
type idpFlags struct {
	tokenURL, jwksURL, subClaim, caFile string
}

func (f *idpFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.subClaim, "sub-claim", "", "external identity provider: the token claim that becomes the principal: azp, client_id or preferred_username")
	fl.StringVar(&f.tokenURL, "token-url", "", "external identity provider: its token endpoint (https), instead of discovery")
	fl.StringVar(&f.jwksURL, "jwks-url", "", "external identity provider: its JWKS (https), instead of discovery")
	fl.StringVar(&f.caFile, "idp-ca", "", "external identity provider: PEM CA file its HTTPS certificate chains to (default: the PKI's CA)")
}

// external: any IdP flag given means an external identity provider.
func (f *idpFlags) external(c *cobra.Command) bool {
	for _, n := range []string{"sub-claim", "token-url", "jwks-url", "idp-ca"} {
		if c.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// discoveryTimeout bounds reading the IdP's discovery document.
const discoveryTimeout = 15 * time.Second

func initIdP(cmd *cobra.Command, g *globals, issuer, audience string, force bool, f idpFlags) error {
	if !cmd.Flags().Changed("issuer") {
		return usageErr("--issuer: give the identity provider's issuer URL (Keycloak: https://HOST:PORT/realms/REALM)")
	}
	if f.subClaim == "" {
		return usageErr("--sub-claim: say which token claim becomes the principal: azp (the client id) or preferred_username (Keycloak: service-account-<client id>); sub is a UUID for Keycloak's service accounts")
	}
	switch f.subClaim {
	case sasl.ClaimAzp, sasl.ClaimClientID, sasl.ClaimPreferredUsername:
	default:
		return usageErr("--sub-claim %q: want azp, client_id or preferred_username (Keycloak's sub is the service account's UUID, which no ACL can name in advance)", f.subClaim)
	}
	caPath := filepath.Join(g.dir, pki.TrustFile)
	var caPEM []byte
	if f.caFile != "" {
		caPath = f.caFile
	}
	b, err := fsx.ReadFileLimit(caPath, fsx.LimitPEM)
	if err != nil {
		if f.caFile != "" {
			return fmt.Errorf("--idp-ca: %w", err)
		}
		return fmt.Errorf("the PKI's CA (trusted for the identity provider's HTTPS): %w", err)
	}
	certs, err := pem.DecodeCerts(b)
	if err != nil {
		return usageErr("--idp-ca %s: %v", caPath, err)
	}
	roots := x509.NewCertPool()
	for _, c := range certs {
		roots.AddCert(c)
	}
	if f.caFile != "" {
		caPEM = pem.EncodeCerts(certs...)
	}
	p := sasl.IdP{Issuer: issuer, TokenURL: f.tokenURL, JWKSURL: f.jwksURL, Audience: audience, SubClaim: f.subClaim}
	if p.TokenURL == "" || p.JWKSURL == "" {
		d, err := sasl.Discover(cmd.Context(), issuer, roots, discoveryTimeout)
		if err != nil {
			return err
		}
		if p.TokenURL == "" {
			p.TokenURL = d.TokenEndpoint
		}
		if p.JWKSURL == "" {
			p.JWKSURL = d.JWKSURI
		}
	}
	saved, err := sasl.InitIdP(g.dir, p, caPEM, force)
	var ie *sasl.IdPError
	switch {
	case errors.Is(err, sasl.ErrIssuerExists):
		return usageErr("%v (--force replaces it)", err)
	case errors.As(err, &ie):
		return usageErr("%v", err)
	case err != nil:
		return err
	}
	out := struct {
		Dir string `json:"dir"`
		*sasl.IdP
		ExamplePrincipal string `json:"example_principal"`
	}{sasl.IssuerDir(g.dir), saved, principal.User(saved.Principal("CLIENT_ID"))}
	return g.emit(out, func(w io.Writer) {
		fmt.Fprintf(w, "Identity provider %s\n  token endpoint %s\n  JWKS %s\n  aud %s  principal claim %s (a client CLIENT_ID is %s)\n",
			saved.Issuer, saved.TokenURL, saved.JWKSURL, saved.Audience, saved.SubClaim, out.ExamplePrincipal)
	})
}
