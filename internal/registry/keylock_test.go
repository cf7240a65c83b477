package registry

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeyLockExcludes(t *testing.T) {
	k := newKeyLock()
	var inside, peak atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			unlock, err := k.lock(context.Background(), "a")
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
			time.Sleep(100 * time.Microsecond)
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()
	if peak.Load() != 1 {
		t.Errorf("%d holders at once, want 1", peak.Load())
	}
	if k.size() != 0 {
		t.Errorf("%d entries left, want 0", k.size())
	}
}

func TestKeyLockKeysIndependent(t *testing.T) {
	k := newKeyLock()
	unlockA, err := k.lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	unlockB, ok := k.tryLock("b")
	if !ok {
		t.Fatal("tryLock(b) failed while only a is held")
	}
	if _, ok := k.tryLock("a"); ok {
		t.Fatal("tryLock(a) succeeded while a is held")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := k.lock(ctx, "a"); err == nil {
		t.Fatal("lock(a) with an expiring context succeeded while a is held")
	}
	unlockA()
	unlockB()
	if k.size() != 0 {
		t.Errorf("%d entries left, want 0", k.size())
	}
	unlock, ok := k.tryLock("a")
	if !ok {
		t.Fatal("tryLock(a) failed after unlock")
	}
	unlock()
}
