package login_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

func TestTokenV2(t *testing.T) {
	e := newEnv(t)
	basic := func(id, secret string) http.Header {
		raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(raw))}}
	}
	msal := http.Header{
		"Client-Request-Id": {"9b9e2a8e-3d8b-4b0f-9c1e-2a3b4c5d6e7f"},
		"X-Client-Sku":      {"MSAL.Go"}, "X-Client-Ver": {"1.10.1"}, "X-Client-Os": {"linux"}, "X-Client-Cpu": {"amd64"},
	}
	tests := []struct {
		name     string
		form     url.Values
		hdr      http.Header
		api      identity.API
		audience string
	}{
		{"form, ARM double slash", e.credsForm("https://management.core.windows.net//.default"), nil, identity.ARM, "https://management.core.windows.net/"},
		{"form, management.azure.com", e.credsForm("https://management.azure.com/.default"), nil, identity.ARM, "https://management.azure.com"},
		{"form, Graph", e.credsForm("https://graph.microsoft.com/.default"), nil, identity.Graph, "https://graph.microsoft.com"},
		{"form, Graph by app id", e.credsForm("00000003-0000-0000-c000-000000000000/.default"), nil, identity.Graph, "https://graph.microsoft.com"},
		{"form, registry", e.credsForm("https://containerregistry.azure.net/.default"), nil, identity.Registry, "https://containerregistry.azure.net"},
		{
			"MSAL: OIDC scopes, claims, x-client headers",
			func() url.Values {
				f := e.credsForm("https://management.core.windows.net//.default openid offline_access profile")
				f.Set("claims", `{"access_token":{"xms_cc":{"values":["CP1"]}}}`)
				f.Set("client_info", "1")
				return f
			}(),
			msal, identity.ARM, "https://management.core.windows.net/",
		},
		{
			"basic",
			url.Values{"grant_type": {"client_credentials"}, "scope": {"https://management.azure.com//.default"}},
			basic(e.app.AppID, e.secret), identity.ARM, "https://management.azure.com/",
		},
		{
			"basic with client_id repeated in the form",
			url.Values{"grant_type": {"client_credentials"}, "client_id": {e.app.AppID}, "scope": {"https://graph.microsoft.com/.default"}},
			basic(e.app.AppID, e.secret), identity.Graph, "https://graph.microsoft.com",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.post("/"+e.Tenant.ID+"/oauth2/v2.0/token", tt.form, tt.hdr)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			tr := servertest.Decode[oauth2.TokenResponse](t, body)
			if tr.TokenType != "Bearer" || tr.ExpiresIn < 3000 || tr.ExtExpiresIn != tr.ExpiresIn || tr.AccessToken == "" {
				t.Fatalf("unexpected response %s", body)
			}
			p, claims, err := e.Identity.Verify(context.Background(), tr.AccessToken, tt.api)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if p.ObjectID != e.sp.ID || claims.Aud != tt.audience || claims.AppID != e.app.AppID {
				t.Errorf("principal %+v aud %q appid %q", p, claims.Aud, claims.AppID)
			}
		})
	}
}

func TestTokenByDomainTenant(t *testing.T) {
	e := newEnv(t)
	resp, body := e.post("/"+strings.ToUpper(e.Tenant.DefaultDomain)+"/oauth2/v2.0/token", e.credsForm("https://graph.microsoft.com/.default"), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
}

func TestTokenV1(t *testing.T) {
	e := newEnv(t)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.app.AppID}, "client_secret": {e.secret}, "resource": {"https://management.azure.com/"}}
	before := time.Now().Unix()
	resp, body := e.post("/"+e.Tenant.ID+"/oauth2/token", form, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	// Numbers are strings on the v1 endpoint.
	raw := servertest.Decode[map[string]any](t, body)
	for _, k := range []string{"expires_in", "ext_expires_in", "expires_on", "not_before"} {
		s, ok := raw[k].(string)
		if !ok {
			t.Fatalf("%s = %#v, want a string", k, raw[k])
		}
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("%s = %q: %v", k, s, err)
		}
	}
	tr := servertest.Decode[oauth2.TokenResponseV1](t, body)
	on, _ := strconv.ParseInt(tr.ExpiresOn, 10, 64)
	nbf, _ := strconv.ParseInt(tr.NotBefore, 10, 64)
	if tr.TokenType != "Bearer" || tr.Resource != "https://management.azure.com/" || on < before+3000 || nbf > before {
		t.Fatalf("unexpected response %s", body)
	}
	if _, _, err := e.Identity.Verify(context.Background(), tr.AccessToken, identity.ARM); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	form.Del("resource")
	resp, body = e.post("/"+e.Tenant.ID+"/oauth2/token", form, nil)
	checkOAuthError(t, e, resp, body, http.StatusBadRequest, "invalid_request", 900144)
}

var timestampPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$`)

// checkOAuthError asserts Entra's error shape and codes.
func checkOAuthError(t *testing.T, e *env, resp *http.Response, body []byte, status int, code string, aadsts int) oauth2.ErrorResponse {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d: %s", resp.StatusCode, status, body)
	}
	er := servertest.Decode[oauth2.ErrorResponse](t, body)
	n := strconv.Itoa(aadsts)
	if er.Error != code || len(er.ErrorCodes) != 1 || er.ErrorCodes[0] != aadsts {
		t.Fatalf("error %q codes %v, want %q [%d]: %s", er.Error, er.ErrorCodes, code, aadsts, body)
	}
	want := regexp.MustCompile(`^AADSTS` + n + `: .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$`)
	if !want.MatchString(er.ErrorDescription) {
		t.Errorf("error_description %q lacks Entra's layout", er.ErrorDescription)
	}
	if !timestampPattern.MatchString(er.Timestamp) || er.TraceID == "" || er.CorrelationID == "" {
		t.Errorf("timestamp/trace/correlation missing: %s", body)
	}
	if er.ErrorURI != "https://"+e.Addr+"/error?code="+n {
		t.Errorf("error_uri = %q", er.ErrorURI)
	}
	if e.secret != "" && strings.Contains(string(body), e.secret) {
		t.Errorf("the client secret is echoed: %s", body)
	}
	return er
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	// A client whose only secret has expired.
	expApp, expSP, _ := e.newClient("expired")
	start, end := time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
	_, expSecret, err := e.Identity.AddPassword(ctx, identity.OnServicePrincipal, e.Tenant.ID, expSP.ID, identity.PasswordInput{Start: &start, End: &end})
	if err != nil {
		t.Fatal(err)
	}
	// A client that is disabled.
	disApp, disSP, disSecret := e.newClient("disabled")
	off := false
	if _, err := e.Identity.UpdateServicePrincipal(ctx, e.Tenant.ID, disSP.ID, identity.ServicePrincipalInput{AccountEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	// An application without a service principal, with a secret.
	name := "no-sp"
	noSP, err := e.Identity.CreateApplication(ctx, e.Tenant.ID, identity.ApplicationInput{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	_, noSPSecret, err := e.Identity.AddPassword(ctx, identity.OnApplication, e.Tenant.ID, noSP.ID, identity.PasswordInput{})
	if err != nil {
		t.Fatal(err)
	}

	v2 := "/" + e.Tenant.ID + "/oauth2/v2.0/token"
	form := func(edit func(url.Values)) url.Values {
		f := e.credsForm("https://management.core.windows.net//.default")
		edit(f)
		return f
	}
	basicHdr := func(raw string) http.Header {
		return http.Header{"Authorization": {"Basic " + raw}}
	}
	tests := []struct {
		name   string
		method string
		path   string
		ctype  string
		body   string
		hdr    http.Header
		status int
		code   string
		aadsts int
	}{
		{name: "wrong secret", body: form(func(f url.Values) { f.Set("client_secret", "wrong") }).Encode(), status: 401, code: "invalid_client", aadsts: 7000215},
		{name: "unknown app", body: form(func(f url.Values) { f.Set("client_id", "11111111-2222-3333-4444-555555555555") }).Encode(), status: 400, code: "unauthorized_client", aadsts: 700016},
		{name: "no service principal", body: form(func(f url.Values) { f.Set("client_id", noSP.AppID); f.Set("client_secret", noSPSecret) }).Encode(), status: 401, code: "invalid_client", aadsts: 7000229},
		{name: "expired secret", body: form(func(f url.Values) { f.Set("client_id", expApp.AppID); f.Set("client_secret", expSecret) }).Encode(), status: 401, code: "invalid_client", aadsts: 7000222},
		{name: "disabled principal", body: form(func(f url.Values) { f.Set("client_id", disApp.AppID); f.Set("client_secret", disSecret) }).Encode(), status: 400, code: "unauthorized_client", aadsts: 7000112},
		{name: "unknown tenant", path: "/66666666-2222-3333-4444-555555555555/oauth2/v2.0/token", body: form(func(url.Values) {}).Encode(), status: 400, code: "invalid_request", aadsts: 90002},
		{name: "malformed tenant", path: "/bad_tenant/oauth2/v2.0/token", body: form(func(url.Values) {}).Encode(), status: 400, code: "invalid_request", aadsts: 900023},
		{name: "common tenant", path: "/common/oauth2/v2.0/token", body: form(func(url.Values) {}).Encode(), status: 400, code: "invalid_request", aadsts: 9001023},
		{name: "unknown resource", body: form(func(f url.Values) { f.Set("scope", "api://unknown/.default") }).Encode(), status: 400, code: "invalid_resource", aadsts: 500011},
		{name: "scope without .default", body: form(func(f url.Values) { f.Set("scope", "https://graph.microsoft.com/User.Read") }).Encode(), status: 400, code: "invalid_scope", aadsts: 1002012},
		{name: "only OIDC scopes", body: form(func(f url.Values) { f.Set("scope", "openid profile") }).Encode(), status: 400, code: "invalid_scope", aadsts: 1002012},
		{name: "bare .default", body: form(func(f url.Values) { f.Set("scope", "/.default") }).Encode(), status: 400, code: "invalid_scope", aadsts: 1002012},
		{name: "two resources", body: form(func(f url.Values) {
			f.Set("scope", "https://graph.microsoft.com/.default https://management.azure.com/.default")
		}).Encode(), status: 400, code: "invalid_scope", aadsts: 70011},
		{name: "missing scope", body: form(func(f url.Values) { f.Del("scope") }).Encode(), status: 400, code: "invalid_request", aadsts: 900144},
		{name: "resource on v2", body: form(func(f url.Values) { f.Set("resource", "https://management.azure.com/") }).Encode(), status: 400, code: "invalid_request", aadsts: 901002},
		{name: "long client_id", body: form(func(f url.Values) { f.Set("client_id", strings.Repeat("c", 300)) }).Encode(), status: 400, code: "invalid_request", aadsts: 90004},
		{name: "missing client_id", body: form(func(f url.Values) { f.Del("client_id") }).Encode(), status: 400, code: "invalid_request", aadsts: 900144},
		{name: "missing secret", body: form(func(f url.Values) { f.Del("client_secret") }).Encode(), status: 401, code: "invalid_client", aadsts: 7000216},
		{name: "missing grant_type", body: form(func(f url.Values) { f.Del("grant_type") }).Encode(), status: 400, code: "invalid_request", aadsts: 900144},
		{name: "unsupported grant", body: form(func(f url.Values) { f.Set("grant_type", "password") }).Encode(), status: 400, code: "unsupported_grant_type", aadsts: 70003},
		{name: "client assertion", body: form(func(f url.Values) { f.Set("client_assertion", "x.y.z") }).Encode(), status: 400, code: "invalid_request", aadsts: 90023},
		{name: "repeated parameter", body: form(func(f url.Values) { f.Add("client_id", "other") }).Encode(), status: 400, code: "invalid_request", aadsts: 90023},
		{name: "GET", method: http.MethodGet, status: 405, code: "invalid_request", aadsts: 900561},
		{name: "JSON body", ctype: "application/json", body: `{"grant_type":"client_credentials"}`, status: 400, code: "invalid_request", aadsts: 900144},
		{name: "oversized body", body: form(func(f url.Values) { f.Set("pad", strings.Repeat("a", 70<<10)) }).Encode(), status: 400, code: "invalid_request", aadsts: 90004},
		{name: "malformed form", body: "grant_type=client_credentials&client_secret=%zz", status: 400, code: "invalid_request", aadsts: 90004},
		{name: "basic and form secret", body: form(func(url.Values) {}).Encode(),
			hdr: basicHdr(base64.StdEncoding.EncodeToString([]byte(e.app.AppID + ":" + e.secret))), status: 400, code: "invalid_request", aadsts: 90023},
		{name: "basic not base64", body: form(func(f url.Values) { f.Del("client_secret") }).Encode(), hdr: basicHdr("!!!"), status: 400, code: "invalid_request", aadsts: 90004},
		{name: "basic without colon", body: form(func(f url.Values) { f.Del("client_secret") }).Encode(),
			hdr: basicHdr(base64.StdEncoding.EncodeToString([]byte("nocolon"))), status: 400, code: "invalid_request", aadsts: 90004},
		{name: "basic wrong secret", body: form(func(f url.Values) { f.Del("client_secret") }).Encode(),
			hdr: basicHdr(base64.StdEncoding.EncodeToString([]byte(e.app.AppID + ":wrong"))), status: 401, code: "invalid_client", aadsts: 7000215},
		{name: "unknown endpoint", path: "/" + e.Tenant.ID + "/oauth2/v2.0/nothing", body: "", status: 404, code: "invalid_request", aadsts: 90023},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path, ctype := tt.method, tt.path, tt.ctype
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = v2
			}
			if ctype == "" {
				ctype = "application/x-www-form-urlencoded"
			}
			req, err := http.NewRequest(method, e.URL+path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", ctype)
			req.Header.Set("client-request-id", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
			for k, v := range tt.hdr {
				req.Header[k] = v
			}
			resp, body := e.do(req)
			er := checkOAuthError(t, e, resp, body, tt.status, tt.code, tt.aadsts)
			if er.CorrelationID != "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" {
				t.Errorf("correlation_id = %q, want the client-request-id", er.CorrelationID)
			}
			for _, s := range []string{e.secret, expSecret, disSecret, noSPSecret} {
				if strings.Contains(string(body), s) {
					t.Errorf("a secret is echoed: %s", body)
				}
			}
		})
	}
	// No secret, valid or not, ever reaches the log.
	logs := e.Logs.String()
	for _, s := range []string{e.secret, expSecret, disSecret, noSPSecret, "%zz"} {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains a secret (%.3s…)", s)
		}
	}
}

func TestTokenErrorMessages(t *testing.T) {
	e := newEnv(t)
	v2 := "/" + e.Tenant.ID + "/oauth2/v2.0/token"
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"missing client_id", url.Values{"grant_type": {"client_credentials"}}, "AADSTS900144: The request body must contain the following parameter: 'client_id'."},
		{"missing grant_type", url.Values{}, "AADSTS900144: The request body must contain the following parameter: 'grant_type'."},
		{"unsupported grant", url.Values{"grant_type": {"authorization_code"}}, "AADSTS70003: The app requested an unsupported grant type 'authorization_code'."},
		{"wrong secret", func() url.Values {
			f := e.credsForm("https://graph.microsoft.com/.default")
			f.Set("client_secret", "nope")
			return f
		}(), "AADSTS7000215: Invalid client secret provided."},
		{"scope", e.credsForm("User.Read"), "AADSTS1002012: The provided value for scope User.Read is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := e.post(v2, tt.form, nil)
			er := servertest.Decode[oauth2.ErrorResponse](t, body)
			if !strings.HasPrefix(er.ErrorDescription, tt.want) {
				t.Errorf("error_description = %q, want prefix %q", er.ErrorDescription, tt.want)
			}
		})
	}
}

// TestSecretReset: after the secret is replaced, the old one is refused.
func TestSecretReset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sp, err := e.Identity.ServicePrincipal(ctx, e.Tenant.ID, e.sp.ID)
	if err != nil {
		t.Fatal(err)
	}
	old := e.secret
	_, fresh, err := e.Identity.AddPassword(ctx, identity.OnServicePrincipal, e.Tenant.ID, sp.ID, identity.PasswordInput{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Identity.RemovePassword(ctx, identity.OnServicePrincipal, e.Tenant.ID, sp.ID, sp.Passwords[0].KeyID); err != nil {
		t.Fatal(err)
	}
	resp, body := e.post("/"+e.Tenant.ID+"/oauth2/v2.0/token", e.credsForm("https://graph.microsoft.com/.default"), nil)
	checkOAuthError(t, e, resp, body, http.StatusUnauthorized, "invalid_client", 7000215)
	e.secret = fresh
	if resp, body := e.post("/"+e.Tenant.ID+"/oauth2/v2.0/token", e.credsForm("https://graph.microsoft.com/.default"), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("new secret: %d %s", resp.StatusCode, body)
	}
	if old == fresh {
		t.Fatal("secrets repeat")
	}
}
