// Package lockertest is the conformance suite every registry.Locker must
// pass. Test support only. It declares the contract itself (the same
// method set) so that the registry's own tests can run it on the
// in-process lock.
package lockertest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Locker is registry.Locker.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
	TryLock(ctx context.Context, key string) (unlock func(), ok bool, err error)
}

// Impl describes the implementation under test.
type Impl struct {
	// Pair returns two lockers whose locks exclude each other: two
	// servers' lockers on one store, or one in-process locker twice.
	Pair func(t *testing.T) (a, b Locker)
	// Waiting reports whether a Lock of key is waiting.
	Waiting func(t *testing.T, key string) bool
	// Sever kills the connection that holds key, as the holder's death
	// would; nil for lockers that live and die with their process.
	Sever func(t *testing.T, key string)
}

// patience bounds the waits for a state the test drives towards (a Lock
// waiting, a severed lock released): reaching it is the assertion, the
// bound only turns a hang into a failure.
const patience = 20 * time.Second

// Run runs the suite.
func Run(t *testing.T, impl Impl) {
	t.Run("TryLockWhenHeld", func(t *testing.T) { testTryLockWhenHeld(t, impl) })
	t.Run("KeysIndependent", func(t *testing.T) { testKeysIndependent(t, impl) })
	t.Run("MutualExclusion", func(t *testing.T) { testMutualExclusion(t, impl) })
	t.Run("LockWaitsForUnlock", func(t *testing.T) { testLockWaits(t, impl) })
	t.Run("CancelWaitingLock", func(t *testing.T) { testCancel(t, impl) })
	if impl.Sever != nil {
		t.Run("ReleasedWhenHolderDies", func(t *testing.T) { testSever(t, impl) })
	}
}

func lock(t *testing.T, l Locker, key string) func() {
	t.Helper()
	unlock, err := l.Lock(t.Context(), key)
	if err != nil {
		t.Fatalf("Lock(%s): %v", key, err)
	}
	return unlock
}

// try returns TryLock's unlock function, or nil when the key is held.
func try(t *testing.T, l Locker, key string) func() {
	t.Helper()
	unlock, ok, err := l.TryLock(t.Context(), key)
	if err != nil {
		t.Fatalf("TryLock(%s): %v", key, err)
	}
	if !ok {
		return nil
	}
	return unlock
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, patience)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testTryLockWhenHeld(t *testing.T, impl Impl) {
	a, b := impl.Pair(t)
	unlock := lock(t, a, "k")
	if u := try(t, b, "k"); u != nil {
		u()
		t.Fatal("b took a key a holds")
	}
	if u := try(t, a, "k"); u != nil {
		u()
		t.Fatal("a took a key it holds: locks are not reentrant")
	}
	unlock()
	u := try(t, b, "k")
	if u == nil {
		t.Fatal("b could not take the key a released")
	}
	if u2 := try(t, a, "k"); u2 != nil {
		u2()
		t.Fatal("a took a key b holds")
	}
	u()
	u = try(t, a, "k")
	if u == nil {
		t.Fatal("a could not take the key b released")
	}
	u()
}

func testKeysIndependent(t *testing.T, impl Impl) {
	a, b := impl.Pair(t)
	unlockA := lock(t, a, "one")
	defer unlockA()
	u := try(t, b, "two")
	if u == nil {
		t.Fatal("b could not take a key nobody holds")
	}
	u()
	// Keys are names, not prefixes or hashes that collide on their own.
	for _, k := range []string{"on", "one ", "One", "one:"} {
		u := try(t, b, k)
		if u == nil {
			t.Fatalf("b could not take %q while a holds %q", k, "one")
		}
		u()
	}
}

func testMutualExclusion(t *testing.T, impl Impl) {
	a, b := impl.Pair(t)
	var inside, peak, total atomic.Int32
	var wg sync.WaitGroup
	const perLocker, rounds = 3, 15
	for _, l := range []Locker{a, b} {
		for range perLocker {
			wg.Go(func() {
				for range rounds {
					unlock, err := l.Lock(t.Context(), "shared")
					if err != nil {
						t.Error(err)
						return
					}
					n := inside.Add(1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					total.Add(1)
					time.Sleep(100 * time.Microsecond)
					inside.Add(-1)
					unlock()
				}
			})
		}
	}
	wg.Wait()
	if peak.Load() != 1 {
		t.Errorf("%d holders at once, want 1", peak.Load())
	}
	if total.Load() != 2*perLocker*rounds {
		t.Errorf("%d rounds, want %d", total.Load(), 2*perLocker*rounds)
	}
}

func testLockWaits(t *testing.T, impl Impl) {
	a, b := impl.Pair(t)
	unlock := lock(t, a, "w")
	type result struct {
		unlock func()
		err    error
	}
	var held atomic.Bool
	got := make(chan result, 1) // the goroutine never blocks or touches t
	go func() {
		u, err := b.Lock(t.Context(), "w")
		held.Store(err == nil)
		got <- result{u, err}
	}()
	eventually(t, "b waits for the key", func() bool { return impl.Waiting(t, "w") })
	if held.Load() {
		t.Fatal("b took the key while a held it")
	}
	unlock()
	r := <-got
	if r.err != nil {
		t.Fatalf("b's Lock after a let go: %v", r.err)
	}
	u := r.unlock
	if u2 := try(t, a, "w"); u2 != nil {
		u2()
		t.Fatal("a took the key b was granted")
	}
	u()
}

func testCancel(t *testing.T, impl Impl) {
	a, b := impl.Pair(t)
	unlock := lock(t, a, "c")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		u, err := b.Lock(ctx, "c")
		if err == nil {
			u()
			err = fmt.Errorf("granted while held")
		} else {
			err = nil
		}
		done <- err
	}()
	eventually(t, "b waits for the key", func() bool { return impl.Waiting(t, "c") })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Lock with a cancelled context: %v", err)
	}
	if impl.Waiting(t, "c") {
		t.Error("b still waits after its context ended")
	}
	unlock()
	// The cancelled waiter must not have been granted the key behind the
	// caller's back.
	u := try(t, a, "c")
	if u == nil {
		t.Fatal("the key is held after its holder let go and the only waiter gave up")
	}
	u()
	// b still works.
	u = lock(t, b, "c")
	u()
}

func testSever(t *testing.T, impl Impl) {
	a, b := impl.Pair(t)
	unlock := lock(t, a, "s")
	if u := try(t, b, "s"); u != nil {
		u()
		t.Fatal("b took a key a holds")
	}
	impl.Sever(t, "s")
	var u func()
	eventually(t, "the dead holder's key is free", func() bool { u = try(t, b, "s"); return u != nil })
	unlock() // on a dead connection: must neither hang nor take anything
	if u2 := try(t, a, "s"); u2 != nil {
		u2()
		t.Fatal("a took the key b holds after its own connection died")
	}
	u()
	// a's locker recovers.
	u = lock(t, a, "s")
	u()
}
