// Package servertest runs an inbound surface the way `cerulean serve` does,
// for that surface's tests: a sqlite store in a temporary directory, the
// identity, rbac and resource services over it, a tenant with a subscription
// and an Owner service principal, and the surface's handler behind the TLS
// listener that repairs request lines, with HTTP/1.1 and HTTP/2 clients that
// trust its CA.
//
// It is test support: only _test.go files import it (test/layout checks),
// which is why it, alone under internal/server, may open a store backend.
package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
	"github.com/cerulean/cerulean/internal/tlsca"
	"github.com/cerulean/cerulean/internal/token"
)

// Options says what differs between surfaces.
type Options struct {
	// Handler builds the handler to serve from the env's services. It runs
	// once the listener is bound, so Addr and URL are set, and before the
	// owner is created.
	Handler func(*Env) http.Handler
	// CaptureLogs sends the store's, the handler's and the HTTP server's
	// logs, as JSON from debug level up, to Env.Logs; otherwise they are
	// discarded.
	CaptureLogs bool
	// DNSNames are names the serving certificate holds besides localhost
	// and 127.0.0.1.
	DNSNames []string
}

// Env is a running server and what it runs on.
type Env struct {
	Store     *sqlstore.Store
	Signer    *token.Signer
	Identity  *identity.Service
	RBAC      *rbac.Service
	Resources *resource.Service
	Logger    *slog.Logger
	Logs      *LogBuffer // nil unless Options.CaptureLogs

	Tenant       identity.Tenant
	Subscription resource.Subscription // in Tenant
	Owner        Principal             // Owner at Subscription

	Addr   string         // 127.0.0.1:port
	URL    string         // https://127.0.0.1:port
	CA     *x509.CertPool // the pool that trusts the serving certificate
	H1, H2 *http.Client   // clients trusting CA, speaking only HTTP/1.1 or HTTP/2
}

// Principal is an application with its service principal and one client
// secret.
type Principal struct {
	App    identity.Application
	SP     identity.ServicePrincipal
	Secret string
	KeyID  string // the secret's
}

