// Package pgstore is the PostgreSQL metadata backend, built on pgx through
// database/sql, running sqlbase's domain SQL (rebound to $n placeholders)
// in PostgreSQL's dialect. It keeps sqlstore's schema (translated in
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
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/store"
	"github.com/cerulean/cerulean/internal/store/sqlbase"
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
	*sqlbase.Store
	db       *sql.DB
	readOnly bool
}

// newStore wraps db; the domain stores read through it, rebound.
func newStore(db *sql.DB, readOnly bool) *Store {
	s := &Store{db: db, readOnly: readOnly}
	s.Store = sqlbase.New(rebound{db}, s.write, dialect)
	return s
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
		return nil, errdefs.Newf(errdefs.InvalidArgument, "", "store: %s", redact(err))
	}
	if readOnly {
		// The server refuses every write on these connections.
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "cerulean"
	}
	db := stdlib.OpenDB(*cfg)
	// As many idle connections as open ones: with fewer, every request
	// beyond the idle count under load closes its connection after use and
	// the next one dials and authenticates a new one (scripts/bench-registry.sh
	// in its scale-out mode: manifest GETs on 16 connections to one server
	// had a p99 of 1.15 s with 8 idle connections, 0.12 s with 16).
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
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
		return nil, errdefs.Internalf(err, "store: load migrations")
	}
	db, err := openDB(dsn, false)
	if err != nil {
		return nil, err
	}
	s := newStore(db, false)
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
		return nil, errdefs.Internalf(err, "store: load migrations")
	}
	db, err := openDB(dsn, true)
	if err != nil {
		return nil, err
	}
	s := newStore(db, true)
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		_ = db.Close()
		return nil, errdefs.Internalf(err, "store: connect")
	}
	if !exists {
		_ = db.Close()
		return nil, errdefs.Newf(errdefs.NotFound, "", "no Cerulean schema in the database")
	}
	if err := sqlbase.CheckSchema(ctx, db, migs); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return errdefs.Internalf(err, "store: close")
	}
	return nil
}

// WithLock runs fn while holding a session advisory lock named by name,
// shared by every process on the schema: servers starting at once use it
// to run their first-start setup (bootstrap) one after the other.
func (s *Store) WithLock(ctx context.Context, name string, fn func() error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return errdefs.Internalf(err, "store: connect")
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema() || ':' || $2::text))`, lockApp, name); err != nil {
		return errdefs.Internalf(err, "store: lock %s", name)
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

type migration = sqlbase.Migration

func loadMigrations() ([]migration, error) { return sqlbase.LoadMigrations(migrationFS) }

// migrate applies the pending migrations, each in its own transaction,
// holding the schema's migration lock for the whole run so that servers
// starting at once do it one after the other (the second finds nothing to
// do). The rules for versions are sqlstore's: a migration is pending when
// it is not recorded, and a database recording one this binary does not
// know is refused.
func (s *Store) migrate(ctx context.Context, migs []migration) (int, bool, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, false, errdefs.Internalf(err, "store: connect")
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, lockMigrate); err != nil {
		return 0, false, errdefs.Internalf(err, "store: take the migration lock")
	}
	defer func() {
		if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, lockMigrate); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	done, err := sqlbase.Applied(ctx, conn, migs)
	if err != nil {
		return 0, false, err
	}
	applied := false
	for _, m := range migs {
		if done[m.Version] {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return 0, false, errdefs.Internalf(err, "store: begin")
		}
		// The simple protocol runs a script of several statements.
		if _, err := tx.ExecContext(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			_ = tx.Rollback()
			return 0, false, errdefs.Internalf(err, "store: apply migration %s", m.Name)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
			m.Version, sqlbase.FormatTime(time.Now())); err != nil {
			_ = tx.Rollback()
			return 0, false, errdefs.Internalf(err, "store: record migration %s", m.Name)
		}
		if err := tx.Commit(); err != nil {
			return 0, false, errdefs.Internalf(err, "store: commit migration %s", m.Name)
		}
		applied = true
	}
	return sqlbase.Latest(migs), applied, nil
}
