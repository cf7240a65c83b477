package tlsca

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func baseConfig(dir string) Config {
	return Config{
		Dir:      dir,
		DNSNames: []string{"localhost", "azurecr.localhost", "*.azurecr.localhost"},
		IPs:      []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
		Now:      func() time.Time { return t0 },
	}
}

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

func mustLoad(t *testing.T, cfg Config) *Bundle {
	t.Helper()
	b, err := LoadOrCreate(cfg)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	return b
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestLoadOrCreateCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "tls")
	cfg := baseConfig(dir)
	b := mustLoad(t, cfg)

	if want := filepath.Join(dir, "ca.pem"); b.CAFile != want {
		t.Errorf("CAFile = %q, want %q", b.CAFile, want)
	}
	if !bytes.Equal(readFile(t, b.CAFile), b.CAPEM) {
		t.Error("CAPEM differs from ca.pem on disk")
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("dir mode = %v, want 0700", fi.Mode().Perm())
		}
	}

	if len(b.Cert.Certificate) != 2 {
		t.Fatalf("chain length = %d, want 2 (leaf + CA)", len(b.Cert.Certificate))
	}
	ca, err := x509.ParseCertificate(b.Cert.Certificate[1])
	if err != nil {
		t.Fatal(err)
	}
	if ca.Subject.CommonName != "Cerulean Local CA" {
		t.Errorf("CA CN = %q", ca.Subject.CommonName)
	}
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.MaxPathLen != 0 || !ca.MaxPathLenZero {
		t.Errorf("CA constraints: IsCA=%v valid=%v MaxPathLen=%d zero=%v", ca.IsCA, ca.BasicConstraintsValid, ca.MaxPathLen, ca.MaxPathLenZero)
	}
	if ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA KeyUsage = %v", ca.KeyUsage)
	}
	if pub, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("CA key is %T, want ECDSA P-256", ca.PublicKey)
	}
	if want := t0.AddDate(10, 0, 0); !ca.NotAfter.Equal(want) {
		t.Errorf("CA NotAfter = %v, want %v", ca.NotAfter, want)
	}

	leaf := b.Cert.Leaf
	if leaf == nil || !bytes.Equal(leaf.Raw, b.Cert.Certificate[0]) {
		t.Fatal("Cert.Leaf not set to the first certificate")
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		t.Errorf("leaf not signed by CA: %v", err)
	}
	if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("leaf ExtKeyUsage = %v", leaf.ExtKeyUsage)
	}
	if leaf.IsCA {
		t.Error("leaf is a CA")
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("leaf key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if want := t0.Add(397 * 24 * time.Hour); !leaf.NotAfter.Equal(want) {
		t.Errorf("leaf NotAfter = %v, want %v", leaf.NotAfter, want)
	}
	if !slices.Equal(leaf.DNSNames, cfg.DNSNames) {
		t.Errorf("leaf DNSNames = %v, want %v", leaf.DNSNames, cfg.DNSNames)
	}
	if len(leaf.IPAddresses) != 2 || !leaf.IPAddresses[0].Equal(cfg.IPs[0]) || !leaf.IPAddresses[1].Equal(cfg.IPs[1]) {
		t.Errorf("leaf IPs = %v, want %v", leaf.IPAddresses, cfg.IPs)
	}
	if !b.CertPool().Equal(mustPool(t, b.CAFile)) {
		t.Error("CertPool differs from LoadCAPool(CAFile)")
	}
}

func mustPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	p, err := LoadCAPool(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadOrCreateReuses(t *testing.T) {
	tests := []struct {
		name string
		now  func() time.Time
	}{
		{"fixed clock", at(t0)},
		{"real clock", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := baseConfig(dir)
			cfg.Now = tt.now
			b1 := mustLoad(t, cfg)
			before := snapshot(t, dir)
			b2 := mustLoad(t, cfg)
			if !bytes.Equal(b1.CAPEM, b2.CAPEM) {
				t.Error("CA changed on second call")
			}
			if !bytes.Equal(b1.Cert.Certificate[0], b2.Cert.Certificate[0]) {
				t.Error("leaf changed on second call")
			}
			if !maps.Equal(before, snapshot(t, dir)) {
				t.Error("files rewritten on second call")
			}
		})
	}
}

