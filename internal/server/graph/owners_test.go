package graph_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

const denied = "Insufficient privileges to complete the operation."

// managed is an application and its service principal as the test knows
// them.
type managed struct {
	appID, appObjectID, spID string
}

func (e *env) mustCall(t *testing.T, c client, status int, method, path string, body any) []byte {
	t.Helper()
	resp, b := e.call(c.token, method, path, body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, status, b)
	}
	return b
}

// createPair creates an application and its service principal through
// Graph as c, which makes c their owner.
func (e *env) createPair(t *testing.T, c client, name string) managed {
	t.Helper()
	app := servertest.Decode[graph.Application](t, e.mustCall(t, c, http.StatusCreated, http.MethodPost, "/v1.0/applications", map[string]any{"displayName": name}))
	sp := servertest.Decode[graph.ServicePrincipal](t, e.mustCall(t, c, http.StatusCreated, http.MethodPost, "/v1.0/servicePrincipals", map[string]any{"appId": app.AppID}))
	return managed{appID: app.AppID, appObjectID: app.ID, spID: sp.ID}
}

// writes are the Graph writes on an existing object, as requests on m.
func writes(m managed) []struct{ name, method, path string } {
	return []struct{ name, method, path string }{
		{"sp addPassword", http.MethodPost, "/v1.0/servicePrincipals/" + m.spID + "/addPassword"},
		{"sp addPassword by appId", http.MethodPost, "/v1.0/servicePrincipals(appId='" + m.appID + "')/addPassword"},
		{"sp removePassword", http.MethodPost, "/v1.0/servicePrincipals/" + m.spID + "/removePassword"},
		{"sp patch", http.MethodPatch, "/v1.0/servicePrincipals/" + m.spID},
		{"app addPassword", http.MethodPost, "/v1.0/applications/" + m.appObjectID + "/addPassword"},
		{"app addPassword by appId", http.MethodPost, "/v1.0/applications(appId='" + m.appID + "')/addPassword"},
		{"app removePassword", http.MethodPost, "/v1.0/applications/" + m.appObjectID + "/removePassword"},
		{"app patch", http.MethodPatch, "/v1.0/applications/" + m.appObjectID},
		{"sp delete", http.MethodDelete, "/v1.0/servicePrincipals/" + m.spID},
		{"app delete", http.MethodDelete, "/v1.0/applications/" + m.appObjectID},
	}
}

// bodyFor is a valid body for a write; removePassword names an unknown
// key, so a caller allowed through gets 404, not a change.
func bodyFor(method, path string) any {
	switch {
	case method == http.MethodPatch:
		return map[string]any{"notes": "changed"}
	case strings.HasSuffix(path, "/addPassword"):
		return map[string]any{"passwordCredential": map[string]any{"displayName": "x"}}
	case strings.HasSuffix(path, "/removePassword"):
		return map[string]any{"keyId": "44444444-4444-4444-8444-444444444444"}
	}
	return nil
}

// allowedStatus is what a write answers when the caller may manage the
// object.
func allowedStatus(method, path string) int {
	switch {
	case strings.HasSuffix(path, "/removePassword"):
		return http.StatusNotFound // the unknown key
	case strings.HasSuffix(path, "/addPassword"):
		return http.StatusOK
	}
	return http.StatusNoContent
}

func (e *env) passwordCount(t *testing.T, m managed) int {
	t.Helper()
	ctx := context.Background()
	app, err := e.Identity.Application(ctx, e.Tenant.ID, m.appObjectID)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := e.Identity.ServicePrincipal(ctx, e.Tenant.ID, m.spID)
	if err != nil {
		t.Fatal(err)
	}
	return len(app.Passwords) + len(sp.Passwords)
}

