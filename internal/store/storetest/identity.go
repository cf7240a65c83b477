package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/store"
)

func testTenants(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	t1 := identity.Tenant{ID: guid(), DisplayName: "One", DefaultDomain: "one.onmicrosoft.com", CreatedAt: at(1)}
	t2 := identity.Tenant{ID: guid(), DisplayName: "Two", DefaultDomain: "two.onmicrosoft.com", CreatedAt: at(2)}
	must(t, id.CreateTenant(ctx, t1), "CreateTenant")
	must(t, id.CreateTenant(ctx, t2), "CreateTenant")

	got, err := id.GetTenant(ctx, t1.ID)
	must(t, err, "GetTenant")
	assertUTC(t, "GetTenant", got.CreatedAt)
	equal(t, "GetTenant", got, t1)

	all, err := id.ListTenants(ctx)
	must(t, err, "ListTenants")
	slices.SortFunc(all, func(a, b identity.Tenant) int { return a.CreatedAt.Compare(b.CreatedAt) })
	equal(t, "ListTenants", all, []identity.Tenant{t1, t2})

	dup := t1
	dup.DisplayName = "Other"
	mustKind(t, id.CreateTenant(ctx, dup), errdefs.AlreadyExists, "CreateTenant duplicate")
	got, err = id.GetTenant(ctx, t1.ID)
	must(t, err, "GetTenant")
	equal(t, "GetTenant after duplicate", got, t1)
}

func testApplicationCreateGet(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	other := mkTenant(t, s)

	app := newApp(tn.ID, "Web API", at(1))
	app.Description = "the API"
	app.IdentifierURIs = []string{"api://web", "https://contoso.example/web"}
	app.Tags = []string{"HideApp", "WindowsAzureActiveDirectoryIntegratedApp"}
	app.Notes = "some notes"
	app.Owners = []string{guid(), guid()}
	app.Passwords = []identity.PasswordCredential{password(1)}
	mkApp(t, s, app)

	got, err := id.GetApplication(ctx, tn.ID, app.ID)
	must(t, err, "GetApplication")
	equalApp(t, "GetApplication", got, app)

	got, err = id.GetApplicationByAppID(ctx, tn.ID, strings.ToUpper(app.AppID))
	must(t, err, "GetApplicationByAppID (upper case)")
	equalApp(t, "GetApplicationByAppID", got, app)

	// Tenant isolation.
	_, err = id.GetApplication(ctx, other.ID, app.ID)
	mustKind(t, err, errdefs.NotFound, "GetApplication in another tenant")
	_, err = id.GetApplicationByAppID(ctx, other.ID, app.AppID)
	mustKind(t, err, errdefs.NotFound, "GetApplicationByAppID in another tenant")

	// Empty lists come back empty, not nil.
	bare := mkApp(t, s, newApp(tn.ID, "Bare", at(2)))
	got, err = id.GetApplication(ctx, tn.ID, bare.ID)
	must(t, err, "GetApplication")
	if got.IdentifierURIs == nil || got.Tags == nil || got.Owners == nil || got.Passwords == nil {
		t.Errorf("empty lists came back nil: %+v", got)
	}
	equalApp(t, "GetApplication bare", got, bare)
}

func testApplicationDuplicate(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	app := mkApp(t, s, newApp(tn.ID, "First", at(1)))

	sameObject := newApp(tn.ID, "Second", at(2))
	sameObject.ID = app.ID
	mustKind(t, id.CreateApplication(ctx, sameObject), errdefs.AlreadyExists, "duplicate object id")

	sameAppID := newApp(tn.ID, "Third", at(3))
	sameAppID.AppID = app.AppID
	mustKind(t, id.CreateApplication(ctx, sameAppID), errdefs.AlreadyExists, "duplicate app id")

	sameAppID.AppID = strings.ToUpper(app.AppID)
	mustKind(t, id.CreateApplication(ctx, sameAppID), errdefs.AlreadyExists, "duplicate app id in upper case")

	all, err := id.ListApplications(ctx, tn.ID, identity.Filter{})
	must(t, err, "ListApplications")
	equal(t, "applications after failed creates", appNames(all), []string{"First"})
}

