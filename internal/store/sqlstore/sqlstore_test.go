package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store"
	"github.com/cerulean/cerulean/internal/store/sqlbase"
	"github.com/cerulean/cerulean/internal/store/storetest"
)

func openTemp(tb testing.TB) (*Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "cerulean.db")
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

var (
	t0     = time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	tenant = identity.Tenant{ID: "11111111-1111-4111-8111-111111111111", DisplayName: "T", DefaultDomain: "t.example", CreatedAt: t0}
	sub    = resource.Subscription{ID: "22222222-2222-4222-8222-222222222222", DisplayName: "S", TenantID: tenant.ID, State: "Enabled", CreatedAt: t0}
)

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cerulean.db")
	s, err := Open(ctx, path, nil)
	mustNil(t, err)
	mustNil(t, s.Identity().CreateTenant(ctx, tenant))
	mustNil(t, s.Resources().CreateSubscription(ctx, sub))
	mustNil(t, s.Close())

	s, err = Open(ctx, path, nil)
	mustNil(t, err)
	defer s.Close()
	got, err := s.Identity().GetTenant(ctx, tenant.ID)
	mustNil(t, err)
	if got != tenant {
		t.Errorf("tenant after reopen: %+v, want %+v", got, tenant)
	}
	if _, err := s.Resources().GetSubscription(ctx, sub.ID); err != nil {
		t.Errorf("subscription after reopen: %v", err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cerulean.db")
	migs, err := loadMigrations()
	mustNil(t, err)

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	for i := range 3 {
		logs.Reset()
		s, err := Open(ctx, path, logger)
		mustNil(t, err)
		migrated := strings.Contains(logs.String(), "store migrated")
		if migrated != (i == 0) {
			t.Errorf("open %d: logged %q", i, logs.String())
		}
		var n, v int
		mustNil(t, s.db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &v))
		if last := migs[len(migs)-1].Version; n != len(migs) || v != last {
			t.Errorf("open %d: %d migrations recorded up to version %d, want %d up to %d", i, n, v, len(migs), last)
		}
		mustNil(t, s.Close())
	}
}

