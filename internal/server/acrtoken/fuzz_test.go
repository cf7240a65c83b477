package acrtoken_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
)

// fuzzMethods are the methods the token endpoint fuzzer picks from.
var fuzzMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete}

// credentialHoles are the placeholders that stand for real credentials.
var credentialHoles = []string{"{secret}", "{admin}", "{refresh}", "{aad}", "{access}"}

// FuzzTokenEndpoints drives ACR's token service (/oauth2/token by GET and
// POST, /oauth2/exchange) with any method, host, query, Content-Type,
// Authorization header and form body, then authenticates a data-plane
// request with the same Authorization header. Placeholders stand for the
// env's real values so that the fuzzer explores past authentication:
// {service}, {client}, {secret} (an AcrPull principal), {admin} (the
// admin password), {aad} (an Entra ARM token), {refresh} and {access}
// (ACR tokens). Only a request holding one of the credentials gets a
// token or authenticates; every failure is a 4xx with the distribution
// error envelope, never a 5xx or a panic.
func FuzzTokenEndpoints(f *testing.F) {
	const form = "application/x-www-form-urlencoded"
	pull := "repository%3Ahello%3Apull"
	for _, s := range []struct {
		method                          uint8
		exchange, otherHost             bool
		query, ctype, auth, basic, body string
	}{
		// docker login / pull with Basic credentials.
		{0, false, false, "account={client}&client_id=docker&offline_token=true&service={service}&scope=" + pull, "", "", "{client}:{secret}", ""},
		{0, false, false, "service={service}&scope=repository%3Ahello%3Apull%2Cpush", "", "", "mycontainerregistry:{admin}", ""},
		// az acr login: exchange, then refresh.
		{1, true, false, "", form, "", "", "grant_type=access_token&service={service}&tenant={tenant}&access_token={aad}"},
		{1, false, false, "", form, "", "", "grant_type=refresh_token&service={service}&scope=" + pull + "&refresh_token={refresh}&client_id=docker"},
		{1, false, false, "", form, "", "", "grant_type=password&service={service}&username={client}&password={secret}&scope=" + pull + "&access_type=offline"},
		// The Azure SDK's anonymous form.
		{1, false, false, "", form, "", "", "grant_type=password&service={service}&scope=registry%3Acatalog%3A*&refresh_token="},
		{0, false, false, "service={service}&scope=" + pull, "", "Bearer {access}", "", ""},
		{0, false, true, "service={service}", "", "", "{client}:{secret}", ""},
		{1, true, false, "", form, "", "", "grant_type=refresh_token&service={service}&refresh_token=x"},
		{1, false, false, "", form, "", "", "grant_type=refresh_token&service={service}&refresh_token={aad}"},
		{1, false, false, "", form, "", "", "grant_type=password&service=other.azurecr.localhost&username={client}&password={secret}"},
		{1, false, false, "", "text/plain", "", "", "grant_type=password"},
		{2, false, false, "", form, "Basic Og==", "", "%zz"},
		{0, false, false, "service={service}&scope=repository:a:pull&scope=repository:b:push,delete&scope=registry:catalog:*&scope=x", "", "Basic !!", "", ""},
	} {
		f.Add(s.method, s.exchange, s.otherHost, s.query, s.ctype, s.auth, s.basic, s.body)
	}

	e := newEnv(f)
	reg := e.newRegistry("mycontainerregistry", func(r *registry.Registry) { r.AdminUserEnabled = true })
	p := e.principal("fuzz-pull", rbac.AcrPullID, reg.ID)
	refresh := e.refreshToken(reg, p)
	access := e.refresh(reg, refresh, "repository:hello:pull").token().AccessToken
	if access == "" {
		f.Fatal("no access token")
	}
	logger := slog.New(slog.DiscardHandler)
	srv := acrtoken.New(acrtoken.Config{Logger: logger, Identity: e.Identity, RBAC: e.RBAC, Registries: e.regs, Signer: e.Signer})
	expand := strings.NewReplacer(
		"{service}", reg.LoginServer, "{tenant}", e.Tenant.ID, "{client}", p.App.AppID, "{secret}", url.QueryEscape(p.Secret),
		"{admin}", url.QueryEscape(string(reg.AdminPasswords[0].Sealed)), "{aad}", e.IssueToken(f, e.Identity, p, armResource),
		"{refresh}", refresh, "{access}", access,
	).Replace
	want, err := acrtoken.ParseScopes("repository:hello:pull")
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, mi uint8, exchange, otherHost bool, query, ctype, auth, basic, body string) {
		if !validHeaderValue(ctype) || !validHeaderValue(auth) {
			return // no HTTP server hands such a header on
		}
		method := fuzzMethods[int(mi)%len(fuzzMethods)]
		host := reg.LoginServer
		if otherHost {
			host = "other.azurecr.localhost"
		}
		path := "/oauth2/token"
		if exchange {
			path = "/oauth2/exchange"
		}
		req := httptest.NewRequest(method, "https://"+host+path, strings.NewReader(expand(body)))
		req.URL.RawQuery = expand(query)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rawAuth := auth
		if basic != "" {
			user, pass, _ := strings.Cut(expand(basic), ":")
			user, _ = url.QueryUnescape(user)
			pass, _ = url.QueryUnescape(pass)
			auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		} else {
			auth = expand(auth)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)

		holds := func(inputs ...string) bool {
			for _, in := range inputs {
				for _, c := range credentialHoles {
					if strings.Contains(in, c) {
						return true
					}
				}
			}
			return false
		}
		switch {
		case rec.Code == http.StatusOK:
			var tok struct {
				AccessToken  string `json:"access_token"`
				RefreshToken string `json:"refresh_token"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" && tok.RefreshToken == "" {
				t.Fatalf("200 without a token: %s", rec.Body)
			}
			if !holds(query, basic, rawAuth, body) {
				t.Fatalf("%s %s: token issued without credentials: query %q, Authorization %q, body %q", method, path, query, auth, body)
			}
		case rec.Code >= 400 && rec.Code < 500:
			checkErrorBody(t, rec)
		default:
			t.Fatalf("%s %s: query %q, Content-Type %q, Authorization %q, body %q: status %d: %s", method, path, query, ctype, auth, body, rec.Code, rec.Body)
		}

		// The data plane's authentication, with the same header.
		dr := httptest.NewRequest(http.MethodGet, "https://"+reg.LoginServer+"/v2/hello/manifests/latest", nil)
		if auth != "" {
			dr.Header.Set("Authorization", auth)
		}
		g, err := srv.Authenticate(context.Background(), dr, e.reg(reg), want)
		if err == nil {
			// Anonymous pull is off: no access without credentials.
			if (!g.Anonymous || len(g.Access) > 0) && !holds(basic, rawAuth) {
				t.Fatalf("Authorization %q authenticates: %+v", auth, g)
			}
			return
		}
		if k := errdefs.As(err).Kind; k != errdefs.Unauthenticated && k != errdefs.PermissionDenied && k != errdefs.InvalidArgument {
			t.Fatalf("Authorization %q: error of kind %v: %v", auth, k, err)
		}
	})
}

// checkErrorBody checks the distribution error envelope of a 4xx.
func checkErrorBody(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	var b struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || len(b.Errors) != 1 || b.Errors[0].Message == "" {
		t.Fatalf("status %d without an error envelope: %s (%v)", rec.Code, rec.Body, err)
	}
	switch b.Errors[0].Code {
	case "UNAUTHORIZED", "DENIED", "UNSUPPORTED", "NAME_UNKNOWN", "TOOMANYREQUESTS":
	default:
		t.Fatalf("status %d with code %q", rec.Code, b.Errors[0].Code)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("error response with Cache-Control %q", cc)
	}
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