func testApplicationListFilters(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	other := mkTenant(t, s)

	mk := func(n int, name string, created int) identity.Application {
		app := newApp(tn.ID, name, at(created))
		app.ID = fixedGUID(n)
		return mkApp(t, s, app)
	}
	// Created out of order; "ALPHA" and "Beta" share a creation time, so
	// the object id breaks the tie ("ALPHA" has the smaller one).
	alpha := mk(5, "Alpha", 4)
	alphaBeta := mk(4, "alpha beta", 1)
	beta := mk(3, "Beta", 2)
	upper := mk(2, "ALPHA", 2)
	pct := mk(6, "100%_off", 5)
	mk(7, "100ab", 6)
	mkApp(t, s, newApp(other.ID, "Alpha", at(0)))

	for _, tc := range []struct {
		name string
		f    identity.Filter
		want []string
	}{
		{"all", identity.Filter{}, []string{"alpha beta", "ALPHA", "Beta", "Alpha", "100%_off", "100ab"}},
		{"display name", identity.Filter{DisplayName: "alpha"}, []string{"ALPHA", "Alpha"}},
		{"display name mixed case", identity.Filter{DisplayName: "aLpHa BeTa"}, []string{"alpha beta"}},
		{"prefix", identity.Filter{DisplayNamePrefix: "ALP"}, []string{"alpha beta", "ALPHA", "Alpha"}},
		{"prefix with wildcards", identity.Filter{DisplayNamePrefix: "100%_"}, []string{"100%_off"}},
		{"prefix underscore", identity.Filter{DisplayNamePrefix: "100_"}, []string{}},
		{"app id", identity.Filter{AppID: strings.ToUpper(beta.AppID)}, []string{"Beta"}},
		{"ids", identity.Filter{IDs: []string{alpha.ID, alphaBeta.ID, pct.ID, guid()}}, []string{"alpha beta", "Alpha", "100%_off"}},
		{"and", identity.Filter{DisplayNamePrefix: "alp", IDs: []string{alpha.ID, beta.ID, upper.ID}}, []string{"ALPHA", "Alpha"}},
		{"and app id", identity.Filter{DisplayName: "Beta", AppID: alpha.AppID}, []string{}},
		{"no match", identity.Filter{DisplayName: "gamma"}, []string{}},
	} {
		got, err := id.ListApplications(ctx, tn.ID, tc.f)
		must(t, err, "ListApplications "+tc.name)
		equal(t, "ListApplications "+tc.name, appNames(got), tc.want)
	}

	got, err := id.ListApplications(ctx, tn.ID, identity.Filter{DisplayName: "Alpha"})
	must(t, err, "ListApplications")
	if len(got) == 2 {
		equalApp(t, "listed application", got[1], alpha)
	}
}

func testApplicationUpdate(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	app := newApp(tn.ID, "Before", at(1))
	app.Tags = []string{"a"}
	mkApp(t, s, app)

	want := app
	want.DisplayName = "After"
	want.Tags = []string{"a", "b"}
	want.IdentifierURIs = []string{"api://after"}
	want.Owners = []string{guid()}
	want.Passwords = []identity.PasswordCredential{password(1)}
	got, err := id.UpdateApplication(ctx, tn.ID, app.ID, func(a *identity.Application) error {
		if a.DisplayName != "Before" || !slices.Equal(a.Tags, []string{"a"}) {
			return errors.New("update function did not receive the current application")
		}
		a.DisplayName = "After"
		a.Tags = append(a.Tags, "b")
		a.IdentifierURIs = []string{"api://after"}
		a.Owners = want.Owners
		a.Passwords = append(a.Passwords, want.Passwords[0])
		return nil
	})
	must(t, err, "UpdateApplication")
	equalApp(t, "UpdateApplication result", got, want)

	got, err = id.GetApplication(ctx, tn.ID, app.ID)
	must(t, err, "GetApplication")
	equalApp(t, "GetApplication after update", got, want)

	// Filters see the new values.
	list, err := id.ListApplications(ctx, tn.ID, identity.Filter{DisplayName: "after"})
	must(t, err, "ListApplications")
	equal(t, "ListApplications new name", appNames(list), []string{"After"})
	list, err = id.ListApplications(ctx, tn.ID, identity.Filter{DisplayName: "before"})
	must(t, err, "ListApplications")
	equal(t, "ListApplications old name", appNames(list), []string{})

	// Removing a credential.
	got, err = id.UpdateApplication(ctx, tn.ID, app.ID, func(a *identity.Application) error {
		a.Passwords = nil
		return nil
	})
	must(t, err, "UpdateApplication")
	want.Passwords = nil
	equalApp(t, "UpdateApplication removing passwords", got, want)
}

