package arm

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/servertest"
	"github.com/cerulean/cerulean/internal/token"
)

func TestRoutesDeclareAuth(t *testing.T) {
	h := New(Config{}).(*handler)
	check := func(where string, ms Methods) {
		t.Helper()
		if len(ms) == 0 {
			t.Errorf("%s: no methods", where)
		}
		for method, op := range ms {
			switch {
			case op.Serve == nil:
				t.Errorf("%s %s: no handler", method, where)
			case op.Auth < CheckAction || op.Auth > Authenticated:
				t.Errorf("%s %s: no authorization mode", method, where)
			case op.Action == "" && op.Auth != Authenticated:
				t.Errorf("%s %s: mode %d needs an action", method, where, op.Auth)
			}
		}
	}
	for _, rt := range h.core {
		check(strings.Join(rt.pattern, "/"), rt.methods)
	}
	if len(h.types.types) == 0 {
		t.Fatal("no resource types registered")
	}
	for key, rt := range h.types.types {
		if rt.Item != nil {
			check(key+" item", rt.Item)
		}
		if rt.Collection != nil {
			check(key+" collection", rt.Collection)
		}
		for name, op := range rt.Actions {
			check(key+"/"+name, Methods{http.MethodPost: op})
		}
	}
}

func TestRouteWithoutAuthIsRefused(t *testing.T) {
	e := newEnv(t)
	h := New(Config{Identity: e.Identity, RBAC: e.RBAC, Resources: e.Resources, Types: []ResourceType{{
		Namespace: "Test.Provider", Type: "things", Extension: true,
		Item: Methods{http.MethodGet: {Serve: func(context.Context, http.ResponseWriter, *Call) error { return nil }}},
	}}})
	req, _ := http.NewRequest(http.MethodGet, "/subscriptions/"+e.Subscription.ID+"/providers/Test.Provider/things/x?api-version=1", nil)
	req.Header.Set("Authorization", "Bearer "+e.owner.token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500: %s", rec.Code, rec.Body.String())
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	forged := identity.NewService(identity.Config{Store: e.Store.Identity(), Signer: token.New(otherKey)})
	past := identity.NewService(identity.Config{Store: e.Store.Identity(), Signer: e.Signer,
		Now: func() time.Time { return time.Now().Add(-3 * time.Hour) }})
	a := e.newActor(t, "reader", grant{rbac.ReaderID, e.SubscriptionScope()})
	// An old secret, so that the past clock can authenticate with it.
	start := time.Now().Add(-4 * time.Hour)
	_, oldSecret, err := e.Identity.AddPassword(ctx, identity.OnApplication, e.Tenant.ID, a.App.ID, identity.PasswordInput{Start: &start})
	if err != nil {
		t.Fatal(err)
	}
	old := servertest.Principal{App: a.App, SP: a.SP, Secret: oldSecret}

	// A principal whose secret is removed, and one that is deleted.
	revoked := e.newActor(t, "revoked", grant{rbac.ReaderID, e.SubscriptionScope()})
	if err := e.Identity.RemovePassword(ctx, identity.OnApplication, e.Tenant.ID, revoked.App.ID, revoked.KeyID); err != nil {
		t.Fatal(err)
	}
	deleted := e.newActor(t, "deleted", grant{rbac.ReaderID, e.SubscriptionScope()})
	if err := e.Identity.DeleteServicePrincipal(ctx, e.Tenant.ID, deleted.SP.ID); err != nil {
		t.Fatal(err)
	}

	subPath := e.subPath() + "/resourcegroups"
	tests := []struct {
		name, path, auth, code, message string
	}{
		{"no token", subPath, "", "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."},
		{"not bearer", subPath, "Basic dXNlcjpwYXNz", "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format."},
		{"garbage", subPath, "Bearer not-a-jwt", "InvalidAuthenticationToken", "The access token is invalid."},
		{"other key", subPath, "Bearer " + e.IssueToken(t, forged, a.Principal, armResource), "InvalidAuthenticationToken", "The access token is invalid."},
		{"expired", subPath, "Bearer " + e.IssueToken(t, past, old, armResource), "ExpiredAuthenticationToken", "The access token expiry UTC time"},
		{"graph audience", subPath, "Bearer " + e.IssueToken(t, e.Identity, a.Principal, "https://graph.microsoft.com"), "InvalidAuthenticationTokenAudience",
			"The access token has been obtained for wrong audience or resource 'https://graph.microsoft.com'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."},
		{"secret removed", subPath, "Bearer " + revoked.token, "InvalidAuthenticationToken", "The client secret the access token was issued for has been removed or has expired."},
		{"principal deleted", subPath, "Bearer " + deleted.token, "InvalidAuthenticationToken", "The access token's service principal no longer exists."},
		{"before 404", "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/nope", "", "AuthenticationFailed", ""},
		{"before 400", "/subscriptions/not-a-guid", "", "AuthenticationFailed", ""},
		{"before missing api-version", e.subPath() + "?x=1", "", "AuthenticationFailed", ""},
		{"tenant level", "/tenants", "Bearer garbage", "InvalidAuthenticationToken", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.URL+withAPI(tt.path), nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := e.H1.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			r := response{status: resp.StatusCode, header: resp.Header}
			r.body = readAll(t, resp)
			expect(t, r, http.StatusUnauthorized, tt.code)
			if tt.message != "" && !strings.HasPrefix(r.errorMessage(), tt.message) {
				t.Errorf("message %q, want prefix %q", r.errorMessage(), tt.message)
			}
			ch := r.header.Get("WWW-Authenticate")
			wantURI := `Bearer authorization_uri="` + e.URL + "/"
			if strings.HasPrefix(tt.path, e.subPath()) {
				wantURI += e.Tenant.ID
			}
			if !strings.HasPrefix(ch, wantURI+`", error="invalid_token", error_description="`) {
				t.Errorf("WWW-Authenticate %q, want prefix %q", ch, wantURI)
			}
			if tt.name == "no token" && !strings.HasSuffix(ch, `error_description="The authentication failed because of missing 'Authorization' header."`) {
				t.Errorf("WWW-Authenticate %q", ch)
			}
			if r.header.Get("x-ms-request-id") == "" || r.header.Get("x-ms-correlation-request-id") == "" {
				t.Error("missing request id headers")
			}
		})
	}
}

