package sqlbase

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// Migration is one versioned schema script, migrations/NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads the migrations in fsys's migrations directory,
// ordered by version.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	var migs []Migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		migs = append(migs, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(migs, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	for i := 1; i < len(migs); i++ {
		if migs[i].Version == migs[i-1].Version {
			return nil, fmt.Errorf("migrations %q and %q: same version %d", migs[i-1].Name, migs[i].Name, migs[i].Version)
		}
	}
	return migs, nil
}

// RowsQuerier runs a query returning rows: a *sql.DB, *sql.Conn or *sql.Tx.
type RowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// AppliedVersions returns the versions schema_migrations records.
func AppliedVersions(ctx context.Context, q RowsQuerier) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, errdefs.Internalf(err, "store: read schema migrations")
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, errdefs.Internalf(err, "store: read schema migrations")
		}
		out[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "store: read schema migrations")
	}
	return out, nil
}

// ExecQuerier runs statements: a *sql.DB or *sql.Conn.
type ExecQuerier interface {
	RowsQuerier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Applied creates schema_migrations if need be and returns the versions it
// records, refusing a database CheckKnown refuses.
func Applied(ctx context.Context, q ExecQuerier, migs []Migration) (map[int]bool, error) {
	if _, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return nil, errdefs.Internalf(err, "store: create schema_migrations")
	}
	done, err := AppliedVersions(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := CheckKnown(done, migs); err != nil {
		return nil, err
	}
	return done, nil
}

// Latest returns the highest version in migs.
func Latest(migs []Migration) int {
	latest := 0
	for _, m := range migs {
		latest = max(latest, m.Version)
	}
	return latest
}

// CheckKnown refuses a database recording a migration this binary does
// not know (newer, or a gap this binary lacks); migrations it lacks are
// pending, whatever the highest recorded version, since migrations written
// on parallel branches may land in either order.
func CheckKnown(done map[int]bool, migs []Migration) error {
	latest := Latest(migs)
	known := map[int]bool{}
	for _, m := range migs {
		known[m.Version] = true
	}
	for v := range done {
		if v > latest {
			return errdefs.Newf(errdefs.FailedPrecondition, "",
				"the database schema version %d is newer than this binary supports (%d)", v, latest)
		}
		if !known[v] {
			return errdefs.Newf(errdefs.FailedPrecondition, "",
				"the database has schema migration %d, which this binary does not know", v)
		}
	}
	return nil
}

// CheckSchema reports whether the database records exactly the
// migrations this binary knows (a reader's check: it never migrates).
func CheckSchema(ctx context.Context, q RowsQuerier, migs []Migration) error {
	done, err := AppliedVersions(ctx, q)
	if err != nil {
		return err
	}
	known := map[int]bool{}
	for _, m := range migs {
		known[m.Version] = true
		if !done[m.Version] {
			return errdefs.Newf(errdefs.FailedPrecondition, "",
				"the database lacks schema migration %s; start the server once to apply it", m.Name)
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
