package registry

import (
	"context"
	"sync"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// keyLock is a set of mutexes named by strings (upload ids, digests),
// created on first use and dropped when nobody holds or waits for them, so
// that it does not grow with the number of keys ever seen. Unlike a
// striped lock, unrelated keys never contend: a slow client holding one
// upload's lock for a long PATCH delays nobody else. It is the Locker of
// one process: alone on a server with a store of its own, and in front of
// the shared Locker otherwise (lockSet).
type keyLock struct {
	mu      sync.Mutex
	entries map[string]*keyLockEntry
}

type keyLockEntry struct {
	ch   chan struct{} // holds one value while the key is locked
	refs int           // holders and waiters
}

func newKeyLock() *keyLock { return &keyLock{entries: map[string]*keyLockEntry{}} }

func (k *keyLock) ref(key string) *keyLockEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.entries[key]
	if e == nil {
		e = &keyLockEntry{ch: make(chan struct{}, 1)}
		k.entries[key] = e
	}
	e.refs++
	return e
}

func (k *keyLock) unref(key string, e *keyLockEntry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(k.entries, key)
	}
}

var _ Locker = (*keyLock)(nil)

// Lock waits for the key, or for ctx to end; it returns the unlock
// function.
func (k *keyLock) Lock(ctx context.Context, key string) (func(), error) {
	e := k.ref(key)
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; k.unref(key, e) }, nil
	case <-ctx.Done():
		k.unref(key, e)
		return nil, errdefs.New(errdefs.Unavailable, "", "the request was canceled").WithCause(ctx.Err())
	}
}

// TryLock takes the key if it is free; it never fails.
func (k *keyLock) TryLock(_ context.Context, key string) (func(), bool, error) {
	e := k.ref(key)
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; k.unref(key, e) }, true, nil
	default:
		k.unref(key, e)
		return nil, false, nil
	}
}

// size is the number of keys held or waited for (tests).
func (k *keyLock) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.entries)
}
