package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// recorder is a TLS test server that records raw request lines.
type recorder struct {
	mu   sync.Mutex
	srv  *httptest.Server
	reqs []string
}

func newRecorder(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) (*recorder, *Client) {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.Method+" "+r.URL.RequestURI())
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	c, err := New(Config{Endpoint: rec.srv.URL, HTTPClient: rec.srv.Client(), PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return rec, c
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

func TestNewRequiresHTTPS(t *testing.T) {
	for _, ep := range []string{"", "http://localhost:8443", "localhost:8443"} {
		if _, err := New(Config{Endpoint: ep}); err == nil {
			t.Errorf("New(%q) succeeded", ep)
		}
	}
}

func TestClientCredentialsToken(t *testing.T) {
	var form map[string][]string
	var path string
	_, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		form, path = r.PostForm, r.URL.Path
		_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "tok"})
	})
	before := time.Now()
	tok, err := c.ClientCredentialsToken(context.Background(), "tenant1", "app", "s3cret", ResourceARM)
	if err != nil {
		t.Fatal(err)
	}
	if path != "/tenant1/oauth2/v2.0/token" {
		t.Errorf("path = %s", path)
	}
	want := map[string]string{"client_id": "app", "client_secret": "s3cret", "grant_type": "client_credentials",
		"scope": "https://management.core.windows.net//.default"}
	for k, v := range want {
		if form[k][0] != v {
			t.Errorf("form %s = %q, want %q", k, form[k], v)
		}
	}
	if tok.AccessToken != "tok" || tok.ExpiresOn.Before(before.Add(3598*time.Second)) {
		t.Errorf("token = %+v", tok)
	}
	if s := ScopeForResource(ResourceGraph); s != "https://graph.microsoft.com/.default" {
		t.Errorf("graph scope = %s", s)
	}
	if r := ResourceForScope("https://management.core.windows.net//.default"); r != ResourceARM {
		t.Errorf("ResourceForScope = %s", r)
	}
}

