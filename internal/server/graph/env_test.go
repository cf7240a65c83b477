package graph_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
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

	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/graph"
	"github.com/cerulean/cerulean/internal/server/login"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
	"github.com/cerulean/cerulean/internal/tlsca"
	"github.com/cerulean/cerulean/internal/token"
)

var signingKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// directory adapts identity to rbac.Directory, as the composition root does.
type directory struct{ ids *identity.Service }

func (d directory) PrincipalType(ctx context.Context, tenantID, objectID string) (principal.Type, error) {
	if _, err := d.ids.ServicePrincipal(ctx, tenantID, objectID); err != nil {
		return "", err
	}
	return principal.ServicePrincipal, nil
}

// client is a service principal with a secret and, when it has one, a role
// at the subscription.
type client struct {
	app    identity.Application
	sp     identity.ServicePrincipal
	secret string
	token  string // a Graph token
}

// env runs Graph and the login surface on one HTTPS listener, over real
// identity, rbac and resource services on the sqlite store, with a tenant,
// a subscription and clients holding Owner, Reader and AcrPull there.
type env struct {
	t      testing.TB
	url    string
	host   string
	client *http.Client
	ids    *identity.Service
	rbac   *rbac.Service
	signer *token.Signer
	tenant identity.Tenant
	sub    resource.Subscription
	owner  client
	reader client
	puller client
	logs   *bytes.Buffer
	mu     sync.Mutex
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewJSONHandler(lockedWriter{e}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "cerulean.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.signer = token.New(signingKey())
	e.ids = identity.NewService(identity.Config{Store: st.Identity(), Signer: e.signer})
	e.rbac = rbac.NewService(st.RBAC(), directory{e.ids}, nil)
	resources := resource.NewService(st.Resources(), nil)

	bundle, err := tlsca.LoadOrCreate(tlsca.Config{Dir: t.TempDir(), DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1.0/", graph.New(graph.Config{Logger: logger, Identity: e.ids, RBAC: e.rbac, Resources: resources}))
	mux.Handle("/", login.New(login.Config{Logger: logger, Identity: e.ids, Signer: e.signer}))
	srv := &http.Server{Handler: server.Middleware(logger, mux), Protocols: server.Protocols(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_ = srv.Serve(server.NewTLSListener(ln, &tls.Config{Certificates: []tls.Certificate{bundle.Cert}}))
	}()
	t.Cleanup(func() { srv.Close() })
	e.host = ln.Addr().String()
	e.url = "https://" + e.host
	e.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: bundle.CertPool()}}}
	t.Cleanup(e.client.CloseIdleConnections)

	if e.tenant, err = e.ids.CreateTenant(ctx, identity.Tenant{DisplayName: "Default Directory"}); err != nil {
		t.Fatal(err)
	}
	if e.sub, err = resources.CreateSubscription(ctx, resource.Subscription{ID: server.NewID(), DisplayName: "sub", TenantID: e.tenant.ID}); err != nil {
		t.Fatal(err)
	}
	e.owner = e.newClient("owner", rbac.OwnerID)
	e.reader = e.newClient("reader", rbac.ReaderID)
	e.puller = e.newClient("puller", rbac.AcrPullID)
	return e
}

type lockedWriter struct{ e *env }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.e.logs.Write(p)
}

func (e *env) logText() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.String()
}

// newClient registers a client, gives it role (if any) at the
// subscription and fetches a Graph token for it over HTTPS.
func (e *env) newClient(name, role string) client {
	e.t.Helper()
	ctx := context.Background()
	app, err := e.ids.CreateApplication(ctx, e.tenant.ID, identity.ApplicationInput{DisplayName: &name})
	if err != nil {
		e.t.Fatal(err)
	}
	sp, err := e.ids.CreateServicePrincipal(ctx, e.tenant.ID, app.AppID, identity.ServicePrincipalInput{})
	if err != nil {
		e.t.Fatal(err)
	}
	_, secret, err := e.ids.AddPassword(ctx, identity.OnApplication, e.tenant.ID, app.ID, identity.PasswordInput{})
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		_, _, err := e.rbac.Create(ctx, rbac.CreateInput{
			TenantID: e.tenant.ID, Scope: resourceid.ForSubscription(e.sub.ID), Name: server.NewID(),
			RoleDefinitionID: role, PrincipalID: sp.ID,
		})
		if err != nil {
			e.t.Fatal(err)
		}
	}
	c := client{app: app, sp: sp, secret: secret}
	c.token = e.token(app.AppID, secret, "https://graph.microsoft.com/.default")
	return c
}

// token gets an access token from the login surface.
func (e *env) token(clientID, secret, scope string) string {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/"+e.tenant.ID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := e.do(req)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var tr oauth2.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		e.t.Fatal(err)
	}
	return tr.AccessToken
}

// call sends a Graph request with a bearer token; body may be a string, a
// []byte or a value to encode as JSON.
func (e *env) call(tok, method, path string, body any) (*http.Response, []byte) {
	e.t.Helper()
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
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, body
}

func decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, body)
	}
	return v
}

// graphError is the Graph error envelope as a client reads it.
type graphError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// wantError asserts a Graph error's status and code, and a message
// containing msg.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code, msg string) graphError {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d: %s", resp.StatusCode, status, body)
	}
	ge := decode[graphError](t, body)
	if ge.Error.Code != code || !strings.Contains(ge.Error.Message, msg) {
		t.Fatalf("error %q %q, want %q containing %q", ge.Error.Code, ge.Error.Message, code, msg)
	}
	if ge.Error.InnerError.RequestID == "" || ge.Error.InnerError.RequestID != resp.Header.Get("request-id") || ge.Error.InnerError.Date == "" {
		t.Fatalf("innerError %+v, request-id header %q", ge.Error.InnerError, resp.Header.Get("request-id"))
	}
	return ge
}
