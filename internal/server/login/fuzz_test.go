package login_test

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	pathpkg "path"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/login"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

// FuzzTokenRequest drives the token endpoints (v2 and v1) with any
// tenant, Content-Type, Authorization header and form body. Placeholders
// stand for the env's real values, so that the fuzzer explores past
// authentication: {tenant}, {client}, {secret}. A request is answered 200
// with a token only when it carried the client's secret; everything else
// is a 4xx with Entra's OAuth2 error body, never a 5xx or a panic.
func FuzzTokenRequest(f *testing.F) {
	const (
		arm    = "https%3A%2F%2Fmanagement.core.windows.net%2F"
		form   = "application/x-www-form-urlencoded"
		formCS = "application/x-www-form-urlencoded; charset=utf-8"
	)
	for _, s := range []struct {
		v1                               bool
		tenant, ctype, auth, basic, body string
	}{
		// az login --service-principal, then az account get-access-token (MSAL, v2).
		{false, "{tenant}", formCS, "", "", "client_id={client}&grant_type=client_credentials&client_info=1&client_secret={secret}&scope=" + arm + "%2F.default"},
		// The Azure SDK for Go (azidentity), v2.
		{false, "{tenant}", form, "", "", "client_id={client}&client_secret={secret}&grant_type=client_credentials&scope=https%3A%2F%2Fcontainerregistry.azure.net%2F.default"},
		// ADAL-style v1 with a resource.
		{true, "{tenant}", form, "", "", "grant_type=client_credentials&client_id={client}&client_secret={secret}&resource=" + arm},
		// client_secret_basic.
		{false, "{tenant}", form, "", "{client}:{secret}", "grant_type=client_credentials&scope=" + arm + "%2F.default"},
		{false, "{tenant}", form, "Basic !!!", "", "grant_type=client_credentials&scope=x"},
		{false, "common", form, "", "", "grant_type=client_credentials&client_id=a&client_secret=b&scope=" + arm + "%2F.default"},
		{false, "not a tenant", form, "", "", "grant_type=client_credentials"},
		{false, "{tenant}", "text/plain", "", "", "grant_type=client_credentials&client_id={client}"},
		{false, "{tenant}", form, "", "", "grant_type=password&username=a&password=b"},
		{false, "{tenant}", form, "", "", "grant_type=client_credentials&grant_type=client_credentials"},
		{false, "{tenant}", form, "", "", "grant_type=client_credentials&client_id={client}&client_assertion=x&client_assertion_type=y"},
		{false, "{tenant}", form, "", "", "grant_type=client_credentials&client_id={client}&client_secret={secret}&scope=api%3A%2F%2Funknown%2F.default"},
		{false, "{tenant}", form, "", "", "%zz"},
		{true, "{tenant}", "multipart/form-data; boundary=x", "Bearer x", "", "--x--"},
	} {
		f.Add(s.v1, s.tenant, s.ctype, s.auth, s.basic, s.body)
	}

	e := servertest.New(f, servertest.Options{Handler: func(*servertest.Env) http.Handler { return http.NotFoundHandler() }})
	client := e.NewPrincipal(f, "fuzz-client", identity.OnServicePrincipal)
	logger := slog.New(slog.DiscardHandler)
	h := server.Middleware(logger, login.New(login.Config{Logger: logger, Identity: e.Identity, Signer: e.Signer}))
	expand := strings.NewReplacer("{tenant}", e.Tenant.ID, "{client}", client.App.AppID, "{secret}", url.QueryEscape(client.Secret)).Replace

	f.Fuzz(func(t *testing.T, v1 bool, tenant, ctype, auth, basic, body string) {
		if !validHeaderValue(ctype) || !validHeaderValue(auth) {
			return // no HTTP server hands such a header on
		}
		path := "/oauth2/v2.0/token"
		if v1 {
			path = "/oauth2/token"
		}
		req, err := http.NewRequest(http.MethodPost, "https://login.localhost/"+url.PathEscape(expand(tenant))+path, strings.NewReader(expand(body)))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", ctype)
		if basic != "" {
			auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(expand(basic)))
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		// A tenant of "." or ".." (or none) makes a path that is not
		// clean, which ServeMux may answer with a redirect to the clean
		// one; nothing else is redirected.
		if rec.Code == http.StatusTemporaryRedirect || rec.Code == http.StatusMovedPermanently {
			if pathpkg.Clean(req.URL.Path) == req.URL.Path || rec.Header().Get("Location") == "" {
				t.Fatalf("path %q: status %d, Location %q", req.URL.Path, rec.Code, rec.Header().Get("Location"))
			}
			return
		}
		if rec.Code == http.StatusOK {
			sent := expand(body) + expand(basic)
			if !strings.Contains(sent, url.QueryEscape(client.Secret)) && !strings.Contains(sent, client.Secret) {
				t.Fatalf("token issued without the secret: tenant %q, body %q, Authorization %q", tenant, body, auth)
			}
			var tok struct { // v1's expires_in is a string, v2's a number
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
				t.Fatalf("200 without a token: %s", rec.Body)
			}
			return
		}
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("tenant %q, Content-Type %q, Authorization %q, body %q: status %d: %s", tenant, ctype, auth, body, rec.Code, rec.Body)
		}
		var oe oauth2.ErrorResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &oe); err != nil || oe.Error == "" || len(oe.ErrorCodes) != 1 || oe.ErrorDescription == "" {
			t.Fatalf("status %d without an OAuth2 error body: %s (%v)", rec.Code, rec.Body, err)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Fatalf("error response with Cache-Control %q", cc)
		}
	})
}

// validHeaderValue reports whether an HTTP server could deliver v as a
// header value: no control characters other than tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
