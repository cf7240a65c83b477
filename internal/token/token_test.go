package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// RSA key generation is slow; share two keys across tests.
var (
	testKey  = sync.OnceValue(func() *rsa.PrivateKey { return genKey(2048) })
	otherKey = sync.OnceValue(func() *rsa.PrivateKey { return genKey(2048) })
)

func genKey(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

type claims struct {
	Aud   string   `json:"aud"`
	Iss   string   `json:"iss"`
	Exp   int64    `json:"exp"`
	OID   string   `json:"oid,omitempty"`
	Roles []string `json:"roles,omitempty"`
}

var b64 = base64.RawURLEncoding

func mustSign(t testing.TB, s *Signer, c any) string {
	t.Helper()
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func TestRoundTrip(t *testing.T) {
	s := New(testKey())
	tests := []struct {
		name   string
		claims any
		dst    func() any
		want   any
	}{
		{
			name:   "struct",
			claims: claims{Aud: "https://management.azure.com/", Iss: "https://sts.windows.net/t/", Exp: 1900000000, Roles: []string{"Owner"}},
			dst:    func() any { return new(claims) },
			want:   &claims{Aud: "https://management.azure.com/", Iss: "https://sts.windows.net/t/", Exp: 1900000000, Roles: []string{"Owner"}},
		},
		{
			name:   "map",
			claims: map[string]any{"aud": "a", "n": 1, "nested": map[string]any{"ok": true}},
			dst:    func() any { return new(map[string]any) },
			want:   &map[string]any{"aud": "a", "n": float64(1), "nested": map[string]any{"ok": true}},
		},
		{
			name:   "pointer to struct, non-ASCII",
			claims: &claims{Aud: "ünïcödé ✓", Exp: 1},
			dst:    func() any { return new(claims) },
			want:   &claims{Aud: "ünïcödé ✓", Exp: 1},
		},
		{
			name:   "raw JSON",
			claims: json.RawMessage(`{"a":[1,2]}`),
			dst:    func() any { return new(json.RawMessage) },
			want:   func() any { m := json.RawMessage(`{"a":[1,2]}`); return &m }(),
		},
		{
			name:   "empty object",
			claims: struct{}{},
			dst:    func() any { return new(map[string]any) },
			want:   &map[string]any{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mustSign(t, s, tt.claims)
			got := tt.dst()
			if err := s.Verify(tok, got); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			if err := s.Verify(tok, nil); err != nil {
				t.Fatalf("Verify with nil dst: %v", err)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	s := New(testKey())
	tok := mustSign(t, s, claims{Aud: "a"})
	hdrJSON, err := b64.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var hdr map[string]any
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"typ": "JWT", "alg": "RS256", "kid": s.KeyID(), "x5t": s.KeyID()}
	if !reflect.DeepEqual(hdr, want) {
		t.Fatalf("header = %v, want %v", hdr, want)
	}
}

func TestKeyID(t *testing.T) {
	s := New(testKey())
	der, err := x509.MarshalPKIXPublicKey(&testKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	want := b64.EncodeToString(sum[:])[:27]
	if s.KeyID() != want {
		t.Fatalf("KeyID = %q, want %q", s.KeyID(), want)
	}
	if New(otherKey()).KeyID() == want {
		t.Fatal("different keys have the same kid")
	}
}

func TestSignErrors(t *testing.T) {
	s := New(testKey())
	tests := []struct {
		name   string
		claims any
	}{
		{"string", "hello"},
		{"array", []int{1}},
		{"nil", nil},
		{"number", 42},
		{"unencodable", map[string]any{"f": func() {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := s.Sign(tt.claims); err == nil {
				t.Fatalf("Sign = %q, want error", tok)
			}
		})
	}
}

// forge builds a compact JWS from a header, payload and signing function.
func forge(header map[string]any, payload string, sign func(input []byte) []byte) string {
	h, _ := json.Marshal(header)
	input := b64.EncodeToString(h) + "." + b64.EncodeToString([]byte(payload))
	return input + "." + b64.EncodeToString(sign([]byte(input)))
}

func hs256(secret []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		return m.Sum(nil)
	}
}

// joseSign signs payload with key and alg through go-jose, with the given kid.
func joseSign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, payload string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := sig.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifyErrors(t *testing.T) {
	s := New(testKey())
	kid := s.KeyID()
	good := mustSign(t, s, claims{Aud: "a", Exp: 1})
	seg := strings.Split(good, ".")
	pubDER, _ := x509.MarshalPKIXPublicKey(&testKey().PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	payload := `{"aud":"a","exp":1}`
	noSig := func([]byte) []byte { return nil }
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	jsonJWS := func() string {
		sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: testKey()}, (&jose.SignerOptions{}).WithHeader("kid", kid))
		jws, _ := sig.Sign([]byte(payload))
		return jws.FullSerialize()
	}()

	tests := []struct {
		name string
		raw  string
		want error
	}{
		// Well formed but not acceptable.
		{"tampered payload", seg[0] + "." + b64.EncodeToString([]byte(`{"aud":"b","exp":1}`)) + "." + seg[2], ErrSignature},
		{"tampered signature", seg[0] + "." + seg[1] + "." + flipByte(t, seg[2]), ErrSignature},
		{"signature from other token", seg[0] + "." + seg[1] + "." + strings.Split(mustSign(t, s, claims{Aud: "z"}), ".")[2], ErrSignature},
		{"tampered header", b64.EncodeToString([]byte(`{"alg":"RS256","kid":"`+kid+`","typ":"JWT","x5t":"`+kid+`","x":1}`)) + "." + seg[1] + "." + seg[2], ErrSignature},
		{"other key", mustSign(t, New(otherKey()), claims{Aud: "a"}), ErrSignature},
		{"other key claiming our kid", joseSign(t, jose.RS256, otherKey(), kid, payload), ErrSignature},
		{"alg none", forge(map[string]any{"alg": "none", "kid": kid, "typ": "JWT"}, payload, noSig), ErrSignature},
		{"alg None", forge(map[string]any{"alg": "None", "kid": kid}, payload, noSig), ErrSignature},
		{"alg empty", forge(map[string]any{"alg": "", "kid": kid}, payload, noSig), ErrSignature},
		{"alg upper-case key", forge(map[string]any{"ALG": "RS256", "kid": kid}, payload, noSig), ErrMalformed},
		{"HS256 with public key DER", forge(map[string]any{"alg": "HS256", "kid": kid, "typ": "JWT"}, payload, hs256(pubDER)), ErrSignature},
		{"HS256 with public key PEM", forge(map[string]any{"alg": "HS256", "kid": kid, "typ": "JWT"}, payload, hs256(pubPEM)), ErrSignature},
		{"HS256 with modulus", forge(map[string]any{"alg": "HS256", "kid": kid}, payload, hs256(testKey().N.Bytes())), ErrSignature},
		{"RS512 by our key", joseSign(t, jose.RS512, testKey(), kid, payload), ErrSignature},
		{"PS256 by our key", joseSign(t, jose.PS256, testKey(), kid, payload), ErrSignature},
		{"ES256", joseSign(t, jose.ES256, ecKey, kid, payload), ErrSignature},
		{"no kid", joseSign(t, jose.RS256, testKey(), "", payload), ErrSignature},
		{"wrong kid", joseSign(t, jose.RS256, testKey(), "abc", payload), ErrSignature},
		{"kid not a string", forge(map[string]any{"alg": "RS256", "kid": 7}, payload, noSig), ErrSignature},

		// Not a compact JWS.
		{"empty", "", ErrMalformed},
		{"1 segment", seg[0], ErrMalformed},
		{"2 segments", seg[0] + "." + seg[1], ErrMalformed},
		{"4 segments", good + "." + seg[2], ErrMalformed},
		{"5 segments (JWE shape)", "a.b.c.d.e", ErrMalformed},
		{"JSON serialization", jsonJWS, ErrMalformed},
		{"garbage header base64", "!!!." + seg[1] + "." + seg[2], ErrMalformed},
		{"header not base64url", "a*b." + seg[1] + "." + seg[2], ErrMalformed},
		{"header impossible length", "A." + seg[1] + "." + seg[2], ErrMalformed},
		{"header not JSON", b64.EncodeToString([]byte("hello")) + "." + seg[1] + "." + seg[2], ErrMalformed},
		{"header JSON array", b64.EncodeToString([]byte(`["RS256"]`)) + "." + seg[1] + "." + seg[2], ErrMalformed},
		{"header without alg", b64.EncodeToString([]byte(`{"kid":"x"}`)) + "." + seg[1] + "." + seg[2], ErrMalformed},
		{"garbage payload base64", seg[0] + ".%%%." + seg[2], ErrMalformed},
		{"garbage signature base64", seg[0] + "." + seg[1] + ".@@@", ErrMalformed},
		{"padded segment", seg[0] + "." + seg[1] + "." + seg[2] + "==", ErrMalformed},
		{"embedded newline", seg[0] + "." + seg[1][:4] + "\n" + seg[1][4:] + "." + seg[2], ErrMalformed},
		{"trailing newline", good + "\n", ErrMalformed},
		{"leading space", " " + good, ErrMalformed},
		{"too long", seg[0] + "." + strings.Repeat("A", 70000) + "." + seg[2], ErrMalformed},
		{"signed payload does not fit dst", mustSign(t, s, map[string]any{"exp": "soon"}), ErrMalformed},
		{"signed payload is not JSON", joseSign(t, jose.RS256, testKey(), kid, "not json"), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst claims
			err := s.Verify(tt.raw, &dst)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			other := ErrSignature
			if errors.Is(tt.want, ErrSignature) {
				other = ErrMalformed
			}
			if errors.Is(err, other) {
				t.Fatalf("Verify = %v, is both error kinds", err)
			}
		})
	}
}

// flipByte decodes a base64url segment, flips one bit in the middle and
// re-encodes it.
func flipByte(t *testing.T, seg string) string {
	t.Helper()
	raw, err := b64.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 1
	return b64.EncodeToString(raw)
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing.pem")
	s1, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	data1, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
		}
		di, err := os.Stat(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != 0o700 {
			t.Errorf("key dir mode = %v, want 0700", di.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("key dir has %d entries, want 1 (no temp files left)", len(entries))
	}
	block, _ := pem.Decode(data1)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("key file is not a PKCS#8 PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil || k.(*rsa.PrivateKey).N.BitLen() != 2048 {
		t.Fatalf("key file: %v", err)
	}

	s2, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if s1.KeyID() != s2.KeyID() {
		t.Fatalf("kid changed across loads: %q vs %q", s1.KeyID(), s2.KeyID())
	}
	data2, _ := os.ReadFile(path)
	if string(data1) != string(data2) {
		t.Fatal("key file rewritten on second load")
	}
	tok := mustSign(t, s1, claims{Aud: "x"})
	var got claims
	if err := s2.Verify(tok, &got); err != nil || got.Aud != "x" {
		t.Fatalf("token from first load does not verify with second: %v", err)
	}
}

func TestLoadOrCreateErrors(t *testing.T) {
	pkcs8 := func(k any) string {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := pkcs8(testKey())

	tests := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"garbage", "not a key"},
		{"PKCS#1", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())}))},
		{"bad DER", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
		{"ECDSA key", pkcs8(ecKey)},
		{"RSA 1024", pkcs8(genKey(1024))},
		{"trailing data", good + "junk"},
		{"two keys", good + pkcs8(otherKey())},
		{"truncated", good[:len(good)/2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "signing.pem")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreate(path)
			if err == nil {
				t.Fatal("want error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("err = %q, want it to name %s", err, path)
			}
			if data, _ := os.ReadFile(path); string(data) != tt.content {
				t.Error("bad key file was modified")
			}
		})
	}
}

func TestJWKS(t *testing.T) {
	s := New(testKey())
	set := s.JWKS()
	if len(set.Keys) != 1 {
		t.Fatalf("%d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	if k.Kty != "RSA" || k.Use != "sig" || k.Alg != "RS256" || k.E != "AQAB" || k.Kid != s.KeyID() || k.X5t != s.KeyID() {
		t.Fatalf("unexpected JWK %+v", k)
	}

	// Field names on the wire.
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	var wire map[string][]map[string]string
	if err := json.Unmarshal(doc, &wire); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"kty", "use", "kid", "x5t", "n", "e", "alg"} {
		if wire["keys"][0][f] == "" {
			t.Errorf("JWKS JSON lacks %q: %s", f, doc)
		}
	}
	if noX5t, _ := json.Marshal(JWK{Kty: "RSA"}); strings.Contains(string(noX5t), "x5t") {
		t.Errorf("empty x5t not omitted: %s", noX5t)
	}

	// Rebuild the public key from n and e and verify a token with it.
	nb, err := b64.DecodeString(k.N)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := b64.DecodeString(k.E)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	if !pub.Equal(&testKey().PublicKey) {
		t.Fatal("JWK does not encode the signing key")
	}
	tok := mustSign(t, s, claims{Aud: "jwks"})
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		t.Fatalf("verify with JWK-derived key: %v", err)
	}
	if !strings.Contains(string(payload), `"aud":"jwks"`) {
		t.Fatalf("payload = %s", payload)
	}

	// A generic JOSE consumer can use the document as published.
	var joseSet jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &joseSet); err != nil {
		t.Fatalf("go-jose cannot parse the JWKS: %v", err)
	}
	keys := joseSet.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("go-jose found %d keys for kid %q", len(keys), jws.Signatures[0].Header.KeyID)
	}
	if _, err := jws.Verify(keys[0]); err != nil {
		t.Fatalf("verify with go-jose JWK: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New(testKey())
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.Sign(map[string]int{"i": i})
			if err != nil {
				errs <- err
				return
			}
			var got map[string]int
			if err := s.Verify(tok, &got); err != nil {
				errs <- err
				return
			}
			if got["i"] != i {
				errs <- errors.New("wrong payload")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNewNilPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(nil) did not panic")
		}
	}()
	New(nil)
}

