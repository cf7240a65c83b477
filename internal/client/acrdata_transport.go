package client

// How the CLI reaches registry login servers without DNS.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// RegistryTransport returns an HTTPS transport that reaches registry login
// servers without DNS: a connection to any of loginServers (host[:port];
// port 443 when absent) or to the endpoint itself goes to endpoint's
// address. TLS verifies the server certificate against the host name of
// the request (the login server) with pool (nil: the system roots).
// Connections to any other address are refused, and no proxy is used.
func RegistryTransport(endpoint string, pool *x509.CertPool, loginServers ...string) (*http.Transport, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("client: endpoint %q must be an https URL", endpoint)
	}
	target := canonicalAddr(u.Host)
	allowed := map[string]bool{target: true}
	for _, ls := range loginServers {
		if ls == "" || strings.ContainsAny(ls, "/?#@") {
			return nil, fmt.Errorf("client: %q is not a login server (host[:port])", ls)
		}
		allowed[canonicalAddr(ls)] = true
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !allowed[canonicalAddr(addr)] {
			return nil, fmt.Errorf("client: refusing to dial %s: not a registry login server of %s", addr, endpoint)
		}
		return dialer.DialContext(ctx, network, target)
	}
	return tr, nil
}

// canonicalAddr lower-cases host[:port] and adds the https port.
func canonicalAddr(hostport string) string {
	hostport = strings.ToLower(hostport)
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	return net.JoinHostPort(strings.Trim(hostport, "[]"), "443")
}
