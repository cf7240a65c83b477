// Package sqlstore is the SQLite metadata backend, built on the pure-Go
// driver modernc.org/sqlite. One file holds everything; the schema is
// created and upgraded by the versioned migrations embedded from
// migrations/NNNN_name.sql.
//
// Writes are serialized in the process (and across processes by SQLite's
// write lock, taken at BEGIN IMMEDIATE), so a read-modify-write transaction
// never has to be retried and update functions run exactly once. Reads are
// single statements, each a consistent snapshot under WAL.
package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/store"
)

var _ store.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// pragmas are applied to every connection the pool opens.
const pragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// Store is a SQLite metadata store. It is safe for concurrent use.
type Store struct {
	db *sql.DB
	q  querier // db through the statement cache
	// wsem serializes write transactions within the process: waiting here is
	// cheaper than SQLite's busy loop and honours the context.
	wsem chan struct{}

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// Open opens the database at path, creating it (mode 0600) if needed, and
// applies any pending migrations. It refuses a database whose schema is
// newer than this binary knows.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	migs, err := loadMigrations()
	if err != nil {
		return nil, errdefs.Internalf(err, "sqlstore: load migrations")
	}
	// SQLite would create the file with the process umask; create it first
	// so that it (and the -wal and -shm files, which SQLite gives the
	// database file's mode) is private.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, errdefs.Internalf(err, "sqlstore: create %s", path)
	}
	if err := f.Close(); err != nil {
		return nil, errdefs.Internalf(err, "sqlstore: create %s", path)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, errdefs.Internalf(err, "sqlstore: open %s", path)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	s := &Store{db: db, wsem: make(chan struct{}, 1), stmts: map[string]*sql.Stmt{}}
	s.q = cachedDB{s}
	v, applied, err := s.migrate(ctx, migs)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if applied {
		logger.InfoContext(ctx, "store migrated", "path", path, "version", v)
	}
	return s, nil
}

// dsn builds a file: URI for path, escaping the characters URI parsing
// would take for delimiters.
func dsn(p string) string { return dsnWith(p, pragmas) }

func dsnWith(p, params string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(p) + "?" + params
}

// Close closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	for _, st := range s.stmts {
		_ = st.Close()
	}
	clear(s.stmts)
	s.mu.Unlock()
	// Let SQLite refresh its planner statistics; failure is harmless.
	_, _ = s.db.Exec("PRAGMA optimize")
	if err := s.db.Close(); err != nil {
		return errdefs.Internalf(err, "sqlstore: close")
	}
	return nil
}

// Identity returns the directory store.
func (s *Store) Identity() identity.Store { return identityStore{s} }

// RBAC returns the role assignment store.
func (s *Store) RBAC() rbac.Store { return rbacStore{s} }

// Resources returns the resource hierarchy store.
func (s *Store) Resources() resource.Store { return resourceStore{s} }

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

// migrate applies the pending migrations, each in its own transaction. It
// returns the schema version (the highest known migration) and whether
// anything was applied.
//
// Versions need not be contiguous, and a migration is pending when it is
// not recorded, whatever the highest recorded version: migrations written
// on parallel branches (0002 and 0003, say) may land in either order, and a
// database that got 0003 first still gets 0002 once it appears. A
// migration must therefore not depend on one with a higher number. A
// database recording a migration this binary does not know (newer, or a
// gap this binary lacks) is refused.
func (s *Store) migrate(ctx context.Context, migs []migration) (int, bool, error) {
	latest := 0
	known := map[int]bool{}
	for _, m := range migs {
		latest = max(latest, m.version)
		known[m.version] = true
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return 0, false, errdefs.Internalf(err, "sqlstore: create schema_migrations")
	}
	done, err := appliedVersions(ctx, s.db)
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
		// The bare transaction: a migration is a script of several
		// statements, which a prepared statement cannot hold.
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			// Another process may have migrated since we looked.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return errdefs.Internalf(err, "sqlstore: read schema migrations")
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return errdefs.Internalf(err, "sqlstore: apply migration %s", m.name)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.version, formatTime(time.Now())); err != nil {
				return errdefs.Internalf(err, "sqlstore: record migration %s", m.name)
			}
			applied = true
			return nil
		})
		if err != nil {
			return 0, false, err
		}
	}
	return latest, applied, nil
}

// appliedVersions returns the versions schema_migrations records.
func appliedVersions(ctx context.Context, q querier) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, errdefs.Internalf(err, "sqlstore: read schema migrations")
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, errdefs.Internalf(err, "sqlstore: read schema migrations")
		}
		out[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "sqlstore: read schema migrations")
	}
	return out, nil
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
	return errdefs.Internalf(errors.New("update function changed an immutable field"), "sqlstore: %s", what)
}
