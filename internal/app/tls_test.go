package app

import (
	"crypto/tls"
	"crypto/x509"
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
