package login_test

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

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/login"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
	"github.com/cerulean/cerulean/internal/tlsca"
	"github.com/cerulean/cerulean/internal/token"
)

// signingKey is shared: RSA key generation is slow.
var signingKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a running login surface over real HTTPS, with real identity
// services over the sqlite store, a tenant and one client with a secret.
type env struct {
	t       testing.TB
	url     string // https://127.0.0.1:port
	host    string // 127.0.0.1:port
	addr    string
	pool    *x509.CertPool
	client  *http.Client
	ids     *identity.Service
	signer  *token.Signer
	tenant  identity.Tenant
	app     identity.Application
	sp      identity.ServicePrincipal
	secret  string
	logs    *syncBuffer
	handler http.Handler
}

type envOptions struct {
	extraHosts func(addr string) []string
}

func newEnv(t testing.TB, opts ...envOptions) *env {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "cerulean.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	signer := token.New(signingKey())
	ids := identity.NewService(identity.Config{Store: st.Identity(), Signer: signer})

	bundle, err := tlsca.LoadOrCreate(tlsca.Config{
		Dir:      t.TempDir(),
		DNSNames: []string{"localhost", "login.microsoftonline.com"},
		IPs:      []net.IP{net.ParseIP("127.0.0.1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	var hosts []string
	for _, o := range opts {
		if o.extraHosts != nil {
			hosts = append(hosts, o.extraHosts(addr)...)
		}
	}
	h := login.New(login.Config{Logger: logger, Identity: ids, Signer: signer, Hosts: hosts})
	srv := &http.Server{
		Handler:           server.Middleware(logger, h),
		Protocols:         server.Protocols(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	go func() {
		_ = srv.Serve(server.NewTLSListener(ln, &tls.Config{Certificates: []tls.Certificate{bundle.Cert}}))
	}()
	t.Cleanup(func() { srv.Close() })

	e := &env{
		t: t, url: "https://" + addr, host: addr, addr: addr, pool: bundle.CertPool(), ids: ids, signer: signer, logs: logs, handler: h,
		client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: bundle.CertPool()}, MaxIdleConnsPerHost: 64}},
	}
	t.Cleanup(e.client.CloseIdleConnections)
	e.tenant, err = ids.CreateTenant(ctx, identity.Tenant{DisplayName: "Default Directory"})
	if err != nil {
		t.Fatal(err)
	}
	e.app, e.sp, e.secret = e.newClient("client-app")
	return e
}

// newClient registers an application with a service principal and a
// secret (on the service principal, as az ad sp credential reset does).
func (e *env) newClient(name string) (identity.Application, identity.ServicePrincipal, string) {
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
	_, secret, err := e.ids.AddPassword(ctx, identity.OnServicePrincipal, e.tenant.ID, sp.ID, identity.PasswordInput{DisplayName: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return app, sp, secret
}

// post sends a form to path with optional headers.
func (e *env) post(path string, form url.Values, hdr http.Header) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	for k, v := range hdr {
		req.Header[k] = v
	}
	return e.do(req)
}

func (e *env) get(path string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
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

// credsForm is a v2 client credentials form for the env's client.
func (e *env) credsForm(scope string) url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {e.app.AppID},
		"client_secret": {e.secret},
		"scope":         {scope},
	}
}

func decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, body)
	}
	return v
}

var errNoDial = errors.New("test transport: dial refused")
