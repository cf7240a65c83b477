package pgstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// lockShared seeds the hash of a Locker's keys. Locker locks use the
// single 64-bit key form of the advisory lock functions, which PostgreSQL
// keeps apart from the two 32-bit key form the store's own locks use
// (lockMigrate, lockWrite, lockApp: pg_locks shows them with objsubid 2,
// these with objsubid 1), so the two never contend; the seed keeps these
// keys apart from another application's 64-bit keys in the same database.
const lockShared = 0x0ce1_0004

// The key is the schema and the name, hashed to 64 bits, so that lockers on
// different schemas of one database do not contend and two names collide
// with a chance of 2⁻⁶⁴ per pair.
const (
	lockSQL    = `SELECT pg_advisory_lock(hashtextextended(current_schema() || ':' || $1::text, $2))`
	tryLockSQL = `SELECT pg_try_advisory_lock(hashtextextended(current_schema() || ':' || $1::text, $2))`
	unlockSQL  = `SELECT pg_advisory_unlock(hashtextextended(current_schema() || ':' || $1::text, $2))`
)

// unlockTimeout bounds an unlock that the database does not answer; the
// connection is then dropped, which releases the lock as surely.
const unlockTimeout = 10 * time.Second

// Locker is a set of named exclusive locks shared by every process on the
// schema: registry.Locker for servers sharing one database. Each held lock
// is a session advisory lock on a connection of its own, taken from the
// Locker's own pool (never the store's, so that lock holders cannot starve
// the store's queries) and kept until unlock, so that:
//
//   - a holder that dies (process killed, machine gone) loses its locks
//     when PostgreSQL closes its connections: at once for a killed
//     process, within about a minute (TCP keepalives) for a vanished
//     machine;
//   - a Lock waiting in pg_advisory_lock ends when its context does: the
//     connection sends PostgreSQL a cancel request (pgx's
//     CancelRequestContextWatcherHandler), and the connection is then
//     dropped rather than pooled, so a lock granted in the instant before
//     the cancel arrived dies with it and a late cancel cannot hit a later
//     query. A backend whose client vanished without a cancel notices
//     within client_connection_check_interval even while it waits.
//
// The pool holds at most maxConns connections, which bounds the locks
// held and waited for at once; a Lock or TryLock beyond the bound waits
// for a connection (or for its context). A caller that takes a second lock
// while holding one must take it from another Locker, or the pool could
// fill with holders all waiting for a second connection.
type Locker struct {
	db *sql.DB
}

// OpenLocker connects a Locker to the database named by dsn (as Open; a
// search_path parameter selects the schema), with at most maxConns
// connections. It needs PostgreSQL 14 or later.
func OpenLocker(ctx context.Context, dsn string, maxConns int) (*Locker, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errdefs.Newf(errdefs.InvalidArgument, "", "store: %s", redact(err))
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "cerulean-locks"
	}
	// The server drops the session, and its locks, when the client is
	// gone: keepalives find a vanished peer of an idle session in about a
	// minute, and the check interval a vanished client of a waiting one.
	for k, v := range map[string]string{
		"tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "3",
		"client_connection_check_interval": "10s",
	} {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		// Cancel the waiting statement at once; drop the connection if
		// the server has not answered a second later.
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: time.Second}
	}
	if maxConns < 1 {
		maxConns = 1
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, errdefs.Internalf(err, "store: connect the locker")
	}
	return &Locker{db: db}, nil
}

// Close closes the pool; locks still held are released when their
// connections close.
func (l *Locker) Close() error {
	if err := l.db.Close(); err != nil {
		return errdefs.Internalf(err, "store: close the locker")
	}
	return nil
}

// Lock waits for the lock named key, or for ctx to end; it returns the
// unlock function.
func (l *Locker) Lock(ctx context.Context, key string) (func(), error) {
	unlock, _, err := l.take(ctx, lockSQL, key)
	return unlock, err
}

// TryLock takes the lock named key if nobody holds it. It waits for a
// connection when the pool is at its bound.
func (l *Locker) TryLock(ctx context.Context, key string) (func(), bool, error) {
	return l.take(ctx, tryLockSQL, key)
}

func (l *Locker) take(ctx context.Context, query, key string) (func(), bool, error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, false, lockErr(ctx, err, key)
	}
	ok := true // pg_advisory_lock returns nothing: it waits until granted
	if query == tryLockSQL {
		err = conn.QueryRowContext(ctx, query, key, lockShared).Scan(&ok)
	} else {
		_, err = conn.ExecContext(ctx, query, key, lockShared)
	}
	if err != nil || ctx.Err() != nil {
		// Whatever the server did, the lock must not stay on a pooled
		// connection, nor a late cancel request reach its next query.
		drop(conn)
		if err == nil {
			err = ctx.Err()
		}
		return nil, false, lockErr(ctx, err, key)
	}
	if !ok {
		_ = conn.Close()
		return nil, false, nil
	}
	var once sync.Once
	return func() { once.Do(func() { release(conn, key) }) }, true, nil
}

// release unlocks key on conn and returns conn to the pool, or drops it
// (and the lock with it) when the unlock fails.
func release(conn *sql.Conn, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	var ok bool
	if err := conn.QueryRowContext(ctx, unlockSQL, key, lockShared).Scan(&ok); err != nil || !ok || ctx.Err() != nil {
		drop(conn)
		return
	}
	_ = conn.Close()
}

// drop closes conn instead of returning it to the pool.
func drop(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

func lockErr(ctx context.Context, err error, key string) error {
	if ctx.Err() != nil {
		return errdefs.New(errdefs.Unavailable, "", "the request was canceled").WithCause(ctx.Err())
	}
	return errdefs.Internalf(err, "store: lock %s", key)
}

// Waiters counts the sessions of any process waiting for the lock named
// key (diagnostics and tests).
func (l *Locker) Waiters(ctx context.Context, key string) (int, error) {
	var n int
	err := l.db.QueryRowContext(ctx, `
		SELECT count(*) FROM pg_locks l,
			(SELECT hashtextextended(current_schema() || ':' || $1::text, $2) AS k) h
		WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND NOT l.granted
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid = ((h.k >> 32) & 4294967295)::oid
			AND l.objid = (h.k & 4294967295)::oid`, key, lockShared).Scan(&n)
	if err != nil {
		return 0, errdefs.Internalf(err, "store: count the waiters for %s", key)
	}
	return n, nil
}
