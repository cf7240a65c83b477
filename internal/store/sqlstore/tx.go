package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/store/sqlbase"
)

// querier is what *sql.DB and *sql.Tx have in common; the store runs
// every statement through the prepared statement cache.
type querier = sqlbase.Querier

// maxStmts bounds the statement cache. The store builds its SQL from a
// small set of fragments (id lists are passed as one JSON argument; scope
// lists are a scope's ancestors, at most a handful), so the number of
// distinct statements is small; the bound is a safety net.
const maxStmts = 256

// stmt returns the cached prepared statement for query, preparing it on
// first use, or nil when the cache is full. Preparing is most of the cost of
// a simple query on SQLite.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	// Every query of every request passes here: the read lock lets them
	// find their statement in parallel.
	s.mu.RLock()
	st, ok := s.stmts[query]
	s.mu.RUnlock()
	if ok {
		return st, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	if len(s.stmts) >= maxStmts {
		return nil, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.stmts[query] = st
	return st, nil
}

// cachedDB runs statements outside a transaction.
type cachedDB struct{ s *Store }

func (c cachedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.s.stmt(ctx, query)
	if err != nil || st == nil {
		return c.s.db.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (c cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.s.stmt(ctx, query)
	if err != nil || st == nil {
		return c.s.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a one-row read without ctx's cancellation: with a
// cancellable context, database/sql starts a goroutine per query to close
// its rows and the driver another to interrupt SQLite, which together cost
// a one-row read (a key lookup, microseconds) about as much as the read
// itself, and a read that short is over before a cancellation could help.
// Row lists (QueryContext), writes and transactions keep ctx's
// cancellation.
func (c cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	st, err := c.s.stmt(ctx, query)
	if err != nil || st == nil {
		return c.s.db.QueryRowContext(ctx, query, args...) // reports the error, if any
	}
	return st.QueryRowContext(ctx, args...)
}

// cachedTx runs statements in a transaction; Tx.StmtContext reuses the
// statement already prepared on the transaction's connection.
type cachedTx struct {
	s  *Store
	tx *sql.Tx
}

func (c cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.s.stmt(ctx, query)
	if err != nil || st == nil {
		return c.tx.ExecContext(ctx, query, args...)
	}
	return c.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

func (c cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.s.stmt(ctx, query)
	if err != nil || st == nil {
		return c.tx.QueryContext(ctx, query, args...)
	}
	return c.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

func (c cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.s.stmt(ctx, query)
	if err != nil || st == nil {
		return c.tx.QueryRowContext(ctx, query, args...)
	}
	return c.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// write runs fn in a write transaction (BEGIN IMMEDIATE, so the write lock
// is taken up front and never upgraded). It commits when fn returns nil and
// rolls back otherwise, returning fn's error unchanged.
func (s *Store) write(ctx context.Context, fn func(tx querier) error) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error { return fn(cachedTx{s, tx}) })
}

// writeTx is write with the bare transaction.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return errdefs.Internalf(ctx.Err(), "store: wait for write lock")
	}
	defer func() { <-s.wsem }()

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errdefs.Internalf(err, "store: begin")
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return errdefs.Internalf(err, "store: commit")
	}
	return nil
}

// constraint returns the extended result code of a constraint violation, or
// 0 when err is not one.
func constraint(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return e.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := constraint(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKey(err error) bool { return constraint(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY }

// uniqueColumn names the container_groups column whose unique constraint
// err violated; SQLite says it only in the message ("…: table.column").
func uniqueColumn(err error) string {
	msg := err.Error()
	for _, col := range []string{"ip", "dns_label_key"} {
		if strings.Contains(msg, "container_groups."+col) {
			return col
		}
	}
	return ""
}

// dialect is SQLite's: JSON lists through json_each, whose key column is
// the array index.
var dialect = &sqlbase.Dialect{
	JSONValues:              "json_each(?)",
	JSONOrdered:             "(SELECT key AS ord, value FROM json_each(?)) AS j",
	Text:                    "?",
	HasServicePrincipalName: "EXISTS (SELECT 1 FROM json_each(t.service_principal_name_keys) AS n WHERE n.value = ?)",
	NoLimit:                 -1,
	IsUnique:                isUnique,
	IsForeignKey:            isForeignKey,
	UniqueColumn:            uniqueColumn,
}
