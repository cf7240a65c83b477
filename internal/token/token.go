// Package token signs and verifies Azure-style JWT access tokens (JWS compact
// serialization, RS256) with one RSA key, persisted in a file
// (LoadOrCreate) or kept by the caller (GenerateKey, FromPEM), and publishes
// that key as a JWKS document.
//
// Tokens carry the protected header
//
//	{"alg":"RS256","kid":K,"typ":"JWT","x5t":K}
//
// where K is the key id (see Signer.KeyID); Azure AD v1 tokens carry both kid
// and x5t with the same value, and some clients look only at x5t.
//
// Verify checks structure, algorithm, key id and signature only. Time-based
// and audience claims (exp, nbf, iat, aud, iss) are the caller's business, so
// that callers control the clock and the error text returned to clients.
package token

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cerulean/cerulean/internal/atomicfile"
)

// Errors returned by Verify, always wrapped with detail; test with errors.Is.
var (
	// ErrMalformed means the input is not a well-formed compact JWS, or its
	// verified payload is not JSON that decodes into the destination.
	ErrMalformed = errors.New("token: malformed")
	// ErrSignature means the token is well formed but not acceptable: an
	// algorithm other than RS256, a key id other than this signer's, or a
	// signature that does not verify.
	ErrSignature = errors.New("token: invalid signature")
)

const (
	// keyBits is the size of generated keys; loaded keys may be larger
	// but not smaller.
	keyBits = 2048
	// kidLen is the key id length: 27 base64url characters, about 160
	// bits, the same length as a base64url SHA-1 thumbprint.
	kidLen = 27
	// maxTokenLen bounds the work done on untrusted input.
	maxTokenLen = 64 << 10
)

// Signer signs JWTs with an RSA private key and verifies them. It is safe
// for concurrent use.
type Signer struct {
	key    *rsa.PrivateKey
	kid    string
	signer jose.Signer
}

// LoadOrCreate reads an RSA private key (PKCS#8 PEM, "PRIVATE KEY") from path.
// If path does not exist it generates an RSA-2048 key and writes it there with
// mode 0600, atomically, creating the parent directory (0700) if needed. A
// file that exists but cannot be used is an error naming the file; it is never
// replaced.
func LoadOrCreate(path string) (*Signer, error) {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := parseKey(data)
		if err != nil {
			return nil, fmt.Errorf("token: %s: %w", path, err)
		}
		return New(key), nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("token: %w", err)
	}

	pemBytes, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if err := atomicfile.WriteFile(path, pemBytes, 0o600); err != nil {
		return nil, err
	}
	return FromPEM(pemBytes)
}

// GenerateKey makes a new RSA-2048 signing key, as LoadOrCreate does on
// first use, and returns it PKCS#8 PEM-encoded ("PRIVATE KEY"), for keeping
// elsewhere than a file (servers sharing one database keep one key there).
func GenerateKey() ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("token: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("token: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// FromPEM returns a signer for a key in the form GenerateKey makes, with
// the checks LoadOrCreate applies to its file: exactly one PKCS#8 PEM
// block holding a valid RSA key of at least 2048 bits.
func FromPEM(data []byte) (*Signer, error) {
	key, err := parseKey(data)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return New(key), nil
}

// parseKey decodes exactly one PKCS#8 PEM block holding a valid RSA key of
// at least keyBits bits.
func parseKey(data []byte) (*rsa.PrivateKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM data")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("PEM block is %q, want \"PRIVATE KEY\" (PKCS#8)", block.Type)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, errors.New("unexpected data after the PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, want RSA", k)
	}
	if err := key.Validate(); err != nil {
		return nil, err
	}
	if n := key.N.BitLen(); n < keyBits {
		return nil, fmt.Errorf("RSA key is %d bits, want at least %d", n, keyBits)
	}
	return key, nil
}

// New wraps an existing key. It panics if key is nil. Unlike LoadOrCreate it
// does not enforce a minimum key size, so tests may use small keys.
func New(key *rsa.PrivateKey) *Signer {
	if key == nil {
		panic("token: New called with a nil key")
	}
	kid := keyID(&key.PublicKey)
	opts := (&jose.SignerOptions{}).
		WithType("JWT").
		WithHeader(jose.HeaderKey("kid"), kid).
		WithHeader(jose.HeaderKey("x5t"), kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		// Only possible for unsupported key types or algorithms, and
		// both are fixed here.
		panic("token: " + err.Error())
	}
	return &Signer{key: key, kid: kid, signer: signer}
}