func TestTokenErrorIsLoginSurface(t *testing.T) {
	_, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`)
	})
	_, err := c.ClientCredentialsToken(context.Background(), "t", "a", "bad", ResourceARM)
	re, ok := AsResponseError(err)
	if !ok || re.Surface != SurfaceLogin || re.Code != "invalid_client" || !errdefs.IsKind(err, errdefs.Unauthenticated) {
		t.Fatalf("err = %v (%+v)", err, re)
	}
}

func TestARMListFollowsNextLinkAndSendsAPIVersion(t *testing.T) {
	var srvURL string
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tk" {
			t.Errorf("missing bearer token")
		}
		if r.URL.Query().Get("skip") == "" {
			_ = json.NewEncoder(w).Encode(arm.List[arm.ResourceGroup]{Value: []arm.ResourceGroup{{Name: "a"}},
				NextLink: srvURL + "/subscriptions/s/resourcegroups?api-version=2021-04-01&skip=1"})
			return
		}
		_ = json.NewEncoder(w).Encode(arm.List[arm.ResourceGroup]{Value: []arm.ResourceGroup{{Name: "b"}}})
	})
	srvURL = rec.srv.URL
	groups, err := c.ARM(StaticToken("tk")).ListResourceGroups(context.Background(), "s", "tagname eq 'env'")
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].Name != "a" || groups[1].Name != "b" {
		t.Errorf("groups = %+v", groups)
	}
	reqs := rec.requests()
	want := "GET /subscriptions/s/resourcegroups?api-version=2021-04-01&$filter=tagname%20eq%20%27env%27"
	if reqs[0] != want {
		t.Errorf("request = %s\nwant      %s", reqs[0], want)
	}
}

func TestNextLinkToAnotherHostIsRefused(t *testing.T) {
	_, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(arm.List[arm.Tenant]{NextLink: "https://evil.example.com/tenants?api-version=1"})
	})
	if _, err := c.ARM(StaticToken("tk")).ListTenants(context.Background()); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v", err)
	}
}

func TestGraphFilterEncodingAndPaging(t *testing.T) {
	var srvURL string
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("$skiptoken") == "" {
			_ = json.NewEncoder(w).Encode(graph.List[graph.ServicePrincipal]{Value: []graph.ServicePrincipal{{ID: "1"}},
				NextLink: srvURL + "/v1.0/servicePrincipals?$skiptoken=x"})
			return
		}
		_ = json.NewEncoder(w).Encode(graph.List[graph.ServicePrincipal]{Value: []graph.ServicePrincipal{{ID: "2"}}})
	})
	srvURL = rec.srv.URL
	sps, err := c.Graph(StaticToken("tk")).ListServicePrincipals(context.Background(), "startswith(displayName,'acr pull')")
	if err != nil {
		t.Fatal(err)
	}
	if len(sps) != 2 {
		t.Errorf("sps = %+v", sps)
	}
	want := "GET /v1.0/servicePrincipals?$filter=startswith%28displayName%2C%27acr%20pull%27%29"
	if got := rec.requests()[0]; got != want {
		t.Errorf("request = %s\nwant      %s", got, want)
	}
}

func TestDeleteResourceGroupPollsLocation(t *testing.T) {
	polls := 0
	var srvURL string
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete:
			w.Header().Set("Location", srvURL+"/op/1")
			w.WriteHeader(http.StatusAccepted)
		case r.URL.Path == "/op/1":
			polls++
			if polls < 3 {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			w.WriteHeader(http.StatusOK)
		}
	})
	srvURL = rec.srv.URL
	if err := c.ARM(StaticToken("tk")).DeleteResourceGroup(context.Background(), "s", "g", false); err != nil {
		t.Fatal(err)
	}
	if polls != 3 {
		t.Errorf("polls = %d", polls)
	}
	if err := c.ARM(StaticToken("tk")).DeleteResourceGroup(context.Background(), "s", "g", true); err != nil {
		t.Fatal(err)
	}
	if polls != 3 {
		t.Errorf("--no-wait polled")
	}
}

func TestDeleteResourceGroupAsyncOperationFailure(t *testing.T) {
	var srvURL string
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.Header().Set("Azure-AsyncOperation", srvURL+"/op/2")
			w.WriteHeader(http.StatusAccepted)
			return
		}
		_, _ = io.WriteString(w, `{"status":"Failed","error":{"code":"Conflict","message":"nope"}}`)
	})
	srvURL = rec.srv.URL
	err := c.ARM(StaticToken("tk")).DeleteResourceGroup(context.Background(), "s", "g", false)
	re, ok := AsResponseError(err)
	if !ok || re.Code != "Conflict" || re.Message != "nope" {
		t.Fatalf("err = %v", err)
	}
}

func TestResourceGroupExists(t *testing.T) {
	_, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/yes") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	})
	a := c.ARM(StaticToken("tk"))
	if ok, err := a.ResourceGroupExists(context.Background(), "s", "yes"); !ok || err != nil {
		t.Errorf("yes: %v %v", ok, err)
	}
	if ok, err := a.ResourceGroupExists(context.Background(), "s", "no"); ok || err != nil {
		t.Errorf("no: %v %v", ok, err)
	}
}

func TestRoleAssignmentPaths(t *testing.T) {
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			var body arm.RoleAssignmentCreate
			_ = json.NewDecoder(r.Body).Decode(&body)
			if body.Properties.PrincipalType != "ServicePrincipal" {
				t.Errorf("body = %+v", body)
			}
			w.WriteHeader(http.StatusCreated)
		}
		_, _ = io.WriteString(w, `{"value":[]}`)
	})
	a := c.ARM(StaticToken("tk"))
	ctx := context.Background()
	scope := "/subscriptions/s/resourceGroups/my rg"
	_, _ = a.CreateRoleAssignment(ctx, scope, "n1", arm.RoleAssignmentCreate{Properties: arm.RoleAssignmentCreateProperties{
		RoleDefinitionID: "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/r", PrincipalID: "p", PrincipalType: "ServicePrincipal"}})
	_, _ = a.ListRoleAssignmentsForScope(ctx, scope, "atScope()")
	_, _ = a.ListRoleDefinitions(ctx, scope, "roleName eq 'AcrPull'")
	want := []string{
		"PUT /subscriptions/s/resourceGroups/my%20rg/providers/Microsoft.Authorization/roleAssignments/n1?api-version=2022-04-01",
		"GET /subscriptions/s/resourceGroups/my%20rg/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope%28%29",
		"GET /subscriptions/s/resourceGroups/my%20rg/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName%20eq%20%27AcrPull%27",
	}
	got := rec.requests()
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %s\nwant        %s", i, got[i], want[i])
		}
	}
}

func TestDebugLogRedactsSecrets(t *testing.T) {
	var buf bytes.Buffer
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"SECRET-TOKEN"}`)
	}))
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL, HTTPClient: srv.Client(),
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.ClientCredentialsToken(context.Background(), "t", "app", "SECRET-PASSWORD", ResourceARM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ARM(StaticToken(tok.AccessToken)).ListTenants(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := buf.String()
	for _, secret := range []string{"SECRET-TOKEN", "SECRET-PASSWORD"} {
		if strings.Contains(log, secret) {
			t.Errorf("debug log leaks %s:\n%s", secret, log)
		}
	}
	if !strings.Contains(log, "Request URL") || !strings.Contains(log, "client_secret=REDACTED") {
		t.Errorf("debug log lacks request lines:\n%s", log)
	}
}

func TestSecretCredentialCaches(t *testing.T) {
	n := 0
	_, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		_, _ = io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"t"}`)
	})
	cred := &SecretCredential{Client: c, TenantID: "t", ClientID: "a", Secret: "s"}
	for i := 0; i < 3; i++ {
		if _, err := cred.Token(context.Background(), ResourceARM); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cred.Token(context.Background(), ResourceGraph); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}
