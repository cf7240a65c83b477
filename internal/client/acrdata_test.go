package client

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// dataPlane is a TLS test server for registry data-plane requests. Its
// certificate (httptest's) covers example.com and *.example.com, so login
// servers under example.com verify against it while every connection is
// dialled to its 127.0.0.1 address.
type dataPlane struct {
	mu    sync.Mutex
	srv   *httptest.Server
	reqs  []string
	hosts []string
	forms []url.Values
}

func newDataPlane(t *testing.T, h http.HandlerFunc) *dataPlane {
	t.Helper()
	dp := &dataPlane{}
	dp.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		dp.mu.Lock()
		dp.reqs = append(dp.reqs, r.Method+" "+r.URL.RequestURI())
		dp.hosts = append(dp.hosts, r.Host)
		dp.forms = append(dp.forms, r.PostForm)
		dp.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(dp.srv.Close)
	return dp
}

func (dp *dataPlane) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(dp.srv.Certificate())
	return p
}

func (dp *dataPlane) requests() []string {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	return append([]string(nil), dp.reqs...)
}

func (dp *dataPlane) registry(t *testing.T, loginServer string) *Registry {
	t.Helper()
	r, err := NewRegistry(RegistryConfig{Endpoint: dp.srv.URL, CAPool: dp.pool(), LoginServer: loginServer})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRegistryTransport checks the dialing rule: login servers and the
// endpoint reach the endpoint's address, TLS checks the login server's
// name, and nothing else is dialled.
func TestRegistryTransport(t *testing.T) {
	dp := newDataPlane(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tr, err := RegistryTransport(dp.srv.URL, dp.pool(), "myreg.example.com", "other.example.com:8443")
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: tr}
	get := func(u string) error {
		resp, err := hc.Get(u)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}
	for _, u := range []string{"https://MyReg.example.com/v2/", "https://myreg.example.com:443/v2/", "https://other.example.com:8443/v2/", dp.srv.URL + "/v2/"} {
		if err := get(u); err != nil {
			t.Errorf("GET %s: %v", u, err)
		}
	}
	if got := dp.hosts; len(got) != 4 || got[0] != "MyReg.example.com" || got[2] != "other.example.com:8443" {
		t.Errorf("hosts %v", got)
	}
	for _, u := range []string{"https://evil.example.com/v2/", "https://myreg.example.com:8443/v2/", "https://other.example.com/v2/"} {
		if err := get(u); err == nil || !strings.Contains(err.Error(), "refusing to dial") {
			t.Errorf("GET %s: %v, want a refusal", u, err)
		}
	}
	// The certificate is checked against the login server's name.
	tr2, err := RegistryTransport(dp.srv.URL, dp.pool(), "myreg.azurecr.io")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr2}).Get("https://myreg.azurecr.io/v2/")
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("a certificate without the login server's name was accepted")
	}
	var he x509.HostnameError
	if !errors.As(err, &he) {
		t.Errorf("error %v, want a host name mismatch", err)
	}
	for _, bad := range []string{"http://localhost:1", "localhost:1", ""} {
		if _, err := RegistryTransport(bad, nil); err == nil {
			t.Errorf("endpoint %q accepted", bad)
		}
	}
	if _, err := RegistryTransport(dp.srv.URL, nil, "host/path"); err == nil {
		t.Error("a login server with a path was accepted")
	}
}

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		in     string
		scheme string
		params map[string]string
	}{
		{`Bearer realm="https://r.example.com/oauth2/token",service="r.example.com"`, "bearer",
			map[string]string{"realm": "https://r.example.com/oauth2/token", "service": "r.example.com"}},
		{`Bearer realm="https://r/oauth2/token",service="r",scope="repository:a/b:pull,push",error="insufficient_scope"`, "bearer",
			map[string]string{"realm": "https://r/oauth2/token", "service": "r", "scope": "repository:a/b:pull,push", "error": "insufficient_scope"}},
		{`bearer Realm="x", Service=y`, "bearer", map[string]string{"realm": "x", "service": "y"}},
		{`Basic realm="Registry Realm"`, "basic", map[string]string{"realm": "Registry Realm"}},
		{`Bearer realm="a\"b"`, "bearer", map[string]string{"realm": `a"b`}},
		{``, "", map[string]string{}},
		{`Bearer garbage`, "bearer", map[string]string{}},
	}
	for _, tc := range tests {
		ch := ParseChallenge(tc.in)
		if ch.Scheme != tc.scheme || !reflect.DeepEqual(ch.Params, tc.params) {
			t.Errorf("ParseChallenge(%q) = %q %v, want %q %v", tc.in, ch.Scheme, ch.Params, tc.scheme, tc.params)
		}
	}
}

