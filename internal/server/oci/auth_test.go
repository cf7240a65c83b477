package oci

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
)

const realm = `Bearer realm="https://myreg.azurecr.localhost:8443/oauth2/token",service="myreg.azurecr.localhost:8443"`

func TestChallenge(t *testing.T) {
	repo := func(name string, actions ...string) acrtoken.Scope {
		return acrtoken.Scope{Type: "repository", Name: name, Actions: actions}
	}
	tests := []struct {
		name string
		want []acrtoken.Scope
		err  string
		out  string
	}{
		{"no scope", nil, "", realm},
		{"pull", []acrtoken.Scope{repo("hello-world", "pull")}, "", realm + `,scope="repository:hello-world:pull"`},
		{"push", []acrtoken.Scope{repo("a/b", "pull", "push")}, "", realm + `,scope="repository:a/b:pull,push"`},
		{"catalog", []acrtoken.Scope{{Type: "registry", Name: "catalog", Actions: []string{"*"}}}, "", realm + `,scope="registry:catalog:*"`},
		{"mount", []acrtoken.Scope{repo("a", "pull", "push"), repo("b", "pull")}, challengeInsufficientScope,
			realm + `,scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"`},
		{"invalid token", []acrtoken.Scope{repo("a", "metadata_read")}, challengeInvalidToken, realm + `,scope="repository:a:metadata_read",error="invalid_token"`},
		{"invalid token without scope", nil, challengeInvalidToken, realm + `,error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := acrtoken.Challenge(registry.Registry{LoginServer: testLoginServer}, tt.want, tt.err); got != tt.out {
				t.Errorf("got  %s\nwant %s", got, tt.out)
			}
		})
	}
}

// TestUnauthorized checks ACR's 401 byte for byte: challenge, body with
// one capitalised detail entry per action, and that nothing but the
// registry lookup and authentication ran.
func TestUnauthorized(t *testing.T) {
	tests := []struct {
		name, method, path, auth string
		challenge, body          string
	}{
		{"ping anonymous", "GET", "/v2/", "", realm,
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information."}]}`},
		{"ping with a refused token", "GET", "/v2/", authRefused, realm + `,error="invalid_token"`,
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information."}]}`},
		{"manifest anonymous", "GET", "/v2/hello-world/manifests/latest", "", realm + `,scope="repository:hello-world:pull"`,
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":[{"Type":"repository","Name":"hello-world","Action":"pull"}]}]}`},
		{"push with a pull token", "PUT", "/v2/hello-world/manifests/latest", authPull, realm + `,scope="repository:hello-world:pull,push",error="insufficient_scope"`,
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":[{"Type":"repository","Name":"hello-world","Action":"pull"},{"Type":"repository","Name":"hello-world","Action":"push"}]}]}`},
		{"catalog with an empty token", "GET", "/v2/_catalog", authEmpty, realm + `,scope="registry:catalog:*",error="insufficient_scope"`,
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":[{"Type":"registry","Name":"catalog","Action":"*"}]}]}`},
		{"acr repository with a token for another repository", "GET", "/acr/v1/b", authRepoA, realm + `,scope="repository:b:metadata_read",error="insufficient_scope"`,
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":[{"Type":"repository","Name":"b","Action":"metadata_read"}]}]}`},
		{"escaped name", "GET", "/acr/v1/a%2Fb/_tags", "", realm + `,scope="repository:a/b:metadata_read"`,
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":[{"Type":"repository","Name":"a/b","Action":"metadata_read"}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(tt.method, tt.path, tt.auth, nil)
			wantStatus(t, rec, http.StatusUnauthorized)
			wantHeaders(t, rec, "Www-Authenticate", tt.challenge, "Content-Type", "application/json; charset=utf-8")
			if got := rec.Body.String(); got != tt.body {
				t.Errorf("body\n got %s\nwant %s", got, tt.body)
			}
			if got := e.log.list(); !slices.Equal(got, []string{"ByLoginServer", "Authenticate"}) {
				t.Errorf("calls %v: only the registry lookup and authentication may run before authorization", got)
			}
		})
	}
}

// TestScopesPerRoute checks the scope each route asks for (reference
// §1.1 and §4.1): it is what the 401 challenge names.
func TestScopesPerRoute(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	tests := []struct{ method, path, scope string }{
		{"GET", "/v2/a/blobs/" + d, "repository:a:pull"},
		{"HEAD", "/v2/a/blobs/" + d, "repository:a:pull"},
		{"DELETE", "/v2/a/blobs/" + d, "repository:a:delete"},
		{"POST", "/v2/a/blobs/uploads/", "repository:a:pull,push"},
		{"POST", "/v2/a/blobs/uploads/?mount=" + d + "&from=b", "repository:a:pull,push repository:b:pull"},
		{"POST", "/v2/a/blobs/uploads/?mount=" + d + "&from=a", "repository:a:pull,push"},
		{"POST", "/v2/a/blobs/uploads/?mount=" + d, "repository:a:pull,push"},
		{"POST", "/v2/a/blobs/uploads/?mount=" + d + "&from=B%22", "repository:a:pull,push"},
		{"POST", "/v2/a/blobs/uploads/?from=b", "repository:a:pull,push"},
		{"GET", "/v2/a/blobs/uploads/u", "repository:a:pull,push"},
		{"PATCH", "/v2/a/blobs/uploads/u", "repository:a:pull,push"},
		{"PUT", "/v2/a/blobs/uploads/u", "repository:a:pull,push"},
		{"DELETE", "/v2/a/blobs/uploads/u", "repository:a:pull,push"},
		{"GET", "/v2/a/manifests/v1", "repository:a:pull"},
		{"HEAD", "/v2/a/manifests/v1", "repository:a:pull"},
		{"PUT", "/v2/a/manifests/v1", "repository:a:pull,push"},
		{"DELETE", "/v2/a/manifests/v1", "repository:a:delete"},
		{"GET", "/v2/a/tags/list", "repository:a:pull"},
		{"GET", "/v2/a/referrers/" + d, "repository:a:pull"},
		{"GET", "/v2/_catalog", "registry:catalog:*"},
		{"GET", "/acr/v1/_catalog", "registry:catalog:*"},
		{"GET", "/acr/v1/a", "repository:a:metadata_read"},
		{"PATCH", "/acr/v1/a", "repository:a:metadata_write"},
		{"DELETE", "/acr/v1/a", "repository:a:delete"},
		{"GET", "/acr/v1/a/_tags", "repository:a:metadata_read"},
		{"GET", "/acr/v1/a/_tags/v1", "repository:a:metadata_read"},
		{"PATCH", "/acr/v1/a/_tags/v1", "repository:a:metadata_write"},
		{"DELETE", "/acr/v1/a/_tags/v1", "repository:a:delete"},
		{"GET", "/acr/v1/a/_manifests", "repository:a:metadata_read"},
		{"GET", "/acr/v1/a/_manifests/" + d, "repository:a:metadata_read"},
		{"PATCH", "/acr/v1/a/_manifests/" + d, "repository:a:metadata_write"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(tt.method, tt.path, "", nil)
			wantStatus(t, rec, http.StatusUnauthorized)
			wantHeaders(t, rec, "Www-Authenticate", realm+`,scope="`+tt.scope+`"`)
		})
	}
}

// TestAuthBeforeEverything: a caller without access gets 401 before the
// registry is asked anything and before the body or the reference is
// looked at (the Azure SDK's first attempt has no body; gotchas 3 and 4).
func TestAuthBeforeEverything(t *testing.T) {
	tests := []struct{ name, method, path string }{
		{"unknown repository", "GET", "/v2/nothing/manifests/latest"},
		{"malformed reference", "GET", "/v2/a/manifests/sha256:zz"},
		{"malformed upload id", "PATCH", "/v2/a/blobs/uploads/a%20b"},
		{"malformed mount", "POST", "/v2/a/blobs/uploads/?mount=x&from=b"},
		{"empty manifest body", "PUT", "/v2/a/manifests/v1"},
		{"malformed page size", "GET", "/v2/a/tags/list?n=-1"},
		{"acr patch without a body", "PATCH", "/acr/v1/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			body := &countingReader{}
			rec := e.do(tt.method, tt.path, "", body)
			wantStatus(t, rec, http.StatusUnauthorized)
			if body.reads != 0 {
				t.Error("the body was read before authorization")
			}
		})
	}
}

// countingReader is an empty body that counts reads.
type countingReader struct{ reads int }

func (c *countingReader) Read([]byte) (int, error) {
	c.reads++
	return 0, nil
}

func TestBaseRoute(t *testing.T) {
	tests := []struct {
		name, method, auth string
		anonymousPull      bool
		status             int
		body               string
	}{
		{"token with empty access", "GET", authEmpty, false, 200, "{}"},
		{"basic credentials", "GET", authBasic, false, 200, "{}"},
		{"head", "HEAD", authEmpty, false, 200, ""},
		{"anonymous", "GET", "", false, 401, ""},
		{"anonymous with anonymous pull", "GET", "", true, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.anonymousPull {
				e.auth.anonymous = grantOnly(actionPull)
			}
			rec := e.do(tt.method, "/v2/", tt.auth, nil)
			wantStatus(t, rec, tt.status)
			if tt.status == 200 {
				wantHeaders(t, rec, "Content-Type", "application/json; charset=utf-8", "Content-Length", "2")
				if rec.Body.String() != tt.body {
					t.Errorf("body %q", rec.Body.String())
				}
			}
		})
	}
}

func TestAnonymousPull(t *testing.T) {
	e := newEnv(t)
	body, _ := e.pushImage("public", "v1", "")
	e.auth.anonymous = grantOnly(actionPull)
	rec := e.do("GET", "/v2/public/manifests/v1", "", nil)
	wantStatus(t, rec, http.StatusOK)
	if !bytes.Equal(rec.Body.Bytes(), body) {
		t.Error("body differs")
	}
	rec = e.do("PUT", "/v2/public/manifests/v2", "", bytes.NewReader(body))
	wantStatus(t, rec, http.StatusUnauthorized)
	wantHeaders(t, rec, "Www-Authenticate", realm+`,scope="repository:public:pull,push"`)
}

func TestAuthenticateFailures(t *testing.T) {
	t.Run("internal error is 500, not a challenge", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do("GET", "/v2/a/manifests/v1", authBroken, nil)
		e2 := wantError(t, rec, http.StatusInternalServerError, "UNKNOWN")
		if e2.Message != "internal error" {
			t.Errorf("message %q", e2.Message)
		}
		if rec.Header().Get("Www-Authenticate") != "" {
			t.Error("challenge on a 500")
		}
	})
	t.Run("the wanted scopes reach the authenticator", func(t *testing.T) {
		e := newEnv(t)
		d := "sha256:" + strings.Repeat("b", 64)
		e.do("POST", "/v2/a/blobs/uploads/?mount="+d+"&from=b", authAll, nil)
		want := []acrtoken.Scope{{Type: "repository", Name: "a", Actions: []string{"pull", "push"}}, {Type: "repository", Name: "b", Actions: []string{"pull"}}}
		got := e.auth.lastWant()
		if len(got) != 2 || got[0].String() != want[0].String() || got[1].String() != want[1].String() {
			t.Errorf("want %v, got %v", want, got)
		}
	})
}

func TestUnknownRegistry(t *testing.T) {
	e := newEnv(t)
	req := "https://other.azurecr.localhost:8443/v2/"
	rec := serve(e, "GET", req, "")
	wantError(t, rec, http.StatusNotFound, "NAME_UNKNOWN")
	if rec.Header().Get("Www-Authenticate") != "" {
		t.Error("an unknown registry has no token service to name")
	}
	if got := e.log.list(); !slices.Equal(got, []string{"ByLoginServer"}) {
		t.Errorf("calls %v", got)
	}
	e.regs.fail["ByLoginServer"] = registry.ErrRegistryNotFound.WithCause(bytes.ErrTooLarge)
	wantError(t, serve(e, "GET", "https://"+testHost+"/v2/", ""), http.StatusNotFound, "NAME_UNKNOWN")
}