var benchClaims = claims{
	Aud:   "https://management.azure.com/",
	Iss:   "https://sts.windows.net/00000000-0000-0000-0000-000000000000/",
	Exp:   1900000000,
	OID:   "11111111-1111-1111-1111-111111111111",
	Roles: []string{"Owner"},
}

func BenchmarkSign(b *testing.B) {
	s := New(testKey())
	for b.Loop() {
		if _, err := s.Sign(benchClaims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s := New(testKey())
	tok := mustSign(b, s, benchClaims)
	for b.Loop() {
		var c claims
		if err := s.Verify(tok, &c); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFromPEM: a generated key makes a signer whose tokens a signer from
// the same bytes verifies; FromPEM applies LoadOrCreate's checks.
func TestFromPEM(t *testing.T) {
	data, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	a, err := FromPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(mustSign(t, a, map[string]any{"sub": "x"}), nil); err != nil {
		t.Fatalf("a token signed with one signer of the key, verified by another: %v", err)
	}
	small, err := x509.MarshalPKCS8PrivateKey(genKey(1024))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"empty":         nil,
		"garbage":       []byte("not a key"),
		"small key":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: small}),
		"wrong block":   pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: small}),
		"trailing data": append(slices.Clone(data), "x"...),
	} {
		if _, err := FromPEM(in); err == nil || !strings.HasPrefix(err.Error(), "token: ") {
			t.Errorf("%s: %v, want a token error", name, err)
		}
	}
}
