package identity_test

import (
	"errors"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
)

// wantConflict asserts Graph's duplicate-value error for property prop.
func wantConflict(t *testing.T, what string, err error, prop string) {
	t.Helper()
	e, ok := errors.AsType[*errdefs.Error](err)
	want := "Another object with the same value for property " + prop + " already exists."
	if !ok || !errors.Is(err, identity.ErrObjectConflict) || e.Kind != errdefs.InvalidArgument || e.Message != want || e.Target != prop {
		t.Errorf("%s: err = %v, want %q", what, err, want)
	}
}

func TestIdentifierURIsUnique(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	a, err := f.svc.CreateApplication(ctx, f.tenant.ID, identity.ApplicationInput{DisplayName: new("a"), IdentifierURIs: []string{"api://shared"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateApplication(ctx, f.tenant.ID, identity.ApplicationInput{DisplayName: new("b"), IdentifierURIs: []string{"API://Shared"}})
	wantConflict(t, "create with another application's identifier URI", err, "identifierUris")
	_, err = f.svc.UpdateApplication(ctx, f.tenant.ID, f.app.ID, identity.ApplicationInput{IdentifierURIs: []string{"api://mine", "api://shared"}})
	wantConflict(t, "update to another application's identifier URI", err, "identifierUris")
	if got, _ := f.svc.Application(ctx, f.tenant.ID, f.app.ID); len(got.IdentifierURIs) != 0 {
		t.Errorf("refused update was written: %v", got.IdentifierURIs)
	}

	// An application keeps its own URIs through an update.
	if _, err := f.svc.UpdateApplication(ctx, f.tenant.ID, a.ID, identity.ApplicationInput{IdentifierURIs: []string{"api://shared", "api://more"}}); err != nil {
		t.Fatalf("re-stating own identifier URIs: %v", err)
	}
	// A URI the service principal of another application holds as a name.
	if _, err := f.svc.UpdateServicePrincipal(ctx, f.tenant.ID, f.sp.ID, identity.ServicePrincipalInput{ServicePrincipalNames: []string{"api://sp-name"}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateApplication(ctx, f.tenant.ID, identity.ApplicationInput{DisplayName: new("c"), IdentifierURIs: []string{"api://SP-NAME"}})
	wantConflict(t, "create with another service principal's name", err, "identifierUris")
	// The application's own service principal may hold it.
	if _, err := f.svc.UpdateApplication(ctx, f.tenant.ID, f.app.ID, identity.ApplicationInput{IdentifierURIs: []string{"api://sp-name"}}); err != nil {
		t.Fatalf("identifier URI its own service principal holds: %v", err)
	}
	// Other tenants do not count.
	other, err := f.svc.CreateTenant(ctx, identity.Tenant{DisplayName: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateApplication(ctx, other.ID, identity.ApplicationInput{DisplayName: new("a"), IdentifierURIs: []string{"api://shared"}}); err != nil {
		t.Fatalf("same URI in another tenant: %v", err)
	}
}

func TestServicePrincipalNamesUnique(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.svc.UpdateServicePrincipal(ctx, f.tenant.ID, f.sp.ID, identity.ServicePrincipalInput{ServicePrincipalNames: []string{"https://one.example"}}); err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.CreateApplication(ctx, f.tenant.ID, identity.ApplicationInput{DisplayName: new("b")})
	if err != nil {
		t.Fatal(err)
	}
	// Creating a service principal with a name another one holds.
	_, err = f.svc.CreateServicePrincipal(ctx, f.tenant.ID, b.AppID, identity.ServicePrincipalInput{ServicePrincipalNames: []string{"HTTPS://ONE.example"}})
	wantConflict(t, "create with another service principal's name", err, "servicePrincipalNames")
	if _, err := f.svc.ServicePrincipalByAppID(ctx, f.tenant.ID, b.AppID); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("refused service principal was created: %v", err)
	}
	bsp, err := f.svc.CreateServicePrincipal(ctx, f.tenant.ID, b.AppID, identity.ServicePrincipalInput{})
	if err != nil {
		t.Fatal(err)
	}
	for name, names := range map[string][]string{
		"another service principal's name":    {"https://one.example"},
		"another application's app id":        {f.app.AppID},
		"another application's app id, upper": {"x:y", toUpper(f.app.AppID)},
	} {
		_, err := f.svc.UpdateServicePrincipal(ctx, f.tenant.ID, bsp.ID, identity.ServicePrincipalInput{ServicePrincipalNames: names})
		wantConflict(t, "update to "+name, err, "servicePrincipalNames")
	}
	if got, _ := f.svc.ServicePrincipal(ctx, f.tenant.ID, bsp.ID); len(got.ServicePrincipalNames) != 1 {
		t.Errorf("refused update was written: %v", got.ServicePrincipalNames)
	}

	// Another application's identifier URI, while that application has no
	// service principal yet: claiming it would block that one forever.
	c, err := f.svc.CreateApplication(ctx, f.tenant.ID, identity.ApplicationInput{DisplayName: new("c"), IdentifierURIs: []string{"api://c"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateServicePrincipal(ctx, f.tenant.ID, bsp.ID, identity.ServicePrincipalInput{ServicePrincipalNames: []string{"api://c"}})
	wantConflict(t, "update to another application's identifier URI", err, "servicePrincipalNames")
	csp, err := f.svc.CreateServicePrincipal(ctx, f.tenant.ID, c.AppID, identity.ServicePrincipalInput{})
	if err != nil {
		t.Fatalf("service principal taking its application's identifier URI: %v", err)
	}
	// A service principal keeps its own names, and may name its own app id.
	if _, err := f.svc.UpdateServicePrincipal(ctx, f.tenant.ID, csp.ID, identity.ServicePrincipalInput{ServicePrincipalNames: []string{c.AppID, "api://c", "api://c2"}}); err != nil {
		t.Fatalf("re-stating own names: %v", err)
	}
	// The duplicate service principal of an app is still a 409, not a name
	// conflict.
	if _, err := f.svc.CreateServicePrincipal(ctx, f.tenant.ID, c.AppID, identity.ServicePrincipalInput{}); !errors.Is(err, identity.ErrAppIDTaken) {
		t.Fatalf("second service principal: %v", err)
	}
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestOwnersOnCreate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	const owner = "AAAAAAAA-0000-4000-8000-000000000001"
	app, err := f.svc.CreateApplication(ctx, f.tenant.ID, identity.ApplicationInput{DisplayName: new("owned"), Owners: []string{owner, "", owner}})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := f.svc.CreateServicePrincipal(ctx, f.tenant.ID, app.AppID, identity.ServicePrincipalInput{Owners: []string{owner}})
	if err != nil {
		t.Fatal(err)
	}
	app, _ = f.svc.Application(ctx, f.tenant.ID, app.ID)
	sp, _ = f.svc.ServicePrincipal(ctx, f.tenant.ID, sp.ID)
	want := "aaaaaaaa-0000-4000-8000-000000000001"
	if len(app.Owners) != 1 || app.Owners[0] != want || len(sp.Owners) != 1 || sp.Owners[0] != want {
		t.Fatalf("owners: application %v, service principal %v", app.Owners, sp.Owners)
	}
	if !app.OwnedBy(owner) || !sp.OwnedBy(want) || app.OwnedBy("") || sp.OwnedBy(f.sp.ID) {
		t.Fatal("OwnedBy")
	}
	// Updates never change ownership.
	app, err = f.svc.UpdateApplication(ctx, f.tenant.ID, app.ID, identity.ApplicationInput{Owners: []string{f.sp.ID}, Notes: new("n")})
	if err != nil || len(app.Owners) != 1 || app.Owners[0] != want {
		t.Fatalf("update: %v %v", app.Owners, err)
	}
	sp, err = f.svc.UpdateServicePrincipal(ctx, f.tenant.ID, sp.ID, identity.ServicePrincipalInput{Owners: []string{f.sp.ID}, Notes: new("n")})
	if err != nil || len(sp.Owners) != 1 || sp.Owners[0] != want {
		t.Fatalf("update: %v %v", sp.Owners, err)
	}
	// Objects created without owners have none.
	if len(f.app.Owners) != 0 || len(f.sp.Owners) != 0 || f.app.Owners == nil {
		t.Fatalf("fixture owners: %#v %#v", f.app.Owners, f.sp.Owners)
	}
}
