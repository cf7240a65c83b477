package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"runtime"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/store/sqlbase"
)

// readOnlyPragmas open the file read-only (SQLite's own URI parameter)
// and make every connection refuse writes even where the file would
// allow them. journal_mode is left alone: the server set WAL when it
// created the file, and setting it is a write.
const readOnlyPragmas = "mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)"

// OpenReadOnly opens an existing database for reading only, beside a
// server that may be running on it (WAL readers never block the writer).
// It never creates the file, never migrates and never writes: it refuses a
// database that lacks a migration this binary knows (the server migrates
// it when it next starts) or has one it does not know. A missing file is
// NotFound. Write methods of the returned store fail.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errdefs.Newf(errdefs.NotFound, "", "no database at %s", path)
		}
		return nil, errdefs.Internalf(err, "store: open %s", path)
	}
	migs, err := loadMigrations()
	if err != nil {
		return nil, errdefs.Internalf(err, "store: load migrations")
	}
	db, err := sql.Open("sqlite", dsnWith(path, readOnlyPragmas))
	if err != nil {
		return nil, errdefs.Internalf(err, "store: open %s", path)
	}
	n := max(2, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	s := newStore(db)
	if err := sqlbase.CheckSchema(ctx, db, migs); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}
