package app

import (
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/cerulean/cerulean/internal/bootstrap"
	"github.com/cerulean/cerulean/internal/config"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store/pgstore/pgtest"
)

// TestPostgresBootstrapOnce: servers that start at once on one empty
// PostgreSQL store make one tenant and one subscription between them, and
// each one's bootstrap credentials work against the shared directory.
func TestPostgresBootstrapOnce(t *testing.T) {
	storeURL := pgtest.Schema(t, "app_")
	const n = 3
	apps := make([]*App, n)
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		dirs[i] = t.TempDir()
		cfg := config.Config{DataDir: dirs[i], Listen: "127.0.0.1:0", RegistryDomain: "azurecr.localhost", Location: "eastus",
			LogLevel: "info", InstancesDomain: "azurecontainer.localhost", Runtime: "runc", Store: storeURL}
		wg.Go(func() { apps[i], errs[i] = New(t.Context(), cfg, slog.New(slog.DiscardHandler)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("New %d: %v", i, err)
		}
		t.Cleanup(func() { apps[i].Close() })
	}
	ctx := t.Context()
	tenants, err := apps[0].Identity.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := apps[0].Resources.Subscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tenants) != 1 || len(subs) != 1 {
		t.Fatalf("%d tenants and %d subscriptions, want one of each", len(tenants), len(subs))
	}
	for i, dir := range dirs {
		creds, err := bootstrap.Load(bootstrap.Path(dir))
		if err != nil {
			t.Fatal(err)
		}
		if creds.TenantID != tenants[0].ID || creds.SubscriptionID != subs[0].ID {
			t.Errorf("server %d: credentials for tenant %s, subscription %s; want %s, %s", i, creds.TenantID, creds.SubscriptionID, tenants[0].ID, subs[0].ID)
		}
		// Every server verifies every server's principal: one directory.
		for _, a := range apps {
			if _, err := a.Identity.Authenticate(ctx, creds.TenantID, creds.AppID, creds.Password); err != nil {
				t.Errorf("server %d's credentials: %v", i, err)
			}
			if !isOwner(t, a, creds, creds.ObjectID) {
				t.Errorf("server %d's principal is not Owner", i)
			}
		}
	}
}

// TestPostgresReadHosts: `cerulean hosts` and `cerulean ca` read the
// PostgreSQL store when the configuration names one, and the data dir's
// (empty) SQLite database otherwise.
func TestPostgresReadHosts(t *testing.T) {
	ctx := t.Context()
	storeURL := pgtest.Schema(t, "app_")
	dir := t.TempDir()
	if _, err := LoginServers(ctx, dir, storeURL); err == nil || !strings.Contains(err.Error(), "has not run") {
		t.Fatalf("LoginServers on an empty schema: %v", err)
	}
	cfg := config.Config{DataDir: dir, Listen: "127.0.0.1:0", RegistryDomain: "azurecr.localhost", Location: "eastus",
		LogLevel: "info", InstancesDomain: "azurecontainer.localhost", Runtime: "runc", Store: storeURL}
	a, err := New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	creds, err := bootstrap.Load(bootstrap.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Resources.PutGroup(ctx, creds.SubscriptionID, "rg", resource.GroupInput{Location: "eastus"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Registries.Create(ctx, registry.CreateInput{Group: resourceid.ForResourceGroup(creds.SubscriptionID, "rg"),
		Name: "pgreg", Location: "eastus", SKU: "Basic", CreatedBy: creds.ObjectID}); err != nil {
		t.Fatal(err)
	}
	servers, err := LoginServers(ctx, dir, storeURL)
	if err != nil || len(servers) != 1 || !strings.HasPrefix(servers[0], "pgreg.azurecr.localhost") {
		t.Fatalf("LoginServers: %v, %v; want pgreg", servers, err)
	}
	cfg.Listen = "127.0.0.1:8443"
	h, err := ReadHosts(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []HostsEntry{
		{netip.MustParseAddr("127.0.0.1"), []string{"cerulean.blob.azurecr.localhost"}},
		{netip.MustParseAddr("127.0.0.1"), []string{"pgreg.azurecr.localhost"}},
	}
	if !reflect.DeepEqual(h.Entries, want) {
		t.Fatalf("entries %v, want %v", h.Entries, want)
	}
	// Without the store setting the data dir's SQLite database is read,
	// and this one has none.
	if _, err := LoginServers(ctx, dir, ""); err == nil {
		t.Fatal("LoginServers without the store setting read PostgreSQL")
	}
}
