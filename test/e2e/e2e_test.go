// Package e2e drives the built cerulean binary as users do: it starts
// `cerulean serve` on a loopback port with a fresh data dir and runs az
// commands (the same binary through a link named az) against it.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
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

	"github.com/cerulean/cerulean/test/binary"
)

// binaries builds cerulean once per test run and links az to it.
func binaries(t *testing.T) string {
	t.Helper()
	dir, err := binary.Dir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	binary.Remove()
	os.Exit(code)
}

// server is a running `cerulean serve`.
type server struct {
	cmd     *exec.Cmd
	dataDir string
	addr    string
	env     []string
	log     *bytes.Buffer
	done    chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs cerulean serve on dataDir, with any extra serve flags,
// and waits until it serves.
func startServer(t *testing.T, dataDir, addr string, extra ...string) *server {
	t.Helper()
	bin := binaries(t)
	s := &server{dataDir: dataDir, addr: addr, log: &bytes.Buffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(filepath.Join(bin, "cerulean"), append([]string{"serve", "--data-dir", dataDir, "--listen", addr}, extra...)...)
	pr, pw := io.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if !signalled && strings.Contains(sc.Text(), "cerulean serving") {
				close(ready)
				signalled = true
			}
		}
	}()
	go func() { s.done <- s.cmd.Wait(); pw.Close() }()
	select {
	case <-ready:
	case err := <-s.done:
		t.Fatalf("cerulean serve exited early: %v\n%s", err, s.log)
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("cerulean serve did not start\n%s", s.log)
	}
	t.Cleanup(func() { s.stop(t) })
	s.env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"CERULEAN_ENDPOINT=https://"+addr,
		"CERULEAN_DATA_DIR="+dataDir,
		"AZURE_CONFIG_DIR="+filepath.Join(t.TempDir(), "az"),
	)
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("cerulean serve exited with %v after SIGTERM\n%s", err, s.log)
		}
	case <-time.After(40 * time.Second):
		s.cmd.Process.Kill()
		t.Errorf("cerulean serve did not stop on SIGTERM")
	}
}

// az runs one az command and returns stdout, stderr and the exit code.
func (s *server) az(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binaries(t), "az"), args...)
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("az %v: %v", args, err)
	}
	return strings.TrimSpace(stdout.String()), stderr.String(), code
}

func (s *server) mustAz(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := s.az(t, args...)
	if code != 0 {
		t.Fatalf("az %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// TestScenario runs scripts/scenario.sh — the identity and RBAC story of
// the foundation issue — against a fresh server.
func TestScenario(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	s := startServer(t, t.TempDir(), freeAddr(t))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "../../scripts/scenario.sh")
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scenario failed: %v\n%s\n--- server log ---\n%s", err, out, s.log)
	}
	if !strings.Contains(string(out), "scenario passed") {
		t.Fatalf("scenario did not finish:\n%s", out)
	}
}

// TestRestartKeepsState stops and restarts the server on the same data dir:
// the CA, signing key, bootstrap identity and resources survive, and a
// token issued before the restart still works after it.
func TestRestartKeepsState(t *testing.T) {
	dataDir := t.TempDir()
	addr := freeAddr(t)
	s := startServer(t, dataDir, addr)
	s.mustAz(t, "login", "-o", "none")
	s.mustAz(t, "group", "create", "-n", "persisted", "-l", "westeurope", "-o", "none")
	sub := s.mustAz(t, "account", "show", "--query", "id", "-o", "tsv")
	ca, err := os.ReadFile(filepath.Join(dataDir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := os.Stat(filepath.Join(dataDir, "bootstrap-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if creds.Mode().Perm() != 0o600 {
		t.Fatalf("bootstrap credentials mode %v, want 0600", creds.Mode().Perm())
	}
	s.stop(t)

	s2 := startServer(t, dataDir, addr)
	s2.env = s.env // same az profile and token cache
	if got := s2.mustAz(t, "group", "show", "-n", "persisted", "--query", "location", "-o", "tsv"); got != "westeurope" {
		t.Fatalf("group location after restart = %q", got)
	}
	if got := s2.mustAz(t, "account", "show", "--query", "id", "-o", "tsv"); got != sub {
		t.Fatalf("subscription changed across restart: %q → %q", sub, got)
	}
	ca2, err := os.ReadFile(filepath.Join(dataDir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca, ca2) {
		t.Fatal("CA regenerated on restart")
	}
}

// TestHealthz checks the readiness endpoint over TLS, trusting only the CA
// the server wrote to its data dir.
func TestHealthz(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, dataDir, freeAddr(t))
	pem, err := os.ReadFile(filepath.Join(dataDir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("ca.pem holds no certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	_, port, _ := net.SplitHostPort(s.addr)
	for _, host := range []string{"localhost", "127.0.0.1"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+net.JoinHostPort(host, port)+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: healthz status %d", host, resp.StatusCode)
		}
	}
	plain := &http.Client{}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+s.addr+"/healthz", nil)
	if resp, err := plain.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a client that does not trust the local CA must fail the handshake")
	}
}

// TestErrorsAndExitCodes checks az's error conventions through the binary.
func TestErrorsAndExitCodes(t *testing.T) {
	s := startServer(t, t.TempDir(), freeAddr(t))
	if _, errOut, code := s.az(t, "group", "list"); code != 1 || !strings.Contains(errOut, "az login") {
		t.Fatalf("not logged in: exit %d, stderr %q", code, errOut)
	}
	s.mustAz(t, "login", "-o", "none")
	_, errOut, code := s.az(t, "group", "show", "-n", "does-not-exist")
	if code != 3 || !strings.Contains(errOut, "ResourceGroupNotFound") || !strings.HasPrefix(errOut, "ERROR: ") {
		t.Fatalf("missing group: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := s.az(t, "group", "create", "-n", "x"); code != 2 || !strings.Contains(errOut, "--location") {
		t.Fatalf("missing argument: exit %d, stderr %q", code, errOut)
	}
	if _, _, code := s.az(t, "group", "list", "--no-such-flag"); code != 2 {
		t.Fatalf("unknown flag: exit %d", code)
	}
	if out := s.mustAz(t, "group", "exists", "-n", "does-not-exist"); out != "false" {
		t.Fatalf("group exists = %q", out)
	}
}
