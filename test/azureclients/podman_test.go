package azureclients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// podmanClient runs podman with storage, credentials and registry trust
// of its own, so that tests leave the machine's podman untouched.
type podmanClient struct {
	e    *env
	bin  string
	args []string
	vars []string
}

// podman returns a podman with storage and credentials of its own that
// trusts the local CA for the given registry login servers the way a user
// sets it up: /etc/containers/certs.d/<login server>/ca.crt.
func (e *env) podman(t *testing.T, bin string, loginServers ...string) *podmanClient {
	t.Helper()
	dir := t.TempDir()
	for _, ls := range loginServers {
		e.trustRegistry(t, "/etc/containers/certs.d", ls)
	}
	if err := os.WriteFile(filepath.Join(dir, "registries.conf"), []byte("unqualified-search-registries = []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &podmanClient{e: e, bin: bin,
		args: []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"},
		vars: []string{"REGISTRY_AUTH_FILE=" + filepath.Join(dir, "auth.json"), "CONTAINERS_REGISTRIES_CONF=" + filepath.Join(dir, "registries.conf")},
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

func (p *podmanClient) must(t *testing.T, args ...string) string {
	t.Helper()
	return p.e.must(t, p.vars, p.bin, append(p.global(), args...)...)
}

func (p *podmanClient) global() []string { return p.args }

// login logs podman in to a registry.
func (p *podmanClient) login(t *testing.T, server, user, password string) {
	t.Helper()
	p.must(t, "login", "-u", user, "-p", password, server)
}

// build builds a FROM scratch image holding a static busybox whose command
// runs script with busybox sh.
func (p *podmanClient) build(t *testing.T, image, busybox, script string) {
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

// quote is a JSON string literal (a Dockerfile exec-form argument).
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
