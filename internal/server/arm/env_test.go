package arm

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/login"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

const armResource = "https://management.core.windows.net/"

// env is a running Cerulean with the ARM and login surfaces behind the
// TLS listener that repairs request lines, on a sqlite store.
type env struct {
	*servertest.Env
	owner *actor // the env's Owner, with an ARM token

	mu     sync.Mutex
	protos map[string]int // request protocol → count, as the server saw them
}

// actor is a service principal with a client secret and an ARM token.
type actor struct {
	servertest.Principal
	token string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{protos: map[string]int{}}
	e.Env = servertest.New(t, servertest.Options{Handler: e.handler})
	e.owner = &actor{Principal: e.Owner, token: e.IssueToken(t, e.Identity, e.Owner, armResource)}
	// ARM answers every path itself: a redirect (login's ServeMux cleaning
	// a path ARM should have taken) is a bug to see, not to follow. Azure's
	// SDK for JavaScript does not resend the bearer token after one.
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e.H1.CheckRedirect, e.H2.CheckRedirect = noRedirect, noRedirect
	return e
}

// handler routes as the composition root does, counting protocols.
func (e *env) handler(s *servertest.Env) http.Handler {
	armH := server.Middleware(s.Logger, New(Config{Logger: s.Logger, Identity: s.Identity, RBAC: s.RBAC, Resources: s.Resources}))
	loginH := login.New(login.Config{Logger: s.Logger, Identity: s.Identity, Signer: s.Signer})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.protos[r.Proto]++
		e.mu.Unlock()
		first, _, _ := strings.Cut(strings.TrimLeft(r.URL.Path, "/"), "/")
		switch strings.ToLower(first) {
		case "subscriptions", "providers", "tenants":
			armH.ServeHTTP(w, r)
		default:
			loginH.ServeHTTP(w, r)
		}
	})
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
	a := &actor{Principal: e.NewPrincipal(t, name, identity.OnApplication)}
	for _, g := range grants {
		e.Assign(t, a.SP.ID, g.role, g.scope)
	}
	a.token = e.IssueToken(t, e.Identity, a.Principal, armResource)
	return a
}

func (e *env) group(t testing.TB, name string) resourceid.ID {
	t.Helper()
	if _, _, err := e.Resources.PutGroup(context.Background(), e.Subscription.ID, name, resource.GroupInput{Location: "eastus"}); err != nil {
		t.Fatal(err)
	}
	return resourceid.ForResourceGroup(e.Subscription.ID, name)
}

func (e *env) subPath() string { return "/subscriptions/" + e.Subscription.ID }

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
	resp, data := servertest.Do(t, c, e.Request(t, method, path, tok, body))
	return response{status: resp.StatusCode, header: resp.Header, body: data, proto: resp.Proto}
}

// do is call over HTTP/1.1 with the api-version added.
func (e *env) do(t testing.TB, method, path, tok string, body any) response {
	t.Helper()
	return e.call(t, e.H1, method, withAPI(path), tok, body)
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
