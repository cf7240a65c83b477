package pgstore

import (
	"database/sql"
	"testing"

	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/registry/lockertest"
	"github.com/cerulean/cerulean/internal/store/pgstore/pgtest"
)

var _ registry.Locker = (*Locker)(nil)

func openLocker(t *testing.T, dsn string, maxConns int) *Locker {
	t.Helper()
	l, err := OpenLocker(t.Context(), dsn, maxConns)
	if err != nil {
		t.Fatalf("OpenLocker: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// lockHolders lists the server processes holding the advisory lock a
// Locker takes for key on the schema of db.
func lockHolders(t *testing.T, db *sql.DB, key string) []int {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `
		SELECT l.pid FROM pg_locks l,
			(SELECT hashtextextended(current_schema() || ':' || $1::text, $2) AS k) h
		WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid = ((h.k >> 32) & 4294967295)::bigint::oid
			AND l.objid = (h.k & 4294967295)::bigint::oid`, key, lockShared)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var pids []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return pids
}

// Two Lockers on one schema are two servers; a third connection watches
// pg_locks and kills holders.
func TestLockerConformance(t *testing.T) {
	var watch *sql.DB
	var waiter *Locker
	lockertest.Run(t, lockertest.Impl{
		Pair: func(t *testing.T) (a, b lockertest.Locker) {
			dsn := pgtest.Schema(t, "l_")
			db, err := openDB(dsn, false)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			watch = db
			waiter = openLocker(t, dsn, 1)
			return openLocker(t, dsn, 8), openLocker(t, dsn, 8)
		},
		Waiting: func(t *testing.T, key string) bool {
			n, err := waiter.Waiters(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			return n > 0
		},
		Sever: func(t *testing.T, key string) {
			pids := lockHolders(t, watch, key)
			if len(pids) != 1 {
				t.Fatalf("%d holders of %s, want 1", len(pids), key)
			}
			var ok bool
			if err := watch.QueryRowContext(t.Context(), `SELECT pg_terminate_backend($1)`, pids[0]).Scan(&ok); err != nil || !ok {
				t.Fatalf("terminate the holder: %v %v", ok, err)
			}
		},
	})
}

// Lockers on different schemas of one database are different stores: they
// do not contend.
func TestLockerSchemasIndependent(t *testing.T) {
	a := openLocker(t, pgtest.Schema(t, "l_"), 2)
	b := openLocker(t, pgtest.Schema(t, "l_"), 2)
	ua, err := a.Lock(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer ua()
	ub, ok, err := b.TryLock(t.Context(), "k")
	if err != nil || !ok {
		t.Fatalf("TryLock on another schema: ok %v, err %v", ok, err)
	}
	ub()
}

// The pool's bound holds, and a lock let go returns its connection.
func TestLockerPoolBound(t *testing.T) {
	l := openLocker(t, pgtest.Schema(t, "l_"), 2)
	u1, err := l.Lock(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	u2, err := l.Lock(t.Context(), "b")
	if err != nil {
		t.Fatal(err)
	}
	if n := l.db.Stats().OpenConnections; n != 2 {
		t.Errorf("%d connections open, want 2", n)
	}
	u1()
	u2()
	if s := l.db.Stats(); s.InUse != 0 || s.OpenConnections > 2 {
		t.Errorf("after unlock: %d in use, %d open; want 0 and at most 2", s.InUse, s.OpenConnections)
	}
	for range 5 { // reused, not leaked
		u, err := l.Lock(t.Context(), "a")
		if err != nil {
			t.Fatal(err)
		}
		u()
	}
	if s := l.db.Stats(); s.InUse != 0 || s.OpenConnections > 2 {
		t.Errorf("after reuse: %d in use, %d open; want 0 and at most 2", s.InUse, s.OpenConnections)
	}
}
