package stepca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// provKey is the decrypted private JWK of the provisioner, and what of
// the provisioner step-ca publishes (its claims, for diagnoses).
type provKey struct {
	jwk    jose.JSONWebKey
	alg    jose.SignatureAlgorithm
	claims *Claims
}

// Provisioner is one entry of GET /1.0/provisioners, the part kafkatls
// reads. step-ca publishes it without authentication; encryptedKey is
// only useful with the password.
type Provisioner struct {
	Type         string          `json:"type"`
	Name         string          `json:"name"`
	Key          json.RawMessage `json:"key,omitempty"`
	EncryptedKey string          `json:"encryptedKey,omitempty"`
	Claims       *Claims         `json:"claims,omitempty"`
	Options      json.RawMessage `json:"options,omitempty"`
}

// Claims are a provisioner's (or the authority's) duration limits as
// ca.json spells them ("claims": {...}); empty fields mean step-ca's
// defaults (min 5m, max 24h, default 24h).
type Claims struct {
	MinTLSCertDuration     string `json:"minTLSCertDuration,omitempty"`
	MaxTLSCertDuration     string `json:"maxTLSCertDuration,omitempty"`
	DefaultTLSCertDuration string `json:"defaultTLSCertDuration,omitempty"`
}

// step-ca's built-in claims, used when neither the provisioner nor the
// authority sets one.
const (
	stepDefaultMaxTLS = 24 * time.Hour
	stepDefaultMinTLS = 5 * time.Minute
)

// maxProvisionerPages bounds the pagination of /1.0/provisioners.
const maxProvisionerPages = 50

