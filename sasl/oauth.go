package sasl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kafkatls/kafkatls/internal/fsx"
)

// Files of the local token issuer, under DIR/oauth/.
const (
	OAuthDir       = "oauth"
	SigningKeyFile = "signing.key" // PKCS#8 PEM, 0600
	JWKSFile       = "jwks.json"   // the public key(s), for brokers
	IssuerFile     = "issuer.json" // the settings below; written last
	// TokenFile is an OAUTHBEARER identity's current token, in its
	// directory (0600): Java clients read it through a file: token
	// endpoint URL.
	TokenFile = "token.jwt"
)

// Token signing algorithms.
const (
	ES256 = "ES256"
	RS256 = "RS256"
)

// Defaults of a new issuer and of a token.
const (
	DefaultIssuer   = "kafkatls"
	DefaultAudience = "kafka"
	DefaultTokenTTL = time.Hour
	// MaxTokenTTL bounds a minted token's life: a JWT cannot be revoked.
	MaxTokenTTL = 90 * 24 * time.Hour
)

// maxIssuerFile bounds every issuer file read.
const maxIssuerFile = 1 << 20

// IssuerSettings are the issuer's public settings (issuer.json).
type IssuerSettings struct {
	Algorithm string `json:"alg"`
	KeyID     string `json:"kid"`
	Issuer    string `json:"issuer"`   // the iss claim; brokers expect it (sasl.oauthbearer.expected.issuer)
	Audience  string `json:"audience"` // the aud claim; brokers expect it (sasl.oauthbearer.expected.audience)
}

// Issuer is kafkatls acting as a local OAuth token issuer: no IdP, a
// signing key under the PKI directory, and a JWKS file brokers validate
// tokens against.
type Issuer struct {
	Dir      string // DIR/oauth
	Settings IssuerSettings
	key      crypto.Signer
}

// IssuerOptions configure a new issuer.
type IssuerOptions struct {
	Algorithm string // ES256 (default) or RS256
	Issuer    string // default DefaultIssuer
	Audience  string // default DefaultAudience
	// Force replaces an existing issuer's key; the previous public key
	// stays in the JWKS so tokens it signed stay valid until they expire.
	Force bool
}

// ErrIssuerExists: the PKI directory already has a token issuer.
var ErrIssuerExists = errors.New("already has a token issuer")

// ErrNoIssuer: the PKI directory has no token issuer.
var ErrNoIssuer = errors.New("has no token issuer")

// IssuerError names an invalid issuer setting.
type IssuerError struct{ Field, Msg string }

func (e *IssuerError) Error() string { return "token issuer " + e.Field + ": " + e.Msg }

// IssuerDir is the issuer's directory inside a PKI directory.
func IssuerDir(pkiDir string) string { return filepath.Join(pkiDir, OAuthDir) }

// InitIssuer creates the issuer of pkiDir: a signing key (0600), the JWKS
// and issuer.json, in that order, each replaced atomically; issuer.json
// is the last, so an issuer without it is incomplete and is made again.
func InitIssuer(pkiDir string, o IssuerOptions) (*Issuer, error) {
	alg := strings.ToUpper(strings.TrimSpace(o.Algorithm))
	if alg == "" {
		alg = ES256
	}
	if alg != ES256 && alg != RS256 {
		return nil, &IssuerError{Field: "algorithm", Msg: fmt.Sprintf("%q: want ES256 or RS256", o.Algorithm)}
	}
	s := IssuerSettings{Algorithm: alg, Issuer: o.Issuer, Audience: o.Audience}
	if s.Issuer == "" {
		s.Issuer = DefaultIssuer
	}
	if s.Audience == "" {
		s.Audience = DefaultAudience
	}
	for _, f := range []struct{ name, v string }{{"issuer", s.Issuer}, {"audience", s.Audience}} {
		if strings.TrimSpace(f.v) != f.v || strings.ContainsAny(f.v, ",\"\\") || strings.IndexFunc(f.v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return nil, &IssuerError{Field: f.name, Msg: fmt.Sprintf("%q: no surrounding spaces, commas, quotes, backslashes or control characters (Kafka reads the expected value as a list)", f.v)}
		}
	}
	dir := IssuerDir(pkiDir)
	var previous []jose.JSONWebKey
	if old, err := OpenIssuer(pkiDir); err == nil {
		if !o.Force {
			return nil, fmt.Errorf("%s %w (kid %s)", pkiDir, ErrIssuerExists, old.Settings.KeyID)
		}
		set, err := readJWKS(filepath.Join(dir, JWKSFile))
		if err != nil {
			return nil, err
		}
		for _, k := range set.Keys {
			if k.KeyID == old.Settings.KeyID {
				previous = append(previous, k) // the key being replaced; older ones go
			}
		}
	} else if !errors.Is(err, ErrNoIssuer) {
		return nil, err
	} else if fsx.Exists(filepath.Join(dir, SigningKeyFile)) && !o.Force {
		return nil, fmt.Errorf("%s holds a signing key but no %s (an interrupted oauth init?): %w", dir, IssuerFile, ErrIssuerExists)
	}
	var key crypto.Signer
	var err error
	if alg == ES256 {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, err
	}
	pub := jose.JSONWebKey{Key: key.Public(), Algorithm: alg, Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	s.KeyID = base64.RawURLEncoding.EncodeToString(tp) // RFC 7638
	pub.KeyID = s.KeyID
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	jwks, err := json.MarshalIndent(jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey{pub}, previous...)}, "", "  ")
	if err != nil {
		return nil, err
	}
	settings, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := fsx.MkdirPrivate(dir); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
		perm fs.FileMode
	}{
		{SigningKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), fsx.PrivateFile},
		{JWKSFile, append(jwks, '\n'), fsx.PublicFile},
		{IssuerFile, append(settings, '\n'), fsx.PublicFile},
	} {
		if err := fsx.WriteFile(filepath.Join(dir, f.name), f.data, f.perm); err != nil {
			return nil, err
		}
	}
	return &Issuer{Dir: dir, Settings: s, key: key}, nil
}

