package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/client"
)

const acrDataRegistry = "mycontainerregistry"

// newACRDataEnv is a logged-in environment with one registry.
func newACRDataEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	e.mustRun("login", "-o", "none")
	e.mustRun("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	e.mustRun("acr", "create", "-g", "rg", "-n", acrDataRegistry, "--sku", "Basic", "-o", "none")
	return e
}

// importHello imports the fixture's v1 index under the given tags.
func (e *testEnv) importHello(tags ...string) {
	e.t.Helper()
	args := []string{"acr", "import", "-n", acrDataRegistry, "--source", "oci-layout:" + helloLayoutDir + ":v1", "--only-show-errors"}
	for _, t := range tags {
		args = append(args, "-t", t)
	}
	e.mustRun(args...)
}

// tokenScopes returns the scopes of the /oauth2/token posts since n.
func (dp *fakeDataPlane) tokenScopes(n int) []string {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	var out []string
	for _, f := range dp.tokens[n:] {
		out = append(out, f.Get("grant_type")+" "+f.Get("scope"))
	}
	return out
}

func (dp *fakeDataPlane) tokenCount() int {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	return len(dp.tokens)
}

// runTTY runs a command with stdin on a terminal answering answer.
func (e *testEnv) runTTY(answer string, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(answer), &out, &errb, e.getenv)
	a.now = func() time.Time { return fakeTime }
	a.sleep = func(context.Context, time.Duration) error { return nil }
	a.stdinIsTTY = func() bool { return true }
	code := a.run(context.Background(), args)
	return out.String(), errb.String(), code
}

