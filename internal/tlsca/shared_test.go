package tlsca

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mustGenerateCA(t *testing.T, now time.Time) []byte {
	t.Helper()
	data, err := GenerateCA(now)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParseCA(t *testing.T, data []byte) *CA {
	t.Helper()
	ca, err := ParseCA(data)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// TestLoadOrIssue: two directories given one CA each write its certificate
// as ca.pem (and no key), and issue serving certificates that verify
// against either's ca.pem; a reload reuses the serving certificate, and a
// different CA replaces both ca.pem and the serving certificate.
func TestLoadOrIssue(t *testing.T) {
	ca := mustParseCA(t, mustGenerateCA(t, t0))
	dirA, dirB := t.TempDir(), t.TempDir()
	a, err := LoadOrIssue(baseConfig(dirA), ca)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrIssue(baseConfig(dirB), ca)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dirA, caFileName)), ca.CertPEM()) || !bytes.Equal(a.CAPEM, ca.CertPEM()) {
		t.Fatal("ca.pem is not the CA's certificate")
	}
	if _, err := os.Stat(filepath.Join(dirA, caKeyFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the CA key was written to the directory: %v", err)
	}
	if bytes.Equal(a.Cert.Leaf.Raw, b.Cert.Leaf.Raw) {
		t.Fatal("two directories share one serving certificate")
	}
	opts := x509.VerifyOptions{Roots: mustPool(t, filepath.Join(dirA, caFileName)), DNSName: "r.azurecr.localhost", CurrentTime: t0}
	if _, err := b.Cert.Leaf.Verify(opts); err != nil {
		t.Fatalf("B's serving certificate against A's ca.pem: %v", err)
	}

	again, err := LoadOrIssue(baseConfig(dirB), ca)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Cert.Leaf.Raw, b.Cert.Leaf.Raw) {
		t.Fatal("a reload re-issued a good serving certificate")
	}

	other := mustParseCA(t, mustGenerateCA(t, t0))
	moved, err := LoadOrIssue(baseConfig(dirB), other)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dirB, caFileName)), other.CertPEM()) {
		t.Fatal("ca.pem was not replaced by the new CA")
	}
	if err := moved.Cert.Leaf.CheckSignatureFrom(other.cert); err != nil {
		t.Fatalf("serving certificate not re-issued under the new CA: %v", err)
	}
}

// TestLoadOrIssueExpired: an expired CA is refused, not replaced.
func TestLoadOrIssueExpired(t *testing.T) {
	ca := mustParseCA(t, mustGenerateCA(t, t0))
	cfg := baseConfig(t.TempDir())
	cfg.Now = at(t0.AddDate(caYears+1, 0, 0))
	if _, err := LoadOrIssue(cfg, ca); err == nil || !strings.Contains(err.Error(), "CA expired") {
		t.Fatalf("expired CA: %v", err)
	}
}

func TestParseCA(t *testing.T) {
	good := mustGenerateCA(t, t0)
	other := mustGenerateCA(t, t0)
	certOf := func(b []byte) []byte { i := bytes.Index(b, []byte("-----BEGIN PRIVATE KEY")); return b[:i] }
	keyOf := func(b []byte) []byte { i := bytes.Index(b, []byte("-----BEGIN PRIVATE KEY")); return b[i:] }
	// A serving certificate and its key: a valid pair, but no CA.
	leafDir := t.TempDir()
	mustLoad(t, baseConfig(leafDir))
	leaf := append(readFile(t, filepath.Join(leafDir, serverFileName)), readFile(t, filepath.Join(leafDir, serverKeyFileName))...)
	for _, tt := range []struct {
		name, data, want string
	}{
		{"empty", "", "CERTIFICATE PEM block first"},
		{"garbage", "not pem", "CERTIFICATE PEM block first"},
		{"key only", string(keyOf(good)), "CERTIFICATE PEM block first"},
		{"certificate only", string(certOf(good)), "PRIVATE KEY PEM block after"},
		{"mismatched key", string(certOf(good)) + string(keyOf(other)), "does not match"},
		{"trailing data", string(good) + "x", "unexpected data"},
		{"not a CA", string(leaf), "not a CA certificate"},
		{"bad certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" + string(keyOf(good)), "CA certificate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseCA([]byte(tt.data)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseCA: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	ca := mustParseCA(t, good)
	if !bytes.Equal(ca.CertPEM(), certOf(good)) {
		t.Fatal("CertPEM is not the certificate's block")
	}
}

// TestReadCAFiles: a LoadOrCreate directory's CA reads back as the CA
// LoadOrCreate serves under; no CA is fs.ErrNotExist; half of one is
// another error.
func TestReadCAFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadCAFiles(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty directory: %v", err)
	}
	b := mustLoad(t, baseConfig(dir))
	data, err := ReadCAFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	ca := mustParseCA(t, data)
	if !bytes.Equal(ca.CertPEM(), b.CAPEM) {
		t.Fatal("the CA read from the files is not the directory's")
	}
	// The same directory under LoadOrIssue keeps its serving certificate.
	again, err := LoadOrIssue(baseConfig(dir), ca)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Cert.Leaf.Raw, b.Cert.Leaf.Raw) {
		t.Fatal("LoadOrIssue re-issued the serving certificate of its own CA")
	}
	removeFile(t, dir, caKeyFileName)
	if _, err := ReadCAFiles(dir); err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "one is missing") {
		t.Fatalf("CA without its key: %v", err)
	}
}