// Provisioners lists the CA's provisioners (GET /1.0/provisioners, all
// pages).
func (c *Client) Provisioners(ctx context.Context) ([]Provisioner, error) {
	var all []Provisioner
	cursor := ""
	for range maxProvisionerPages {
		path := "/1.0/provisioners?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		b, err := c.do(ctx, "GET", path, nil)
		if err != nil {
			return nil, c.classify("list provisioners", "/1.0/provisioners", err)
		}
		var page struct {
			Provisioners []Provisioner `json:"provisioners"`
			NextCursor   string        `json:"nextCursor"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return nil, &EngineError{Op: "list provisioners", Path: "/1.0/provisioners", Status: 200, Message: "unparsable answer: " + err.Error()}
		}
		all = append(all, page.Provisioners...)
		if page.NextCursor == "" || len(page.Provisioners) == 0 {
			return all, nil
		}
		cursor = page.NextCursor
	}
	return all, nil
}

// Provisioner returns the configured provisioner as step-ca publishes it.
func (c *Client) Provisioner(ctx context.Context) (*Provisioner, error) {
	list, err := c.Provisioners(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for i, p := range list {
		if p.Name == c.cfg.Provisioner && strings.EqualFold(p.Type, "JWK") {
			return &list[i], nil
		}
		names = append(names, p.Name+" ("+p.Type+")")
	}
	return nil, &EngineError{Op: "find provisioner", Path: "/1.0/provisioners", Status: 404,
		Message: fmt.Sprintf("no JWK provisioner named %q; the CA has %s", c.cfg.Provisioner, strings.Join(names, ", "))}
}

// providerKey decrypts the provisioner key once per Client.
func (c *Client) providerKey(ctx context.Context) (*provKey, error) {
	select {
	case c.keyMu <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.keyMu }()
	if c.key != nil {
		return c.key, nil
	}
	var (
		data   []byte
		source string
		claims *Claims
	)
	if c.cfg.KeyFile != "" {
		b, err := readSecretFile(c.cfg.KeyFile, maxKeyFile, "provisioner key file")
		if err != nil {
			return nil, err
		}
		data, source = b, "key file "+c.cfg.KeyFile
		// Claims only for diagnoses: a CA that cannot be listed still signs.
		if p, err := c.Provisioner(ctx); err == nil {
			claims = p.Claims
		}
	} else {
		p, err := c.Provisioner(ctx)
		if err != nil {
			return nil, err
		}
		if p.EncryptedKey == "" {
			return nil, &EngineError{Op: "find provisioner", Path: "/1.0/provisioners", Status: 200,
				Message: fmt.Sprintf("provisioner %q publishes no encryptedKey; give its key file", p.Name)}
		}
		data, source, claims = []byte(p.EncryptedKey), "encryptedKey from /1.0/provisioners", p.Claims
	}
	jwk, err := decryptJWK(data, c.cfg.Password)
	if err != nil {
		if errors.Is(err, errDecrypt) {
			return nil, &PasswordError{Provisioner: c.cfg.Provisioner, Source: source}
		}
		return nil, fmt.Errorf("provisioner %q key (%s): %w", c.cfg.Provisioner, source, err)
	}
	alg, err := signatureAlgorithm(jwk)
	if err != nil {
		return nil, fmt.Errorf("provisioner %q key: %w", c.cfg.Provisioner, err)
	}
	c.key = &provKey{jwk: jwk, alg: alg, claims: claims}
	return c.key, nil
}

const maxKeyFile = 64 << 10

var errDecrypt = errors.New("decryption failed")

// Algorithms accepted for the encrypted key: what the step CLI writes
// (PBES2-HS256+A128KW with A256GCM) and its siblings.
var (
	pbesAlgs = []jose.KeyAlgorithm{jose.PBES2_HS256_A128KW, jose.PBES2_HS384_A192KW, jose.PBES2_HS512_A256KW}
	encAlgs  = []jose.ContentEncryption{jose.A128GCM, jose.A192GCM, jose.A256GCM, jose.A128CBC_HS256, jose.A192CBC_HS384, jose.A256CBC_HS512}
)

// decryptJWK reads a private JWK: a JWE (compact or JSON) decrypted with
// password, or a plain JWK.
func decryptJWK(data, password []byte) (jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	s := strings.TrimSpace(string(data))
	plain := []byte(s)
	if enc, err := jose.ParseEncrypted(s, pbesAlgs, encAlgs); err == nil {
		out, err := enc.Decrypt(password)
		if err != nil {
			return jwk, errDecrypt
		}
		plain = out
	} else if !strings.HasPrefix(s, "{") {
		return jwk, fmt.Errorf("neither a JWE nor a JWK: %v", err)
	}
	if err := json.Unmarshal(plain, &jwk); err != nil {
		return jwk, fmt.Errorf("not a JWK: %v", err)
	}
	if jwk.IsPublic() {
		return jwk, errors.New("a public key, not the provisioner's private key")
	}
	if _, ok := jwk.Key.(crypto.Signer); !ok {
		return jwk, fmt.Errorf("key type %T cannot sign", jwk.Key)
	}
	return jwk, nil
}

func signatureAlgorithm(jwk jose.JSONWebKey) (jose.SignatureAlgorithm, error) {
	if jwk.Algorithm != "" {
		return jose.SignatureAlgorithm(jwk.Algorithm), nil
	}
	switch k := jwk.Key.(type) {
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
	case *rsa.PrivateKey:
		return jose.RS256, nil
	case ed25519.PrivateKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("no signature algorithm for key type %T", jwk.Key)
}

// tokenClaims are the one-time token's claims: the registered ones plus
// step-ca's "sans".
type tokenClaims struct {
	jwt.Claims
	SANs []string `json:"sans,omitempty"`
}

// token mints a one-time token for path (the audience is the CA URL plus
// path, as step-ca checks it), subject sub, SANs sans.
func (c *Client) token(ctx context.Context, path, sub string, sans []string) (string, error) {
	k, err := c.providerKey(ctx)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.jwk}, opts)
	if err != nil {
		return "", fmt.Errorf("token signer: %w", err)
	}
	id := make([]byte, 16)
	if _, err := io.ReadFull(rand.Reader, id); err != nil {
		return "", err
	}
	now := time.Now()
	aud := *c.base
	aud.Path = path
	cl := tokenClaims{Claims: jwt.Claims{
		Issuer:    c.cfg.Provisioner,
		Subject:   sub,
		Audience:  jwt.Audience{aud.String()},
		NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
		IssuedAt:  jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(TokenLifetime)),
		ID:        hex.EncodeToString(id),
	}, SANs: sans}
	return jwt.Signed(signer).Claims(cl).Serialize()
}

// ProvisionerOptions are the settings GenerateProvisioner writes.
type ProvisionerOptions struct {
	// ClientOnly: the template gives clientAuth only (a provisioner for
	// Kafka clients); else serverAuth+clientAuth (brokers, and clients).
	ClientOnly bool
	// Claims: empty fields are left to step-ca's defaults (max 24h).
	Claims Claims
	// PBES2Count is the PBKDF2 iteration count for the encrypted key;
	// 0: 600000, as the step CLI uses.
	PBES2Count int
}

// GenerateProvisioner makes a JWK provisioner for ca.json's
// authority.provisioners: an EC P-256 key, its private half encrypted with
// password (PBES2-HS256+A128KW, A256GCM, as `step ca provisioner add`
// writes it), and KafkaTemplate in options.x509.template. It returns the
// JSON object to paste.
func GenerateProvisioner(name string, password []byte, opts ProvisionerOptions) ([]byte, error) {
	if name == "" || len(password) == 0 {
		return nil, errors.New("provisioner name and password are required")
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: string(jose.ES256), Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	plain, err := json.Marshal(jwk)
	if err != nil {
		return nil, err
	}
	count := opts.PBES2Count
	if count == 0 {
		count = 600000
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.PBES2_HS256_A128KW, Key: password, PBES2Count: count},
		(&jose.EncrypterOptions{}).WithContentType("jwk+json"))
	if err != nil {
		return nil, err
	}
	obj, err := enc.Encrypt(plain)
	if err != nil {
		return nil, err
	}
	compact, err := obj.CompactSerialize()
	if err != nil {
		return nil, err
	}
	pub := jwk.Public()
	p := map[string]any{
		"type": "JWK", "name": name, "key": pub, "encryptedKey": compact,
		"options": map[string]any{"x509": map[string]any{"template": KafkaTemplate(opts.ClientOnly)}},
	}
	if opts.Claims != (Claims{}) {
		p["claims"] = opts.Claims
	}
	return json.MarshalIndent(p, "", "  ")
}

// KafkaTemplate is the X.509 template a provisioner needs for Kafka. The
// default leaf template takes the subject from the token (CN only) and the
// SANs from the token (the CN when there are none): the principal Kafka
// sees would lose OU/O, and a client would get its CN as a DNS SAN. This
// one keeps the CSR's subject byte for byte and the CSR's SANs (step-ca has
// already checked them against the token's), and sets the EKUs: both for
// brokers, clientAuth alone for a client-only provisioner.
func KafkaTemplate(clientOnly bool) string {
	eku := `"serverAuth", "clientAuth"`
	if clientOnly {
		eku = `"clientAuth"`
	}
	return `{
	"rawSubject": {{ toJson .Insecure.CR.RawSubject }},
	"dnsNames": {{ toJson .Insecure.CR.DNSNames }},
	"ipAddresses": {{ toJson .Insecure.CR.IPAddresses }},
	"emailAddresses": {{ toJson .Insecure.CR.EmailAddresses }},
	"uris": {{ toJson .Insecure.CR.URIs }},
{{- if typeIs "*rsa.PublicKey" .Insecure.CR.PublicKey }}
	"keyUsage": ["keyEncipherment", "digitalSignature"],
{{- else }}
	"keyUsage": ["digitalSignature"],
{{- end }}
	"extKeyUsage": [` + eku + `]
}`
}
