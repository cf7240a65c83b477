package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// querier is what *sql.DB and *sql.Tx have in common; the store's own
// implementations run every statement through the prepared statement cache.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// maxStmts bounds the statement cache. The store builds its SQL from a
// small set of fragments (id lists are passed as one JSON argument; scope
// lists are a scope's ancestors, at most a handful), so the number of
// distinct statements is small; the bound is a safety net.
const maxStmts = 256

// stmt returns the cached prepared statement for query, preparing it on
// first use, or nil when the cache is full. Preparing is most of the cost of
// a simple query on SQLite.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
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

func (c cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
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
		return errdefs.Internalf(ctx.Err(), "sqlstore: wait for write lock")
	}
	defer func() { <-s.wsem }()

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errdefs.Internalf(err, "sqlstore: begin")
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return errdefs.Internalf(err, "sqlstore: commit")
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

// execOne runs an UPDATE or DELETE that must hit a row, returning notFound
// when it hits none.
func execOne(ctx context.Context, tx querier, notFound error, what, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return errdefs.Internalf(err, "sqlstore: %s", what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return errdefs.Internalf(err, "sqlstore: %s", what)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// key is the lower-cased form stored in *_key columns.
func key(s string) string { return strings.ToLower(s) }

// escapeLike escapes LIKE's wildcards (and the escape character) in s, for
// use with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// timeLayout is RFC 3339 with a fixed nine-digit fraction, so that text
// order is time order (time.RFC3339Nano trims trailing zeros, which breaks
// ORDER BY). time.RFC3339Nano parses it.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// encodeList encodes a string list as a JSON array; nil becomes "[]".
func encodeList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // cannot fail for []string
	return string(b)
}

// decodeList decodes a JSON array, returning a non-nil slice.
func decodeList(s string) ([]string, error) {
	v := []string{}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if v == nil { // "null"
		v = []string{}
	}
	return v, nil
}

func lowerList(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = key(s)
	}
	return out
}

// encodeTags encodes a tag map as a JSON object; a nil map becomes NULL so
// that nil and empty survive the round trip.
func encodeTags(m map[string]string) sql.NullString {
	if m == nil {
		return sql.NullString{}
	}
	b, _ := json.Marshal(m) // cannot fail for map[string]string
	return sql.NullString{String: string(b), Valid: true}
}

func decodeTags(ns sql.NullString) (map[string]string, error) {
	if !ns.Valid {
		return nil, nil
	}
	m := map[string]string{}
	if err := json.Unmarshal([]byte(ns.String), &m); err != nil {
		return nil, err
	}
	return m, nil
}
