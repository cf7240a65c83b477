package acrtoken_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

// TestDockerLogin follows docker login with a service principal: GET
// /oauth2/token with Basic credentials, client_id=docker,
// offline_token=true and no scope gives a token with an empty access
// list and no refresh token (docker then keeps the secret, which does
// not expire after three hours as a refresh token would).
func TestDockerLogin(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("dockerreg")
	p := e.principal("pusher", rbac.AcrPushID, reg.ID)
	rep := e.get(reg.LoginServer, url.Values{
		"account": {p.App.AppID}, "client_id": {"docker"}, "offline_token": {"true"}, "service": {reg.LoginServer},
	}, p.App.AppID, p.Secret)
	if rep.status != http.StatusOK {
		t.Fatalf("%d %s", rep.status, rep.body)
	}
	if ct := rep.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rep.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	tok := rep.token()
	if tok.RefreshToken != "" {
		t.Error("a refresh token was returned for a client secret")
	}
	if want := int64((acrtoken.AccessTokenLifetime - time.Minute) / time.Second); tok.ExpiresIn != want {
		t.Errorf("expires_in = %d, want %d", tok.ExpiresIn, want)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(rep.body, &raw)
	if len(raw) != 2 {
		t.Errorf("body %s: want access_token and expires_in only", rep.body)
	}
	c := claimsOf(t, tok.AccessToken)
	if got := c["access"]; !reflect.DeepEqual(got, []any{}) {
		t.Errorf("access = %v, want []", got)
	}
	// The token authenticates /v2/ (no scope needed).
	g, err := e.authenticate(reg, "Bearer "+tok.AccessToken)
	if err != nil || g.Subject != p.SP.ID || g.Anonymous || len(g.Access) != 0 {
		t.Errorf("Authenticate = %+v, %v", g, err)
	}
}

// TestAccessTokenClaims checks the claim set of an access token.
func TestAccessTokenClaims(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("claimsreg")
	p := e.principal("puller", rbac.AcrPullID, reg.ID)
	tok := e.basicToken(reg, p.App.AppID, p.Secret, "repository:app:pull").token().AccessToken
	c := claimsOf(t, tok)
	for _, k := range []string{"jti", "sub", "nbf", "exp", "iat", "iss", "aud", "version", "rid", "riid", "access", "roles", "grant_type", "tenant", "ckid"} {
		if _, ok := c[k]; !ok {
			t.Errorf("claim %s missing", k)
		}
	}
	if len(c) != 15 {
		t.Errorf("claims %v: want exactly 15", c)
	}
	want := map[string]any{
		"sub": p.SP.ID, "iss": "Azure Container Registry", "aud": reg.LoginServer, "version": "1.0",
		"rid": reg.ID.String(), "riid": reg.InstanceID, "grant_type": "access_token", "tenant": e.Tenant.ID, "ckid": p.KeyID, "roles": []any{},
	}
	for k, v := range want {
		if !reflect.DeepEqual(c[k], v) {
			t.Errorf("%s = %v, want %v", k, c[k], v)
		}
	}
	if life := c["exp"].(float64) - c["iat"].(float64); life != 4500 {
		t.Errorf("lifetime %v s, want 4500", life)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]string
	_ = json.Unmarshal(hdr, &h)
	if h["alg"] != "RS256" || h["typ"] != "JWT" || h["kid"] != e.Signer.KeyID() {
		t.Errorf("header %s", hdr)
	}
}

// TestPasswordGrant covers POST grant_type=password (az CLI's form for
// admin and scoped credentials, and containerd's first try).
func TestPasswordGrant(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("pwreg", func(r *registry.Registry) { r.AdminUserEnabled = true })
	p := e.principal("puller", rbac.AcrPullID, reg.ID)
	form := func(user, pass string) url.Values {
		return url.Values{"grant_type": {"password"}, "service": {reg.LoginServer}, "scope": {"repository:app:pull,push"},
			"username": {user}, "password": {pass}, "client_id": {"containerd-client"}}
	}
	if got := e.mustAccess(e.post(reg.LoginServer, "/oauth2/token", form(p.App.AppID, p.Secret))); !reflect.DeepEqual(got, []acrtoken.Scope{repo("pull")}) {
		t.Errorf("service principal: %+v", got)
	}
	if got := e.mustAccess(e.post(reg.LoginServer, "/oauth2/token", form("pwreg", "admin-pw-2-pwreg"))); !reflect.DeepEqual(got, []acrtoken.Scope{repo("pull", "push")}) {
		t.Errorf("admin: %+v", got)
	}
	if rep := e.post(reg.LoginServer, "/oauth2/token", form(p.App.AppID, "wrong")); rep.status != http.StatusUnauthorized || rep.errorCode() != "UNAUTHORIZED" {
		t.Errorf("wrong secret: %d %s", rep.status, rep.body)
	}
	if rep := e.post(reg.LoginServer, "/oauth2/token", form("", "x")); rep.status != http.StatusBadRequest {
		t.Errorf("no username: %d %s", rep.status, rep.body)
	}
	// The null GUID with a refresh token and access_type=offline: the
	// refresh token comes back, as on docker's GET.
	rt := e.refreshToken(reg, p)
	f := form(acrtoken.NullGUID, rt)
	f.Set("access_type", "offline")
	if rep := e.post(reg.LoginServer, "/oauth2/token", f); rep.status != http.StatusOK || rep.token().RefreshToken != rt {
		t.Errorf("null GUID offline: %d %s", rep.status, rep.body)
	}
}

// TestAdminUser covers the admin user: everything while enabled, nothing
// with a wrong password or once disabled; its tokens stop working when it
// is disabled or a password is regenerated.
func TestAdminUser(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("AdminReg", func(r *registry.Registry) { r.AdminUserEnabled = true })
	everything := []acrtoken.Scope{repo("pull", "push", "delete", "metadata_read", "metadata_write"), catalogGrant}
	for _, user := range []string{"AdminReg", "adminreg"} {
		for _, pw := range []string{"admin-pw-1-AdminReg", "admin-pw-2-AdminReg"} {
			if got := e.mustAccess(e.basicToken(reg, user, pw, allRepoActions, catalogScope)); !reflect.DeepEqual(got, everything) {
				t.Errorf("%s/%s: %+v", user, pw, got)
			}
		}
	}
	if got := e.mustAccess(e.basicToken(reg, "AdminReg", "admin-pw-1-AdminReg", "repository:app:*")); !reflect.DeepEqual(got, []acrtoken.Scope{repo("*")}) {
		t.Errorf("admin *: %+v", got)
	}
	rep := e.basicToken(reg, "AdminReg", "wrong")
	if rep.status != http.StatusUnauthorized || rep.errorCode() != "UNAUTHORIZED" || rep.errorMessage() != acrtoken.AuthenticationRequired {
		t.Fatalf("wrong password: %d %s", rep.status, rep.body)
	}
	if ch := rep.header.Get("WWW-Authenticate"); ch != `Basic realm="adminreg.azurecr.localhost"` {
		t.Errorf("challenge %q", ch)
	}

	tok := e.basicToken(reg, "AdminReg", "admin-pw-1-AdminReg", "repository:app:pull").token().AccessToken
	if g, err := e.authenticate(reg, "Bearer "+tok, "repository:app:pull"); err != nil || g.Subject != "AdminReg" || !g.Allows("repository", "app", "pull") {
		t.Fatalf("admin bearer: %+v %v", g, err)
	}
	if g, err := e.authenticate(reg, basic("adminreg", "admin-pw-2-AdminReg"), "repository:app:delete"); err != nil || !g.Allows("repository", "app", "delete") {
		t.Fatalf("admin basic: %+v %v", g, err)
	}
	// A regenerated password2 revokes tokens issued while password was
	// in use as well: they are bound to the admin credential set.
	e.update(reg, func(r *registry.Registry) { r.AdminPasswords[1].Sealed = []byte("regenerated") })
	if _, err := e.authenticate(reg, "Bearer "+tok, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("bearer after regeneration: %v", err)
	}
	if _, err := e.authenticate(reg, basic("adminreg", "admin-pw-2-AdminReg")); !isUnauthorized(err) {
		t.Errorf("old password after regeneration: %v", err)
	}
	tok = e.basicToken(reg, "AdminReg", "regenerated", "repository:app:pull").token().AccessToken
	e.update(reg, func(r *registry.Registry) { r.AdminUserEnabled = false })
	if _, err := e.authenticate(reg, "Bearer "+tok, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("bearer after disabling: %v", err)
	}
	if rep := e.basicToken(reg, "AdminReg", "regenerated", "repository:app:pull"); rep.status != http.StatusUnauthorized || rep.errorMessage() != acrtoken.AuthenticationRequired {
		t.Errorf("disabled admin: %d %s", rep.status, rep.body)
	}
}

// TestAnonymous covers anonymous pull: a token (pull only, never the
// catalog) from GET without credentials and from the Azure SDK's POST
// form while it is on; 401 while it is off.
func TestAnonymous(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("anonreg", func(r *registry.Registry) { r.AnonymousPullEnabled = true })
	sdkForm := url.Values{"grant_type": {"password"}, "refresh_token": {""}, "service": {reg.LoginServer}, "scope": {"repository:app:pull,push registry:catalog:*"}}
	for name, rep := range map[string]reply{
		"GET":  e.basicToken(reg, "", "", "repository:app:pull,push", catalogScope),
		"POST": e.post(reg.LoginServer, "/oauth2/token", sdkForm),
	} {
		if got := e.mustAccess(rep); !reflect.DeepEqual(got, []acrtoken.Scope{repo("pull")}) {
			t.Errorf("%s: %+v", name, got)
		}
		if sub := claimsOf(t, rep.token().AccessToken)["sub"]; sub != "" {
			t.Errorf("%s: sub %v", name, sub)
		}
	}
	tok := e.basicToken(reg, "", "", "repository:app:pull").token().AccessToken
	g, err := e.authenticate(reg, "", "repository:app:pull,push")
	if err != nil || !g.Anonymous || !reflect.DeepEqual(g.Access, []acrtoken.Scope{repo("pull")}) {
		t.Errorf("no header: %+v %v", g, err)
	}
	if g, err := e.authenticate(reg, "Bearer "+tok, "repository:app:pull"); err != nil || g.Anonymous || !g.Allows("repository", "app", "pull") {
		t.Errorf("anonymous token: %+v %v", g, err)
	}

	reg = e.update(reg, func(r *registry.Registry) { r.AnonymousPullEnabled = false })
	for name, rep := range map[string]reply{
		"GET":  e.basicToken(reg, "", "", "repository:app:pull"),
		"POST": e.post(reg.LoginServer, "/oauth2/token", sdkForm),
	} {
		if rep.status != http.StatusUnauthorized || rep.errorCode() != "UNAUTHORIZED" {
			t.Errorf("%s with anonymous pull off: %d %s", name, rep.status, rep.body)
		}
	}
	g, err = e.authenticate(reg, "", "repository:app:pull")
	if err != nil || !g.Anonymous || len(g.Access) != 0 {
		t.Errorf("no header, anonymous off: %+v %v", g, err)
	}
	if _, err := e.authenticate(reg, "Bearer "+tok, "repository:app:pull"); !isUnauthorized(err) {
		t.Errorf("anonymous token after anonymous pull was turned off: %v", err)
	}
}

// TestServicePrincipalBasic covers appId:secret on the token endpoint and
// directly on data-plane requests, and the ways it fails.
func TestServicePrincipalBasic(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("spreg")
	p := e.principal("puller", rbac.AcrPullID, reg.ID)
	spSecret := e.NewPrincipal(t, "sp-secret", identity.OnServicePrincipal)
	e.Assign(t, spSecret.SP.ID, rbac.AcrPushID, reg.ID)

	g, err := e.authenticate(reg, basic(p.App.AppID, p.Secret), "repository:app:pull,push", catalogScope)
	if err != nil || g.Subject != p.SP.ID || !reflect.DeepEqual(g.Access, []acrtoken.Scope{repo("pull"), catalogGrant}) {
		t.Errorf("basic: %+v %v", g, err)
	}
	if g, err := e.authenticate(reg, basic(spSecret.App.AppID, spSecret.Secret), "repository:app:push"); err != nil || !g.Allows("repository", "app", "push") {
		t.Errorf("secret on the service principal: %+v %v", g, err)
	}
	for name, h := range map[string]string{
		"wrong secret":   basic(p.App.AppID, "nope"),
		"unknown app":    basic("11111111-2222-3333-4444-555555555555", p.Secret),
		"not a GUID":     basic("someone", p.Secret),
		"admin disabled": basic("spreg", "admin-pw-1-spreg"),
		"bad base64":     "Basic !!!",
		"no colon":       "Basic " + base64.StdEncoding.EncodeToString([]byte("abc")),
		"other scheme":   "Digest x",
	} {
		if g, err := e.authenticate(reg, h, "repository:app:pull"); !isUnauthorized(err) {
			t.Errorf("%s: %+v %v", name, g, err)
		}
	}
	rep := e.basicToken(reg, p.App.AppID, "nope", "repository:app:pull")
	if !strings.Contains(string(rep.body), "Invalid clientid or client secret.") {
		t.Errorf("wrong secret body %s", rep.body)
	}
}

// TestEndpointErrors covers malformed requests and unknown paths.
func TestEndpointErrors(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("errreg")
	p := e.principal("owner", rbac.OwnerID, reg.ID)
	tokenPath := "/oauth2/token"
	for _, tt := range []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"PUT token", httptest.NewRequest(http.MethodPut, "https://"+reg.LoginServer+tokenPath, nil), http.StatusMethodNotAllowed, "UNSUPPORTED"},
		{"GET exchange", httptest.NewRequest(http.MethodGet, "https://"+reg.LoginServer+"/oauth2/exchange", nil), http.StatusNotFound, "UNSUPPORTED"},
		{"DELETE exchange", httptest.NewRequest(http.MethodDelete, "https://"+reg.LoginServer+"/oauth2/exchange", nil), http.StatusNotFound, "UNSUPPORTED"},
		{"other path", httptest.NewRequest(http.MethodGet, "https://"+reg.LoginServer+"/oauth2/other", nil), http.StatusNotFound, "UNSUPPORTED"},
		{"unknown registry", httptest.NewRequest(http.MethodGet, "https://nosuch."+domain+tokenPath+"?service=nosuch."+domain, nil), http.StatusNotFound, "NAME_UNKNOWN"},
	} {
		rep := e.serve(tt.req)
		if rep.status != tt.status || rep.errorCode() != tt.code {
			t.Errorf("%s: %d %s", tt.name, rep.status, rep.body)
		}
	}
	if rep := e.serve(httptest.NewRequest(http.MethodPut, "https://"+reg.LoginServer+tokenPath, nil)); rep.header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow %q", rep.header.Get("Allow"))
	}

	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	for _, tt := range []struct {
		name   string
		q      url.Values
		status int
	}{
		{"no service", q("scope", "repository:app:pull"), http.StatusBadRequest},
		{"other service", q("service", "other."+domain), http.StatusUnauthorized},
		{"bad scope", q("service", reg.LoginServer, "scope", "repository:app"), http.StatusBadRequest},
		{"api-version ignored", q("service", strings.ToUpper(reg.LoginServer), "api-version", "2021-07-01"), http.StatusOK},
	} {
		if rep := e.get(reg.LoginServer, tt.q, p.App.AppID, p.Secret); rep.status != tt.status {
			t.Errorf("%s: %d %s", tt.name, rep.status, rep.body)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "https://"+reg.LoginServer+tokenPath+"?service="+reg.LoginServer, nil)
	req.Header.Set("Authorization", "Bearer x")
	if rep := e.serve(req); rep.status != http.StatusUnauthorized {
		t.Errorf("bearer on the token endpoint: %d %s", rep.status, rep.body)
	}

	post := func(form url.Values) reply { return e.post(reg.LoginServer, tokenPath, form) }
	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
	}{
		{"no grant", q("service", reg.LoginServer), http.StatusBadRequest},
		{"client credentials", q("grant_type", "client_credentials", "service", reg.LoginServer), http.StatusBadRequest},
		{"no refresh token", q("grant_type", "refresh_token", "service", reg.LoginServer), http.StatusBadRequest},
		{"garbage refresh token", q("grant_type", "refresh_token", "service", reg.LoginServer, "refresh_token", "x.y.z"), http.StatusUnauthorized},
		{"no service", q("grant_type", "password", "username", p.App.AppID, "password", p.Secret), http.StatusBadRequest},
	} {
		if rep := post(tt.form); rep.status != tt.status {
			t.Errorf("%s: %d %s", tt.name, rep.status, rep.body)
		}
	}
	big := httptest.NewRequest(http.MethodPost, "https://"+reg.LoginServer+tokenPath, strings.NewReader("scope="+strings.Repeat("a", 70<<10)))
	big.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rep := e.serve(big); rep.status != http.StatusBadRequest {
		t.Errorf("oversized form: %d %s", rep.status, rep.body)
	}
	notForm := httptest.NewRequest(http.MethodPost, "https://"+reg.LoginServer+tokenPath, strings.NewReader(`{"grant_type":"password"}`))
	notForm.Header.Set("Content-Type", "application/json")
	if rep := e.serve(notForm); rep.status != http.StatusBadRequest {
		t.Errorf("JSON body: %d %s", rep.status, rep.body)
	}
}