func testApplicationUpdateErrorRollsBack(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	app := newApp(tn.ID, "Keep", at(1))
	app.Passwords = []identity.PasswordCredential{password(1)}
	mkApp(t, s, app)

	_, err := id.UpdateApplication(ctx, tn.ID, app.ID, func(a *identity.Application) error {
		a.DisplayName = "Changed"
		a.Tags = []string{"changed"}
		a.Passwords = nil
		return errStop
	})
	mustStop(t, err, "UpdateApplication")
	got, err := id.GetApplication(ctx, tn.ID, app.ID)
	must(t, err, "GetApplication")
	equalApp(t, "GetApplication after failed update", got, app)
}

func testPasswordsRoundTrip(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	pws := []identity.PasswordCredential{password(2), password(1), password(3)}

	app := newApp(tn.ID, "App", at(1))
	app.Passwords = pws
	mkApp(t, s, app)
	sp := newSP(tn.ID, app.AppID, "App", at(2))
	sp.Passwords = []identity.PasswordCredential{password(4), password(5)}
	mkSP(t, s, sp)

	gotApp, err := id.GetApplication(ctx, tn.ID, app.ID)
	must(t, err, "GetApplication")
	equalApp(t, "application passwords", gotApp, app)
	gotSP, err := id.GetServicePrincipal(ctx, tn.ID, sp.ID)
	must(t, err, "GetServicePrincipal")
	equalSP(t, "service principal passwords", gotSP, sp)

	for i, p := range gotApp.Passwords {
		if !p.StartDateTime.Equal(pws[i].StartDateTime) || !p.EndDateTime.Equal(pws[i].EndDateTime) {
			t.Errorf("password %d: times %v..%v, want %v..%v", i, p.StartDateTime, p.EndDateTime,
				pws[i].StartDateTime, pws[i].EndDateTime)
		}
		if p.StartDateTime.Nanosecond() != pws[i].StartDateTime.Nanosecond() {
			t.Errorf("password %d: nanoseconds lost", i)
		}
	}

	// Dropping the middle credential keeps the others, in order.
	gotApp, err = id.UpdateApplication(ctx, tn.ID, app.ID, func(a *identity.Application) error {
		a.Passwords = slices.Delete(a.Passwords, 1, 2)
		return nil
	})
	must(t, err, "UpdateApplication")
	app.Passwords = []identity.PasswordCredential{pws[0], pws[2]}
	equalApp(t, "application passwords after removal", gotApp, app)

	// Credentials belong to their owner only.
	gotSP, err = id.GetServicePrincipal(ctx, tn.ID, sp.ID)
	must(t, err, "GetServicePrincipal")
	equalSP(t, "service principal passwords after application update", gotSP, sp)
}

func testApplicationDeleteCascades(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	other := mkTenant(t, s)

	app := newApp(tn.ID, "Doomed", at(1))
	app.Passwords = []identity.PasswordCredential{password(1)}
	mkApp(t, s, app)
	sp := newSP(tn.ID, app.AppID, "Doomed", at(2))
	sp.Passwords = []identity.PasswordCredential{password(2)}
	mkSP(t, s, sp)
	// The same (multi-tenant) app's service principal in another tenant.
	foreign := mkSP(t, s, newSP(other.ID, app.AppID, "Doomed", at(3)))
	// An unrelated application and service principal.
	keep := mkApp(t, s, newApp(tn.ID, "Keep", at(4)))
	keepSP := mkSP(t, s, newSP(tn.ID, keep.AppID, "Keep", at(5)))

	must(t, id.DeleteApplication(ctx, tn.ID, app.ID), "DeleteApplication")

	_, err := id.GetApplication(ctx, tn.ID, app.ID)
	mustKind(t, err, errdefs.NotFound, "GetApplication after delete")
	_, err = id.GetServicePrincipal(ctx, tn.ID, sp.ID)
	mustKind(t, err, errdefs.NotFound, "GetServicePrincipal after application delete")
	_, err = id.GetServicePrincipalByAppID(ctx, tn.ID, app.AppID)
	mustKind(t, err, errdefs.NotFound, "GetServicePrincipalByAppID after application delete")
	mustKind(t, id.DeleteApplication(ctx, tn.ID, app.ID), errdefs.NotFound, "DeleteApplication again")

	if _, err := id.GetServicePrincipal(ctx, other.ID, foreign.ID); err != nil {
		t.Errorf("service principal in another tenant: %v", err)
	}
	if _, err := id.GetApplication(ctx, tn.ID, keep.ID); err != nil {
		t.Errorf("unrelated application: %v", err)
	}
	if _, err := id.GetServicePrincipal(ctx, tn.ID, keepSP.ID); err != nil {
		t.Errorf("unrelated service principal: %v", err)
	}

	// Re-creating both objects under the same ids shows no leftover
	// credentials.
	app.Passwords, sp.Passwords = nil, nil
	mkApp(t, s, app)
	mkSP(t, s, sp)
	gotApp, err := id.GetApplication(ctx, tn.ID, app.ID)
	must(t, err, "GetApplication")
	equalApp(t, "re-created application", gotApp, app)
	gotSP, err := id.GetServicePrincipal(ctx, tn.ID, sp.ID)
	must(t, err, "GetServicePrincipal")
	equalSP(t, "re-created service principal", gotSP, sp)
}