// signingKey is shared by every env in a test binary: RSA key generation
// is slow.
var signingKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// New starts a server for t, stopped when t ends.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx := context.Background()
	e := &Env{Logger: slog.New(slog.DiscardHandler)}
	if opts.CaptureLogs {
		e.Logs = &LogBuffer{}
		e.Logger = slog.New(slog.NewJSONHandler(e.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	dir := t.TempDir()
	st, err := sqlstore.Open(ctx, filepath.Join(dir, "cerulean.db"), e.Logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.Store = st
	e.Signer = token.New(signingKey())
	e.Identity = identity.NewService(identity.Config{Store: st.Identity(), Signer: e.Signer})
	e.RBAC = rbac.NewService(st.RBAC(), directory{e.Identity}, nil)
	e.Resources = resource.NewService(st.Resources(), nil)
	if e.Tenant, err = e.Identity.CreateTenant(ctx, identity.Tenant{DisplayName: "Default Directory"}); err != nil {
		t.Fatal(err)
	}
	e.Subscription, err = e.Resources.CreateSubscription(ctx, resource.Subscription{
		ID: server.NewID(), DisplayName: "Test subscription", TenantID: e.Tenant.ID,
	})
	if err != nil {
		t.Fatal(err)
	}

	bundle, err := tlsca.LoadOrCreate(tlsca.Config{
		Dir:      filepath.Join(dir, "tls"),
		DNSNames: append([]string{"localhost"}, opts.DNSNames...),
		IPs:      []net.IP{net.IPv4(127, 0, 0, 1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.Addr = ln.Addr().String()
	e.URL = "https://" + e.Addr
	srv := &http.Server{
		Handler:           opts.Handler(e),
		Protocols:         server.Protocols(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(e.Logger.Handler(), slog.LevelDebug),
	}
	tlsLn := server.NewTLSListener(ln, &tls.Config{Certificates: []tls.Certificate{bundle.Cert}, MinVersion: tls.VersionTLS12})
	go func() { _ = srv.Serve(tlsLn) }()
	t.Cleanup(func() { _ = srv.Close() })
	e.CA = bundle.CertPool()
	e.H1 = &http.Client{Transport: e.transport(false)}
	e.H2 = &http.Client{Transport: e.transport(true)}
	t.Cleanup(e.H1.CloseIdleConnections)
	t.Cleanup(e.H2.CloseIdleConnections)

	e.Owner = e.NewPrincipal(t, "owner", identity.OnApplication)
	e.Assign(t, e.Owner.SP.ID, rbac.OwnerID, e.SubscriptionScope())
	return e
}

// transport returns an HTTPS transport trusting the env's CA, speaking
// HTTP/2 or only HTTP/1.1.
func (e *Env) transport(h2 bool) *http.Transport {
	var p http.Protocols
	if h2 {
		p.SetHTTP2(true)
	} else {
		p.SetHTTP1(true)
	}
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.CA}, MaxIdleConnsPerHost: 64, Protocols: &p}
}

// SubscriptionScope is the scope of the env's subscription.
func (e *Env) SubscriptionScope() resourceid.ID { return resourceid.ForSubscription(e.Subscription.ID) }

// NewPrincipal registers an application named name in the tenant, with a
// service principal and a client secret held by the application
// (identity.OnApplication) or by the service principal.
func (e *Env) NewPrincipal(t testing.TB, name string, secretOn identity.OwnerKind) Principal {
	t.Helper()
	ctx := context.Background()
	app, err := e.Identity.CreateApplication(ctx, e.Tenant.ID, identity.ApplicationInput{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := e.Identity.CreateServicePrincipal(ctx, e.Tenant.ID, app.AppID, identity.ServicePrincipalInput{})
	if err != nil {
		t.Fatal(err)
	}
	owner := app.ID
	if secretOn == identity.OnServicePrincipal {
		owner = sp.ID
	}
	cred, secret, err := e.Identity.AddPassword(ctx, secretOn, e.Tenant.ID, owner, identity.PasswordInput{DisplayName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return Principal{App: app, SP: sp, Secret: secret, KeyID: cred.KeyID}
}

// Assign gives the principal with object id principalID the role with
// definition id role at scope.
func (e *Env) Assign(t testing.TB, principalID, role string, scope resourceid.ID) rbac.RoleAssignment {
	t.Helper()
	ra, _, err := e.RBAC.Create(context.Background(), rbac.CreateInput{
		TenantID: e.Tenant.ID, Scope: scope, Name: server.NewID(), RoleDefinitionID: role, PrincipalID: principalID,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ra
}

// IssueToken authenticates p with its secret and issues it an access token
// for resource, straight from ids: the env's Identity, or a service over
// the same store with another clock or signer.
func (e *Env) IssueToken(t testing.TB, ids *identity.Service, p Principal, resource string) string {
	t.Helper()
	ctx := context.Background()
	auth, err := ids.Authenticate(ctx, e.Tenant.ID, p.App.AppID, p.Secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ids.IssueToken(ctx, auth, resource)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Raw
}

// Request makes a request for e.URL+path, with a bearer token unless tok is
// empty and a JSON body unless body is nil: a string or []byte is sent as
// is, anything else is encoded.
func (e *Env) Request(t testing.TB, method, path, tok string, body any) *http.Request {
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
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req
}

// Do sends req with c and reads the whole reply; the returned response's
// body is closed.
func Do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// Decode unmarshals a JSON body into a T.
func Decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, body)
	}
	return v
}

// RunParallel benchmarks one request, made again for every iteration and
// sent through c from parallel goroutines (b.RunParallel); any reply but
// 200 OK fails b. It reports allocations and resets the timer first.
func RunParallel(b *testing.B, c *http.Client, method, url string, header http.Header, body string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var rd io.Reader
			if body != "" {
				rd = strings.NewReader(body)
			}
			req, err := http.NewRequest(method, url, rd)
			if err != nil {
				b.Error(err)
				return
			}
			for k, v := range header {
				req.Header[k] = v
			}
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

// LogBuffer is a log sink that goroutines may share.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// directory is the composition root's rbac.Directory: every principal is
// a service principal of the identity service.
type directory struct{ ids *identity.Service }

func (d directory) PrincipalType(ctx context.Context, tenantID, objectID string) (principal.Type, error) {
	if _, err := d.ids.ServicePrincipal(ctx, tenantID, objectID); err != nil {
		return "", err
	}
	return principal.ServicePrincipal, nil
}