// TestACRDataRequests checks the wire sequence of the token flow and the
// scope each command asks for (reference §1.2(d), _docker_utils.py).
func TestACRDataRequests(t *testing.T) {
	e := newACRDataEnv(t)
	dp := e.dataPlane()
	reqs := len(dp.requestLog())
	e.mustRun("acr", "login", "-n", acrDataRegistry, "--expose-token", "-o", "none")
	if got, want := dp.requestLog()[reqs:], []string{"GET /v2/", "POST /oauth2/exchange"}; !reflect.DeepEqual(got, want) {
		t.Errorf("login requests %v, want %v", got, want)
	}
	dp.mu.Lock()
	ex := dp.exchanges[len(dp.exchanges)-1]
	dp.mu.Unlock()
	if ex.Get("grant_type") != "access_token" || ex.Get("service") != acrDataRegistry+".azurecr.localhost:8443" ||
		ex.Get("tenant") != fakeTenant || ex.Get("access_token") != "token-for-"+fakeOwnerAppID+"-https://management.core.windows.net//.default" {
		t.Errorf("exchange form %v", ex)
	}

	e.importHello("hello:v1", "hello:v2")
	tests := []struct {
		args  []string
		scope string
		reqs  []string
	}{
		{[]string{"repository", "list"}, "refresh_token registry:catalog:*",
			[]string{"GET /v2/", "POST /oauth2/exchange", "POST /oauth2/token", "GET /v2/_catalog?n=100"}},
		{[]string{"repository", "show-tags", "--repository", "hello", "--orderby", "time_asc", "--top", "5"}, "refresh_token repository:hello:metadata_read",
			[]string{"GET /v2/", "POST /oauth2/exchange", "POST /oauth2/token", "GET /acr/v1/hello/_tags?n=5&orderby=timeasc"}},
		{[]string{"repository", "show", "--image", "hello@sha256:90280fa4484a64ec115a01f3cc973c0701d6d203514a2bf2150818b72e4ca130"}, "refresh_token repository:hello:metadata_read",
			[]string{"GET /v2/", "POST /oauth2/exchange", "POST /oauth2/token", "GET /acr/v1/hello/_manifests/sha256:90280fa4484a64ec115a01f3cc973c0701d6d203514a2bf2150818b72e4ca130"}},
		{[]string{"repository", "update", "--repository", "hello", "--delete-enabled", "false"}, "refresh_token repository:hello:metadata_write,metadata_read",
			[]string{"GET /v2/", "POST /oauth2/exchange", "POST /oauth2/token", "PATCH /acr/v1/hello"}},
		{[]string{"repository", "untag", "--image", "hello:v2"}, "refresh_token repository:hello:delete",
			[]string{"GET /v2/", "POST /oauth2/exchange", "POST /oauth2/token", "DELETE /acr/v1/hello/_tags/v2"}},
		{[]string{"repository", "delete", "--image", "hello:v1", "--yes"}, "refresh_token repository:hello:delete,metadata_read",
			[]string{"GET /v2/", "POST /oauth2/exchange", "POST /oauth2/token", "GET /acr/v1/hello/_tags/v1", "GET /acr/v1/hello/_tags?n=100",
				"DELETE /v2/hello/manifests/sha256:90280fa4484a64ec115a01f3cc973c0701d6d203514a2bf2150818b72e4ca130"}},
	}
	for _, tc := range tests {
		reqs, toks := len(dp.requestLog()), dp.tokenCount()
		args := append([]string{"acr"}, tc.args...)
		e.mustRun(append(args, "-n", acrDataRegistry, "-o", "none")...)
		if got := dp.requestLog()[reqs:]; !reflect.DeepEqual(got, tc.reqs) {
			t.Errorf("%v: requests\n%s\nwant\n%s", tc.args, strings.Join(got, "\n"), strings.Join(tc.reqs, "\n"))
		}
		if got := dp.tokenScopes(toks); len(got) != 1 || got[0] != tc.scope {
			t.Errorf("%v: token scopes %v, want %s", tc.args, got, tc.scope)
		}
	}

	// An import asks for pull on the source and pull,push on each target.
	e.importHello("hello:v3")
	toks := dp.tokenCount()
	e.mustRun("acr", "import", "-n", acrDataRegistry, "--source", acrDataRegistry+".azurecr.localhost:8443/hello:v3", "-t", "a:1", "-t", "b:1", "--force", "--only-show-errors")
	if got, want := dp.tokenScopes(toks), []string{"refresh_token repository:hello:pull", "refresh_token repository:a:pull,push", "refresh_token repository:b:pull,push"}; !reflect.DeepEqual(got, want) {
		t.Errorf("import scopes %v, want %v", got, want)
	}
	dp.mu.Lock()
	n := len(dp.exchanges)
	dp.mu.Unlock()
	e.mustRun("acr", "repository", "list", "-n", acrDataRegistry, "-o", "none")
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if len(dp.exchanges) != n+1 {
		t.Errorf("one command exchanged %d times", len(dp.exchanges)-n)
	}
}

