package sealbox

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	path := filepath.Join(dir, "sealing-key")
	b1, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != KeySize {
		t.Errorf("key file: mode %v size %d, want 0600 and %d", fi.Mode().Perm(), fi.Size(), KeySize)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("key dir: %v %v, want mode 0700", di, err)
	}
	sealed, err := b1.Seal([]byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	// A second load reuses the key: what one sealed the other opens.
	b2, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b2.Open(sealed)
	if err != nil || string(got) != "hunter2" {
		t.Errorf("Open after reload = %q, %v", got, err)
	}
}

func TestLoadOrCreateRefusesBadKey(t *testing.T) {
	for name, content := range map[string][]byte{
		"empty": {},
		"short": bytes.Repeat([]byte{1}, KeySize-1),
		"long":  bytes.Repeat([]byte{1}, KeySize+1),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreate(path); err == nil {
				t.Fatal("LoadOrCreate accepted a bad key file")
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(after, content) {
				t.Error("LoadOrCreate replaced a bad key file")
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(bytes.Repeat([]byte{8}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("secret"), 100)} {
		s1, err := b.Seal(pt)
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := b.Seal(pt)
		if bytes.Equal(s1, s2) {
			t.Error("two seals of the same plaintext are equal (nonce reuse)")
		}
		if len(pt) >= 8 && bytes.Contains(s1, pt) { // shorter ones occur in random bytes by chance
			t.Error("sealed value contains the plaintext")
		}
		got, err := b.Open(s1)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("Open = %q, %v; want %q", got, err, pt)
		}
		if _, err := other.Open(s1); !errors.Is(err, ErrOpen) {
			t.Errorf("Open with another key: %v, want ErrOpen", err)
		}
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	b, _ := New(bytes.Repeat([]byte{7}, KeySize))
	sealed, _ := b.Seal([]byte("password"))
	cases := map[string][]byte{
		"nil":       nil,
		"truncated": sealed[:len(sealed)-1],
		"short":     sealed[:5],
	}
	for i := range sealed {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		cases["flip byte "+string(rune('A'+i%26))+string(rune('0'+i/26))] = c
	}
	for name, c := range cases {
		if _, err := b.Open(c); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open = %v, want ErrOpen", name, err)
		}
	}
}

func TestNewRejectsBadKeyLength(t *testing.T) {
	if _, err := New(make([]byte, 16)); err == nil {
		t.Error("New accepted a 16-byte key")
	}
}

// TestGenerateKey: boxes made from one generated key open each other's
// values; two generated keys differ.
func TestGenerateKey(t *testing.T) {
	k1, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != KeySize || bytes.Equal(k1, k2) {
		t.Fatalf("keys %x and %x", k1, k2)
	}
	a, _ := New(k1)
	b, _ := New(slices.Clone(k1))
	sealed, err := a.Seal([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Open(sealed); err != nil || string(got) != "pw" {
		t.Fatalf("Open: %q, %v", got, err)
	}
	c, _ := New(k2)
	if _, err := c.Open(sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("another key opened the value: %v", err)
	}
}
