// Package azureclients runs Azure's own clients, unmodified, against the
// built cerulean binary: Debian's azure-cli, the Azure SDKs for Python
// (as Debian ships them with azure-cli) and JavaScript (from npm), podman
// and docker (Debian's docker.io, a daemon per test). The server answers as Azure's public endpoints
// (serve --azure-hostnames on 127.0.0.1:443); the tests change only DNS
// (/etc/hosts, restored afterwards) and trust (the local CA), as a user
// would.
//
// These tests need root, and they take over port 443 and the Azure names
// in /etc/hosts while they run: every test holds an exclusive lock on
// lockPath for its whole run, so test binaries that run at once wait for
// each other.
package azureclients

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	testbinary "github.com/cerulean/cerulean/test/binary"
)

// lockPath serialises the tests of every process that uses port 443 and
// the Azure names.
const lockPath = "/run/lock/cerulean-azure-hostnames.lock"

// binary builds cerulean once per test run.
func binary(t *testing.T) string {
	t.Helper()
	dir, err := testbinary.Dir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "cerulean")
}

func TestMain(m *testing.M) {
	code := m.Run()
	testbinary.Remove()
	os.Exit(code)
}

// require skips the test when a prerequisite is missing, or fails it in CI
// (CERULEAN_E2E_REQUIRE=1), where a skip would hide a broken set-up.
func require(t *testing.T, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CERULEAN_E2E_REQUIRE") == "1" {
		t.Fatal(why + " (CERULEAN_E2E_REQUIRE=1)")
	}
	t.Skip(why)
}

// requireCommand requires an executable on PATH and returns its path.
func requireCommand(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	require(t, err == nil, name+" is not installed")
	return p
}

// env is a cerulean server answering as Azure, with DNS and trust set up
// for Azure's clients.
type env struct {
	dataDir string
	// caFile is the local CA; bundle is it plus the system's roots (what
	// REQUESTS_CA_BUNDLE must name, since it replaces them).
	caFile, bundle string
	creds          bootstrapCredentials
	// vars are the environment variables every client runs with.
	vars []string
	// names are the host names /etc/hosts points at the server; base is
	// the server's own URL when it does not answer as Azure.
	names []string
	base  string
	log   *syncBuffer
}

// bootstrapCredentials is the server's bootstrap-credentials.json.
type bootstrapCredentials struct {
	TenantID       string `json:"tenantId"`
	SubscriptionID string `json:"subscriptionId"`
	AppID          string `json:"appId"`
	Password       string `json:"password"`
}

// newEnv takes the lock, starts `cerulean serve --azure-hostnames`, points
// the Azure names at it in /etc/hosts and writes the trust files. All of
// it is undone when the test ends.
func newEnv(t *testing.T) *env { return startEnv(t, true) }

// newRegisteredCloudEnv is newEnv for a cloud registered from the server's
// /metadata/endpoints: the server keeps its own names (https://localhost/,
// registries under azurecr.localhost) on 127.0.0.1:443, and the only Azure
// name in /etc/hosts is the one MSAL insists on, login.microsoftonline.com,
// where it sends the instance discovery of every authority it does not know.
func newRegisteredCloudEnv(t *testing.T) *env { return startEnv(t, false) }