// TestACRLoginDockerConfig checks the Docker config `az acr login` writes.
func TestACRLoginDockerConfig(t *testing.T) {
	e := newACRDataEnv(t)
	ls := acrDataRegistry + ".azurecr.localhost:8443"
	dir := filepath.Join(e.home, ".docker")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"auths":{"other.example.com":{"auth":"dXNlcjpwYXNz"}},"psFormat":"table {{.ID}}"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := e.mustRun("acr", "login", "-n", acrDataRegistry)
	if out != "Login Succeeded\n" {
		t.Errorf("stdout %q", out)
	}
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n\t\"auths\": {\n\t\t\"" + ls + "\": {\n\t\t\t\"auth\": \"" + base64.StdEncoding.EncodeToString([]byte(client.EmptyGUID+":")) +
		"\",\n\t\t\t\"identitytoken\": \"fake-refresh|" + acrDataRegistry + "\"\n\t\t},\n\t\t\"other.example.com\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\"\n\t\t}\n\t},\n\t\"psFormat\": \"table {{.ID}}\"\n}"
	if string(data) != want {
		t.Errorf("config.json:\n%s\nwant:\n%s", data, want)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	dp := e.dataPlane()
	log := dp.requestLog()
	if last := log[len(log)-1]; last != "GET /oauth2/token?account=00000000-0000-0000-0000-000000000000&client_id=docker&offline_token=true&service="+strings.ReplaceAll(ls, ":", "%3A") {
		t.Errorf("docker's token request %s", last)
	}

	// DOCKER_CONFIG, a fresh directory (0700), and a credential helper.
	e.env["DOCKER_CONFIG"] = filepath.Join(e.home, "dc", "sub")
	e.mustRun("acr", "login", "-n", acrDataRegistry)
	fi, err := os.Stat(e.env["DOCKER_CONFIG"])
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("new directory: %v %v", fi, err)
	}
	cfg2 := filepath.Join(e.env["DOCKER_CONFIG"], "config.json")
	if err := os.WriteFile(cfg2, []byte(`{"credsStore":"desktop"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := e.run("acr", "login", "-n", acrDataRegistry); code != 0 || !strings.Contains(errs, "credential helper 'desktop'") {
		t.Errorf("credsStore: %d %s", code, errs)
	}
	// A symlinked config is written through the link.
	real := filepath.Join(e.home, "real.json")
	if err := os.WriteFile(real, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(cfg2)
	if err := os.Symlink(real, cfg2); err != nil {
		t.Fatal(err)
	}
	e.mustRun("acr", "login", "-n", acrDataRegistry)
	if fi, err := os.Lstat(cfg2); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", fi, err)
	}
	if data, _ := os.ReadFile(real); !strings.Contains(string(data), "identitytoken") {
		t.Errorf("target not updated: %s", data)
	}
	// A config that is not JSON is left alone.
	_ = os.Remove(cfg2)
	if err := os.WriteFile(cfg2, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := e.run("acr", "login", "-n", acrDataRegistry); code != 1 || !strings.Contains(errs, "not a JSON object") {
		t.Errorf("broken config: %d %s", code, errs)
	}
	if data, _ := os.ReadFile(cfg2); string(data) != "not json" {
		t.Errorf("broken config rewritten: %s", data)
	}
}

// TestACRCredentialFallbacks follows az's order when AAD fails: the admin
// user, then the (missing) terminal; and -u/-p.
func TestACRCredentialFallbacks(t *testing.T) {
	e := newACRDataEnv(t)
	dp := e.dataPlane()
	dp.mu.Lock()
	dp.refuseExchange = true
	dp.mu.Unlock()
	ls := acrDataRegistry + ".azurecr.localhost:8443"
	aadWarning := "WARNING: Unable to get AAD authorization tokens with message: 2024-05-01 12:00:00 An error occurred: CONNECTIVITY_REFRESH_TOKEN_ERROR\n" +
		"Access to registry '" + ls + "' was denied. Response code: 401. Please try running 'az login' again to refresh permissions.\n"
	_, errs, code := e.run("acr", "repository", "list", "-n", acrDataRegistry)
	want := aadWarning + "WARNING: Unable to get admin user credentials with message: Admin user is disabled.\n" +
		"ERROR: Unable to authenticate using AAD or admin login credentials. Please specify both username and password in non-interactive mode.\n"
	if code != 1 || errs != want {
		t.Errorf("no credentials: %d\n%s\nwant\n%s", code, errs, want)
	}

	// With the admin user enabled, its password is sent as Basic.
	e.mustRun("acr", "update", "-n", acrDataRegistry, "--admin-enabled", "true", "-o", "none")
	e.importHello("hello:v1")
	out, errs, code := e.run("acr", "repository", "list", "-n", acrDataRegistry, "-o", "tsv")
	if code != 0 || out != "hello\n" || errs != aadWarning {
		t.Errorf("admin fallback: %d %q\n%s", code, out, errs)
	}
	// ... and az acr login stores it as docker would.
	if _, _, code := e.run("acr", "login", "-n", acrDataRegistry); code != 0 {
		t.Fatal("admin login failed")
	}
	data, _ := os.ReadFile(filepath.Join(e.home, ".docker", "config.json"))
	var cfg struct {
		Auths map[string]map[string]string `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	creds := e.fake.registries[acrDataRegistry].passwords
	if got := cfg.Auths[ls]; got["auth"] != base64.StdEncoding.EncodeToString([]byte(acrDataRegistry+":"+creds[0].Value)) || got["identitytoken"] != "" {
		t.Errorf("admin entry %v", got)
	}

	// -u/-p: traded for an access token with the password grant.
	toks := dp.tokenCount()
	out, errs, code = e.run("acr", "repository", "show-tags", "-n", acrDataRegistry, "--repository", "hello", "-u", acrDataRegistry, "-p", creds[1].Value, "-o", "tsv")
	if code != 0 || out != "v1\n" || errs != "" {
		t.Errorf("-u/-p: %d %q %s", code, out, errs)
	}
	if got := dp.tokenScopes(toks); !reflect.DeepEqual(got, []string{"password repository:hello:metadata_read"}) {
		t.Errorf("password grant %v", got)
	}
	_, errs, code = e.run("acr", "repository", "show-tags", "-n", acrDataRegistry, "--repository", "hello", "-u", acrDataRegistry, "-p", "wrong")
	if code != 1 || !strings.Contains(errs, "CONNECTIVITY_ACCESS_TOKEN_ERROR\nAccess to registry '"+ls+"' was denied. Response code: 401.") {
		t.Errorf("wrong password: %d %s", code, errs)
	}
	// docker login with a wrong pair fails the way az reports docker's failure.
	_, errs, code = e.run("acr", "login", "-n", acrDataRegistry, "-u", acrDataRegistry, "-p", "wrong")
	if code != 1 || errs != "WARNING: Error response from daemon: Get \"https://"+ls+"/v2/\": unauthorized: authentication required\nERROR: Login failed.\n" {
		t.Errorf("docker login failure: %d %q", code, errs)
	}
	// Without a password on a terminal, az asks for it.
	out, errs, code = e.runTTY(creds[0].Value+"\n", "acr", "repository", "list", "-n", acrDataRegistry, "-u", acrDataRegistry, "-o", "tsv")
	if code != 0 || out != "Password: hello\n" {
		t.Errorf("prompted password: %d %q %s", code, out, errs)
	}
	if _, errs, code := e.run("acr", "repository", "list", "-n", acrDataRegistry, "-u", acrDataRegistry); code != 1 || !strings.Contains(errs, "Please specify both username and password in non-interactive mode.") {
		t.Errorf("no password, no tty: %d %s", code, errs)
	}
}

// TestACRPagination follows Link headers page by page, as az does.
func TestACRPagination(t *testing.T) {
	e := newACRDataEnv(t)
	var tags []string
	for n := range 105 {
		tags = append(tags, fmt.Sprintf("hello:t%03d", n))
	}
	e.importHello(tags...)
	dp := e.dataPlane()
	reqs := len(dp.requestLog())
	out := e.mustRun("acr", "repository", "show-tags", "-n", acrDataRegistry, "--repository", "hello", "-o", "tsv")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 105 || lines[104] != "t104" {
		t.Errorf("%d tags, last %q", len(lines), lines[len(lines)-1])
	}
	var pages []string
	for _, r := range dp.requestLog()[reqs:] {
		if strings.HasPrefix(r, "GET /acr/v1/") {
			pages = append(pages, r)
		}
	}
	want := []string{"GET /acr/v1/hello/_tags?n=100", "GET /acr/v1/hello/_tags?last=t099&n=100&orderby="}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("pages %v, want %v", pages, want)
	}
	reqs = len(dp.requestLog())
	out = e.mustRun("acr", "repository", "show-tags", "-n", acrDataRegistry, "--repository", "hello", "--top", "102", "-o", "tsv")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 102 {
		t.Errorf("--top 102: %d tags", len(lines))
	}
	pages = nil
	for _, r := range dp.requestLog()[reqs:] {
		if strings.HasPrefix(r, "GET /acr/v1/") {
			pages = append(pages, r)
		}
	}
	want = []string{"GET /acr/v1/hello/_tags?n=100", "GET /acr/v1/hello/_tags?last=t099&n=2&orderby="}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("--top pages %v, want %v", pages, want)
	}
}

