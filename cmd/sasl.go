package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kafkatls/kafkatls/identity"
	"github.com/kafkatls/kafkatls/internal/fsx"
	"github.com/kafkatls/kafkatls/pki"
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
}

func (f *saslFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.auth, "auth", "mtls", "client: how it authenticates to Kafka: "+sasl.Names())
	fl.StringSliceVar(&f.mechanisms, "sasl", nil, "broker: add a SASL_SSL listener with these mechanisms (scram-sha-512, scram-sha-256, oauthbearer)")
	fl.IntVar(&f.port, "sasl-port", sasl.DefaultPort, "the brokers' SASL_SSL listener port")
	fl.StringVar(&f.scramPWFile, "scram-password-file", "", "SCRAM client: read its password from this file instead of generating one")
	fl.DurationVar(&f.ttl, "token-ttl", sasl.DefaultTokenTTL, "OAUTHBEARER client: lifetime of the first token (kafkatls token NAME mints more)")
	fl.StringSliceVar(&f.scope, "scope", nil, "OAUTHBEARER client: the token's scope claim (repeatable)")
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
	if a.Spec().OAuth || containsAuth(mechs, sasl.OAuthBearer) {
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
	)
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create the token issuer: a signing key and its JWKS",
		Long: `init creates the token issuer of the PKI directory. With --force it replaces the
signing key; the previous public key stays in the JWKS, so tokens it signed are
accepted until they expire (brokers re-read a file JWKS when it changes).`,
		Example: `  kafkatls oauth init
  kafkatls oauth init --alg RS256
  kafkatls oauth init --force    # rotate the signing key`,
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
	initCmd.Flags().BoolVar(&force, "force", false, "replace the signing key (the old public key stays in the JWKS)")
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