// TestOverHTTPS runs docker's refresh flow through the TLS listener and
// the middleware, over HTTP/1.1 and HTTP/2, with the registry named by
// the Host header.
func TestOverHTTPS(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("httpsreg")
	p := e.principal("pusher", rbac.AcrPushID, reg.ID)
	rt := e.refreshToken(reg, p)
	for name, c := range map[string]*http.Client{"h1": e.H1, "h2": e.H2} {
		form := url.Values{"grant_type": {"refresh_token"}, "service": {reg.LoginServer}, "refresh_token": {rt}, "scope": {"repository:app:pull,push"}}
		req, err := http.NewRequest(http.MethodPost, e.URL+"/oauth2/token?api-version=2021-07-01", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = reg.LoginServer
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, body := servertest.Do(t, c, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
		var tok tokenBody
		_ = json.Unmarshal(body, &tok)
		if got := accessOf(t, tok.AccessToken); !reflect.DeepEqual(got, []acrtoken.Scope{repo("pull", "push")}) {
			t.Errorf("%s: %+v", name, got)
		}
		if resp.Header.Get("x-ms-request-id") == "" {
			t.Errorf("%s: no request id (middleware missing)", name)
		}
	}
}

// TestNoSecretsLogged runs the flows that carry secrets and tokens and
// checks that none of them reaches the log.
func TestNoSecretsLogged(t *testing.T) {
	e := newEnv(t)
	reg := e.newRegistry("logreg", func(r *registry.Registry) { r.AdminUserEnabled = true })
	p := e.principal("pusher", rbac.AcrPushID, reg.ID)
	entra := e.IssueToken(t, e.Identity, p, armResource)
	rt := e.refreshToken(reg, p)
	at := e.refresh(reg, rt, "repository:app:pull").token().AccessToken
	secrets := []string{p.Secret, entra, rt, at, "admin-pw-1-logreg"}
	e.basicToken(reg, p.App.AppID, p.Secret+"x", "repository:app:pull")
	e.basicToken(reg, "logreg", "admin-pw-1-logreg", "repository:app:pull")
	e.basicToken(reg, acrtoken.NullGUID, rt+"x", "repository:app:pull")
	e.refresh(reg, at, "repository:app:pull")
	e.exchange(reg, entra, "wrong-tenant")
	e.exchange(reg, entra+"x", "")
	// Through the middleware, which logs every request line.
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/oauth2/token?service="+reg.LoginServer+"&scope=repository:app:pull", nil)
	req.Host = reg.LoginServer
	req.SetBasicAuth(acrtoken.NullGUID, rt)
	resp, _ := servertest.Do(t, e.H1, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d", resp.StatusCode)
	}
	logs := e.Logs.String()
	if !strings.Contains(logs, "registry token issued") {
		t.Fatalf("nothing logged:\n%s", logs)
	}
	for _, s := range secrets {
		for _, part := range strings.Split(s, ".") {
			if len(part) >= 16 && strings.Contains(logs, part) {
				t.Errorf("a secret or token segment was logged: %.12s…", part)
			}
		}
	}
}

// TestChallenge checks the challenge format byte for byte.
func TestChallenge(t *testing.T) {
	reg := registry.Registry{LoginServer: "myreg.azurecr.localhost:8443"}
	for _, tt := range []struct {
		scopes []string
		err    string
		want   string
	}{
		{nil, "", `Bearer realm="https://myreg.azurecr.localhost:8443/oauth2/token",service="myreg.azurecr.localhost:8443"`},
		{[]string{"repository:hello-world:pull"}, "", `Bearer realm="https://myreg.azurecr.localhost:8443/oauth2/token",service="myreg.azurecr.localhost:8443",scope="repository:hello-world:pull"`},
		{[]string{"repository:a:pull,push", "repository:b:pull"}, "insufficient_scope", `Bearer realm="https://myreg.azurecr.localhost:8443/oauth2/token",service="myreg.azurecr.localhost:8443",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"`},
		{[]string{"registry:catalog:*"}, "", `Bearer realm="https://myreg.azurecr.localhost:8443/oauth2/token",service="myreg.azurecr.localhost:8443",scope="registry:catalog:*"`},
	} {
		scopes, err := acrtoken.ParseScopes(tt.scopes...)
		if err != nil {
			t.Fatal(err)
		}
		if got := acrtoken.Challenge(reg, scopes, tt.err); got != tt.want {
			t.Errorf("Challenge(%q, %q) =\n%s\nwant\n%s", tt.scopes, tt.err, got, tt.want)
		}
	}
}