func startEnv(t *testing.T, azureHostnames bool) *env {
	t.Helper()
	require(t, os.Geteuid() == 0, "needs root: binds 127.0.0.1:443 and edits /etc/hosts")
	lock(t)
	bin := binary(t)
	e := &env{dataDir: t.TempDir(), log: &syncBuffer{}}

	ctx, cancel := context.WithCancel(context.Background())
	args := []string{"serve", "--data-dir", e.dataDir, "--listen", "127.0.0.1:443"}
	if azureHostnames {
		args = append(args, "--azure-hostnames")
		e.names = azureHosts
	} else {
		e.names = []string{"login.microsoftonline.com"}
		e.base = "https://localhost/"
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 40 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			e.log.WriteString(sc.Text() + "\n")
			if !signalled && strings.Contains(sc.Text(), "cerulean serving") {
				close(ready)
				signalled = true
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); _ = pw.Close() }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("cerulean serve exited early: %v\n%s", err, e.log)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("cerulean serve did not start\n%s", e.log)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("cerulean serve: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", e.log)
		}
	})

	e.caFile = filepath.Join(e.dataDir, "tls", "ca.pem")
	ca, err := os.ReadFile(e.caFile)
	if err != nil {
		t.Fatal(err)
	}
	system, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	e.bundle = filepath.Join(t.TempDir(), "ca-bundle.pem")
	if err := os.WriteFile(e.bundle, append(append(ca, '\n'), system...), 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(e.dataDir, "bootstrap-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &e.creds); err != nil {
		t.Fatal(err)
	}
	e.vars = append(os.Environ(),
		"AZURE_CONFIG_DIR="+filepath.Join(t.TempDir(), "az"),
		"AZURE_CORE_COLLECT_TELEMETRY=no",
		"AZURE_CORE_NO_COLOR=yes",
		"REQUESTS_CA_BUNDLE="+e.bundle,
		"SSL_CERT_FILE="+e.bundle,
		"NODE_EXTRA_CA_CERTS="+e.caFile,
	)
	e.hosts(t)
	e.waitHealthy(t)
	return e
}

// lock holds lockPath until the test ends.
func lock(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
}

// azureHosts are the names --azure-hostnames answers as.
var azureHosts = []string{"login.microsoftonline.com", "management.azure.com", "management.core.windows.net", "graph.microsoft.com"}

// hosts points the Azure names and the given registry login servers at the
// server with a line appended to /etc/hosts, which is taken out again when
// the test ends (other lines, even ones added meanwhile, are kept). It is
// called again after a registry is created.
func (e *env) hosts(t *testing.T, loginServers ...string) {
	t.Helper()
	line := "127.0.0.1 " + strings.Join(append(append([]string{}, e.names...), loginServers...), " ") + " # cerulean test\n"
	edit := func(change func(string) string) {
		cur, err := os.ReadFile("/etc/hosts")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("/etc/hosts", []byte(change(string(cur))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit(func(s string) string {
		if s != "" && !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		return s + line
	})
	t.Cleanup(func() { edit(func(s string) string { return strings.Replace(s, line, "", 1) }) })
}

// waitHealthy checks that each name resolves to the server (through libc,
// as the clients resolve it: Go's own resolver caches /etc/hosts for
// seconds) and that the server answers for it with a certificate the local
// CA vouches for.
func (e *env) waitHealthy(t *testing.T) {
	t.Helper()
	var d net.Dialer
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: e.caPool(t)},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, "127.0.0.1:443")
		},
	}}
	for _, name := range e.names {
		out, err := exec.Command("getent", "hosts", name).Output()
		if err != nil || !strings.HasPrefix(string(out), "127.0.0.1 ") {
			t.Fatalf("%s does not resolve to 127.0.0.1: %q, %v", name, out, err)
		}
		resp, err := c.Get("https://" + name + "/healthz")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s/healthz: %s", name, resp.Status)
		}
	}
}

// caPool holds the server's CA, for Go clients in the tests.
func (e *env) caPool(t *testing.T) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(e.caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", e.caFile)
	}
	return pool
}

// run runs a client program with the env's variables (plus extra) and
// returns stdout, stderr and the exit code.
func (e *env) run(t *testing.T, extra []string, name string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(append([]string{}, e.vars...), extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return strings.TrimSpace(stdout.String()), stderr.String(), code
}

// must runs a client program and fails the test unless it exits 0.
func (e *env) must(t *testing.T, extra []string, name string, args ...string) string {
	t.Helper()
	out, errOut, code := e.run(t, extra, name, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s", name, strings.Join(args, " "), code, errOut)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) WriteString(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
