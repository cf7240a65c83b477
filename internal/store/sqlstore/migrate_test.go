package sqlstore

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/store/sqlbase"
)

// rawStore opens a database at path without migrating it.
func rawStore(t *testing.T, path string) *Store {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path))
	mustNil(t, err)
	s := newStore(db)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func tableExists(t *testing.T, s *Store, name string) bool {
	t.Helper()
	var n int
	mustNil(t, s.db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n))
	return n == 1
}

// TestMigrationsOutOfOrder: versions may have gaps, and a migration that
// lands after a higher-numbered one was applied (parallel branches) is
// still applied; a recorded migration the binary does not know is refused.
func TestMigrationsOutOfOrder(t *testing.T) {
	ctx := t.Context()
	s := rawStore(t, filepath.Join(t.TempDir(), "db"))
	m1 := migration{Version: 1, Name: "0001_a.sql", SQL: "CREATE TABLE a (x INTEGER);"}
	m2 := migration{Version: 2, Name: "0002_b.sql", SQL: "CREATE TABLE b (x INTEGER);"}
	m3 := migration{Version: 3, Name: "0003_c.sql", SQL: "CREATE TABLE c (x INTEGER); CREATE TABLE c2 (x INTEGER);"}

	v, applied, err := s.migrate(ctx, []migration{m1, m3})
	mustNil(t, err)
	if v != 3 || !applied || !tableExists(t, s, "a") || tableExists(t, s, "b") || !tableExists(t, s, "c2") {
		t.Fatalf("with a gap: version %d, applied %v", v, applied)
	}
	v, applied, err = s.migrate(ctx, []migration{m1, m2, m3})
	mustNil(t, err)
	if v != 3 || !applied || !tableExists(t, s, "b") {
		t.Fatalf("filling the gap: version %d, applied %v, table b %v", v, applied, tableExists(t, s, "b"))
	}
	v, applied, err = s.migrate(ctx, []migration{m1, m2, m3})
	mustNil(t, err)
	if v != 3 || applied {
		t.Fatalf("again: version %d, applied %v", v, applied)
	}
	if _, _, err := s.migrate(ctx, []migration{m1, m3}); !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Fatalf("a binary without migration 2 opened a database that has it: %v", err)
	}
	if _, _, err := s.migrate(ctx, []migration{m1, m2}); !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Fatalf("a binary without migration 3 opened a database that has it: %v", err)
	}
}

// TestOwnersMigration: applications and service principals stored before
// the owners column existed come back with no owners.
func TestOwnersMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cerulean.db")
	migs, err := loadMigrations()
	mustNil(t, err)
	i := slices.IndexFunc(migs, func(m migration) bool { return m.Name == "0003_owners.sql" })
	if i < 0 {
		t.Fatal("no 0003_owners.sql migration")
	}
	old := rawStore(t, path)
	_, _, err = old.migrate(ctx, migs[:i])
	mustNil(t, err)
	mustNil(t, old.Identity().CreateTenant(ctx, tenant))
	_, err = old.db.ExecContext(ctx, `INSERT INTO applications (id_key, id, tenant_key, tenant_id, app_id_key, app_id,
		display_name_key, display_name, description, sign_in_audience, identifier_uris, tags, notes, created_at)
		VALUES ('a1', 'a1', ?, ?, 'app1', 'app1', 'old', 'old', '', 'AzureADMyOrg', '[]', '[]', '', ?)`,
		strings.ToLower(tenant.ID), tenant.ID, sqlbase.FormatTime(t0))
	mustNil(t, err)
	_, err = old.db.ExecContext(ctx, `INSERT INTO service_principals (id_key, id, tenant_key, tenant_id, app_id_key, app_id,
		display_name_key, display_name, description, notes, account_enabled, app_role_assignment_required,
		service_principal_names, service_principal_name_keys, tags, created_at)
		VALUES ('s1', 's1', ?, ?, 'app1', 'app1', 'old', 'old', '', '', 1, 0, '["app1"]', '["app1"]', '[]', ?)`,
		strings.ToLower(tenant.ID), tenant.ID, sqlbase.FormatTime(t0))
	mustNil(t, err)
	mustNil(t, old.Close())

	s, err := Open(ctx, path, nil)
	mustNil(t, err)
	defer s.Close()
	app, err := s.Identity().GetApplication(ctx, tenant.ID, "a1")
	mustNil(t, err)
	sp, err := s.Identity().GetServicePrincipal(ctx, tenant.ID, "s1")
	mustNil(t, err)
	if app.Owners == nil || len(app.Owners) != 0 || sp.Owners == nil || len(sp.Owners) != 0 {
		t.Fatalf("owners after migration: application %#v, service principal %#v", app.Owners, sp.Owners)
	}
	// And they round-trip from then on.
	sp, err = s.Identity().UpdateServicePrincipal(ctx, tenant.ID, "s1", func(sp *identity.ServicePrincipal) error {
		sp.Owners = []string{"o1"}
		return nil
	})
	mustNil(t, err)
	if !slices.Equal(sp.Owners, []string{"o1"}) {
		t.Fatalf("owners after update: %v", sp.Owners)
	}
}