func TestWrongTenant(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other, err := e.Identity.CreateTenant(ctx, identity.Tenant{DisplayName: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.Resources.CreateSubscription(ctx, resource.Subscription{ID: server.NewID(), DisplayName: "Other's", TenantID: other.ID})
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(t, http.MethodGet, "/subscriptions/"+sub.ID+"/resourcegroups", e.owner.token, nil)
	expect(t, r, http.StatusUnauthorized, "InvalidAuthenticationTokenTenant")
	if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `authorization_uri="`+e.URL+"/"+other.ID+`"`) {
		t.Errorf("challenge %q does not name the subscription's tenant", ch)
	}
	// The other tenant's subscription is not listed either.
	var list struct {
		Value []struct{ SubscriptionID string }
	}
	e.do(t, http.MethodGet, "/subscriptions", e.owner.token, nil).decode(t, &list)
	for _, s := range list.Value {
		if s.SubscriptionID == sub.ID {
			t.Error("another tenant's subscription is listed")
		}
	}
}

func TestAPIVersion(t *testing.T) {
	e := newEnv(t)
	r := e.call(t, e.H1, http.MethodGet, e.subPath()+"/resourcegroups", e.owner.token, nil)
	expect(t, r, http.StatusBadRequest, "MissingApiVersionParameter")
	if r.errorMessage() != "The api-version query parameter (?api-version=) is required for all requests." {
		t.Errorf("message %q", r.errorMessage())
	}
	r = e.call(t, e.H1, http.MethodGet, e.subPath()+"/resourcegroups?api-version=", e.owner.token, nil)
	expect(t, r, http.StatusBadRequest, "MissingApiVersionParameter")
	for _, v := range []string{"2021-04-01", "1999-01-01-preview", "anything"} {
		expect(t, e.call(t, e.H1, http.MethodGet, e.subPath()+"/resourcegroups?api-version="+v, e.owner.token, nil), http.StatusOK, "")
	}
}

func TestRevocation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rg := e.group(t, "rg1")
	a := e.newActor(t, "reader")
	ra := e.Assign(t, a.SP.ID, rbac.ReaderID, rg)
	path := rg.String()
	expect(t, e.do(t, http.MethodGet, path, a.token, nil), http.StatusOK, "")

	// Deleting the assignment (through the API) takes effect at once.
	expect(t, e.do(t, http.MethodDelete, roleAssignmentID(rg, ra.Name), e.owner.token, nil), http.StatusOK, "")
	r := e.do(t, http.MethodGet, path, a.token, nil)
	expect(t, r, http.StatusForbidden, "AuthorizationFailed")
	if r.header.Get("x-ms-failure-cause") != "gateway" {
		t.Errorf("x-ms-failure-cause %q", r.header.Get("x-ms-failure-cause"))
	}

	// Removing the secret the token was issued for revokes the token.
	e.Assign(t, a.SP.ID, rbac.ReaderID, rg)
	expect(t, e.do(t, http.MethodGet, path, a.token, nil), http.StatusOK, "")
	if err := e.Identity.RemovePassword(ctx, identity.OnApplication, e.Tenant.ID, a.App.ID, a.KeyID); err != nil {
		t.Fatal(err)
	}
	expect(t, e.do(t, http.MethodGet, path, a.token, nil), http.StatusUnauthorized, "InvalidAuthenticationToken")

	// Disabling the principal revokes its tokens too.
	b := e.newActor(t, "disabled", grant{rbac.ReaderID, rg})
	expect(t, e.do(t, http.MethodGet, path, b.token, nil), http.StatusOK, "")
	off := false
	if _, err := e.Identity.UpdateServicePrincipal(ctx, e.Tenant.ID, b.SP.ID, identity.ServicePrincipalInput{AccountEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	expect(t, e.do(t, http.MethodGet, path, b.token, nil), http.StatusUnauthorized, "InvalidAuthenticationToken")
}