// tokenServer answers like ACR's token endpoints.
func tokenServer(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	switch {
	case r.URL.Path == "/v2/":
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://`+host+`/oauth2/token",service="`+host+`"`)
		w.WriteHeader(http.StatusUnauthorized)
	case r.URL.Path == "/oauth2/exchange" && r.Method == http.MethodPost:
		if r.PostForm.Get("access_token") != "arm-token" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"bad token"}]}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"refresh_token": "acr-refresh"})
	case r.URL.Path == "/oauth2/token" && r.Method == http.MethodPost:
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "acr-access:" + r.PostForm.Get("scope")})
	case r.URL.Path == "/oauth2/token" && r.Method == http.MethodGet:
		if u, p, ok := r.BasicAuth(); !ok || u != EmptyGUID || p != "acr-refresh" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "a", "refresh_token": "docker-refresh"})
	case strings.HasPrefix(r.URL.Path, "/acr/v1/"):
		w.Header().Set("x-ms-correlation-request-id", "corr-1")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[{"code":"NAME_UNKNOWN","message":"repository \"x\" is not found"}]}`))
	default:
		w.WriteHeader(http.StatusTeapot)
	}
}

func TestRegistryTokenFlow(t *testing.T) {
	ctx := context.Background()
	dp := newDataPlane(t, tokenServer)
	r := dp.registry(t, "myreg.example.com")
	ch, err := r.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ch.StatusCode != http.StatusUnauthorized || ch.Realm() != "https://myreg.example.com/oauth2/token" || ch.Service() != "myreg.example.com" {
		t.Fatalf("challenge %+v", ch)
	}
	refresh, err := r.Exchange(ctx, ch.Realm(), ExchangeRequest{Service: ch.Service(), Tenant: "t1", AccessToken: "arm-token"})
	if err != nil || refresh != "acr-refresh" {
		t.Fatalf("exchange: %q, %v", refresh, err)
	}
	form := dp.forms[len(dp.forms)-1]
	want := url.Values{"grant_type": {"access_token"}, "service": {"myreg.example.com"}, "tenant": {"t1"}, "access_token": {"arm-token"}}
	if !reflect.DeepEqual(form, want) {
		t.Errorf("exchange form %v, want %v", form, want)
	}
	tok, err := r.RefreshTokenGrant(ctx, ch.Realm(), "myreg.example.com", "repository:a/b:pull,push", refresh)
	if err != nil || tok != "acr-access:repository:a/b:pull,push" {
		t.Fatalf("refresh grant: %q, %v", tok, err)
	}
	form = dp.forms[len(dp.forms)-1]
	want = url.Values{"grant_type": {"refresh_token"}, "service": {"myreg.example.com"}, "scope": {"repository:a/b:pull,push"}, "refresh_token": {"acr-refresh"}}
	if !reflect.DeepEqual(form, want) {
		t.Errorf("token form %v, want %v", form, want)
	}
	if _, err := r.PasswordGrant(ctx, ch.Realm(), ch.Service(), "registry:catalog:*", "user", "pw"); err != nil {
		t.Fatal(err)
	}
	if f := dp.forms[len(dp.forms)-1]; f.Get("grant_type") != "password" || f.Get("username") != "user" || f.Get("password") != "pw" {
		t.Errorf("password form %v", f)
	}
	login, err := r.BasicLogin(ctx, ch.Realm(), ch.Service(), EmptyGUID, refresh)
	if err != nil || login.RefreshToken != "docker-refresh" {
		t.Fatalf("basic login: %+v, %v", login, err)
	}
	if got := dp.requests()[len(dp.requests())-1]; got != "GET /oauth2/token?account=00000000-0000-0000-0000-000000000000&client_id=docker&offline_token=true&service=myreg.example.com" {
		t.Errorf("login request %s", got)
	}

	// A refused exchange carries the status.
	_, err = r.Exchange(ctx, ch.Realm(), ExchangeRequest{Service: ch.Service(), AccessToken: "other"})
	if re, ok := AsRegistryError(err); !ok || re.StatusCode != http.StatusUnauthorized || re.Code != "UNAUTHORIZED" {
		t.Errorf("refused exchange: %v", err)
	}
	if f := dp.forms[len(dp.forms)-1]; f.Has("tenant") {
		t.Errorf("tenant sent although empty: %v", f)
	}

	// Credentials never go to a realm off the login server.
	before := len(dp.requests())
	for _, realm := range []string{"https://evil.example.com/oauth2/token", "http://myreg.example.com/oauth2/token", "::"} {
		if _, err := r.Exchange(ctx, realm, ExchangeRequest{Service: "s", AccessToken: "arm-token"}); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("realm %s: %v", realm, err)
		}
		if _, err := r.RefreshTokenGrant(ctx, realm, "s", "x", "y"); err == nil {
			t.Errorf("realm %s accepted for a token", realm)
		}
	}
	if len(dp.requests()) != before {
		t.Errorf("requests were sent to a foreign realm: %v", dp.requests()[before:])
	}
}

func TestRegistryDoErrors(t *testing.T) {
	dp := newDataPlane(t, tokenServer)
	r := dp.registry(t, "myreg.example.com")
	resp, err := r.Do(context.Background(), http.MethodGet, "/acr/v1/x", url.Values{"n": {"5"}}, RegistryCredential{Username: EmptyGUID, Password: "tok"}, nil)
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("response %v", resp)
	}
	e, ok := errors.AsType[*errdefs.Error](err)
	if !ok || e.Kind != errdefs.NotFound || e.Reason != "NAME_UNKNOWN" || e.Message != `repository "x" is not found` {
		t.Fatalf("error %#v", err)
	}
	re, _ := AsRegistryError(err)
	if re.CorrelationID != "corr-1" || re.URL != "https://myreg.example.com/acr/v1/x?n=5" {
		t.Errorf("registry error %+v", re)
	}
	if got := dp.requests(); got[len(got)-1] != "GET /acr/v1/x?n=5" {
		t.Errorf("request %v", got)
	}
}

func TestRegistryCredentialHeader(t *testing.T) {
	if got := (RegistryCredential{Username: EmptyGUID, Password: "tok"}).Authorization(); got != "Bearer tok" {
		t.Errorf("null GUID: %s", got)
	}
	if got := (RegistryCredential{Username: "admin", Password: "pw"}).Authorization(); got != "Basic YWRtaW46cHc=" {
		t.Errorf("basic: %s", got)
	}
}

func TestNextParams(t *testing.T) {
	tests := []struct {
		link string
		want url.Values
		ok   bool
	}{
		{`</acr/v1/_catalog?last=hello-world&n=1&orderby=>; rel="next"`, url.Values{"last": {"hello-world"}, "n": {"1"}, "orderby": {""}}, true},
		{`</v2/_catalog?last=a%2Fb&n=100>; rel="next"`, url.Values{"last": {"a/b"}, "n": {"100"}}, true},
		{``, nil, false},
		{`</v2/_catalog>; rel="next"`, nil, false},
		{`garbage`, nil, false},
	}
	for _, tc := range tests {
		got, ok := NextParams(tc.link)
		if ok != tc.ok || (ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("NextParams(%q) = %v, %v", tc.link, got, ok)
		}
	}
}
