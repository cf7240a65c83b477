package token

import (
	"errors"
	"slices"
	"strings"
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
	// Signing dominates an execution; the mutator mostly changes pos and
	// b, so tokens are kept per claims (bounded).
	type key struct {
		sub string
		std bool
	}
	signed := map[key]string{}
	f.Fuzz(func(t *testing.T, sub string, pos uint16, b byte, std bool) {
		tok, ok := signed[key{sub, std}]
		if !ok {
			c := map[string]any{"sub": sub, "aud": "https://management.core.windows.net/", "exp": 1}
			sign := s.Sign
			if std {
				sign = s.SignStdCompatible
			}
			var err error
			if tok, err = sign(c); err != nil {
				t.Fatalf("Sign: %v", err) // any string encodes (invalid UTF-8 is replaced)
			}
			if err := s.Verify(tok, nil); err != nil {
				t.Fatalf("Verify of a fresh token: %v", err)
			}
			if len(signed) >= 1024 {
				clear(signed)
			}
			signed[key{sub, std}] = tok
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

// TestVerifyNonCanonicalBase64 is a regression test: the last character
// of a segment also carries unused bits, and changing only those gave a
// second spelling of a signed token that verified.
func TestVerifyNonCanonicalBase64(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	s := fuzzSigner()
	for _, sign := range []func(any) (string, error){s.Sign, s.SignStdCompatible} {
		for _, c := range []any{claims{Aud: "a"}, claims{Aud: "ab"}, claims{Aud: "abc"}} {
			tok, err := sign(c)
			if err != nil {
				t.Fatal(err)
			}
			segs := strings.Split(tok, ".")
			for i, seg := range segs {
				for _, r := range alphabet {
					changed := seg[:len(seg)-1] + string(r)
					if changed == seg {
						continue
					}
					respelled := slices.Clone(segs)
					respelled[i] = changed
					if err := s.Verify(strings.Join(respelled, "."), nil); err == nil {
						t.Errorf("segment %d ending %q instead of %q verifies", i, r, seg[len(seg)-1])
					}
				}
			}
		}
	}
}
