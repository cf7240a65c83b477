package oci_test

import (
	"bufio"
	"crypto/tls"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
)

// TestConformance runs the OCI distribution-spec conformance suite
// (github.com/opencontainers/distribution-spec/conformance, built
// separately) against the real data plane, when CERULEAN_OCI_CONFORMANCE
// names its binary:
//
//	GOBIN=/tmp/bin go install github.com/opencontainers/distribution-spec/conformance@latest
//	CERULEAN_OCI_CONFORMANCE=/tmp/bin/conformance go test -run TestConformance ./internal/server/oci/
//
// The suite resolves the registry host through an HTTPS proxy that tunnels
// every connection to the test server, and trusts its certificate through
// SSL_CERT_FILE. Its credentials are a service principal with AcrPush and
// AcrDelete (the suite deletes what it pushes).
func TestConformance(t *testing.T) {
	bin := os.Getenv("CERULEAN_OCI_CONFORMANCE")
	if bin == "" {
		t.Skip("CERULEAN_OCI_CONFORMANCE is not set")
	}
	re := newRealEnv(t)
	p := re.NewPrincipal(t, "conformance", identity.OnApplication)
	re.Assign(t, p.SP.ID, rbac.AcrPushID, re.reg.ID)
	re.Assign(t, p.SP.ID, rbac.AcrDeleteID, re.reg.ID)

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	writeServerCA(t, re.Addr, caFile)
	proxy := tunnel(t, re.Addr)

	cmd := exec.CommandContext(t.Context(), bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+re.reg.LoginServer, "OCI_TLS=enabled", "OCI_VERSION=1.1",
		"OCI_USERNAME="+p.App.AppID, "OCI_PASSWORD="+p.Secret,
		"OCI_RESULTS_DIR="+filepath.Join(dir, "results"), "OCI_LOG=warn",
		"HTTPS_PROXY=http://"+proxy, "NO_PROXY=", "SSL_CERT_FILE="+caFile,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
}

// writeServerCA saves the last certificate the server presents (its CA,
// or the certificate itself) as PEM.
func writeServerCA(t *testing.T, addr, path string) {
	t.Helper()
	// Verification is off only to fetch the certificate to trust.
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	certs := conn.ConnectionState().PeerCertificates
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[len(certs)-1].Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// tunnel is an HTTP CONNECT proxy that sends every tunnel to addr.
func tunnel(t *testing.T, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				up, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer func() { _ = up.Close() }()
				if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
					return
				}
				go func() { _, _ = io.Copy(up, br) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String()
}
