package graph_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/cerulean/cerulean/internal/server/servertest"
)

// TestMeIsDelegatedOnly: every Cerulean token is app-only, and Graph
// answers /me, and anything under it, with an app-only token so.
func TestMeIsDelegatedOnly(t *testing.T) {
	e := newEnv(t)
	for _, c := range []client{e.owner, e.puller} {
		for _, path := range []string{"/v1.0/me", "/v1.0/me/ownedObjects", "/v1.0/Me?$select=id"} {
			resp, body := e.call(c.token, http.MethodGet, path, nil)
			ge := wantError(t, resp, body, http.StatusBadRequest, "BadRequest", "")
			if ge.Error.Message != "/me request is only valid with delegated authentication flow." {
				t.Fatalf("%s: message %q", path, ge.Error.Message)
			}
		}
	}
	// The token is checked first.
	resp, body := e.call("", http.MethodGet, "/v1.0/me", nil)
	wantError(t, resp, body, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
}

// TestUsers: Cerulean has no users. A list is empty, with any valid
// filter; one user, by id or userPrincipalName, is Graph's 404; the
// caller's permission is checked first.
func TestUsers(t *testing.T) {
	e := newEnv(t)
	const id = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	filters := []string{
		"",
		"userPrincipalName eq 'someone@example.com'",
		"mail eq 'someone@example.com'",
		"userPrincipalName eq 'x@example.com' or mail eq 'x@example.com' or displayName eq 'x@example.com'",
		"startswith(displayName,'some')",
	}
	for _, c := range []client{e.owner, e.reader} {
		for _, f := range filters {
			path := "/v1.0/users"
			if f != "" {
				path += "?$filter=" + url.PathEscape(f) // as az quotes it: quote(filter, safe='')
			}
			resp, body := e.call(c.token, http.MethodGet, path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
			}
			got := servertest.Decode[map[string]any](t, body)
			value, ok := got["value"].([]any)
			if len(got) != 2 || got["@odata.context"] != e.URL+"/v1.0/$metadata#users" || !ok || len(value) != 0 {
				t.Fatalf("%s: %s, want an empty list", path, body)
			}
		}
	}

	resp, body := e.call(e.owner.token, http.MethodGet, "/v1.0/users?$filter="+url.QueryEscape("appId eq 'x'"), nil)
	wantError(t, resp, body, http.StatusBadRequest, "Request_UnsupportedQuery", "property 'appId' of resource 'User'")
	resp, body = e.call(e.owner.token, http.MethodGet, "/v1.0/users?$filter="+url.QueryEscape("mail eq"), nil)
	wantError(t, resp, body, http.StatusBadRequest, "BadRequest", "Invalid filter clause")

	for _, tt := range []struct{ method, path, key string }{
		{http.MethodGet, "/v1.0/users/" + id, id},
		{http.MethodGet, "/v1.0/users/someone@example.com", "someone@example.com"},
		{http.MethodGet, "/v1.0/users('$someone@example.com')", "$someone@example.com"},
		{http.MethodPatch, "/v1.0/users/" + id, id},
		{http.MethodDelete, "/v1.0/users/" + id, id},
		{http.MethodPost, "/v1.0/users/" + id + "/getMemberGroups", id},
	} {
		var in any
		if tt.method != http.MethodGet && tt.method != http.MethodDelete {
			in = map[string]any{}
		}
		resp, body := e.call(e.owner.token, tt.method, tt.path, in)
		ge := wantError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", "")
		if want := "Resource '" + tt.key + "' does not exist or one of its queried reference-property objects are not present."; ge.Error.Message != want {
			t.Fatalf("%s %s: message %q, want %q", tt.method, tt.path, ge.Error.Message, want)
		}
	}

	const denied = "Insufficient privileges to complete the operation."
	for _, tt := range []struct {
		c            client
		method, path string
	}{
		{e.puller, http.MethodGet, "/v1.0/users"},
		{e.puller, http.MethodGet, "/v1.0/users/" + id},
		{e.reader, http.MethodDelete, "/v1.0/users/" + id},
		{e.reader, http.MethodPatch, "/v1.0/users/" + id},
	} {
		resp, body := e.call(tt.c.token, tt.method, tt.path, nil)
		wantError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", denied)
	}
	resp, body = e.call(e.owner.token, http.MethodPost, "/v1.0/users", map[string]any{})
	wantError(t, resp, body, http.StatusMethodNotAllowed, "Request_BadRequest", "")
}
