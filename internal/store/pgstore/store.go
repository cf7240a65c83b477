// Package pgstore is the PostgreSQL metadata backend, built on pgx through
// database/sql. It keeps sqlstore's schema (translated in
// migrations/NNNN_name.sql, the same versions) and its guarantees, for
// several servers sharing one database:
//
//   - Migrations run under a session advisory lock, each in its own
//     transaction, so servers starting at once apply each exactly once.
//   - Write transactions are serialized across every server by a
//     transaction advisory lock taken first (SQLite's single writer), so a
//     read-modify-write never has to be retried, update functions run
//     exactly once, and a check inside a write transaction holds until
//     commit. Reads are single statements, each a consistent snapshot.
//   - Names that must be unique in a tenant (identifier URIs,
//     service principal names) have rows under unique keys, so a second
//     claim fails on the constraint even when the identity service's
//     checks (separate reads before the write) raced.
//
// The lock keys are derived from the schema (current_schema()), so stores
// in different schemas of one database do not contend.
package pgstore

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/store"
)

var _ store.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Advisory lock classes (the first key of the two-key form); the second
// key is hashtext(current_schema()).
const (
	lockMigrate = 0x0ce1_0001
	lockWrite   = 0x0ce1_0002
	lockApp     = 0x0ce1_0003
)

// Store is a PostgreSQL metadata store. It is safe for concurrent use, by
// any number of processes on one database.
type Store struct {
	db       *sql.DB
	q        querier // db, with ? placeholders
	readOnly bool
}

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://).
func IsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql")
}

func openDB(dsn string, readOnly bool) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errdefs.Newf(errdefs.InvalidArgument, "", "pgstore: %s", redact(err))
	}
	if readOnly {
		// The server refuses every write on these connections.
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "cerulean"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// redact keeps a password out of an error that quotes the connection
// string.
func redact(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		if j := strings.Index(msg[i:], "@"); j >= 0 {
			return msg[:i+3] + "…" + msg[i+j:]
		}
	}
	return msg
}

// Open connects to the database named by dsn (a postgres:// URL; a
// search_path parameter selects the schema) and applies any pending
// migrations. It refuses a database whose schema is newer than this binary
// knows.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	migs, err := loadMigrations()
	if err != nil {
		return nil, errdefs.Internalf(err, "pgstore: load migrations")
	}
	db, err := openDB(dsn, false)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, q: rebound{db}}
	v, applied, err := s.migrate(ctx, migs)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if applied {
		logger.InfoContext(ctx, "store migrated", "store", "postgres", "version", v)
	}
	return s, nil
}

// OpenReadOnly connects for reading only, beside running servers: it never
// migrates and never writes (the connections are read-only sessions), and
// refuses a schema that lacks a migration this binary knows or has one it
// does not. A database without the schema is NotFound.
func OpenReadOnly(ctx context.Context, dsn string) (*Store, error) {
	migs, err := loadMigrations()
	if err != nil {
		return nil, errdefs.Internalf(err, "pgstore: load migrations")
	}
	db, err := openDB(dsn, true)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, q: rebound{db}, readOnly: true}
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		_ = db.Close()
		return nil, errdefs.Internalf(err, "pgstore: connect")
	}
	if !exists {
		_ = db.Close()
		return nil, errdefs.Newf(errdefs.NotFound, "", "no Cerulean schema in the database")
	}
	if err := checkSchema(ctx, db, migs); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return errdefs.Internalf(err, "pgstore: close")
	}
	return nil
}

// Identity returns the directory store.
func (s *Store) Identity() identity.Store { return identityStore{s} }

// RBAC returns the role assignment store.
func (s *Store) RBAC() rbac.Store { return rbacStore{s} }

// Resources returns the resource hierarchy store.
func (s *Store) Resources() resource.Store { return resourceStore{s} }

