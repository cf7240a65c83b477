package registry

import (
	"context"
	"testing"

	"github.com/cerulean/cerulean/internal/registry/lockertest"
)

// The in-process lock is one set of locks per process: both "servers" of
// the suite share it.
func TestKeyLockConformance(t *testing.T) {
	var k *keyLock
	lockertest.Run(t, lockertest.Impl{
		Pair: func(t *testing.T) (a, b lockertest.Locker) {
			k = newKeyLock()
			t.Cleanup(func() {
				if k.size() != 0 {
					t.Errorf("%d entries left, want 0", k.size())
				}
			})
			return k, k
		},
		Waiting: func(t *testing.T, key string) bool {
			k.mu.Lock()
			defer k.mu.Unlock()
			e := k.entries[key]
			return e != nil && e.refs > 1
		},
	})
}

// A lockSet without a shared Locker is the keyLock alone; with one, it
// holds both, and lets go of both when either refuses.
func TestLockSetTakesBoth(t *testing.T) {
	ctx := context.Background()
	shared := newKeyLock()
	l := newLockSet(shared, "p:")
	unlock, err := l.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := shared.TryLock(ctx, "p:a"); ok {
		t.Fatal("the shared lock is free while the set holds the key")
	}
	if _, ok, _ := l.local.TryLock(ctx, "a"); ok {
		t.Fatal("the local lock is free while the set holds the key")
	}
	unlock()
	// Held elsewhere (another server): the set refuses and keeps nothing.
	other, _, _ := shared.TryLock(ctx, "p:a")
	if _, ok, err := l.tryLock(ctx, "a"); ok || err != nil {
		t.Fatalf("tryLock while another server holds the key: ok %v, err %v", ok, err)
	}
	if l.local.size() != 0 {
		t.Errorf("the local lock is held after the shared one refused")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.lock(cctx, "a"); err == nil {
		t.Fatal("lock with an ended context succeeded while another server holds the key")
	}
	if l.local.size() != 0 {
		t.Errorf("the local lock is held after the shared one failed")
	}
	other()
	u, ok, err := l.tryLock(ctx, "a")
	if !ok || err != nil {
		t.Fatalf("tryLock of a free key: ok %v, err %v", ok, err)
	}
	u()
	if shared.size() != 0 || l.local.size() != 0 {
		t.Error("locks left after unlock")
	}
}
