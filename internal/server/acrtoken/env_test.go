package acrtoken_test

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

const (
	armResource = "https://management.core.windows.net/"
	acrResource = "https://containerregistry.azure.net"
	domain      = "azurecr.localhost"
	group       = "rg1"
)

// env is the token service over the real identity and rbac services (a
// sqlite store, via servertest) with a fake registry service, and a clock
// the test can move.
type env struct {
	*servertest.Env
	t     testing.TB
	srv   *acrtoken.Server
	regs  *fakeRegistries
	clock *clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, regs: &fakeRegistries{byHost: map[string]*registry.Registry{}}, clock: &clock{}}
	e.Env = servertest.New(t, servertest.Options{
		CaptureLogs: true,
		DNSNames:    []string{"*." + domain},
		Handler: func(s *servertest.Env) http.Handler {
			e.srv = acrtoken.New(acrtoken.Config{
				Logger: s.Logger, Identity: s.Identity, RBAC: s.RBAC, Registries: e.regs, Signer: s.Signer, Now: e.clock.Now,
			})
			return server.Middleware(s.Logger, e.srv)
		},
	})
	return e
}

// clock is the real time moved by an offset.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// fakeRegistries stands in for registry.Service: registries by login
// server, admin passwords kept "sealed" as plain text.
type fakeRegistries struct {
	mu     sync.Mutex
	byHost map[string]*registry.Registry
}

func (f *fakeRegistries) ByLoginServer(_ context.Context, host string) (registry.Registry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.byHost[strings.ToLower(host)]
	if !ok {
		return registry.Registry{}, registry.ErrRegistryNotFound
	}
	return *r, nil
}

func (f *fakeRegistries) CheckAdmin(_ context.Context, r registry.Registry, username, password string) bool {
	if !r.AdminUserEnabled || !strings.EqualFold(username, r.Name) {
		return false
	}
	ok := false
	for _, p := range r.AdminPasswords {
		if subtle.ConstantTimeCompare(p.Sealed, []byte(password)) == 1 {
			ok = true
		}
	}
	return ok
}

// newRegistry registers a registry named name in the env's subscription.
func (e *env) newRegistry(name string, mod ...func(*registry.Registry)) registry.Registry {
	r := registry.Registry{
		ID:   resourceid.ForResource(e.Subscription.ID, group, "Microsoft.ContainerRegistry", "registries", name),
		Name: name, Location: "eastus", SKU: registry.SKUBasic, LoginServer: strings.ToLower(name) + "." + domain,
		ProvisioningState: "Succeeded", CreatedAt: time.Now().Add(-time.Hour), InstanceID: "instance-1-" + name,
		AdminPasswords: []registry.AdminPassword{
			{Name: "password", Sealed: []byte("admin-pw-1-" + name)},
			{Name: "password2", Sealed: []byte("admin-pw-2-" + name)},
		},
	}
	for _, m := range mod {
		m(&r)
	}
	e.regs.mu.Lock()
	defer e.regs.mu.Unlock()
	e.regs.byHost[r.LoginServer] = &r
	return r
}

// update changes a registry and returns it as it is now.
func (e *env) update(r registry.Registry, fn func(*registry.Registry)) registry.Registry {
	e.regs.mu.Lock()
	defer e.regs.mu.Unlock()
	p := e.regs.byHost[r.LoginServer]
	fn(p)
	return *p
}

// reg returns a registry as it is now.
func (e *env) reg(r registry.Registry) registry.Registry {
	got, err := e.regs.ByLoginServer(context.Background(), r.LoginServer)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// principal creates a service principal with a secret and, unless role is
// "", assigns it role at scope.
func (e *env) principal(name, role string, scope resourceid.ID) servertest.Principal {
	e.t.Helper()
	p := e.NewPrincipal(e.t, name, identity.OnApplication)
	if role != "" {
		e.Assign(e.t, p.SP.ID, role, scope)
	}
	return p
}

func groupScope(r registry.Registry) resourceid.ID {
	return resourceid.ForResourceGroup(r.ID.SubscriptionID, r.ID.ResourceGroup)
}

// reply is a recorded response.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) token() tokenBody {
	var b tokenBody
	_ = json.Unmarshal(r.body, &b)
	return b
}

