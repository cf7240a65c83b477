package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/store/sqlbase"
)

// querier is what *sql.DB and *sql.Tx have in common. The store's SQL
// (sqlbase's) is written with ? placeholders and rebound to $n.
type querier = sqlbase.Querier

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
		return errdefs.Newf(errdefs.FailedPrecondition, "", "store: the store is open read-only")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errdefs.Internalf(err, "store: begin")
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, lockWrite); err != nil {
		_ = tx.Rollback()
		return errdefs.Internalf(err, "store: take the write lock")
	}
	if err := fn(rebound{tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return errdefs.Internalf(err, "store: commit")
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

// uniqueColumn names the container_groups column whose unique constraint
// err violated, from the constraint's name.
func uniqueColumn(err error) string {
	e := pgError(err)
	if e == nil {
		return ""
	}
	switch e.ConstraintName {
	case "container_groups_ip_key":
		return "ip"
	case "container_groups_dns_label_key_key":
		return "dns_label_key"
	}
	return ""
}

// dialect is PostgreSQL's: JSON lists through jsonb_array_elements_text,
// parameters typed where the planner cannot infer them, and the names
// unique in a tenant kept in their own tables (names.go).
var dialect = &sqlbase.Dialect{
	JSONValues:                 "jsonb_array_elements_text(?::jsonb) AS value",
	JSONOrdered:                "jsonb_array_elements_text(?::jsonb) WITH ORDINALITY AS j (value, ord)",
	Text:                       "?::text",
	HasServicePrincipalName:    "EXISTS (SELECT 1 FROM service_principal_names AS n WHERE n.sp_key = t.id_key AND n.name_key = ?)",
	NoLimit:                    nil,
	IsUnique:                   isUnique,
	IsForeignKey:               isForeignKey,
	UniqueColumn:               uniqueColumn,
	ClaimIdentifierURIs:        putIdentifierURIs,
	ClaimServicePrincipalNames: putServicePrincipalNames,
}