func TestServerReissue(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name    string
		edit    func(t *testing.T, cfg *Config) // mutates the config or the files
		reissue bool
	}{
		{"unchanged", func(*testing.T, *Config) {}, false},
		{"subset of names", func(_ *testing.T, c *Config) { c.DNSNames = c.DNSNames[:1]; c.IPs = nil }, false},
		{"case and trailing dot", func(_ *testing.T, c *Config) { c.DNSNames = []string{"LocalHost.", "*.AzureCR.localhost"} }, false},
		{"IPv4-mapped form", func(_ *testing.T, c *Config) { c.IPs = []net.IP{net.IPv4(127, 0, 0, 1)} }, false},
		{"31 days left", func(_ *testing.T, c *Config) { c.Now = at(t0.Add(366 * day)) }, false},
		{"new DNS name", func(_ *testing.T, c *Config) { c.DNSNames = append(c.DNSNames, "myreg.azurecr.localhost") }, true},
		{"new IP", func(_ *testing.T, c *Config) { c.IPs = append(c.IPs, net.ParseIP("10.0.0.1")) }, true},
		{"29 days left", func(_ *testing.T, c *Config) { c.Now = at(t0.Add(368 * day)) }, true},
		{"expired", func(_ *testing.T, c *Config) { c.Now = at(t0.Add(400 * day)) }, true},
		{"clock before NotBefore", func(_ *testing.T, c *Config) { c.Now = at(t0.Add(-time.Hour)) }, true},
		{"server.pem corrupt", func(t *testing.T, c *Config) { writeRaw(t, c.Dir, "server.pem", "garbage") }, true},
		{"server.pem missing", func(t *testing.T, c *Config) { removeFile(t, c.Dir, "server.pem") }, true},
		{"server-key.pem missing", func(t *testing.T, c *Config) { removeFile(t, c.Dir, "server-key.pem") }, true},
		{"server key mismatched", func(t *testing.T, c *Config) {
			other := t.TempDir()
			mustLoad(t, baseConfig(other))
			copyFile(t, other, c.Dir, "server-key.pem")
		}, true},
		{"server cert from another CA", func(t *testing.T, c *Config) {
			other := t.TempDir()
			mustLoad(t, baseConfig(other))
			copyFile(t, other, c.Dir, "server.pem")
			copyFile(t, other, c.Dir, "server-key.pem")
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := baseConfig(dir)
			b1 := mustLoad(t, cfg)
			caKey := readFile(t, filepath.Join(dir, "ca-key.pem"))

			tt.edit(t, &cfg)
			b2 := mustLoad(t, cfg)

			if !bytes.Equal(b1.CAPEM, b2.CAPEM) || !bytes.Equal(caKey, readFile(t, filepath.Join(dir, "ca-key.pem"))) {
				t.Fatal("CA changed")
			}
			if !bytes.Equal(b2.Cert.Certificate[1], b1.Cert.Certificate[1]) {
				t.Fatal("chain does not end in the CA")
			}
			changed := !bytes.Equal(b1.Cert.Certificate[0], b2.Cert.Certificate[0])
			if changed != tt.reissue {
				t.Fatalf("leaf re-issued = %v, want %v", changed, tt.reissue)
			}
			ca, _ := x509.ParseCertificate(b2.Cert.Certificate[1])
			if err := b2.Cert.Leaf.CheckSignatureFrom(ca); err != nil {
				t.Fatalf("leaf not signed by CA: %v", err)
			}
			if !covers(b2.Cert.Leaf, mustNames(t, cfg.DNSNames), cfg.IPs) {
				t.Fatalf("leaf %v %v does not cover %v %v", b2.Cert.Leaf.DNSNames, b2.Cert.Leaf.IPAddresses, cfg.DNSNames, cfg.IPs)
			}
			// The result was persisted: a third call reuses it.
			b3 := mustLoad(t, cfg)
			if !bytes.Equal(b2.Cert.Certificate[0], b3.Cert.Certificate[0]) {
				t.Fatal("third call re-issued again")
			}
		})
	}
}