// WithLock runs fn while holding a session advisory lock named by name,
// shared by every process on the schema: servers starting at once use it
// to run their first-start setup (bootstrap) one after the other.
func (s *Store) WithLock(ctx context.Context, name string, fn func() error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return errdefs.Internalf(err, "pgstore: connect")
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema() || ':' || $2::text))`, lockApp, name); err != nil {
		return errdefs.Internalf(err, "pgstore: lock %s", name)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx is done, or the
		// pooled connection would keep it.
		if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, hashtext(current_schema() || ':' || $2::text))`, lockApp, name); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // drop the connection, and the lock with it
		}
	}()
	return fn()
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var migs []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		migs = append(migs, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(migs, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(migs); i++ {
		if migs[i].version == migs[i-1].version {
			return nil, fmt.Errorf("migrations %q and %q: same version %d", migs[i-1].name, migs[i].name, migs[i].version)
		}
	}
	return migs, nil
}

// migrate applies the pending migrations, each in its own transaction,
// holding the schema's migration lock for the whole run so that servers
// starting at once do it one after the other (the second finds nothing to
// do). The rules for versions are sqlstore's: a migration is pending when
// it is not recorded, and a database recording one this binary does not
// know is refused.
func (s *Store) migrate(ctx context.Context, migs []migration) (int, bool, error) {
	latest := 0
	known := map[int]bool{}
	for _, m := range migs {
		latest = max(latest, m.version)
		known[m.version] = true
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, false, errdefs.Internalf(err, "pgstore: connect")
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, lockMigrate); err != nil {
		return 0, false, errdefs.Internalf(err, "pgstore: take the migration lock")
	}
	defer func() {
		if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, lockMigrate); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return 0, false, errdefs.Internalf(err, "pgstore: create schema_migrations")
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return 0, false, err
	}
	for v := range done {
		if v > latest {
			return v, false, errdefs.Newf(errdefs.FailedPrecondition, "",
				"the database schema version %d is newer than this binary supports (%d)", v, latest)
		}
		if !known[v] {
			return v, false, errdefs.Newf(errdefs.FailedPrecondition, "",
				"the database has schema migration %d, which this binary does not know", v)
		}
	}
	applied := false
	for _, m := range migs {
		if done[m.version] {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return 0, false, errdefs.Internalf(err, "pgstore: begin")
		}
		// The simple protocol runs a script of several statements.
		if _, err := tx.ExecContext(ctx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			_ = tx.Rollback()
			return 0, false, errdefs.Internalf(err, "pgstore: apply migration %s", m.name)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
			m.version, formatTime(time.Now())); err != nil {
			_ = tx.Rollback()
			return 0, false, errdefs.Internalf(err, "pgstore: record migration %s", m.name)
		}
		if err := tx.Commit(); err != nil {
			return 0, false, errdefs.Internalf(err, "pgstore: commit migration %s", m.name)
		}
		applied = true
	}
	return latest, applied, nil
}

type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// appliedVersions returns the versions schema_migrations records.
func appliedVersions(ctx context.Context, q rowsQuerier) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, errdefs.Internalf(err, "pgstore: read schema migrations")
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, errdefs.Internalf(err, "pgstore: read schema migrations")
		}
		out[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "pgstore: read schema migrations")
	}
	return out, nil
}

// checkSchema reports whether the database records exactly the
// migrations this binary knows.
func checkSchema(ctx context.Context, db *sql.DB, migs []migration) error {
	done, err := appliedVersions(ctx, db)
	if err != nil {
		return err
	}
	known := map[int]bool{}
	for _, m := range migs {
		known[m.version] = true
		if !done[m.version] {
			return errdefs.Newf(errdefs.FailedPrecondition, "",
				"the database lacks schema migration %s; start the server once to apply it", m.name)
		}
	}
	for v := range done {
		if !known[v] {
			return errdefs.Newf(errdefs.FailedPrecondition, "",
				"the database has schema migration %d, which this binary does not know", v)
		}
	}
	return nil
}

// errNotFound and friends build the reason-less errors the store contracts
// ask for; the domain services add reasons.
func errNotFound(format string, args ...any) error {
	return errdefs.Newf(errdefs.NotFound, "", format, args...)
}

func errAlreadyExists(format string, args ...any) error {
	return errdefs.Newf(errdefs.AlreadyExists, "", format, args...)
}

func errConflict(format string, args ...any) error {
	return errdefs.Newf(errdefs.Conflict, "", format, args...)
}

// errImmutable reports an update function that changed an identifying
// field: a bug in the caller.
func errImmutable(what string) error {
	return errdefs.Internalf(errors.New("update function changed an immutable field"), "pgstore: %s", what)
}