func testServicePrincipalCreateGet(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	other := mkTenant(t, s)
	app := mkApp(t, s, newApp(tn.ID, "App", at(1)))

	sp := newSP(tn.ID, app.AppID, "App", at(2))
	sp.Description, sp.Notes = "desc", "notes"
	sp.AppRoleAssignmentRequired = true
	sp.ServicePrincipalNames = []string{app.AppID, "api://App"}
	sp.Tags = []string{"WindowsAzureActiveDirectoryIntegratedApp"}
	sp.Owners = []string{guid()}
	sp.Passwords = []identity.PasswordCredential{password(1)}
	mkSP(t, s, sp)

	got, err := id.GetServicePrincipal(ctx, tn.ID, sp.ID)
	must(t, err, "GetServicePrincipal")
	equalSP(t, "GetServicePrincipal", got, sp)
	got, err = id.GetServicePrincipalByAppID(ctx, tn.ID, strings.ToUpper(app.AppID))
	must(t, err, "GetServicePrincipalByAppID (upper case)")
	equalSP(t, "GetServicePrincipalByAppID", got, sp)

	_, err = id.GetServicePrincipal(ctx, other.ID, sp.ID)
	mustKind(t, err, errdefs.NotFound, "GetServicePrincipal in another tenant")
	_, err = id.GetServicePrincipalByAppID(ctx, other.ID, app.AppID)
	mustKind(t, err, errdefs.NotFound, "GetServicePrincipalByAppID in another tenant")

	dupObject := newSP(tn.ID, guid(), "Other", at(3))
	dupObject.ID = sp.ID
	mustKind(t, id.CreateServicePrincipal(ctx, dupObject), errdefs.AlreadyExists, "duplicate object id")
	dupApp := newSP(tn.ID, strings.ToUpper(app.AppID), "Other", at(3))
	mustKind(t, id.CreateServicePrincipal(ctx, dupApp), errdefs.AlreadyExists, "duplicate app id in tenant")

	// The same app id in another tenant is a different service principal.
	mkSP(t, s, newSP(other.ID, app.AppID, "App", at(4)))

	// Empty lists come back empty, not nil.
	bare := newSP(tn.ID, guid(), "Bare", at(5))
	bare.ServicePrincipalNames = nil
	mkSP(t, s, bare)
	got, err = id.GetServicePrincipal(ctx, tn.ID, bare.ID)
	must(t, err, "GetServicePrincipal")
	if got.ServicePrincipalNames == nil || got.Tags == nil || got.Owners == nil || got.Passwords == nil {
		t.Errorf("empty lists came back nil: %+v", got)
	}
	equalSP(t, "bare service principal", got, bare)
}