func mustNames(t *testing.T, in []string) []string {
	t.Helper()
	out, err := normalizeDNSNames(in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLeafNeverOutlivesCA(t *testing.T) {
	dir := t.TempDir()
	b1 := mustLoad(t, baseConfig(dir))
	ca, _ := x509.ParseCertificate(b1.Cert.Certificate[1])

	cfg := baseConfig(dir)
	cfg.Now = at(ca.NotAfter.Add(-100 * 24 * time.Hour))
	b2 := mustLoad(t, cfg)
	if !b2.Cert.Leaf.NotAfter.Equal(ca.NotAfter) {
		t.Errorf("leaf NotAfter = %v, want clamped to CA NotAfter %v", b2.Cert.Leaf.NotAfter, ca.NotAfter)
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	dir := t.TempDir()
	cfg := baseConfig(dir)
	mustLoad(t, cfg)
	cfg.DNSNames = append(cfg.DNSNames, "new.localhost") // exercise the re-issue path too
	mustLoad(t, cfg)

	want := map[string]os.FileMode{
		"ca.pem":         0o644,
		"ca-key.pem":     0o600,
		"server.pem":     0o644,
		"server-key.pem": 0o600,
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dir holds %v, want exactly the four PEM files (no temp files)", names)
	}
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode = %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
}

func TestTLSHandshake(t *testing.T) {
	cfg := baseConfig(t.TempDir())
	cfg.Now = nil // the handshake uses the real clock
	b := mustLoad(t, cfg)

	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.Host)
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are expected
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{b.Cert}, MinVersion: tls.VersionTLS12}
	ts.StartTLS()
	defer ts.Close()
	addr := ts.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)

	client := func(roots *x509.CertPool) *http.Client {
		return &http.Client{
			Timeout: 10 * time.Second,
			Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: roots},
				// Whatever the URL says, connect to the test listener, so
				// that only certificate verification decides the outcome.
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, network, addr)
				},
			},
		}
	}
	trusting := client(b.CertPool())
	defer trusting.CloseIdleConnections()
	fromFile := client(mustPool(t, b.CAFile))
	defer fromFile.CloseIdleConnections()
	system := client(nil)
	defer system.CloseIdleConnections()

	tests := []struct {
		name   string
		client *http.Client
		url    string
		ok     bool
	}{
		{"IPv4 literal", trusting, "https://127.0.0.1:" + port + "/", true},
		{"IPv6 literal", trusting, "https://[::1]:" + port + "/", true},
		{"localhost", trusting, "https://localhost:" + port + "/", true},
		{"registry apex", trusting, "https://azurecr.localhost/", true},
		{"registry wildcard", trusting, "https://myreg.azurecr.localhost/v2/", true},
		{"pool from LoadCAPool", fromFile, "https://myreg.azurecr.localhost/", true},
		{"two labels under wildcard", trusting, "https://a.myreg.azurecr.localhost/", false},
		{"uncovered host", trusting, "https://example.com/", false},
		{"uncovered IP", trusting, "https://10.1.2.3/", false},
		{"CA not trusted", system, "https://localhost/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Get(tt.url)
			if !tt.ok {
				if err == nil {
					resp.Body.Close()
					t.Fatal("request succeeded, want certificate error")
				}
				if !strings.Contains(err.Error(), "certificate") {
					t.Fatalf("err = %v, want a certificate error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "hello ") {
				t.Fatalf("got %d %q", resp.StatusCode, body)
			}
			if n := len(resp.TLS.PeerCertificates); n != 2 {
				t.Errorf("server sent %d certificates, want 2 (leaf + CA)", n)
			}
		})
	}
}

func TestCAErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(t *testing.T, dir string)
		now     time.Time
		wantErr string // substring; the offending file must be named
	}{
		{"ca.pem garbage", func(t *testing.T, dir string) { writeRaw(t, dir, "ca.pem", "not a certificate") }, t0, "ca.pem"},
		{"ca.pem truncated", func(t *testing.T, dir string) {
			data := readFile(t, filepath.Join(dir, "ca.pem"))
			writeRaw(t, dir, "ca.pem", string(data[:len(data)/2]))
		}, t0, "ca.pem"},
		{"ca.pem empty", func(t *testing.T, dir string) { writeRaw(t, dir, "ca.pem", "") }, t0, "ca.pem"},
		{"ca.pem holds the leaf", func(t *testing.T, dir string) { copyFileAs(t, dir, "server.pem", dir, "ca.pem") }, t0, "ca.pem: not a CA"},
		{"ca-key.pem garbage", func(t *testing.T, dir string) {
			writeRaw(t, dir, "ca-key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
		}, t0, "ca-key.pem"},
		{"ca-key.pem from another CA", func(t *testing.T, dir string) {
			other := t.TempDir()
			mustLoad(t, baseConfig(other))
			copyFile(t, other, dir, "ca-key.pem")
		}, t0, "ca-key.pem: private key does not match"},
		{"ca-key.pem is the server key", func(t *testing.T, dir string) { copyFileAs(t, dir, "server-key.pem", dir, "ca-key.pem") }, t0, "ca-key.pem: private key does not match"},
		{"ca.pem missing", func(t *testing.T, dir string) { removeFile(t, dir, "ca.pem") }, t0, "ca.pem is missing"},
		{"ca-key.pem missing", func(t *testing.T, dir string) { removeFile(t, dir, "ca-key.pem") }, t0, "ca-key.pem is missing"},
		{"CA expired", func(*testing.T, string) {}, t0.AddDate(10, 0, 1), "ca.pem: CA expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustLoad(t, baseConfig(dir))
			tt.edit(t, dir)
			before := snapshot(t, dir)

			cfg := baseConfig(dir)
			cfg.Now = at(tt.now)
			b, err := LoadOrCreate(cfg)
			if err == nil {
				t.Fatalf("LoadOrCreate succeeded (%v), want error", b != nil)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("err = %q, want it to contain %q and the directory", err, tt.wantErr)
			}
			if after := snapshot(t, dir); !maps.Equal(before, after) {
				t.Fatal("files changed after a CA error")
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
	}{
		{"empty dir", func(c *Config) { c.Dir = "" }},
		{"no names", func(c *Config) { c.DNSNames, c.IPs = nil, nil }},
		{"empty name", func(c *Config) { c.DNSNames = []string{""} }},
		{"empty label", func(c *Config) { c.DNSNames = []string{"a..b"} }},
		{"inner wildcard", func(c *Config) { c.DNSNames = []string{"a.*.b"} }},
		{"partial wildcard", func(c *Config) { c.DNSNames = []string{"a*.b"} }},
		{"bare wildcard", func(c *Config) { c.DNSNames = []string{"*"} }},
		{"IP as DNS name", func(c *Config) { c.DNSNames = []string{"127.0.0.1"} }},
		{"space in name", func(c *Config) { c.DNSNames = []string{"my host"} }},
		{"bad IP", func(c *Config) { c.IPs = []net.IP{{1, 2, 3}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tls")
			cfg := baseConfig(dir)
			tt.edit(&cfg)
			if _, err := LoadOrCreate(cfg); err == nil {
				t.Fatal("want error")
			}
			if _, err := os.Stat(dir); err == nil {
				t.Error("directory created despite invalid config")
			}
		})
	}
}

func TestLoadCAPool(t *testing.T) {
	dir := t.TempDir()
	b := mustLoad(t, baseConfig(dir))
	other := mustLoad(t, baseConfig(t.TempDir()))

	tests := []struct {
		name    string
		content string
		ok      bool
	}{
		{"single CA", string(b.CAPEM), true},
		{"two CAs", string(b.CAPEM) + string(other.CAPEM), true},
		{"trailing newline", string(b.CAPEM) + "\n\n", true},
		{"empty", "", false},
		{"garbage", "hello", false},
		{"trailing garbage", string(b.CAPEM) + "junk", false},
		{"private key", string(readFile(t, filepath.Join(dir, "ca-key.pem"))), false},
		{"bad DER", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			pool, err := LoadCAPool(path)
			if !tt.ok {
				if err == nil {
					t.Fatal("want error")
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("err = %q, want it to name %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.Cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "myreg.azurecr.localhost", CurrentTime: t0})
			if err != nil {
				t.Errorf("leaf does not verify against pool: %v", err)
			}
		})
	}

	if _, err := LoadCAPool(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("missing file: want error")
	}
}

func writeRaw(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func removeFile(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to, name string) { t.Helper(); copyFileAs(t, from, name, to, name) }

func copyFileAs(t *testing.T, fromDir, fromName, toDir, toName string) {
	t.Helper()
	writeRaw(t, toDir, toName, string(readFile(t, filepath.Join(fromDir, fromName))))
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		m[e.Name()] = string(readFile(t, filepath.Join(dir, e.Name())))
	}
	return m
}