// keyID is the first 27 characters of base64url(SHA-256(DER
// SubjectPublicKeyInfo)).
func keyID(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic("token: marshal public key: " + err.Error()) // cannot happen for RSA
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])[:kidLen]
}

// KeyID returns the key id, which is also the x5t header value.
func (s *Signer) KeyID() string { return s.kid }

// Sign serializes claims with encoding/json (any value that encodes as a JSON
// object: usually a struct or a map) and returns a compact JWS with header
// {"alg":"RS256","kid":…,"typ":"JWT","x5t":…}.
func (s *Signer) Sign(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token: encode claims: %w", err)
	}
	if len(payload) == 0 || payload[0] != '{' {
		return "", fmt.Errorf("token: claims must encode as a JSON object, got %.20s", payload)
	}
	jws, err := s.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// Verify checks that raw is a compact JWS (exactly three segments) with alg
// RS256, this signer's kid, and a valid signature, then JSON-decodes the
// payload into dst (skipped if dst is nil). It does not look at exp, nbf, aud
// or any other claim. Errors wrap ErrMalformed or ErrSignature.
func (s *Signer) Verify(raw string, dst any) error {
	if len(raw) > maxTokenLen {
		return fmt.Errorf("%w: token longer than %d bytes", ErrMalformed, maxTokenLen)
	}
	if i := strings.IndexFunc(raw, notCompactChar); i >= 0 {
		// encoding/base64 skips \r and \n; be strict instead.
		r, _ := utf8.DecodeRuneInString(raw[i:])
		return fmt.Errorf("%w: invalid character %q at offset %d", ErrMalformed, r, i)
	}
	segs := strings.Split(raw, ".")
	if len(segs) != 3 {
		return fmt.Errorf("%w: %d segments, want 3", ErrMalformed, len(segs))
	}
	// Strict: a segment whose unused low bits are not zero decodes to the
	// same bytes as the canonical one, so without it one signed token
	// could be spelled several ways (go-jose accepts them all).
	for i, seg := range segs[1:] {
		if _, err := strictB64.DecodeString(seg); err != nil {
			return fmt.Errorf("%w: segment %d: %w", ErrMalformed, i+2, err)
		}
	}
	hdrJSON, err := strictB64.DecodeString(segs[0])
	if err != nil {
		return fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	// Decode into a map so that only the exact (case-sensitive) names count.
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
		return fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	var alg, kid string
	if err := json.Unmarshal(hdr["alg"], &alg); err != nil {
		return fmt.Errorf("%w: header alg: %w", ErrMalformed, err)
	}
	if alg != string(jose.RS256) {
		return fmt.Errorf("%w: algorithm %q not accepted", ErrSignature, alg)
	}
	if k, ok := hdr["kid"]; !ok || json.Unmarshal(k, &kid) != nil || kid != s.kid {
		return fmt.Errorf("%w: unknown key id %.40q", ErrSignature, kid)
	}

	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	payload, err := jws.Verify(&s.key.PublicKey)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	if dst == nil {
		return nil
	}
	if err := json.Unmarshal(payload, dst); err != nil {
		return fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	return nil
}

// strictB64 decodes only the canonical unpadded base64url spelling.
var strictB64 = base64.RawURLEncoding.Strict()

// notCompactChar reports whether r cannot occur in a compact JWS, whose
// segments are unpadded base64url joined by dots.
func notCompactChar(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
}

// JWKS is a JSON Web Key Set document, as served at an OpenID Connect
// jwks_uri.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is one RSA public key in a JWKS. N and E are base64url without padding.
type JWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	X5t string `json:"x5t,omitempty"`
	N   string `json:"n"`
	E   string `json:"e"`
	Alg string `json:"alg"`
}

// JWKS returns the key set holding this signer's public key.
func (s *Signer) JWKS() JWKS {
	pub := &s.key.PublicKey
	return JWKS{Keys: []JWK{{
		Kty: "RSA",
		Use: "sig",
		Kid: s.kid,
		X5t: s.kid,
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		Alg: string(jose.RS256),
	}}}
}
