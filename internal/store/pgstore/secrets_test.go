package pgstore

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/store/pgstore/pgtest"
)

// TestClaimSharedSecretConcurrently: stores on one schema claiming one name
// at once all end with the value of exactly one of them.
func TestClaimSharedSecretConcurrently(t *testing.T) {
	u := pgtest.Schema(t, "t_")
	const n = 8
	stores := make([]*Store, n)
	for i := range n {
		s, err := Open(t.Context(), u, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	got := make([][]byte, n)
	won := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			got[i], won[i], errs[i] = s.ClaimSharedSecret(t.Context(), "k", fmt.Appendf(nil, "value %d", i))
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("claim %d: %v", i, errs[i])
		}
		if !bytes.Equal(got[i], got[0]) {
			t.Errorf("claim %d got %q, claim 0 got %q", i, got[i], got[0])
		}
		if won[i] {
			winners++
			if want := fmt.Appendf(nil, "value %d", i); !bytes.Equal(got[i], want) {
				t.Errorf("claim %d stored, but got %q", i, got[i])
			}
		}
	}
	if winners != 1 {
		t.Fatalf("%d claims stored their value, want 1", winners)
	}
	if v, err := stores[3].SharedSecret(t.Context(), "k"); err != nil || !bytes.Equal(v, got[0]) {
		t.Fatalf("SharedSecret: %q, %v; want %q", v, err, got[0])
	}
}

func TestSharedSecret(t *testing.T) {
	ctx := t.Context()
	u := pgtest.Schema(t, "t_")
	s, err := Open(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SharedSecret(ctx, "k"); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("absent secret: %v, want NotFound", err)
	}
	if v, stored, err := s.ClaimSharedSecret(ctx, "k", []byte{0, 1, 2}); err != nil || !stored || !bytes.Equal(v, []byte{0, 1, 2}) {
		t.Fatalf("first claim: %v %v %v", v, stored, err)
	}
	if v, stored, err := s.ClaimSharedSecret(ctx, "k", []byte("other")); err != nil || stored || !bytes.Equal(v, []byte{0, 1, 2}) {
		t.Fatalf("second claim: %q %v %v", v, stored, err)
	}
	if err := s.PutSharedSecret(ctx, "k", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSharedSecret(ctx, "fresh", []byte("f")); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for name, want := range map[string]string{"k": "new", "fresh": "f"} {
		if v, err := ro.SharedSecret(ctx, name); err != nil || string(v) != want {
			t.Errorf("read-only %s: %q, %v; want %q", name, v, err, want)
		}
	}
	if _, _, err := ro.ClaimSharedSecret(ctx, "x", []byte("x")); !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Errorf("claim on a read-only store: %v", err)
	}
	if err := ro.PutSharedSecret(ctx, "k", []byte("x")); !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Errorf("put on a read-only store: %v", err)
	}
}
