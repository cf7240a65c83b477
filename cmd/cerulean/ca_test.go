package main

import (
	"strings"
	"testing"
)

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/root/.cerulean/tls/ca.pem":                   "/root/.cerulean/tls/ca.pem",
		"/etc/docker/certs.d/r.azurecr.localhost:8443": "/etc/docker/certs.d/r.azurecr.localhost:8443",
		"/data dir/ca.pem":                             "'/data dir/ca.pem'",
		"/it's":                                        `'/it'\''s'`,
		"":                                             "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestTrustText: every registry gets its docker and containers certs.d
// line; without registries, a placeholder that is explained.
func TestTrustText(t *testing.T) {
	text := trustText("/d", "/d/tls/ca.pem", []string{"a.azurecr.io", "b.azurecr.localhost:8443"})
	for _, want := range []string{
		"cat /etc/ssl/certs/ca-certificates.crt /d/tls/ca.pem > /d/ca-bundle.pem\n",
		"export REQUESTS_CA_BUNDLE=/d/ca-bundle.pem SSL_CERT_FILE=/d/ca-bundle.pem\n",
		"mkdir -p /etc/docker/certs.d/a.azurecr.io && cp /d/tls/ca.pem /etc/docker/certs.d/a.azurecr.io/ca.crt\n",
		"mkdir -p /etc/containers/certs.d/b.azurecr.localhost:8443 && cp /d/tls/ca.pem /etc/containers/certs.d/b.azurecr.localhost:8443/ca.crt\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
	if text := trustText("/d", "/d/tls/ca.pem", nil); !strings.Contains(text, "for LOGIN_SERVER") || !strings.Contains(text, "/etc/docker/certs.d/LOGIN_SERVER/ca.crt") {
		t.Errorf("without registries:\n%s", text)
	}
}
