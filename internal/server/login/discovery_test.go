package login_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/server/servertest"
	"github.com/cerulean/cerulean/internal/token"
)

func TestOpenIDConfiguration(t *testing.T) {
	e := newEnv(t)
	base := e.URL
	tid := e.Tenant.ID
	tests := []struct {
		name, path                             string
		issuer, tokenEndpoint, authorize, jwks string
	}{
		{"v2 by id", "/" + tid + "/v2.0/.well-known/openid-configuration",
			base + "/" + tid + "/v2.0", base + "/" + tid + "/oauth2/v2.0/token", base + "/" + tid + "/oauth2/v2.0/authorize", base + "/" + tid + "/discovery/v2.0/keys"},
		{"v2 by domain", "/" + e.Tenant.DefaultDomain + "/v2.0/.well-known/openid-configuration",
			base + "/" + tid + "/v2.0", base + "/" + tid + "/oauth2/v2.0/token", base + "/" + tid + "/oauth2/v2.0/authorize", base + "/" + tid + "/discovery/v2.0/keys"},
		{"v2 common", "/common/v2.0/.well-known/openid-configuration",
			base + "/{tenantid}/v2.0", base + "/common/oauth2/v2.0/token", base + "/common/oauth2/v2.0/authorize", base + "/common/discovery/v2.0/keys"},
		{"v2 organizations", "/organizations/v2.0/.well-known/openid-configuration",
			base + "/{tenantid}/v2.0", base + "/organizations/oauth2/v2.0/token", base + "/organizations/oauth2/v2.0/authorize", base + "/organizations/discovery/v2.0/keys"},
		{"v1 by id", "/" + tid + "/.well-known/openid-configuration",
			"https://sts.windows.net/" + tid + "/", base + "/" + tid + "/oauth2/token", base + "/" + tid + "/oauth2/authorize", base + "/common/discovery/keys"},
		{"v1 common", "/common/.well-known/openid-configuration",
			"https://sts.windows.net/{tenantid}/", base + "/common/oauth2/token", base + "/common/oauth2/authorize", base + "/common/discovery/keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(tt.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			doc := servertest.Decode[oauth2.OpenIDConfiguration](t, body)
			if doc.Issuer != tt.issuer || doc.TokenEndpoint != tt.tokenEndpoint || doc.AuthorizationEndpoint != tt.authorize || doc.JWKSURI != tt.jwks {
				t.Errorf("got issuer %q token %q authorize %q jwks %q", doc.Issuer, doc.TokenEndpoint, doc.AuthorizationEndpoint, doc.JWKSURI)
			}
			if !strings.Contains(strings.Join(doc.TokenEndpointAuthMethodsSupported, " "), "client_secret_basic") {
				t.Errorf("auth methods %v", doc.TokenEndpointAuthMethodsSupported)
			}
		})
	}
}

// TestDiscoveryFollowsHost: every URL is built from the Host the client
// used, so a client that reaches the server as "localhost" gets localhost
// URLs.
func TestDiscoveryFollowsHost(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/"+e.Tenant.ID+"/v2.0/.well-known/openid-configuration", nil)
	req.Host = "localhost:8443"
	resp, body := e.do(req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	doc := servertest.Decode[oauth2.OpenIDConfiguration](t, body)
	if !strings.HasPrefix(doc.Issuer, "https://localhost:8443/") || !strings.HasPrefix(doc.TokenEndpoint, "https://localhost:8443/") {
		t.Fatalf("issuer %q token endpoint %q", doc.Issuer, doc.TokenEndpoint)
	}
}

func TestDiscoveryErrors(t *testing.T) {
	e := newEnv(t)
	e.secret = ""
	tests := []struct {
		name, method, path string
		status             int
		code               string
		aadsts             int
	}{
		{"unknown tenant v2", http.MethodGet, "/nosuch.onmicrosoft.com/v2.0/.well-known/openid-configuration", 400, "invalid_tenant", 90002},
		{"unknown tenant v1", http.MethodGet, "/66666666-2222-3333-4444-555555555555/.well-known/openid-configuration", 400, "invalid_tenant", 90002},
		{"malformed tenant", http.MethodGet, "/bad_tenant/v2.0/.well-known/openid-configuration", 400, "invalid_tenant", 900023},
		{"POST", http.MethodPost, "/common/v2.0/.well-known/openid-configuration", 405, "invalid_request", 900561},
		{"keys unknown tenant", http.MethodGet, "/nosuch.onmicrosoft.com/discovery/v2.0/keys", 400, "invalid_tenant", 90002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.URL+tt.path, nil)
			resp, body := e.do(req)
			checkOAuthError(t, e, resp, body, tt.status, tt.code, tt.aadsts)
		})
	}
}

func TestKeys(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/" + e.Tenant.ID + "/discovery/v2.0/keys", "/" + e.Tenant.ID + "/discovery/keys", "/common/discovery/keys", "/common/discovery/v2.0/keys"} {
		t.Run(path, func(t *testing.T) {
			resp, body := e.get(path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			set := servertest.Decode[token.JWKS](t, body)
			if len(set.Keys) != 1 || set.Keys[0].Kid != e.Signer.KeyID() || set.Keys[0].N == "" || set.Keys[0].E != "AQAB" {
				t.Fatalf("unexpected JWKS %s", body)
			}
		})
	}
}

func TestInstanceDiscovery(t *testing.T) {
	e := newEnv(t, envOptions{extraHosts: func(string) []string { return []string{"cerulean.example:8443"} }})
	e.secret = ""
	q := func(endpoint string) string {
		return "/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape(endpoint)
	}
	tests := []struct {
		name      string
		path      string
		status    int
		discovery string
		aadsts    int
	}{
		{"own host", q(e.URL + "/" + e.Tenant.ID + "/oauth2/v2.0/authorize"), 200, e.URL + "/" + e.Tenant.ID + "/v2.0/.well-known/openid-configuration", 0},
		{"configured alias", q("https://CERULEAN.example:8443/common/oauth2/v2.0/authorize"), 200, "https://cerulean.example:8443/common/v2.0/.well-known/openid-configuration", 0},
		{"foreign host", q("https://login.microsoftonline.com/common/oauth2/v2.0/authorize"), 400, "", 50049},
		{"plain http", q("http://" + e.Addr + "/common/oauth2/v2.0/authorize"), 400, "", 50049},
		{"malformed tenant", q(e.URL + "/bad_tenant/oauth2/v2.0/authorize"), 400, "", 50049},
		{"missing endpoint", "/common/discovery/instance?api-version=1.1", 400, "", 50050},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(tt.path)
			if tt.status != http.StatusOK {
				code := "invalid_instance"
				if tt.aadsts == 50050 {
					code = "invalid_request"
				}
				checkOAuthError(t, e, resp, body, tt.status, code, tt.aadsts)
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			doc := servertest.Decode[oauth2.InstanceDiscovery](t, body)
			if doc.TenantDiscoveryEndpoint != tt.discovery || doc.APIVersion != "1.1" || len(doc.Metadata) != 1 || len(doc.Metadata[0].Aliases) != 1 {
				t.Fatalf("unexpected document %s", body)
			}
		})
	}
}