// TestContributorManagesOnlyWhatItOwns: a Contributor may change the
// applications and service principals it created (az ad sp
// create-for-rbac as a Contributor works up to the role assignment, which
// ARM refuses it), but not anyone else's: in particular not the Owner's,
// whose secret would make it Owner.
func TestContributorManagesOnlyWhatItOwns(t *testing.T) {
	e := newEnv(t)
	contrib := e.newClient("contributor", rbac.ContributorID)
	other := e.newClient("other-contributor", rbac.ContributorID)

	// az ad sp create-for-rbac, as the Contributor.
	app := servertest.Decode[graph.Application](t, e.mustCall(t, contrib, http.StatusCreated, http.MethodPost, "/v1.0/applications", `{"displayName": "ci-sp", "keyCredentials": []}`))
	pw := servertest.Decode[graph.PasswordCredentialResponse](t, e.mustCall(t, contrib, http.StatusOK, http.MethodPost, "/v1.0/applications/"+app.ID+"/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": "rbac"}}))
	sp := servertest.Decode[graph.ServicePrincipal](t, e.mustCall(t, contrib, http.StatusCreated, http.MethodPost, "/v1.0/servicePrincipals", `{"appId": "`+app.AppID+`", "accountEnabled": true}`))
	if status, er := e.tokenStatus(app.AppID, *pw.SecretText); status != http.StatusOK {
		t.Fatalf("sign-in with the new secret: %d %+v", status, er)
	}
	// The objects record their creator as owner.
	stored, err := e.Identity.ServicePrincipal(context.Background(), e.Tenant.ID, sp.ID)
	if err != nil || !stored.OwnedBy(contrib.SP.ID) {
		t.Fatalf("service principal owners %v (%v), want the creator %s", stored.Owners, err, contrib.SP.ID)
	}
	mine := managed{appID: app.AppID, appObjectID: app.ID, spID: sp.ID}
	for _, w := range writes(mine) {
		t.Run("own: "+w.name, func(t *testing.T) {
			e.mustCall(t, contrib, allowedStatus(w.method, w.path), w.method, w.path, bodyFor(w.method, w.path))
		})
	}

	// The Owner's objects (made by the composition root, so without
	// owners), another Contributor's, and the Contributor's own principal
	// (a principal does not own itself) are off limits.
	theirs := e.createPair(t, other, "theirs")
	targets := map[string]managed{
		"owner's":      {appID: e.owner.App.AppID, appObjectID: e.owner.App.ID, spID: e.owner.SP.ID},
		"another's":    theirs,
		"its own self": {appID: contrib.App.AppID, appObjectID: contrib.App.ID, spID: contrib.SP.ID},
	}
	for what, m := range targets {
		before := e.passwordCount(t, m)
		for _, w := range writes(m) {
			t.Run(what+": "+w.name, func(t *testing.T) {
				resp, body := e.call(contrib.token, w.method, w.path, bodyFor(w.method, w.path))
				ge := wantError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", denied)
				if ge.Error.Message != denied {
					t.Errorf("message %q", ge.Error.Message)
				}
			})
		}
		if after := e.passwordCount(t, m); after != before {
			t.Errorf("%s: %d credentials before, %d after refused writes", what, before, after)
		}
	}
	// The Owner still signs in with its secret: nothing was taken over.
	if status, er := e.tokenStatus(e.owner.App.AppID, e.owner.Secret); status != http.StatusOK {
		t.Fatalf("owner sign-in: %d %+v", status, er)
	}

	// Owning the application is enough for its service principal, even
	// when someone else created the service principal.
	app2 := servertest.Decode[graph.Application](t, e.mustCall(t, contrib, http.StatusCreated, http.MethodPost, "/v1.0/applications", map[string]any{"displayName": "app-only-owned"}))
	sp2 := servertest.Decode[graph.ServicePrincipal](t, e.mustCall(t, other, http.StatusCreated, http.MethodPost, "/v1.0/servicePrincipals", map[string]any{"appId": app2.AppID}))
	e.mustCall(t, contrib, http.StatusOK, http.MethodPost, "/v1.0/servicePrincipals/"+sp2.ID+"/addPassword", map[string]any{})
	// … but owning the service principal is not enough for the application.
	e.mustCall(t, other, http.StatusNoContent, http.MethodPatch, "/v1.0/servicePrincipals/"+sp2.ID, map[string]any{"notes": "mine"})
	resp, body := e.call(other.token, http.MethodPost, "/v1.0/applications/"+app2.ID+"/addPassword", map[string]any{})
	wantError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", denied)

	// A missing object is still a 404, an invalid id a 400.
	resp, body = e.call(contrib.token, http.MethodPost, "/v1.0/servicePrincipals/55555555-5555-4555-8555-555555555555/addPassword", map[string]any{})
	wantError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "55555555-5555-4555-8555-555555555555")
	resp, body = e.call(contrib.token, http.MethodPatch, "/v1.0/applications/not-a-guid", map[string]any{})
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "not-a-guid")
}

// TestRoleAssignmentWritersManageAnything: callers that may write role
// assignments at the subscription (Owner; User Access Administrator or
// Role Based Access Control Administrator, with the Graph write permission
// Contributor gives) manage any object, owned by others or by nobody, such
// as the Owner principal made by the composition root.
func TestRoleAssignmentWritersManageAnything(t *testing.T) {
	e := newEnv(t)
	contrib := e.newClient("contributor", rbac.ContributorID)
	uaa := e.newClient("uaa", rbac.UserAccessAdministratorID)
	e.Assign(t, uaa.SP.ID, rbac.ContributorID, e.SubscriptionScope())
	rbacAdmin := e.newClient("rbac-admin", rbac.RBACAdministratorID)
	e.Assign(t, rbacAdmin.SP.ID, rbac.ContributorID, e.SubscriptionScope())
	uaaOnly := e.newClient("uaa-only", rbac.UserAccessAdministratorID)

	nobodys := e.newClient("unowned", rbac.ReaderID) // made outside Graph, like the bootstrap principal
	for _, c := range []struct {
		name string
		c    client
	}{{"owner", e.owner}, {"user access administrator", uaa}, {"rbac administrator", rbacAdmin}} {
		targets := map[string]managed{
			"contributor's": e.createPair(t, contrib, "by-contributor-for-"+c.name),
			"unowned":       {appID: nobodys.App.AppID, appObjectID: nobodys.App.ID, spID: nobodys.SP.ID},
		}
		if c.name != "owner" {
			targets["owner's"] = managed{appID: e.owner.App.AppID, appObjectID: e.owner.App.ID, spID: e.owner.SP.ID}
		}
		for what, m := range targets {
			for _, w := range writes(m) {
				if w.method == http.MethodDelete && what != "contributor's" {
					continue // keep the shared principals for the next callers
				}
				t.Run(c.name+" on "+what+": "+w.name, func(t *testing.T) {
					e.mustCall(t, c.c, allowedStatus(w.method, w.path), w.method, w.path, bodyFor(w.method, w.path))
				})
			}
		}
	}

	// User Access Administrator alone has no Graph write permission (as
	// before ownership existed): it could grant itself one, but until then
	// it is refused like any reader.
	resp, body := e.call(uaaOnly.token, http.MethodPost, "/v1.0/servicePrincipals/"+nobodys.SP.ID+"/addPassword", map[string]any{})
	wantError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", denied)
}