func testServicePrincipalFilters(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	other := mkTenant(t, s)

	web := newSP(tn.ID, guid(), "Web", at(1))
	web.ServicePrincipalNames = append(web.ServicePrincipalNames, "api://Web", "https://web.example")
	mkSP(t, s, web)
	worker := mkSP(t, s, newSP(tn.ID, guid(), "Worker", at(2)))
	webApp := newSP(tn.ID, guid(), "web", at(3))
	webApp.ServicePrincipalNames = append(webApp.ServicePrincipalNames, "api://web-app")
	mkSP(t, s, webApp)
	foreign := newSP(other.ID, guid(), "Web", at(0))
	foreign.ServicePrincipalNames = append(foreign.ServicePrincipalNames, "api://Web")
	mkSP(t, s, foreign)

	for _, tc := range []struct {
		name string
		f    identity.Filter
		want []string
	}{
		{"all", identity.Filter{}, []string{"Web", "Worker", "web"}},
		{"spn", identity.Filter{ServicePrincipalName: "API://WEB"}, []string{"Web"}},
		{"spn is app id", identity.Filter{ServicePrincipalName: worker.AppID}, []string{"Worker"}},
		{"spn is not a prefix match", identity.Filter{ServicePrincipalName: "api://we"}, []string{}},
		{"display name", identity.Filter{DisplayName: "WEB"}, []string{"Web", "web"}},
		{"prefix", identity.Filter{DisplayNamePrefix: "w"}, []string{"Web", "Worker", "web"}},
		{"app id", identity.Filter{AppID: strings.ToUpper(worker.AppID)}, []string{"Worker"}},
		{"ids", identity.Filter{IDs: []string{webApp.ID, worker.ID}}, []string{"Worker", "web"}},
		{"and", identity.Filter{DisplayName: "web", ServicePrincipalName: "api://web-app"}, []string{"web"}},
		{"and no match", identity.Filter{ServicePrincipalName: "api://web", AppID: worker.AppID}, []string{}},
	} {
		got, err := id.ListServicePrincipals(ctx, tn.ID, tc.f)
		must(t, err, "ListServicePrincipals "+tc.name)
		equal(t, "ListServicePrincipals "+tc.name, spNames(got), tc.want)
	}
}

func testServicePrincipalUpdateDelete(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	app := mkApp(t, s, newApp(tn.ID, "App", at(1)))
	sp := mkSP(t, s, newSP(tn.ID, app.AppID, "App", at(2)))

	want := sp
	want.AccountEnabled = false
	want.DisplayName = "Renamed"
	want.ServicePrincipalNames = []string{app.AppID, "api://Renamed"}
	want.Owners = []string{guid(), guid()}
	want.Passwords = []identity.PasswordCredential{password(1)}
	got, err := id.UpdateServicePrincipal(ctx, tn.ID, sp.ID, func(p *identity.ServicePrincipal) error {
		if !p.AccountEnabled || p.DisplayName != "App" {
			return errors.New("update function did not receive the current service principal")
		}
		p.AccountEnabled = false
		p.DisplayName = "Renamed"
		p.ServicePrincipalNames = append(p.ServicePrincipalNames, "api://Renamed")
		p.Owners = want.Owners
		p.Passwords = append(p.Passwords, want.Passwords[0])
		return nil
	})
	must(t, err, "UpdateServicePrincipal")
	equalSP(t, "UpdateServicePrincipal result", got, want)
	got, err = id.GetServicePrincipal(ctx, tn.ID, sp.ID)
	must(t, err, "GetServicePrincipal")
	equalSP(t, "GetServicePrincipal after update", got, want)

	list, err := id.ListServicePrincipals(ctx, tn.ID, identity.Filter{ServicePrincipalName: "api://renamed", DisplayName: "renamed"})
	must(t, err, "ListServicePrincipals")
	equal(t, "ListServicePrincipals by new values", spNames(list), []string{"Renamed"})

	_, err = id.UpdateServicePrincipal(ctx, tn.ID, sp.ID, func(p *identity.ServicePrincipal) error {
		p.DisplayName = "Nope"
		p.Passwords = nil
		return errStop
	})
	mustStop(t, err, "UpdateServicePrincipal")
	got, err = id.GetServicePrincipal(ctx, tn.ID, sp.ID)
	must(t, err, "GetServicePrincipal")
	equalSP(t, "GetServicePrincipal after failed update", got, want)

	must(t, id.DeleteServicePrincipal(ctx, tn.ID, sp.ID), "DeleteServicePrincipal")
	_, err = id.GetServicePrincipal(ctx, tn.ID, sp.ID)
	mustKind(t, err, errdefs.NotFound, "GetServicePrincipal after delete")
	mustKind(t, id.DeleteServicePrincipal(ctx, tn.ID, sp.ID), errdefs.NotFound, "DeleteServicePrincipal again")
	if _, err := id.GetApplication(ctx, tn.ID, app.ID); err != nil {
		t.Errorf("deleting the service principal touched the application: %v", err)
	}

	// A new service principal for the app, without the old credentials.
	sp.Passwords = nil
	mkSP(t, s, sp)
	got, err = id.GetServicePrincipal(ctx, tn.ID, sp.ID)
	must(t, err, "GetServicePrincipal")
	equalSP(t, "re-created service principal", got, sp)
}
