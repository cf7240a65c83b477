package login

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/server"
)

// discoveryTenant resolves the tenant of a discovery URL: its id for a
// known tenant, or for Entra's multi-tenant authorities "common" and
// "organizations" the authority itself with the issuer's tenant left as
// Entra leaves it, the literal "{tenantid}".
func (h *handler) discoveryTenant(r *http.Request) (pathTenant, issuerTenant string, err error) {
	tenant := r.PathValue("tenant")
	if !validTenant(tenant) {
		return "", "", invalidTenantName(tenant)
	}
	switch t := strings.ToLower(tenant); t {
	case "common", "organizations":
		return t, "{tenantid}", nil
	}
	t, err := h.identity.Tenant(r.Context(), tenant)
	if err != nil {
		return "", "", err
	}
	return t.ID, t.ID, nil
}

// openIDConfiguration serves /{tenant}/v2.0/.well-known/openid-configuration
// and the v1 /{tenant}/.well-known/openid-configuration. The v2 issuer
// shares scheme and host with the authority the client used (MSAL refuses
// the document otherwise); the v1 issuer is sts.windows.net, the issuer of
// the v1-format tokens Cerulean mints, as on Entra.
func (h *handler) openIDConfiguration(ver version) server.Func {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := allowMethods(w, r, http.MethodGet, http.MethodHead); err != nil {
			return err
		}
		tid, issuerTID, err := h.discoveryTenant(r)
		if err != nil {
			return err
		}
		base := "https://" + r.Host
		hostname := hostOnly(r.Host)
		doc := oauth2.OpenIDConfiguration{
			TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			ResponseModesSupported:            []string{"query", "fragment", "form_post"},
			SubjectTypesSupported:             []string{"pairwise"},
			IDTokenSigningAlgValuesSupported:  []string{"RS256"},
			HTTPLogoutSupported:               true,
			FrontchannelLogoutSupported:       true,
			KerberosEndpoint:                  base + "/" + tid + "/kerberos",
			CloudInstanceName:                 hostname,
			CloudGraphHostName:                hostname,
			MSGraphHost:                       r.Host,
			RBACURL:                           base,
			UserinfoEndpoint:                  base + "/oidc/userinfo",
		}
		if ver == v2 {
			prefix := base + "/" + tid + "/oauth2/v2.0/"
			doc.TokenEndpoint = prefix + "token"
			doc.AuthorizationEndpoint = prefix + "authorize"
			doc.DeviceAuthorizationEndpoint = prefix + "devicecode"
			doc.EndSessionEndpoint = prefix + "logout"
			doc.JWKSURI = base + "/" + tid + "/discovery/v2.0/keys"
			doc.Issuer = base + "/" + issuerTID + "/v2.0"
			doc.ResponseTypesSupported = []string{"code", "id_token", "code id_token", "id_token token"}
			doc.ScopesSupported = []string{"openid", "profile", "email", "offline_access"}
			doc.ClaimsSupported = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
				"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"}
		} else {
			prefix := base + "/" + tid + "/oauth2/"
			doc.TokenEndpoint = prefix + "token"
			doc.AuthorizationEndpoint = prefix + "authorize"
			doc.DeviceAuthorizationEndpoint = prefix + "devicecode"
			doc.EndSessionEndpoint = prefix + "logout"
			doc.JWKSURI = base + "/common/discovery/keys"
			doc.Issuer = "https://sts.windows.net/" + issuerTID + "/"
			if issuerTID == tid {
				doc.Issuer = identity.Issuer(tid)
			}
			doc.ResponseTypesSupported = []string{"code", "id_token", "code id_token", "token id_token", "token"}
			doc.ScopesSupported = []string{"openid"}
			doc.ClaimsSupported = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
				"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"}
		}
		server.WriteJSON(w, http.StatusOK, doc)
		return nil
	}
}

// keys serves the signing keys at /{tenant}/discovery/v2.0/keys,
// /{tenant}/discovery/keys and /common/discovery/keys.
func (h *handler) keys(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethods(w, r, http.MethodGet, http.MethodHead); err != nil {
		return err
	}
	if _, _, err := h.discoveryTenant(r); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "max-age=86400, private")
	server.WriteJSON(w, http.StatusOK, h.signer.JWKS())
	return nil
}

// instanceDiscovery serves MSAL's GET /common/discovery/instance. It
// vouches only for itself: the authorization endpoint must be https on the
// Host of this request or on one of the configured host names; any other
// instance is AADSTS50049, as Entra answers for an unknown cloud.
func (h *handler) instanceDiscovery(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethods(w, r, http.MethodGet, http.MethodHead); err != nil {
		return err
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return errMalformedDiscovery
	}
	raw := q.Get("authorization_endpoint")
	if raw == "" {
		return errMalformedDiscovery
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return errInvalidInstance
	}
	host := strings.ToLower(u.Host)
	if !strings.EqualFold(host, r.Host) && !slices.Contains(h.hosts, host) {
		return errInvalidInstance
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if !validTenant(tenant) {
		return errInvalidInstance
	}
	server.WriteJSON(w, http.StatusOK, oauth2.InstanceDiscovery{
		TenantDiscoveryEndpoint: "https://" + host + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		APIVersion:              "1.1",
		Metadata:                []oauth2.InstanceMetadata{{PreferredNetwork: host, PreferredCache: host, Aliases: []string{host}}},
	})
	return nil
}

// hostOnly strips the port from a host[:port].
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
