// Package sqlstore is the SQLite metadata backend, built on the pure-Go
// driver modernc.org/sqlite. One file holds everything; the schema is
// created and upgraded by the versioned migrations embedded from
// migrations/NNNN_name.sql. The domain SQL is sqlbase's; this package adds
// the connection, the prepared statement cache, write transactions,
// migrations, error classification and SQLite's dialect.
//
// Writes are serialized in the process (and across processes by SQLite's
// write lock, taken at BEGIN IMMEDIATE), so a read-modify-write transaction
// never has to be retried and update functions run exactly once. Reads are
// single statements, each a consistent snapshot under WAL.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/store"
	"github.com/cerulean/cerulean/internal/store/sqlbase"
)

var _ store.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// pragmas are applied to every connection the pool opens.
const pragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// Store is a SQLite metadata store. It is safe for concurrent use. The
// domain stores are sqlbase's, reading through the statement cache and
// writing through write.
type Store struct {
	*sqlbase.Store
	db *sql.DB
	// wsem serializes write transactions within the process: waiting here is
	// cheaper than SQLite's busy loop and honours the context.
	wsem chan struct{}

	mu    sync.RWMutex
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
		return nil, errdefs.Internalf(err, "store: load migrations")
	}
	// SQLite would create the file with the process umask; create it first
	// so that it (and the -wal and -shm files, which SQLite gives the
	// database file's mode) is private.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, errdefs.Internalf(err, "store: create %s", path)
	}
	if err := f.Close(); err != nil {
		return nil, errdefs.Internalf(err, "store: create %s", path)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, errdefs.Internalf(err, "store: open %s", path)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	s := newStore(db)
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

// newStore wraps db, without migrating it.
func newStore(db *sql.DB) *Store {
	s := &Store{db: db, wsem: make(chan struct{}, 1), stmts: map[string]*sql.Stmt{}}
	s.Store = sqlbase.New(cachedDB{s}, s.write, dialect)
	return s
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
		return errdefs.Internalf(err, "store: close")
	}
	return nil
}

type migration = sqlbase.Migration

func loadMigrations() ([]migration, error) { return sqlbase.LoadMigrations(migrationFS) }

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
	done, err := sqlbase.Applied(ctx, s.db, migs)
	if err != nil {
		return 0, false, err
	}
	applied := false
	for _, m := range migs {
		if done[m.Version] {
			continue
		}
		// The bare transaction: a migration is a script of several
		// statements, which a prepared statement cannot hold.
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			// Another process may have migrated since we looked.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
				return errdefs.Internalf(err, "store: read schema migrations")
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return errdefs.Internalf(err, "store: apply migration %s", m.Name)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.Version, sqlbase.FormatTime(time.Now())); err != nil {
				return errdefs.Internalf(err, "store: record migration %s", m.Name)
			}
			applied = true
			return nil
		})
		if err != nil {
			return 0, false, err
		}
	}
	return sqlbase.Latest(migs), applied, nil
}
