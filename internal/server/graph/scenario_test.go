package graph_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

// tokenStatus asks the login surface for a token and returns the status and
// the OAuth2 error code, if any.
func (e *env) tokenStatus(clientID, secret string) (int, oauth2.ErrorResponse) {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
		"scope": {"https://management.core.windows.net//.default"}}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/"+e.Tenant.ID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := e.do(req)
	var er oauth2.ErrorResponse
	if resp.StatusCode != http.StatusOK {
		er = servertest.Decode[oauth2.ErrorResponse](e.t, body)
	}
	return resp.StatusCode, er
}

// TestCreateForRBAC replays `az ad sp create-for-rbac --name acr-pull-sp`
// (reference §6.1, requests and bodies as the az recordings show them) as
// raw HTTP, then signs in with the new secret.
func TestCreateForRBAC(t *testing.T) {
	e := newEnv(t)
	tok := e.owner.token
	const name = "acr-pull-sp"

	// 1. Is there a service principal of that name?
	resp, body := e.call(tok, http.MethodGet, "/v1.0/servicePrincipals?$filter=displayName%20eq%20%27"+name+"%27", nil)
	if resp.StatusCode != http.StatusOK || len(servertest.Decode[graph.List[graph.ServicePrincipal]](t, body).Value) != 0 {
		t.Fatalf("1: %d %s", resp.StatusCode, body)
	}
	if l := servertest.Decode[graph.List[graph.ServicePrincipal]](t, body); l.Context != e.URL+"/v1.0/$metadata#servicePrincipals" {
		t.Fatalf("1: context %q", l.Context)
	}
	// 2. Is there an application of that name?
	resp, body = e.call(tok, http.MethodGet, "/v1.0/applications?$filter=startswith%28displayName%2C%27"+name+"%27%29", nil)
	if resp.StatusCode != http.StatusOK || len(servertest.Decode[graph.List[graph.Application]](t, body).Value) != 0 {
		t.Fatalf("2: %d %s", resp.StatusCode, body)
	}
	// 3. Create it.
	resp, body = e.call(tok, http.MethodPost, "/v1.0/applications", `{"displayName": "`+name+`", "keyCredentials": []}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("3: %d %s", resp.StatusCode, body)
	}
	app := servertest.Decode[graph.Application](t, body)
	// 5. Add a password to it.
	start := time.Now().UTC().Truncate(time.Second)
	end := start.AddDate(1, 0, 0)
	resp, body = e.call(tok, http.MethodPost, "/v1.0/applications/"+app.ID+"/addPassword",
		`{"passwordCredential": {"displayName": "rbac", "endDateTime": "`+end.Format(time.RFC3339)+`", "startDateTime": "`+start.Format(time.RFC3339)+`"}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("5: %d %s", resp.StatusCode, body)
	}
	pw := servertest.Decode[graph.PasswordCredentialResponse](t, body)
	if pw.SecretText == nil || len(*pw.SecretText) < 32 || pw.KeyID == nil || pw.Hint == nil || !strings.HasPrefix(*pw.SecretText, *pw.Hint) ||
		pw.DisplayName == nil || *pw.DisplayName != "rbac" || !pw.EndDateTime.Equal(end) || !pw.StartDateTime.Equal(start) ||
		pw.ODataContext != e.URL+"/v1.0/$metadata#microsoft.graph.passwordCredential" {
		t.Fatalf("5: unexpected credential %s", body)
	}
	secret := *pw.SecretText
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("5: Cache-Control %q", cc)
	}
	// Without a service principal the app cannot sign in yet.
	if status, er := e.tokenStatus(app.AppID, secret); status != http.StatusUnauthorized || er.ErrorCodes[0] != 7000229 {
		t.Fatalf("before 6: %d %+v", status, er)
	}
	// 6. Create its service principal.
	resp, body = e.call(tok, http.MethodPost, "/v1.0/servicePrincipals", `{"appId": "`+app.AppID+`", "accountEnabled": true}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("6: %d %s", resp.StatusCode, body)
	}
	sp := servertest.Decode[graph.ServicePrincipal](t, body)

	// The new secret signs in.
	if status, er := e.tokenStatus(app.AppID, secret); status != http.StatusOK {
		t.Fatalf("token with the new secret: %d %+v", status, er)
	}
	// The new principal holds no role: it may not read the directory.
	newTok := e.token(app.AppID, secret, "https://graph.microsoft.com/.default")
	resp, body = e.call(newTok, http.MethodGet, "/v1.0/applications", nil)
	wantError(t, resp, body, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges")

	// az ad sp list --display-name / --spn find it; the secret never shows.
	for _, path := range []string{
		"/v1.0/servicePrincipals?$filter=startswith%28displayName%2C%27acr-pull%27%29",
		"/v1.0/servicePrincipals?$filter=servicePrincipalNames%2Fany%28c%3Ac%20eq%20%27" + app.AppID + "%27%29",
		"/v1.0/applications?$filter=appId%20eq%20%27" + app.AppID + "%27",
		"/v1.0/applications/" + app.ID,
		"/v1.0/servicePrincipals/" + sp.ID,
	} {
		resp, body = e.call(e.reader.token, http.MethodGet, path, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), app.AppID) {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if strings.Contains(string(body), secret) || !strings.Contains(string(body), `"secretText":null`) && strings.Contains(path, "applications") {
			t.Fatalf("%s: secret shown or secretText not null: %s", path, body)
		}
	}
	if strings.Contains(e.Logs.String(), secret) {
		t.Fatal("the secret was logged")
	}

	// az ad sp credential reset (twice): the reset writes to the service
	// principal and removes its earlier secrets; the application's secret
	// is a separate credential and stays valid, as on Entra.
	reset := func() (string, string) {
		resp, body := e.call(tok, http.MethodGet, "/v1.0/servicePrincipals/"+sp.ID, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("reset: get: %d %s", resp.StatusCode, body)
		}
		for _, c := range servertest.Decode[graph.ServicePrincipal](t, body).PasswordCredentials {
			resp, body := e.call(tok, http.MethodPost, "/v1.0/servicePrincipals/"+sp.ID+"/removePassword", map[string]string{"keyId": *c.KeyID})
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("reset: remove: %d %s", resp.StatusCode, body)
			}
		}
		resp, body = e.call(tok, http.MethodPost, "/v1.0/servicePrincipals/"+sp.ID+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "reset"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("reset: add: %d %s", resp.StatusCode, body)
		}
		pw := servertest.Decode[graph.PasswordCredentialResponse](t, body)
		return *pw.SecretText, *pw.KeyID
	}
	first, _ := reset()
	second, _ := reset()
	if status, er := e.tokenStatus(app.AppID, first); status != http.StatusUnauthorized || er.Error != "invalid_client" || er.ErrorCodes[0] != 7000215 {
		t.Fatalf("old service principal secret: %d %+v", status, er)
	}
	if status, er := e.tokenStatus(app.AppID, second); status != http.StatusOK {
		t.Fatalf("new service principal secret: %d %+v", status, er)
	}
	if status, _ := e.tokenStatus(app.AppID, secret); status != http.StatusOK {
		t.Fatalf("application secret after a service principal reset: %d", status)
	}

	// az ad app credential reset: the application's secret is replaced.
	resp, body = e.call(tok, http.MethodPost, "/v1.0/applications/"+app.ID+"/removePassword", map[string]string{"keyId": *pw.KeyID})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("app removePassword: %d %s", resp.StatusCode, body)
	}
	if status, er := e.tokenStatus(app.AppID, secret); status != http.StatusUnauthorized || er.ErrorCodes[0] != 7000215 {
		t.Fatalf("removed application secret: %d %+v", status, er)
	}
	// The token issued for the removed secret stops working at once.
	resp, body = e.call(newTok, http.MethodGet, "/v1.0/applications", nil)
	wantError(t, resp, body, http.StatusUnauthorized, "InvalidAuthenticationToken", "removed")

	resp, body = e.call(tok, http.MethodPost, "/v1.0/applications/"+app.ID+"/removePassword", map[string]string{"keyId": *pw.KeyID})
	wantError(t, resp, body, http.StatusNotFound, "Request_ResourceNotFound", *pw.KeyID)
	resp, body = e.call(tok, http.MethodPost, "/v1.0/applications/"+app.ID+"/removePassword", map[string]string{"keyId": "x"})
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "keyId")
	resp, body = e.call(tok, http.MethodPost, "/v1.0/applications/"+app.ID+"/addPassword", `{"passwordCredential":{"secretText":"chosen"}}`)
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "Property 'secretText' does not exist on type 'microsoft.graph.passwordCredential'.")
	resp, body = e.call(tok, http.MethodPost, "/v1.0/applications/"+app.ID+"/addPassword",
		`{"passwordCredential":{"startDateTime":"2030-01-02T00:00:00Z","endDateTime":"2030-01-01T00:00:00Z"}}`)
	wantError(t, resp, body, http.StatusBadRequest, "Request_BadRequest", "endDateTime")
}