// errorCode returns the code of an OCI error body.
func (r reply) errorCode() string { return r.errorEntry().Code }

// errorMessage returns the message of an OCI error body.
func (r reply) errorMessage() string { return r.errorEntry().Message }

func (r reply) errorEntry() (e struct{ Code, Message string }) {
	var b struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || len(b.Errors) != 1 {
		return e
	}
	return b.Errors[0]
}

type tokenBody struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
}

// serve sends a request to the token service directly (no network).
func (e *env) serve(req *http.Request) reply {
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// get sends GET /oauth2/token to host with query q and, unless user and
// pass are both empty, Basic credentials.
func (e *env) get(host string, q url.Values, user, pass string) reply {
	req := httptest.NewRequest(http.MethodGet, "https://"+host+"/oauth2/token?"+q.Encode(), nil)
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	return e.serve(req)
}

// post sends a form to path on host.
func (e *env) post(host, path string, form url.Values) reply {
	req := httptest.NewRequest(http.MethodPost, "https://"+host+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.serve(req)
}

// basicToken gets an access token with Basic credentials for scopes.
func (e *env) basicToken(r registry.Registry, user, pass string, scopes ...string) reply {
	return e.get(r.LoginServer, url.Values{"service": {r.LoginServer}, "scope": scopes}, user, pass)
}

// exchange trades an Entra token for an ACR refresh token.
func (e *env) exchange(r registry.Registry, entra, tenant string) reply {
	form := url.Values{"grant_type": {"access_token"}, "service": {r.LoginServer}, "access_token": {entra}}
	if tenant != "" {
		form.Set("tenant", tenant)
	}
	return e.post(r.LoginServer, "/oauth2/exchange", form)
}

// refreshToken exchanges p's ARM token for an ACR refresh token of r.
func (e *env) refreshToken(r registry.Registry, p servertest.Principal) string {
	e.t.Helper()
	rep := e.exchange(r, e.IssueToken(e.t, e.Identity, p, armResource), "")
	if rep.status != http.StatusOK {
		e.t.Fatalf("exchange: %d %s", rep.status, rep.body)
	}
	var b struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(rep.body, &b); err != nil || b.RefreshToken == "" {
		e.t.Fatalf("exchange body %s: %v", rep.body, err)
	}
	return b.RefreshToken
}

// refresh trades a refresh token for an access token to scopes (one
// space-separated scope parameter, as docker sends them).
func (e *env) refresh(r registry.Registry, rt string, scopes ...string) reply {
	return e.post(r.LoginServer, "/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "service": {r.LoginServer}, "refresh_token": {rt}, "scope": {strings.Join(scopes, " ")},
		"client_id": {"docker"},
	})
}

// mustAccess returns the access a successful token reply grants.
func (e *env) mustAccess(rep reply) []acrtoken.Scope {
	e.t.Helper()
	if rep.status != http.StatusOK {
		e.t.Fatalf("token request: %d %s", rep.status, rep.body)
	}
	return accessOf(e.t, rep.token().AccessToken)
}

// authenticate runs Authenticate for a request with the Authorization
// header h.
func (e *env) authenticate(r registry.Registry, h string, want ...string) (acrtoken.Grant, error) {
	e.t.Helper()
	scopes, err := acrtoken.ParseScopes(want...)
	if err != nil {
		e.t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "https://"+r.LoginServer+"/v2/", nil)
	if h != "" {
		req.Header.Set("Authorization", h)
	}
	return e.srv.Authenticate(context.Background(), req, e.reg(r), scopes)
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// claimsOf decodes a token's payload without verifying it.
func claimsOf(t testing.TB, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// accessOf decodes an access token's access claim without verifying it.
func accessOf(t testing.TB, raw string) []acrtoken.Scope {
	t.Helper()
	data, err := json.Marshal(claimsOf(t, raw)["access"])
	if err != nil {
		t.Fatal(err)
	}
	var s []acrtoken.Scope
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// isUnauthorized reports whether err is the service's 401.
func isUnauthorized(err error) bool {
	return errdefs.IsKind(err, errdefs.Unauthenticated)
}
