package roundrobin

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAlternates checks that consecutive requests on one keep-alive
// connection go to alternating backends with their Host intact, and that
// a backend marked down is skipped.
func TestAlternates(t *testing.T) {
	var backends []string
	roots := x509.NewCertPool()
	var cert tls.Certificate
	for i := range 2 {
		s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%d %s", i, r.Host)
		}))
		t.Cleanup(s.Close)
		backends = append(backends, s.Listener.Addr().String())
		roots.AddCert(s.Certificate())
		cert = s.TLS.Certificates[0] // httptest's one certificate covers 127.0.0.1 and example.com
	}
	p, err := New(backends, roots)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.Serve(ln, cert) }()
	t.Cleanup(func() { ln.Close() })

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, MaxConnsPerHost: 1}}
	get := func() string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "https://"+ln.Addr().String()+"/", nil)
		req.Host = "reg.example.com"
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var got []string
	for range 4 {
		got = append(got, get())
	}
	if want := "0 reg.example.com,1 reg.example.com,0 reg.example.com,1 reg.example.com"; strings.Join(got, ",") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, ","), want)
	}
	p.SetDown(0, true)
	for range 2 {
		if g := get(); g != "1 reg.example.com" {
			t.Fatalf("with backend 0 down got %q", g)
		}
	}
	if p.Served(0) != 2 || p.Served(1) != 4 {
		t.Fatalf("served %d/%d, want 2/4", p.Served(0), p.Served(1))
	}
}
