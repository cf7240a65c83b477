package registry

import (
	"context"
)

// Locker is a set of named exclusive locks that holds across every server
// sharing the Store and blob store. Unlike sync.Mutex it is not reentrant
// for its holder: a second Lock of a held key waits, even from the same
// process. The registry keeps an in-process lock in front of it, so a
// server waits for its own requests in memory and asks the Locker for each
// key at most once at a time.
type Locker interface {
	// Lock waits for the key, or for ctx to end (an error then); it
	// returns the unlock function.
	Lock(ctx context.Context, key string) (unlock func(), err error)
	// TryLock takes the key if nobody holds it (ok false otherwise).
	TryLock(ctx context.Context, key string) (unlock func(), ok bool, err error)
}

// SharedLocks are the Lockers a Service shares with the other servers of
// its Store (pgstore.Locker on PostgreSQL); nil ones lock in this process
// only, which is all one server on its own store needs.
type SharedLocks struct {
	// Uploads serializes the requests of one upload session (a client
	// retrying a PATCH on another server waits for the first) and keeps
	// upload expiry off a session being written; it also elects the one
	// server that runs periodic garbage collection.
	Uploads Locker
	// Digests makes "commit or store, then link" and "check unreferenced,
	// then delete" mutually exclusive per digest. A push takes a digest's
	// lock while it holds its upload's, so when Lockers draw on bounded
	// connection pools Digests must not share Uploads' pool: pushes
	// holding all of its connections would each wait for one more, for
	// ever.
	Digests Locker
}

// lockSet is one kind of lock (upload sessions, digests): the in-process
// keyLock, then the shared Locker if there is one, under names prefixed
// by the kind so that kinds sharing a Locker do not collide.
type lockSet struct {
	local  *keyLock
	shared Locker
	prefix string
}

func newLockSet(shared Locker, prefix string) *lockSet {
	return &lockSet{local: newKeyLock(), shared: shared, prefix: prefix}
}

// lock waits for key, here and then across servers.
func (l *lockSet) lock(ctx context.Context, key string) (func(), error) {
	unlock, err := l.local.Lock(ctx, key)
	if err != nil || l.shared == nil {
		return unlock, err
	}
	unshare, err := l.shared.Lock(ctx, l.prefix+key)
	if err != nil {
		unlock()
		return nil, err
	}
	return func() { unshare(); unlock() }, nil
}

// tryLock takes key if no request of any server holds it.
func (l *lockSet) tryLock(ctx context.Context, key string) (func(), bool, error) {
	unlock, ok, err := l.local.TryLock(ctx, key)
	if !ok || l.shared == nil {
		return unlock, ok, err
	}
	unshare, ok, err := l.shared.TryLock(ctx, l.prefix+key)
	if !ok {
		unlock()
		return nil, false, err
	}
	return func() { unshare(); unlock() }, true, nil
}