func TestFutureSchemaRefused(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	mustNil(t, s.Close())

	db, err := sql.Open("sqlite", dsn(path))
	mustNil(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, ?)`, sqlbase.FormatTime(time.Now()))
	mustNil(t, err)
	mustNil(t, db.Close())

	s, err = Open(ctx, path, nil)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database with a future schema version")
	}
	if !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Errorf("Open: %v, want FailedPrecondition", err)
	}
}

func TestFileMode(t *testing.T) {
	s, path := openTemp(t)
	mustNil(t, s.Identity().CreateTenant(t.Context(), tenant))
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			if p == path {
				t.Fatal(err)
			}
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
}

func TestPragmas(t *testing.T) {
	s, path := openTemp(t)
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "5000",
	} {
		var got string
		mustNil(t, s.db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got))
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c%20d")
	mustNil(t, os.Mkdir(dir, 0o700))
	path := filepath.Join(dir, "x.db")
	s, err := Open(t.Context(), path, nil)
	mustNil(t, err)
	defer s.Close()
	mustNil(t, s.Identity().CreateTenant(t.Context(), tenant))
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "x.db") {
			t.Errorf("stray file %s", e.Name())
		}
	}
}

// TestCaseInsensitiveIDs checks what the contracts leave open and this
// backend does: GUIDs (tenant, object, subscription ids) match in any case.
func TestCaseInsensitiveIDs(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	id := s.Identity()
	mustNil(t, id.CreateTenant(ctx, tenant))
	app := identity.Application{ID: "33333333-aaaa-4aaa-8aaa-333333333333", TenantID: tenant.ID,
		AppID: "44444444-bbbb-4bbb-8bbb-444444444444", DisplayName: "A", CreatedAt: t0}
	mustNil(t, id.CreateApplication(ctx, app))
	upper := strings.ToUpper

	if _, err := id.GetTenant(ctx, upper(tenant.ID)); err != nil {
		t.Errorf("GetTenant: %v", err)
	}
	got, err := id.GetApplication(ctx, upper(tenant.ID), upper(app.ID))
	if err != nil || got.ID != app.ID {
		t.Errorf("GetApplication: %+v, %v", got, err)
	}
	dup := app
	dup.ID, dup.AppID = upper(app.ID), "55555555-5555-4555-8555-555555555555"
	if err := id.CreateApplication(ctx, dup); !errdefs.IsKind(err, errdefs.AlreadyExists) {
		t.Errorf("CreateApplication with upper-case duplicate id: %v", err)
	}
	mustNil(t, s.Resources().CreateSubscription(ctx, sub))
	if _, err := s.Resources().GetSubscription(ctx, upper(sub.ID)); err != nil {
		t.Errorf("GetSubscription: %v", err)
	}
	mustNil(t, id.DeleteApplication(ctx, upper(tenant.ID), upper(app.ID)))
}

// TestMissingParents checks the foreign keys: objects need their tenant,
// subscription or group.
func TestMissingParents(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	app := identity.Application{ID: "33333333-aaaa-4aaa-8aaa-333333333333", TenantID: tenant.ID,
		AppID: "44444444-bbbb-4bbb-8bbb-444444444444", CreatedAt: t0}
	if err := s.Identity().CreateApplication(ctx, app); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Errorf("CreateApplication without tenant: %v", err)
	}
	sp := identity.ServicePrincipal{ID: app.ID, TenantID: tenant.ID, AppID: app.AppID, CreatedAt: t0}
	if err := s.Identity().CreateServicePrincipal(ctx, sp); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Errorf("CreateServicePrincipal without tenant: %v", err)
	}
	if err := s.Resources().CreateSubscription(ctx, sub); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Errorf("CreateSubscription without tenant: %v", err)
	}
	mustNil(t, s.Identity().CreateTenant(ctx, tenant))
	mustNil(t, s.Resources().CreateSubscription(ctx, sub))
	_, _, err := s.Resources().PutGroup(ctx, tenant.ID, "rg", func(*resource.Group) (resource.Group, error) {
		return resource.Group{Location: "westeurope", CreatedAt: t0, ChangedAt: t0}, nil
	})
	if !errdefs.IsKind(err, errdefs.NotFound) {
		t.Errorf("PutGroup without subscription: %v", err)
	}
	r := resource.Generic{ID: resourceid.ForResource(sub.ID, "rg", "Microsoft.ContainerRegistry", "registries", "r")}
	if err := s.PutGenericResource(ctx, r); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Errorf("PutGenericResource without group: %v", err)
	}
	r.ID = resourceid.ForResourceGroup(sub.ID, "rg")
	if err := s.PutGenericResource(ctx, r); !errdefs.IsKind(err, errdefs.InvalidArgument) {
		t.Errorf("PutGenericResource with a group id: %v", err)
	}
}

func TestImmutableFields(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	id := s.Identity()
	mustNil(t, id.CreateTenant(ctx, tenant))
	app := identity.Application{ID: "33333333-aaaa-4aaa-8aaa-333333333333", TenantID: tenant.ID,
		AppID: "44444444-bbbb-4bbb-8bbb-444444444444", DisplayName: "A", CreatedAt: t0}
	mustNil(t, id.CreateApplication(ctx, app))
	_, err := id.UpdateApplication(ctx, tenant.ID, app.ID, func(a *identity.Application) error {
		a.DisplayName = "B"
		a.AppID = "55555555-5555-4555-8555-555555555555"
		return nil
	})
	if e, ok := errors.AsType[*errdefs.Error](err); !ok || e.Kind != errdefs.Internal || e.Cause == nil {
		t.Errorf("UpdateApplication changing the app id: %v", err)
	}
	got, err := id.GetApplication(ctx, tenant.ID, app.ID)
	mustNil(t, err)
	if got.DisplayName != "A" || got.AppID != app.AppID {
		t.Errorf("application changed: %+v", got)
	}
}

func guidN(kind, n int) string { return fmt.Sprintf("%08d-0000-4000-8000-%012d", kind, n) }

func BenchmarkGetServicePrincipal(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	id := s.Identity()
	mustNil(b, id.CreateTenant(ctx, tenant))
	const n = 1000
	ids := make([]string, n)
	for i := range n {
		appID := guidN(1, i)
		sp := identity.ServicePrincipal{
			ID: guidN(2, i), TenantID: tenant.ID, AppID: appID, DisplayName: fmt.Sprintf("sp-%d", i),
			AccountEnabled: true, ServicePrincipalNames: []string{appID}, CreatedAt: t0,
		}
		for j := range 2 {
			sp.Passwords = append(sp.Passwords, identity.PasswordCredential{
				KeyID: guidN(3, i*2+j), Hint: "abc", Salt: make([]byte, 16), Hash: make([]byte, 32),
				StartDateTime: t0, EndDateTime: t0.AddDate(1, 0, 0),
			})
		}
		mustNil(b, id.CreateServicePrincipal(ctx, sp))
		ids[i] = sp.ID
	}
	i := 0
	for b.Loop() {
		sp, err := id.GetServicePrincipal(ctx, tenant.ID, ids[i%n])
		if err != nil || len(sp.Passwords) != 2 {
			b.Fatal(sp, err)
		}
		i++
	}
}

func BenchmarkListRoleAssignmentsByPrincipalAndScopes(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	rb := s.RBAC()
	const principals, groups, perGroup = 100, 20, 5
	// Every principal holds a role at the subscription, at each of 20
	// groups and at 5 resources in each: 100 × 121 = 12,100 assignments.
	n := 0
	mk := func(scope resourceid.ID, p string) {
		n++
		mustNil(b, rb.CreateRoleAssignment(ctx, rbac.RoleAssignment{
			Name: guidN(9, n), Scope: scope, RoleDefinitionID: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
			PrincipalID: p, PrincipalType: "ServicePrincipal", CreatedOn: t0, UpdatedOn: t0,
		}))
	}
	for p := range principals {
		pid := guidN(2, p)
		mk(resourceid.ForSubscription(sub.ID), pid)
		for g := range groups {
			group := fmt.Sprintf("rg-%d", g)
			mk(resourceid.ForResourceGroup(sub.ID, group), pid)
			for r := range perGroup {
				mk(resourceid.ForResource(sub.ID, group, "Microsoft.ContainerRegistry", "registries", fmt.Sprintf("r%d", r)), pid)
			}
		}
	}
	target := resourceid.ForResource(sub.ID, "rg-7", "Microsoft.ContainerRegistry", "registries", "r3")
	q := rbac.Query{Scopes: target.Ancestors()}
	i := 0
	for b.Loop() {
		q.PrincipalID = guidN(2, i%principals)
		ras, err := rb.ListRoleAssignments(ctx, q)
		if err != nil || len(ras) != 3 {
			b.Fatal(len(ras), err)
		}
		i++
	}
}