// TestACRRepositoryDeletePrompts answers the confirmations on a terminal.
func TestACRRepositoryDeletePrompts(t *testing.T) {
	e := newACRDataEnv(t)
	e.importHello("hello:v1", "hello:latest")
	out, errs, code := e.runTTY("n\n", "acr", "repository", "delete", "-n", acrDataRegistry, "--image", "hello:v1")
	want := "This operation will delete the manifest 'sha256:90280fa4484a64ec115a01f3cc973c0701d6d203514a2bf2150818b72e4ca130' and all the following images: 'hello:latest', 'hello:v1'.\nAre you sure you want to continue? (y/n): "
	if code != 1 || out != want || errs != "ERROR: Operation cancelled.\n" {
		t.Errorf("declined: %d %q %q", code, out, errs)
	}
	out, _, code = e.runTTY("y\n", "acr", "repository", "delete", "-n", acrDataRegistry, "--repository", "hello")
	if code != 0 || !strings.HasPrefix(out, "Are you sure you want to delete the repository 'hello' and all images under it? (y/n): {") {
		t.Errorf("confirmed: %d %q", code, out)
	}
	if out := e.mustRun("acr", "repository", "list", "-n", acrDataRegistry, "-o", "tsv"); out != "" {
		t.Errorf("left: %q", out)
	}
}

