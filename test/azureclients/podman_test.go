package azureclients

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// engine is a container engine's command line (podman, or docker with a
// daemon of its own) with storage and credentials of its own, so that
// tests leave the machine's engines untouched.
type engine struct {
	e *env
	// name is "podman" or "docker".
	name string
	bin  string
	args []string
	vars []string
	// authFile is where login stores credentials (podman's
	// REGISTRY_AUTH_FILE, docker's config.json).
	authFile string
	// runArgs are the options every container run needs on this host.
	runArgs []string
	// loginOK is what a successful login prints.
	loginOK string
	// loginRefused is the line a login to server prints when the
	// registry's token service refuses it with message.
	loginRefused func(server, message string) string
	// pushRefused are in what a push the token does not allow prints.
	pushRefused []string
	// identityToken: after a login as the null GUID, the engine keeps
	// the refresh token the registry's token service returned rather
	// than the password (docker's offline token; podman keeps the
	// password).
	identityToken bool
}

// podmanClient is the podman engine (the name the seed test uses).
type podmanClient = engine

// acrUnauthorized is ACR's message for a request its token does not
// allow (reference acr-entra.md 1.1).
const (
	acrAuthenticationRequired = "authentication required, visit https://aka.ms/acr/authorization for more information."
	acrUnauthorized           = "unauthorized: " + acrAuthenticationRequired
)

// scopeDenied is how distribution clients word a 401 whose challenge
// says error="insufficient_scope".
const scopeDenied = "denied: requested access to the resource is denied"

// nullGUID is the user name of ACR refresh-token logins.
const nullGUID = "00000000-0000-0000-0000-000000000000"

// podman returns a podman with storage and credentials of its own that
// trusts the local CA for the given registry login servers the way a user
// sets it up: /etc/containers/certs.d/<login server>/ca.crt. Storage is
// set by CONTAINERS_STORAGE_CONF rather than flags so that the same
// variables make a `docker` that is this podman (see asDocker).
func (e *env) podman(t *testing.T, bin string, loginServers ...string) *podmanClient {
	t.Helper()
	dir := t.TempDir()
	// Registered after TempDir, so it runs before the directory goes.
	t.Cleanup(func() { waitProcesses(t, dir) })
	for _, ls := range loginServers {
		e.trustRegistry(t, "/etc/containers/certs.d", ls)
	}
	files := map[string]string{
		"registries.conf": "unqualified-search-registries = []\n",
		"storage.conf": "[storage]\ndriver = \"vfs\"\n" +
			"graphroot = " + quote(filepath.Join(dir, "root")) + "\n" +
			"runroot = " + quote(filepath.Join(dir, "run")) + "\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	auth := filepath.Join(dir, "auth.json")
	return &podmanClient{e: e, name: "podman", bin: bin, authFile: auth,
		vars: []string{
			"REGISTRY_AUTH_FILE=" + auth,
			"CONTAINERS_REGISTRIES_CONF=" + filepath.Join(dir, "registries.conf"),
			"CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf"),
		},
		// crun fails on this cgroup hybrid host; runc works. Rootful
		// podman asks for RLIMIT_NPROC 1048576, more than the hard limit
		// the runtime inherits, and root here lacks CAP_SYS_RESOURCE.
		runArgs: []string{"--runtime", "runc", "--ulimit", "nproc=4096:4096"},
		loginOK: "Login Succeeded!",
		// podman does not show the registry's message.
		loginRefused: func(server, _ string) string {
			return `Error: logging into "` + server + `": invalid username/password`
		},
		pushRefused: []string{scopeDenied, acrUnauthorized},
	}
}

