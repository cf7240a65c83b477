package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// querier is what *sql.DB and *sql.Tx have in common. The store's SQL is
// written with ? placeholders, as sqlstore's is, and rebound to $n.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rebound runs statements on q after rebinding their placeholders; pgx
// caches the prepared statement of each distinct text per connection.
type rebound struct{ q querier }

func (r rebound) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.q.ExecContext(ctx, rebind(query), args...)
}

func (r rebound) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, rebind(query), args...)
}

func (r rebound) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, rebind(query), args...)
}

var rebindCache sync.Map // query → rebound query

// rebind turns each ? outside a quoted string or identifier into $1, $2, ….
// The store's statements are built from a small set of fragments, so the
// cache stays small.
func rebind(query string) string {
	if v, ok := rebindCache.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote reopens on the next byte
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	rebindCache.Store(query, out)
	return out
}

// write runs fn in a write transaction that first takes the schema's write
// lock, so write transactions run one at a time across every server, as
// SQLite's do: a read inside one sees every earlier commit and nothing
// changes under it until it commits. It commits when fn returns nil and
// rolls back otherwise, returning fn's error unchanged.
func (s *Store) write(ctx context.Context, fn func(tx querier) error) error {
	if s.readOnly {
		return errdefs.Newf(errdefs.FailedPrecondition, "", "pgstore: the store is open read-only")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errdefs.Internalf(err, "pgstore: begin")
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, lockWrite); err != nil {
		_ = tx.Rollback()
		return errdefs.Internalf(err, "pgstore: take the write lock")
	}
	if err := fn(rebound{tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return errdefs.Internalf(err, "pgstore: commit")
	}
	return nil
}

// SQLSTATE codes the store maps.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

func pgError(err error) *pgconn.PgError {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func isUnique(err error) bool {
	e := pgError(err)
	return e != nil && e.Code == codeUniqueViolation
}

func isForeignKey(err error) bool {
	e := pgError(err)
	return e != nil && e.Code == codeForeignKeyViolation
}

// constraintName names the constraint err violated, "" if none.
func constraintName(err error) string {
	if e := pgError(err); e != nil {
		return e.ConstraintName
	}
	return ""
}

// execOne runs an UPDATE or DELETE that must hit a row, returning notFound
// when it hits none.
func execOne(ctx context.Context, tx querier, notFound error, what, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return errdefs.Internalf(err, "pgstore: %s", what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return errdefs.Internalf(err, "pgstore: %s", what)
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

// timeLayout is sqlstore's: RFC 3339 with a fixed nine-digit fraction, so
// that text order is time order.
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