// OpenIssuer opens the issuer of pkiDir; ErrNoIssuer if it has none.
func OpenIssuer(pkiDir string) (*Issuer, error) {
	dir := IssuerDir(pkiDir)
	b, err := fsx.ReadFileLimit(filepath.Join(dir, IssuerFile), maxIssuerFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s %w", pkiDir, ErrNoIssuer)
	}
	if err != nil {
		return nil, err
	}
	var s IssuerSettings
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, IssuerFile), err)
	}
	kb, err := fsx.ReadFileLimit(filepath.Join(dir, SigningKeyFile), maxIssuerFile)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(kb)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM PKCS#8 private key", filepath.Join(dir, SigningKeyFile))
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, SigningKeyFile), err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported key type %T", filepath.Join(dir, SigningKeyFile), k)
	}
	return &Issuer{Dir: dir, Settings: s, key: key}, nil
}

func readJWKS(path string) (*jose.JSONWebKeySet, error) {
	b, err := fsx.ReadFileLimit(path, maxIssuerFile)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &set, nil
}

// JWKSPath is the JWKS file brokers validate against.
func (i *Issuer) JWKSPath() string { return filepath.Join(i.Dir, JWKSFile) }

// TokenOptions shape a minted token.
type TokenOptions struct {
	TTL   time.Duration // default DefaultTokenTTL
	Scope []string      // the scope claim, space separated; omitted if empty
	Now   time.Time     // default time.Now()
}

// Token is a minted JWT and its claims.
type Token struct {
	JWT     string    `json:"-"` // never printed unless asked
	Subject string    `json:"sub"`
	Issuer  string    `json:"iss"`
	Aud     string    `json:"aud"`
	Scope   string    `json:"scope,omitempty"`
	KeyID   string    `json:"kid"`
	Issued  time.Time `json:"iat"`
	Expires time.Time `json:"exp"`
}

// TokenError names an invalid token request.
type TokenError struct{ Field, Msg string }

func (e *TokenError) Error() string { return "token " + e.Field + ": " + e.Msg }

// Mint signs a JWT for sub: sub, iss, aud, iat, nbf, exp and scope, with
// the key's kid in the header, as Kafka's validator wants it (a kid that
// is in the JWKS, exp and iat present, sub non-empty).
func (i *Issuer) Mint(sub string, o TokenOptions) (*Token, error) {
	if sub == "" || strings.TrimSpace(sub) != sub {
		return nil, &TokenError{Field: "sub", Msg: fmt.Sprintf("%q: empty or surrounded by spaces", sub)}
	}
	ttl := o.TTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < 0 || ttl > MaxTokenTTL {
		return nil, &TokenError{Field: "lifetime", Msg: fmt.Sprintf("%s: want more than 0 and at most %s (a JWT cannot be revoked)", ttl, MaxTokenTTL)}
	}
	for _, s := range o.Scope {
		if s == "" || strings.ContainsAny(s, " \t\"\\") {
			return nil, &TokenError{Field: "scope", Msg: fmt.Sprintf("%q: a scope is one non-empty word", s)}
		}
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.Truncate(time.Second)
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(i.Settings.Algorithm),
		Key:       jose.JSONWebKey{Key: i.key, KeyID: i.Settings.KeyID, Algorithm: i.Settings.Algorithm},
	}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	t := &Token{Subject: sub, Issuer: i.Settings.Issuer, Aud: i.Settings.Audience, Scope: strings.Join(o.Scope, " "),
		KeyID: i.Settings.KeyID, Issued: now.UTC(), Expires: now.Add(ttl).UTC()}
	claims := jwt.Claims{Subject: sub, Issuer: t.Issuer, Audience: jwt.Audience{t.Aud},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(t.Expires)}
	b := jwt.Signed(signer).Claims(claims)
	if t.Scope != "" {
		b = b.Claims(map[string]any{"scope": t.Scope})
	}
	if t.JWT, err = b.Serialize(); err != nil {
		return nil, err
	}
	return t, nil
}

// FileURLError: a path cannot be written as a file: URL Kafka opens.
type FileURLError struct{ Path string }

func (e *FileURLError) Error() string {
	return fmt.Sprintf("%q cannot be a file: URL for Kafka: it takes the URL's raw path as the file name, so the path must be absolute and hold only letters, digits and - . _ / ~ +", e.Path)
}

// FileURL returns the file: URL Kafka is given for an absolute path, in
// the one form the allow-list then has to repeat: "file:" followed by the
// path (Kafka compares the strings, so this form everywhere). Kafka turns
// the URL back into a path with URI.getRawPath, without decoding, so a
// path that would need percent-encoding is refused.
func FileURL(path string) (string, error) {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		return "", &FileURLError{Path: path}
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._/~+", r)) {
			return "", &FileURLError{Path: path}
		}
	}
	u := "file:" + p
	if _, err := url.Parse(u); err != nil {
		return "", &FileURLError{Path: path}
	}
	return u, nil
}

// AllowListOption is the JVM option (for KAFKA_OPTS) that allows exactly
// urls, sorted and deduplicated.
func AllowListOption(urls ...string) string {
	u := slices.Clone(urls)
	slices.Sort(u)
	return "-D" + AllowedURLsProperty + "=" + strings.Join(slices.Compact(u), ",")
}
