package graph_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/graph"
	"github.com/cerulean/cerulean/internal/server/login"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

// client is a service principal with a secret, a Graph token and, when it
// has one, a role at the subscription.
type client struct {
	servertest.Principal
	token string // a Graph token
}

// env runs Graph and the login surface on one HTTPS listener, over real
// identity, rbac and resource services on the sqlite store, with a tenant,
// a subscription and clients holding Owner, Reader and AcrPull there.
type env struct {
	*servertest.Env
	t      testing.TB
	owner  client // Owner, with a Graph token
	reader client
	puller client
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t}
	e.Env = servertest.New(t, servertest.Options{
		CaptureLogs: true,
		Handler: func(s *servertest.Env) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/v1.0/", graph.New(graph.Config{Logger: s.Logger, Identity: s.Identity, RBAC: s.RBAC, Resources: s.Resources}))
			mux.Handle("/", login.New(login.Config{Logger: s.Logger, Identity: s.Identity, Signer: s.Signer}))
			return server.Middleware(s.Logger, mux)
		},
	})
	e.owner = client{Principal: e.Owner, token: e.graphToken(e.Owner)}
	e.reader = e.newClient("reader", rbac.ReaderID)
	e.puller = e.newClient("puller", rbac.AcrPullID)
	return e
}

// newClient registers a client, gives it role (if any) at the
// subscription and fetches a Graph token for it over HTTPS.
func (e *env) newClient(name, role string) client {
	e.t.Helper()
	p := e.NewPrincipal(e.t, name, identity.OnApplication)
	if role != "" {
		e.Assign(e.t, p.SP.ID, role, e.SubscriptionScope())
	}
	return client{Principal: p, token: e.graphToken(p)}
}

func (e *env) graphToken(p servertest.Principal) string {
	e.t.Helper()
	return e.token(p.App.AppID, p.Secret, "https://graph.microsoft.com/.default")
}

// token gets an access token from the login surface.
func (e *env) token(clientID, secret, scope string) string {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/"+e.Tenant.ID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
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
	return e.do(e.Request(e.t, method, path, tok, body))
}

func (e *env) do(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	return servertest.Do(e.t, e.H1, req)
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
	ge := servertest.Decode[graphError](t, body)
	if ge.Error.Code != code || !strings.Contains(ge.Error.Message, msg) {
		t.Fatalf("error %q %q, want %q containing %q", ge.Error.Code, ge.Error.Message, code, msg)
	}
	if ge.Error.InnerError.RequestID == "" || ge.Error.InnerError.RequestID != resp.Header.Get("request-id") || ge.Error.InnerError.Date == "" {
		t.Fatalf("innerError %+v, request-id header %q", ge.Error.InnerError, resp.Header.Get("request-id"))
	}
	return ge
}
