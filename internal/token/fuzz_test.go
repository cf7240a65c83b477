package token

import (
	"errors"
	"testing"
)

// fuzzSigner signs with the shared test key; each fuzz worker process
// makes its own, so no input can carry a valid signature from outside.
func fuzzSigner() *Signer { return New(testKey()) }

// FuzzVerify: an input the signer did not sign never verifies, whatever
// its shape, and every failure is ErrMalformed or ErrSignature.
func FuzzVerify(f *testing.F) {
	other := New(otherKey())
	for _, c := range []any{claims{Aud: "a", Iss: "b", Exp: 1}, map[string]any{"x": []int{1, 2}}} {
		tok, err := other.Sign(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
		"eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ.e30.c2ln", "e30.e30.e30.e30", "eyJhbGciOiJSUzI1NiIsImtpZCI6W119.e30.AA"} {
		f.Add(s)
	}
	s := fuzzSigner()
	f.Fuzz(func(t *testing.T, raw string) {
		var dst map[string]any
		err := s.Verify(raw, &dst)
		if err == nil {
			t.Fatalf("Verify(%q) accepted a token this signer never signed", raw)
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) {
			t.Fatalf("Verify(%q): unexpected error %v", raw, err)
		}
	})
}

// FuzzVerifyTampered: a token this signer signed (with Sign or
// SignStdCompatible) verifies, and the same token with any one byte
// replaced by any other never does.
func FuzzVerifyTampered(f *testing.F) {
	f.Add("0b5c6a4e-6f35-4c5c-9d52-4f1b2c3d4e5f", uint16(0), byte('A'), false)
	f.Add("acr-pull-sp", uint16(10), byte('.'), true)
	f.Add("x", uint16(300), byte('_'), false)
	f.Add("é>?~", uint16(65535), byte('-'), true)
	s := fuzzSigner()
	f.Fuzz(func(t *testing.T, sub string, pos uint16, b byte, std bool) {
		c := map[string]any{"sub": sub, "aud": "https://management.core.windows.net/", "exp": 1}
		sign := s.Sign
		if std {
			sign = s.SignStdCompatible
		}
		tok, err := sign(c)
		if err != nil {
			t.Skip(err) // claims that do not encode (invalid UTF-8 is replaced, so none today)
		}
		if err := s.Verify(tok, nil); err != nil {
			t.Fatalf("Verify of a fresh token: %v", err)
		}
		i := int(pos) % len(tok)
		if tok[i] == b {
			return
		}
		tampered := tok[:i] + string([]byte{b}) + tok[i+1:]
		if err := s.Verify(tampered, nil); err == nil {
			t.Fatalf("token with byte %d changed from %q to %q verifies:\n%s\n%s", i, tok[i], b, tok, tampered)
		}
	})
}
