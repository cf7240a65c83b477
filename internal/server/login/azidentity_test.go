package login_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/cerulean/cerulean/internal/identity"
)

// credential builds an azidentity client secret credential against the env.
func (e *env) credential(t *testing.T, secret string, authority string, disableDiscovery bool, transport policy.Transporter) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(e.Tenant.ID, e.app.AppID, secret, &azidentity.ClientSecretCredentialOptions{
		DisableInstanceDiscovery: disableDiscovery,
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: authority},
			Transport: transport,
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func getToken(cred azcore.TokenCredential, scope string) (azcore.AccessToken, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
}

// TestAzidentity drives the official Azure SDK credential against the
// server, with instance discovery disabled as Cerulean's docs require for a
// custom authority host.
func TestAzidentity(t *testing.T) {
	e := newEnv(t)
	cred := e.credential(t, e.secret, e.URL+"/", true, e.H1)
	for _, tc := range []struct {
		scope string
		api   identity.API
	}{
		{"https://management.core.windows.net//.default", identity.ARM},
		{"https://graph.microsoft.com/.default", identity.Graph},
	} {
		t.Run(tc.scope, func(t *testing.T) {
			tok, err := getToken(cred, tc.scope)
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			if time.Until(tok.ExpiresOn) < 50*time.Minute {
				t.Errorf("ExpiresOn %v is too soon", tok.ExpiresOn)
			}
			if _, _, err := e.Identity.Verify(context.Background(), tok.Token, tc.api); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}

	t.Run("wrong secret", func(t *testing.T) {
		_, err := getToken(e.credential(t, "not-the-secret", e.URL+"/", true, e.H1), "https://management.core.windows.net//.default")
		if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
			t.Fatalf("err = %v, want AADSTS7000215", err)
		}
	})
}

// redirectingClient is an HTTP client whose every connection goes to addr,
// whatever host the request names: what a hosts-file entry pointing
// login.microsoftonline.com at Cerulean would do. With redirect=false it
// refuses every connection not already to addr, so that no test traffic
// leaves the machine.
func (e *env) redirectingClient(redirect bool) *http.Client {
	dial := func(ctx context.Context, network, target string) (net.Conn, error) {
		if target != e.Addr && !redirect {
			return nil, errNoDial
		}
		var d net.Dialer
		return d.DialContext(ctx, network, e.Addr)
	}
	return &http.Client{Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: e.CA}}}
}

// TestAzidentityInstanceDiscovery records what MSAL does when instance
// discovery stays enabled. For a custom authority host MSAL asks
// login.microsoftonline.com (not the authority) to validate it, so without
// DisableInstanceDiscovery GetToken needs that name to reach Cerulean: a
// hosts entry plus the trusted CA. Then /common/discovery/instance answers
// for the hosts Cerulean is configured with.
func TestAzidentityInstanceDiscovery(t *testing.T) {
	const scope = "https://management.core.windows.net//.default"

	t.Run("custom authority, no route to login.microsoftonline.com", func(t *testing.T) {
		e := newEnv(t)
		_, err := getToken(e.credential(t, e.secret, e.URL+"/", false, e.redirectingClient(false)), scope)
		if err == nil || !strings.Contains(err.Error(), "login.microsoftonline.com") {
			t.Fatalf("err = %v, want a failed call to login.microsoftonline.com", err)
		}
		t.Logf("as documented: %v", err)
	})

	t.Run("custom authority, login.microsoftonline.com resolves to Cerulean, authority not configured", func(t *testing.T) {
		e := newEnv(t)
		_, err := getToken(e.credential(t, e.secret, e.URL+"/", false, e.redirectingClient(true)), scope)
		if err == nil || !strings.Contains(err.Error(), "invalid_instance") {
			t.Fatalf("err = %v, want invalid_instance", err)
		}
		t.Logf("as documented: %v", err)
	})

	t.Run("custom authority, login.microsoftonline.com resolves to Cerulean, authority configured", func(t *testing.T) {
		e := newEnv(t, envOptions{extraHosts: func(addr string) []string { return []string{addr} }})
		tok, err := getToken(e.credential(t, e.secret, e.URL+"/", false, e.redirectingClient(true)), scope)
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		if _, _, err := e.Identity.Verify(context.Background(), tok.Token, identity.ARM); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})

	t.Run("default authority login.microsoftonline.com resolves to Cerulean", func(t *testing.T) {
		e := newEnv(t)
		tok, err := getToken(e.credential(t, e.secret, cloud.AzurePublic.ActiveDirectoryAuthorityHost, false, e.redirectingClient(true)), scope)
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		if _, _, err := e.Identity.Verify(context.Background(), tok.Token, identity.ARM); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
}