// TestRegistryInstanceMigration: registries stored before instance ids
// existed get one each, random and distinct, which then never changes.
func TestRegistryInstanceMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cerulean.db")
	migs, err := loadMigrations()
	mustNil(t, err)
	i := slices.IndexFunc(migs, func(m migration) bool { return m.Name == "0004_registry_instance.sql" })
	if i < 0 {
		t.Fatal("no 0004_registry_instance.sql migration")
	}
	const sub = "33333333-3333-4333-8333-333333333333"
	old := rawStore(t, path)
	_, _, err = old.migrate(ctx, slices.Delete(slices.Clone(migs), i, i+1))
	mustNil(t, err)
	mustNil(t, old.Identity().CreateTenant(ctx, tenant))
	mustNil(t, old.Resources().CreateSubscription(ctx, resource.Subscription{ID: sub, DisplayName: "S", TenantID: tenant.ID, State: "Enabled", CreatedAt: t0}))
	_, _, err = old.Resources().PutGroup(ctx, sub, "rg", func(*resource.Group) (resource.Group, error) {
		return resource.Group{SubscriptionID: sub, Name: "rg", Location: "eastus", ProvisioningState: "Succeeded", CreatedAt: t0, ChangedAt: t0}, nil
	})
	mustNil(t, err)
	for _, name := range []string{"first", "second"} {
		_, err = old.db.ExecContext(ctx, `INSERT INTO registries (name_key, name, id, subscription_key, group_key, location, tags,
			sku, admin_user_enabled, anonymous_pull_enabled, login_server, provisioning_state, admin_passwords, created_at,
			created_by, changed_at, changed_by)
			VALUES (?, ?, ?, ?, 'rg', 'eastus', NULL, 'Basic', 0, 0, ?, 'Succeeded', '[]', ?, '', ?, '')`,
			name, name, "/subscriptions/"+sub+"/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/"+name, strings.ToLower(sub),
			name+".azurecr.test", sqlbase.FormatTime(t0), sqlbase.FormatTime(t0))
		mustNil(t, err)
	}
	mustNil(t, old.Close())

	s, err := Open(ctx, path, nil)
	mustNil(t, err)
	defer s.Close()
	a, err := s.Registry().GetRegistry(ctx, "first")
	mustNil(t, err)
	b, err := s.Registry().GetRegistry(ctx, "second")
	mustNil(t, err)
	if len(a.InstanceID) != 32 || len(b.InstanceID) != 32 || a.InstanceID == b.InstanceID {
		t.Fatalf("instance ids after migration: %q, %q", a.InstanceID, b.InstanceID)
	}
	mustNil(t, s.Close())
	s2, err := Open(ctx, path, nil)
	mustNil(t, err)
	defer s2.Close()
	again, err := s2.Registry().GetRegistry(ctx, "first")
	mustNil(t, err)
	if again.InstanceID != a.InstanceID {
		t.Fatalf("instance id changed on reopening: %q → %q", a.InstanceID, again.InstanceID)
	}
}