// TestACRLoginServerFallback: a registry ARM does not show is reached at
// <name>.<registry domain>:<endpoint port>, as az falls back to its
// cloud's suffix; the admin user is then unknown.
func TestACRLoginServerFallback(t *testing.T) {
	e := newACRDataEnv(t)
	e.importHello("hello:v1")
	e.mustRun("acr", "create", "-g", "rg", "-n", "otherregistry", "--sku", "Basic", "-o", "none")
	dp := e.dataPlane()
	e.fake.mu.Lock()
	dp.mu.Lock()
	dp.hidden = map[string]*fakeRegistry{acrDataRegistry: e.fake.registries[acrDataRegistry]}
	delete(e.fake.registries, acrDataRegistry)
	dp.mu.Unlock()
	e.fake.mu.Unlock()
	port := e.fake.srv.URL[strings.LastIndexByte(e.fake.srv.URL, ':')+1:]
	out, errs, code := e.run("acr", "login", "-n", acrDataRegistry, "--expose-token", "--query", "loginServer", "-o", "tsv")
	if code != 0 || out != acrDataRegistry+".azurecr.localhost:"+port+"\n" {
		t.Errorf("fallback login server: %d %q %s", code, out, errs)
	}
	if out := e.mustRun("acr", "repository", "list", "-n", acrDataRegistry, "-o", "tsv"); out != "hello\n" {
		t.Errorf("list %q", out)
	}
	// A name no registry has: ARM does not show it and its guessed login
	// server answers 404, so it does not exist. In Azure the name would
	// not resolve: az says it cannot connect.
	for _, cmd := range [][]string{{"acr", "login", "-n", "nosuchregistry"}, {"acr", "repository", "list", "-n", "nosuchregistry"}} {
		_, errs, code := e.run(cmd...)
		ls := "nosuchregistry.azurecr.localhost:" + port
		want := "WARNING: The resource with name 'nosuchregistry' and type 'Microsoft.ContainerRegistry/registries' could not be found in subscription 'Cerulean (" + fakeSubscription + ")'.\n" +
			"Using '" + ls + "' as the default registry login server.\n" +
			"ERROR: Could not connect to the registry login server '" + ls + "'. Please verify that the registry exists and the URL 'https://" + ls + "/v2/' is reachable from your environment.\n" +
			"The Cerulean server has no registry named 'nosuchregistry'. To list the registries you can see, run 'az acr list'.\n"
		if code != 1 || errs != want {
			t.Errorf("az %s: %d\n%s\nwant\n%s", strings.Join(cmd, " "), code, errs, want)
		}
	}
	// An import reads from it through the endpoint too.
	e.mustRun("acr", "import", "-n", "otherregistry", "--source", acrDataRegistry+".azurecr.localhost:8443/hello:v1", "--only-show-errors")
	if out := e.mustRun("acr", "repository", "show-tags", "-n", "otherregistry", "--repository", "hello", "-o", "tsv"); out != "v1\n" {
		t.Errorf("imported tags %q", out)
	}
	// The registry domain is the server's (its cloud metadata), unless
	// CERULEAN_REGISTRY_DOMAIN says otherwise.
	e.fake.mu.Lock()
	e.fake.registryDomain = "cloud.example"
	e.fake.mu.Unlock()
	_, errs, code = e.run("acr", "repository", "list", "-n", acrDataRegistry)
	if code != 1 || !strings.Contains(errs, "Could not connect to the registry login server '"+acrDataRegistry+".cloud.example:"+port+"'") {
		t.Errorf("the server's domain: %d %s", code, errs)
	}
	e.env["CERULEAN_REGISTRY_DOMAIN"] = "registry.example"
	_, errs, code = e.run("acr", "repository", "list", "-n", acrDataRegistry)
	if code != 1 || !strings.Contains(errs, "Could not connect to the registry login server '"+acrDataRegistry+".registry.example:"+port+"'") {
		t.Errorf("other domain: %d %s", code, errs)
	}
	e.fake.mu.Lock()
	e.fake.registryDomain = ""
	e.fake.mu.Unlock()
	dp.mu.Lock()
	dp.refuseExchange = true
	dp.mu.Unlock()
	delete(e.env, "CERULEAN_REGISTRY_DOMAIN")
	_, errs, code = e.run("acr", "repository", "list", "-n", acrDataRegistry)
	if code != 1 || !strings.Contains(errs, "WARNING: Unable to get admin user credentials with message: The resource with name '"+acrDataRegistry+"'") {
		t.Errorf("no admin fallback: %d %s", code, errs)
	}
}

