package pgstore

import (
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/store"
	"github.com/cerulean/cerulean/internal/store/pgstore/pgtest"
	"github.com/cerulean/cerulean/internal/store/storetest"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), pgtest.Schema(t, "t_"), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) })
}

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`a = ? AND b = ?`, `a = $1 AND b = $2`},
		{`x LIKE ? ESCAPE '\' AND y = ?`, `x LIKE $1 ESCAPE '\' AND y = $2`},
		{`'it''s ?' = ? AND "q?" = ?`, `'it''s ?' = $1 AND "q?" = $2`},
		{`?::jsonb`, `$1::jsonb`},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Servers starting at once on an empty schema must each see it migrated
// once, with no failure from a race on CREATE TABLE.
func TestConcurrentOpen(t *testing.T) {
	u := pgtest.Schema(t, "t_")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s, err := Open(t.Context(), u, nil)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	migs, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != len(migs) {
		t.Errorf("schema_migrations has %d rows, want %d", got, len(migs))
	}
}

// WithLock runs one holder at a time across stores (connections) on one
// schema.
func TestWithLock(t *testing.T) {
	u := pgtest.Schema(t, "t_")
	const n = 6
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			s, err := Open(t.Context(), u, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			err = s.WithLock(t.Context(), "bootstrap", func() error {
				v := inside.Add(1)
				for {
					m := most.Load()
					if v <= m || most.CompareAndSwap(m, v) {
						break
					}
				}
				// A round trip while holding the lock gives the others a
				// chance to enter if the lock did not hold them off.
				_, err := s.db.ExecContext(t.Context(), `SELECT pg_sleep(0.02)`)
				inside.Add(-1)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m != 1 {
		t.Errorf("%d holders at once, want 1", m)
	}
}

// The unique keys refuse a second claim of a name in a tenant even when
// the identity service's checks are bypassed, as two racing writers would.
func TestNamesUnique(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	tn := identity.Tenant{ID: "11111111-1111-4111-8111-111111111111", DisplayName: "T", DefaultDomain: "t.example"}
	if err := s.Identity().CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	app := func(id, appID string, uris ...string) identity.Application {
		return identity.Application{ID: id, TenantID: tn.ID, AppID: appID, DisplayName: "a", IdentifierURIs: uris}
	}
	sp := func(id, appID string, names ...string) identity.ServicePrincipal {
		return identity.ServicePrincipal{ID: id, TenantID: tn.ID, AppID: appID, DisplayName: "s",
			ServicePrincipalNames: append([]string{appID}, names...)}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	id := s.Identity()
	must(id.CreateApplication(ctx, app("a1", "app1", "api://one")))
	must(id.CreateServicePrincipal(ctx, sp("s1", "app1", "api://one", "api://extra")))
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"app takes an app's uri", id.CreateApplication(ctx, app("a2", "app2", "API://ONE"))},
		{"app takes another app's sp name", id.CreateApplication(ctx, app("a3", "app3", "api://extra"))},
		{"sp takes an sp's name", id.CreateServicePrincipal(ctx, sp("s2", "app4", "api://EXTRA"))},
		{"sp takes an app's app id", id.CreateServicePrincipal(ctx, sp("s3", "app5", "app1"))},
	} {
		if !errors.Is(tc.err, identity.ErrObjectConflict) {
			t.Errorf("%s: %v, want ObjectConflict", tc.name, tc.err)
		}
	}
	// A name released by an update or a delete is free again.
	_, err := id.UpdateApplication(ctx, tn.ID, "a1", func(a *identity.Application) error { a.IdentifierURIs = nil; return nil })
	must(err)
	must(id.DeleteServicePrincipal(ctx, tn.ID, "s1"))
	must(id.CreateApplication(ctx, app("a2", "app2", "api://one", "api://extra")))
}

// A schema recording a migration this binary does not know is refused, by
// Open and OpenReadOnly; OpenReadOnly finds nothing in an empty schema and
// refuses writes; reopening keeps the data.
func TestSchemaVersions(t *testing.T) {
	ctx := t.Context()
	u := pgtest.Schema(t, "t_")
	if _, err := OpenReadOnly(ctx, u); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("OpenReadOnly on an empty schema: %v, want NotFound", err)
	}
	s, err := Open(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	tn := identity.Tenant{ID: "11111111-1111-4111-8111-111111111111", DisplayName: "T", DefaultDomain: "t.example"}
	if err := s.Identity().CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	s.Close()

	ro, err := OpenReadOnly(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Identity().GetTenant(ctx, tn.ID); err != nil {
		t.Errorf("read-only GetTenant: %v", err)
	}
	if err := ro.Identity().CreateTenant(ctx, identity.Tenant{ID: "x"}); err == nil {
		t.Error("a read-only store wrote")
	}
	// Past the store's own guard, the session refuses writes too.
	if _, err := ro.db.ExecContext(ctx, `DELETE FROM tenants`); err == nil {
		t.Error("a read-only session deleted")
	}
	ro.Close()

	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'x')`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, u, nil); !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Errorf("Open with a newer schema: %v, want FailedPrecondition", err)
	}
	if _, err := OpenReadOnly(ctx, u); !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Errorf("OpenReadOnly with a newer schema: %v, want FailedPrecondition", err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 9999`); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Identity().GetTenant(ctx, tn.ID); err != nil || got.ID != tn.ID {
		t.Errorf("tenant after reopen: %+v, %v", got, err)
	}
}
