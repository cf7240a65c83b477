package login_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/login"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

// env is a running login surface over real HTTPS (servertest: real
// identity services over the sqlite store, a tenant), with one client whose
// secret is on its service principal.
type env struct {
	*servertest.Env
	t      testing.TB
	app    identity.Application
	sp     identity.ServicePrincipal
	secret string
}

type envOptions struct {
	extraHosts func(addr string) []string
}

func newEnv(t testing.TB, opts ...envOptions) *env {
	t.Helper()
	e := &env{t: t}
	e.Env = servertest.New(t, servertest.Options{
		CaptureLogs: true,
		DNSNames:    []string{"login.microsoftonline.com"},
		Handler: func(s *servertest.Env) http.Handler {
			var hosts []string
			for _, o := range opts {
				if o.extraHosts != nil {
					hosts = append(hosts, o.extraHosts(s.Addr)...)
				}
			}
			return server.Middleware(s.Logger, login.New(login.Config{Logger: s.Logger, Identity: s.Identity, Signer: s.Signer, Hosts: hosts}))
		},
	})
	e.app, e.sp, e.secret = e.newClient("client-app")
	return e
}

// newClient registers an application with a service principal and a
// secret (on the service principal, as az ad sp credential reset does).
func (e *env) newClient(name string) (identity.Application, identity.ServicePrincipal, string) {
	e.t.Helper()
	p := e.NewPrincipal(e.t, name, identity.OnServicePrincipal)
	return p.App, p.SP, p.Secret
}

// post sends a form to path with optional headers.
func (e *env) post(path string, form url.Values, hdr http.Header) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+path, strings.NewReader(form.Encode()))
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
	req, err := http.NewRequest(http.MethodGet, e.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	return servertest.Do(e.t, e.H1, req)
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

var errNoDial = errors.New("test transport: dial refused")
