package app

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"slices"
	"testing"

	"github.com/cerulean/cerulean/internal/config"
	"github.com/cerulean/cerulean/internal/tlsca"
)

// TestALPNByHost: registry login servers prefer HTTP/1.1 (blob transfers
// run faster over parallel HTTP/1.1 connections than through net/http's
// HTTP/2 server), but still speak h2 to clients that offer nothing else;
// every other host prefers HTTP/2.
func TestALPNByHost(t *testing.T) {
	bundle, err := tlsca.LoadOrCreate(tlsca.Config{
		Dir: t.TempDir(), DNSNames: certNames("", config.Config{RegistryDomain: "azurecr.localhost"}), IPs: certIPs(""),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tlsConfig(bundle.Cert, "azurecr.localhost"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); _ = c.Close() }()
		}
	}()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(bundle.CAPEM)
	for _, tt := range []struct {
		host   string
		offers []string
		want   string
	}{
		{"myreg.azurecr.localhost", []string{"h2", "http/1.1"}, "http/1.1"},
		{"MyReg.AzureCR.localhost", []string{"h2", "http/1.1"}, "http/1.1"},
		{"myreg.azurecr.localhost", []string{"h2"}, "h2"},
		{"localhost", []string{"h2", "http/1.1"}, "h2"},
		{"azurecr.localhost", []string{"h2", "http/1.1"}, "h2"},
		{"localhost", []string{"http/1.1"}, "http/1.1"},
	} {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: tt.host, RootCAs: roots, NextProtos: tt.offers})
		if err != nil {
			t.Fatalf("%s %v: %v", tt.host, tt.offers, err)
		}
		if got := c.ConnectionState().NegotiatedProtocol; got != tt.want {
			t.Errorf("%s offering %v: negotiated %q, want %q", tt.host, tt.offers, got, tt.want)
		}
		_ = c.Close()
	}
}

// TestAzureNames: the serving certificate always covers
// login.microsoftonline.com (MSAL's instance discovery of a registered
// cloud), and Azure's other names only with --azure-hostnames; on port 443
// instance discovery accepts authorities named without the port.
func TestAzureNames(t *testing.T) {
	own := certNames("", config.Config{RegistryDomain: "azurecr.localhost"})
	if !slices.Contains(own, "login.microsoftonline.com") || slices.Contains(own, "management.azure.com") {
		t.Fatalf("default certificate names %v", own)
	}
	azure := certNames("", config.Config{RegistryDomain: "azurecr.io", AzureHostnames: true})
	for _, n := range append([]string{"*.azurecr.io"}, config.AzureHosts...) {
		if !slices.Contains(azure, n) {
			t.Errorf("--azure-hostnames certificate lacks %s: %v", n, azure)
		}
	}
	hosts := loginHosts("", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443}, false)
	for _, h := range []string{"localhost", "localhost:443", "127.0.0.1"} {
		if !slices.Contains(hosts, h) {
			t.Errorf("login hosts on 443 lack %s: %v", h, hosts)
		}
	}
	if hosts := loginHosts("", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}, true); slices.Contains(hosts, "localhost") ||
		!slices.Contains(hosts, "login.microsoftonline.com:8443") {
		t.Errorf("login hosts on 8443: %v", hosts)
	}
}
