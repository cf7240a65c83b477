// Package sqlbase is the domain SQL shared by the database/sql metadata
// backends (sqlstore on SQLite, pgstore on PostgreSQL): every store
// contract is implemented here once, written with ? placeholders, over a
// Querier for reads and a write function for transactions that the backend
// provides. A backend supplies only what differs: connection, transactions
// and locking, migrations, error classification and a Dialect of the few
// SQL fragments the two databases spell differently.
package sqlbase

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
)

// Querier is what *sql.DB and *sql.Tx have in common; a backend may wrap
// either (SQLite's statement cache, PostgreSQL's placeholder rebinding).
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type querier = Querier

// WriteFunc runs fn in a write transaction, one at a time: a read inside
// it sees every earlier commit and nothing changes under it until it
// commits. It commits when fn returns nil and rolls back otherwise,
// returning fn's error unchanged.
type WriteFunc func(ctx context.Context, fn func(tx Querier) error) error

// ClaimFunc records, inside the write that stores an object, the names it
// claims in its tenant (identifier URIs, service principal names), failing
// when another object holds one.
type ClaimFunc func(ctx context.Context, tx Querier, tenantKey, appIDKey, idKey string, names []string) error

// Dialect is what the domain SQL needs to know about a database.
type Dialect struct {
	// JSONValues is a FROM item over the JSON array of strings passed as
	// one ? argument, with one text column named value.
	JSONValues string
	// JSONOrdered is JSONValues aliased j with the columns value and ord,
	// ord following the array's order.
	JSONOrdered string
	// Text is a text-typed ? in a SELECT list.
	Text string
	// HasServicePrincipalName is a condition on the service principal
	// aliased t: it holds the lower-cased name passed as one ? argument.
	HasServicePrincipalName string
	// NoLimit is the LIMIT argument that means no limit.
	NoLimit any

	// IsUnique and IsForeignKey classify a driver error as a violated
	// unique (or primary) key or foreign key.
	IsUnique     func(error) bool
	IsForeignKey func(error) bool
	// UniqueColumn names the column of container_groups whose unique
	// constraint err violated ("ip", "dns_label_key"), "" if unknown.
	UniqueColumn func(error) string

	// ClaimIdentifierURIs and ClaimServicePrincipalNames, when set, run in
	// every write of an application or service principal.
	ClaimIdentifierURIs        ClaimFunc
	ClaimServicePrincipalNames ClaimFunc
}

// Store implements the domain stores over a backend's connection.
type Store struct {
	q     Querier // reads, outside a transaction
	write WriteFunc
	d     *Dialect
}

// New returns the domain stores reading through q and writing through
// write, in dialect d.
func New(q Querier, write WriteFunc, d *Dialect) *Store {
	return &Store{q: q, write: write, d: d}
}

// Identity returns the directory store.
func (s *Store) Identity() identity.Store { return identityStore{s} }

// RBAC returns the role assignment store.
func (s *Store) RBAC() rbac.Store { return rbacStore{s} }

// Resources returns the resource hierarchy store.
func (s *Store) Resources() resource.Store { return resourceStore{s} }

// claim runs fn, if set, with the keys of the object's tenant and ids.
func claim(ctx context.Context, fn ClaimFunc, tx Querier, tenantID, appID, id string, names []string) error {
	if fn == nil {
		return nil
	}
	return fn(ctx, tx, key(tenantID), key(appID), key(id), names)
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
	return errdefs.Internalf(errors.New("update function changed an immutable field"), "store: %s", what)
}
