package arm

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/login"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
	"github.com/cerulean/cerulean/internal/tlsca"
	"github.com/cerulean/cerulean/internal/token"
)

const armResource = "https://management.core.windows.net/"

// directory is the composition root's rbac.Directory, for tests.
type directory struct{ ids *identity.Service }

func (d directory) PrincipalType(ctx context.Context, tenantID, objectID string) (principal.Type, error) {
	if _, err := d.ids.ServicePrincipal(ctx, tenantID, objectID); err != nil {
		return "", err
	}
	return principal.ServicePrincipal, nil
}

// env is a running Cerulean with the ARM and login surfaces behind the
// TLS listener that repairs request lines, on a sqlite store.
type env struct {
	store  *sqlstore.Store
	signer *token.Signer
	ids    *identity.Service
	rbac   *rbac.Service
	res    *resource.Service
	tenant identity.Tenant
	sub    resource.Subscription
	url    string
	pool   *x509.CertPool
	h1, h2 *http.Client
	owner  *actor

	mu     sync.Mutex
	protos map[string]int // request protocol → count, as the server saw them
}

// actor is a service principal with a client secret and an ARM token.
type actor struct {
	app    identity.Application
	sp     identity.ServicePrincipal
	secret string
	keyID  string
	token  string
}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func signingKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlstore.Open(ctx, filepath.Join(dir, "cerulean.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{store: st, signer: token.New(signingKey(t)), protos: map[string]int{}}
	e.ids = identity.NewService(identity.Config{Store: st.Identity(), Signer: e.signer})
	e.rbac = rbac.NewService(st.RBAC(), directory{e.ids}, nil)
	e.res = resource.NewService(st.Resources(), nil)
	if e.tenant, err = e.ids.CreateTenant(ctx, identity.Tenant{DisplayName: "Test"}); err != nil {
		t.Fatal(err)
	}
	if e.sub, err = e.res.CreateSubscription(ctx, resource.Subscription{ID: server.NewID(), DisplayName: "Test subscription", TenantID: e.tenant.ID}); err != nil {
		t.Fatal(err)
	}

	logger := slog.New(slog.DiscardHandler)
	armH := server.Middleware(logger, New(Config{Logger: logger, Identity: e.ids, RBAC: e.rbac, Resources: e.res}))
	loginH := login.New(login.Config{Logger: logger, Identity: e.ids, Signer: e.signer})
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.protos[r.Proto]++
		e.mu.Unlock()
		first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch strings.ToLower(first) {
		case "subscriptions", "providers", "tenants":
			armH.ServeHTTP(w, r)
		default:
			loginH.ServeHTTP(w, r)
		}
	})

	bundle, err := tlsca.LoadOrCreate(tlsca.Config{Dir: filepath.Join(dir, "tls"), DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, Protocols: server.Protocols(), ReadHeaderTimeout: 10 * time.Second}
	tlsLn := server.NewTLSListener(ln, &tls.Config{Certificates: []tls.Certificate{bundle.Cert}, MinVersion: tls.VersionTLS12})
	go srv.Serve(tlsLn)
	t.Cleanup(func() { srv.Close() })
	e.url = "https://" + ln.Addr().String()
	e.pool = bundle.CertPool()
	e.h1 = &http.Client{Transport: e.transport(false)}
	e.h2 = &http.Client{Transport: e.transport(true)}
	t.Cleanup(e.h1.CloseIdleConnections)
	t.Cleanup(e.h2.CloseIdleConnections)

	e.owner = e.newActor(t, "owner", grant{rbac.OwnerID, resourceid.ForSubscription(e.sub.ID)})
	return e
}

// transport returns an HTTPS transport trusting the test CA, speaking
// HTTP/2 or only HTTP/1.1.
func (e *env) transport(h2 bool) *http.Transport {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pool}, MaxIdleConnsPerHost: 64}
	var p http.Protocols
	if h2 {
		p.SetHTTP2(true)
	} else {
		p.SetHTTP1(true)
	}
	tr.Protocols = &p
	return tr
}

func (e *env) sawProtocols() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for k, v := range e.protos {
		out[k] = v
	}
	return out
}

func (e *env) resetProtocols() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.protos = map[string]int{}
}

type grant struct {
	role  string
	scope resourceid.ID
}

// newActor registers an application with a service principal and a
// secret, assigns it roles, and issues it an ARM token.
func (e *env) newActor(t testing.TB, name string, grants ...grant) *actor {
	t.Helper()
	ctx := context.Background()
	app, err := e.ids.CreateApplication(ctx, e.tenant.ID, identity.ApplicationInput{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := e.ids.CreateServicePrincipal(ctx, e.tenant.ID, app.AppID, identity.ServicePrincipalInput{})
	if err != nil {
		t.Fatal(err)
	}
	cred, secret, err := e.ids.AddPassword(ctx, identity.OnApplication, e.tenant.ID, app.ID, identity.PasswordInput{DisplayName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	a := &actor{app: app, sp: sp, secret: secret, keyID: cred.KeyID}
	for _, g := range grants {
		e.assign(t, a, g.role, g.scope)
	}
	a.token = e.issue(t, e.ids, a, armResource)
	return a
}

func (e *env) assign(t testing.TB, a *actor, role string, scope resourceid.ID) rbac.RoleAssignment {
	t.Helper()
	ra, _, err := e.rbac.Create(context.Background(), rbac.CreateInput{
		TenantID: e.tenant.ID, Scope: scope, Name: server.NewID(), RoleDefinitionID: role, PrincipalID: a.sp.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ra
}

// issue authenticates a with its secret and mints a token for resource
// with ids (which may have another clock or signer).
func (e *env) issue(t testing.TB, ids *identity.Service, a *actor, resource string) string {
	t.Helper()
	ctx := context.Background()
	auth, err := ids.Authenticate(ctx, e.tenant.ID, a.app.AppID, a.secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ids.IssueToken(ctx, auth, resource)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Raw
}

func (e *env) group(t testing.TB, name string) resourceid.ID {
	t.Helper()
	if _, _, err := e.res.PutGroup(context.Background(), e.sub.ID, name, resource.GroupInput{Location: "eastus"}); err != nil {
		t.Fatal(err)
	}
	return resourceid.ForResourceGroup(e.sub.ID, name)
}

func (e *env) subPath() string { return "/subscriptions/" + e.sub.ID }

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	body   []byte
	proto  string
}

func (r response) errorCode() string {
	var er arm.ErrorResponse
	_ = json.Unmarshal(r.body, &er)
	return er.Error.Code
}

func (r response) errorMessage() string {
	var er arm.ErrorResponse
	_ = json.Unmarshal(r.body, &er)
	return er.Error.Message
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// withAPI appends an api-version unless the path already has a query.
func withAPI(path string) string {
	if strings.Contains(path, "?") {
		return path
	}
	return path + "?api-version=2021-04-01"
}

// call sends a request with an optional bearer token and JSON body (a
// string or []byte is sent as is).
func (e *env) call(t testing.TB, c *http.Client, method, path, tok string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data, proto: resp.Proto}
}

// do is call over HTTP/1.1 with the api-version added.
func (e *env) do(t testing.TB, method, path, tok string, body any) response {
	t.Helper()
	return e.call(t, e.h1, method, withAPI(path), tok, body)
}

// escapeQuery percent-encodes a query value (spaces as %20, as az does).
func escapeQuery(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func expect(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if code != "" && r.errorCode() != code {
		t.Fatalf("code %q, want %q; body %s", r.errorCode(), code, r.body)
	}
}

func nilLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