func TestParseImageName(t *testing.T) {
	tests := []struct {
		in                  string
		digest              bool
		repo, tag, manifest string
		ok                  bool
	}{
		{"hello", false, "hello", "latest", "", true},
		{"team/hello:v1", false, "team/hello", "v1", "", true},
		{"hello@sha256:abc", true, "hello", "", "sha256:abc", true},
		// Like az, a digest where only a tag is allowed splits at the colon.
		{"hello@sha256:abc", false, "hello@sha256", "abc", "", true},
		{"a:b:c", true, "", "", "", false},
	}
	for _, tc := range tests {
		repo, tag, manifest, err := parseImageName(tc.in, tc.digest)
		if repo != tc.repo || tag != tc.tag || manifest != tc.manifest || (err == nil) != tc.ok {
			t.Errorf("parseImageName(%q, %v) = %q %q %q %v", tc.in, tc.digest, repo, tag, manifest, err)
		}
	}
}

func TestRegistryErrorMessage(t *testing.T) {
	resp := func(body, corr string) *client.RegistryResponse {
		r := &client.RegistryResponse{Body: []byte(body), Header: map[string][]string{}}
		if corr != "" {
			r.Header.Set("x-ms-correlation-request-id", corr)
		}
		return r
	}
	tests := []struct {
		resp *client.RegistryResponse
		want string
	}{
		{resp(`{"errors":[{"code":"NAME_UNKNOWN","message":"repository \"x\" is not found"}]}`, "c1"), `2024-05-01 12:00:00 Error: repository "x" is not found. Correlation ID: c1.`},
		{resp(`{"errors":[{"code":"X","message":"done."}]}`, ""), `Error: done.`},
		{resp(`not json`, ""), `The requested data does not exist.`},
		{resp(`{"errors":[{"code":"X","message":""}]}`, "c2"), `2024-05-01 12:00:00 The requested data does not exist. Correlation ID: c2.`},
	}
	for _, tc := range tests {
		if got := registryErrorMessage("The requested data does not exist.", tc.resp, fakeTime); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestPyDatetime(t *testing.T) {
	if got := pyDatetime(fakeTime); got != "2024-05-01 12:00:00" {
		t.Errorf("whole second: %s", got)
	}
	if got := pyDatetime(fakeTime.Add(1500 * time.Microsecond)); got != "2024-05-01 12:00:00.001500" {
		t.Errorf("fraction: %s", got)
	}
}
