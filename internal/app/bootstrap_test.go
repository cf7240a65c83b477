package app

import (
	"log/slog"
	"os"
	"testing"

	"github.com/cerulean/cerulean/internal/bootstrap"
	"github.com/cerulean/cerulean/internal/config"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resourceid"
)

func newTestApp(t *testing.T, dataDir string) *App {
	t.Helper()
	cfg := config.Config{DataDir: dataDir, Listen: "127.0.0.1:0", RegistryDomain: "azurecr.localhost", Location: "eastus", LogLevel: "info", InstancesDomain: "azurecontainer.localhost", Runtime: "runc"}
	a, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func isOwner(t *testing.T, a *App, creds bootstrap.Credentials, objectID string) bool {
	t.Helper()
	ok, err := a.RBAC.Allowed(t.Context(), objectID, "Microsoft.Authorization/roleAssignments/write", resourceid.ForSubscription(creds.SubscriptionID))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestBootstrapIsStableAndFindsItsPrincipalByID(t *testing.T) {
	dir := t.TempDir()
	a := newTestApp(t, dir)
	path := bootstrap.Path(dir)
	first, err := bootstrap.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode %v", fi.Mode().Perm())
	}
	if !isOwner(t, a, first, first.ObjectID) {
		t.Fatal("bootstrap principal is not Owner")
	}
	ctx := t.Context()
	// Someone able to create applications copies the bootstrap name.
	name := bootstrapName
	impostor, err := a.Identity.CreateApplication(ctx, first.TenantID, identity.ApplicationInput{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	impostorSP, err := a.Identity.CreateServicePrincipal(ctx, first.TenantID, impostor.AppID, identity.ServicePrincipalInput{})
	if err != nil {
		t.Fatal(err)
	}
	// The Owner assignment is removed behind the server's back.
	owned, _ := a.RBAC.List(ctx, resourceid.ForSubscription(first.SubscriptionID), rbac.ListFilter{AtScope: true, PrincipalID: first.ObjectID})
	for _, ra := range owned {
		if _, err := a.RBAC.Delete(ctx, ra.Scope, ra.Name); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: same principal and secret, Owner restored, impostor ignored.
	a = newTestApp(t, dir)
	second, err := bootstrap.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if second != first {
		t.Fatalf("credentials changed across restart:\n%+v\n%+v", first, second)
	}
	if !isOwner(t, a, second, second.ObjectID) || isOwner(t, a, second, impostorSP.ID) {
		t.Fatal("Owner must go to the recorded principal only")
	}

	// A stale secret in the file gets replaced; the principal stays.
	stale := second
	stale.Password = "not-the-secret"
	if err := bootstrap.Save(path, stale); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = newTestApp(t, dir)
	third, err := bootstrap.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if third.ObjectID != first.ObjectID || third.Password == stale.Password {
		t.Fatalf("stale secret not replaced: %+v", third)
	}
	if _, err := a.Identity.Authenticate(ctx, third.TenantID, third.AppID, third.Password); err != nil {
		t.Fatal(err)
	}

	// A deleted credentials file yields a new principal, never the impostor.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = newTestApp(t, dir)
	t.Cleanup(func() { a.Close() })
	fourth, err := bootstrap.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if fourth.ObjectID == impostorSP.ID || fourth.ObjectID == first.ObjectID {
		t.Fatalf("unexpected bootstrap principal %s", fourth.ObjectID)
	}
	if !isOwner(t, a, fourth, fourth.ObjectID) || isOwner(t, a, fourth, impostorSP.ID) {
		t.Fatal("the new bootstrap principal must be Owner, the impostor must not")
	}
}