// trustRegistry writes the local CA as <certsDir>/<login server>/ca.crt
// and removes it when the test ends.
func (e *env) trustRegistry(t *testing.T, certsDir, loginServer string) {
	t.Helper()
	ca, err := os.ReadFile(e.caFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(certsDir, loginServer)
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("%s exists already; remove it first", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (p *engine) must(t *testing.T, args ...string) string {
	t.Helper()
	return p.e.must(t, p.vars, p.bin, append(p.global(), args...)...)
}

func (p *engine) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return p.e.run(t, p.vars, p.bin, append(p.global(), args...)...)
}

func (p *engine) global() []string { return p.args }

// login logs the engine in to a registry.
func (p *engine) login(t *testing.T, server, user, password string) {
	t.Helper()
	if out := p.must(t, "login", "-u", user, "-p", password, server); out != p.loginOK {
		t.Fatalf("%s login %s as %s: %q, want %q", p.name, server, user, out, p.loginOK)
	}
}

// asDocker returns the variables under which `docker` on PATH is this
// engine with its storage and credentials: what `az acr login` runs.
// For podman that is what Debian's podman-docker package provides, without
// its /usr/bin/docker script's notice on stderr, which az takes for a
// failure of `docker ps`.
func (p *engine) asDocker(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(p.bin, filepath.Join(dir, "docker")); err != nil {
		t.Fatal(err)
	}
	return append(append([]string{}, p.vars...), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// storedAuth is what a login left in the engine's auth file for a server.
type storedAuth struct{ user, password, identityToken string }

func (p *engine) stored(t *testing.T, server string) storedAuth {
	t.Helper()
	raw, err := os.ReadFile(p.authFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			IdentityToken string `json:"identitytoken"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", p.authFile, err)
	}
	a, ok := f.Auths[server]
	if !ok {
		t.Fatalf("%s has no credentials for %s:\n%s", p.authFile, server, raw)
	}
	pair, err := base64.StdEncoding.DecodeString(a.Auth)
	if err != nil {
		t.Fatalf("%s: auth of %s: %v", p.authFile, server, err)
	}
	user, password, _ := strings.Cut(string(pair), ":")
	return storedAuth{user: user, password: password, identityToken: a.IdentityToken}
}

// build builds a FROM scratch image holding a static busybox whose command
// runs script with busybox sh.
func (p *engine) build(t *testing.T, image, busybox, script string) {
	t.Helper()
	ctx := t.TempDir()
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	// No RUN: podman builds without a runtime, and the script calls
	// applets as /bin/busybox NAME.
	dockerfile := "FROM scratch\nCOPY busybox /bin/busybox\nCMD [\"/bin/busybox\", \"sh\", \"-c\", " + quote(script) + "]\n"
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	p.must(t, "build", "-t", image, ctx)
}

// runImage runs an image to completion, without network, and returns its
// output.
func (p *engine) runImage(t *testing.T, image string, args ...string) string {
	t.Helper()
	run := append(append([]string{"run"}, p.runArgs...), "--network", "none", "--ulimit", "nofile=1024:1024", "--rm")
	return p.must(t, append(append(run, args...), image)...)
}

// waitProcesses waits until no process names dir on its command line.
// conmon runs `podman container cleanup` when a container exits, even
// one that podman run --rm removes itself; that late podman recreates its
// storage under dir if dir is removed first.
func waitProcesses(t *testing.T, dir string) {
	t.Helper()
	for range 600 {
		if !processUses(dir) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("processes still use %s", dir)
}

// processUses reports whether a process names dir on its command line.
func processUses(dir string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), dir) {
			return true
		}
	}
	return false
}

// quote is a JSON string literal (a Dockerfile exec-form argument, a TOML
// basic string).
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func sleep(t *testing.T, ms int) {
	t.Helper()
	select {
	case <-t.Context().Done():
	case <-time.After(time.Duration(ms) * time.Millisecond):
	}
}

// TestPodmanAzureRegistry: podman logs in to a registry addressed as
// <name>.azurecr.io with a service principal, with `az acr login` and with
// the admin user, pushes, pulls and runs.
func TestPodmanAzureRegistry(t *testing.T) {
	podman := requireCommand(t, "podman")
	requireCommand(t, "runc")
	registryClients(t, "podmanregistry", func(e *env, loginServers ...string) *engine {
		return e.podman(t, podman, loginServers...)
	})
}

// registryClients is the registry scenario for one engine: newEngine
// returns a fresh engine with storage and credentials of its own that
// trusts the given login servers (each only once per test).
func registryClients(t *testing.T, registry string, newEngine func(e *env, loginServers ...string) *engine) {
	t.Helper()
	az := requireCommand(t, "az")
	busybox := requireBusybox(t)
	e := newEnv(t)
	c := e.creds
	owner := e.azConfig(t)
	e.must(t, owner, az, "login", "--service-principal", "-u", c.AppID, "-p", c.Password, "--tenant", c.TenantID, "-o", "none")
	group := registry + "-rg"
	e.must(t, owner, az, "group", "create", "--name", group, "--location", "eastus", "-o", "none")
	e.must(t, owner, az, "acr", "create", "--resource-group", group, "--name", registry, "--sku", "Basic", "--admin-enabled", "true", "-o", "none")
	loginServer := e.must(t, owner, az, "acr", "show", "--name", registry, "--query", "loginServer", "-o", "tsv")
	if want := registry + ".azurecr.io"; loginServer != want {
		t.Fatalf("login server %q, want %q", loginServer, want)
	}
	e.hosts(t, loginServer)
	registryID := e.must(t, owner, az, "acr", "show", "--name", registry, "--query", "id", "-o", "tsv")
	push := e.servicePrincipal(t, owner, registry+"-push", registryID, "acrpush")
	pull := e.servicePrincipal(t, owner, registry+"-pull", registryID, "acrpull")

	const greeting = `echo "hello from $(/bin/busybox hostname)"`
	image := loginServer + "/hello:v1"
	hostname := []string{"--hostname", "greeter"}

	// (a) The acrpush principal logs in with its appId and password,
	// builds and pushes.
	pusher := newEngine(e, loginServer)
	pusher.login(t, loginServer, push.appID, push.password)
	if got := pusher.stored(t, loginServer); got.user != push.appID {
		t.Fatalf("%s login stored user %q, want %q", pusher.name, got.user, push.appID)
	}
	pusher.build(t, image, busybox, greeting)
	pusher.must(t, "push", image)
	if tags := e.must(t, owner, az, "acr", "repository", "show-tags", "--name", registry, "--repository", "hello", "-o", "tsv"); tags != "v1" {
		t.Fatalf("show-tags after push: %q", tags)
	}

	// (b) The acrpull principal signs in to az; az acr login runs
	// `docker ps`, then `docker login` with the null GUID and an ACR
	// refresh token, and `docker` is the engine.
	puller := newEngine(e)
	pullAz := append(e.azConfig(t), puller.asDocker(t)...)
	e.must(t, pullAz, az, "login", "--service-principal", "-u", pull.appID, "-p", pull.password, "--tenant", c.TenantID, "--allow-no-subscriptions", "-o", "none")
	// docker login's stdout is az's: az does not capture it.
	if out := e.must(t, pullAz, az, "acr", "login", "--name", registry); out != puller.loginOK {
		t.Fatalf("az acr login: %q, want %q", out, puller.loginOK)
	}
	got := puller.stored(t, loginServer)
	if got.user != nullGUID || (got.identityToken != "") != puller.identityToken || (got.password != "") == puller.identityToken {
		t.Fatalf("%s login by az acr login stored %+v, want user %s with a refresh token as identity token: %v", puller.name, got, nullGUID, puller.identityToken)
	}
	puller.must(t, "pull", image)
	if out := puller.runImage(t, image, hostname...); out != "hello from greeter" {
		t.Fatalf("run %s pulled by the acrpull principal: %q", image, out)
	}

	// (e) The acrpull principal may not push: the token it gets for
	// pull,push grants pull only, and the new config blob's upload is
	// refused.
	refused := loginServer + "/hello:refused"
	puller.build(t, refused, busybox, "echo refused")
	_, errOut, code := puller.run(t, "push", refused)
	if code == 0 {
		t.Fatalf("push by the acrpull principal: exit 0\n%s", errOut)
	}
	for _, want := range puller.pushRefused {
		if !strings.Contains(errOut, want) {
			t.Fatalf("push by the acrpull principal: exit %d\n%s\nwant %q", code, errOut, want)
		}
	}
	if tags := e.must(t, owner, az, "acr", "repository", "show-tags", "--name", registry, "--repository", "hello", "-o", "tsv"); tags != "v1" {
		t.Fatalf("show-tags after a refused push: %q", tags)
	}

	// (c) The admin user: az acr credential show, login, pull, run.
	user := e.must(t, owner, az, "acr", "credential", "show", "--name", registry, "--query", "username", "-o", "tsv")
	password := e.must(t, owner, az, "acr", "credential", "show", "--name", registry, "--query", "passwords[0].value", "-o", "tsv")
	if user != registry || password == "" {
		t.Fatalf("acr credential show: user %q, password %q", user, password)
	}
	admin := newEngine(e)
	admin.login(t, loginServer, user, password)
	admin.must(t, "pull", image)
	if out := admin.runImage(t, image, hostname...); out != "hello from greeter" {
		t.Fatalf("run %s pulled by the admin user: %q", image, out)
	}

	// (e) A wrong password is refused at login, in ACR's words.
	for _, tt := range []struct{ user, message string }{
		{push.appID, "Invalid clientid or client secret."},
		// Azure/azure-cli#29659 shows docker's line for the admin user.
		{user, acrAuthenticationRequired},
	} {
		want := admin.loginRefused(loginServer, tt.message)
		if _, errOut, code := admin.run(t, "login", "-u", tt.user, "-p", "wrong-password", loginServer); code == 0 || !strings.Contains(errOut, want) {
			t.Fatalf("%s login as %s with a wrong password: exit %d\n%s\nwant %q", admin.name, tt.user, code, errOut, want)
		}
	}
}
