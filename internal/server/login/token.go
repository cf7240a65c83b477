package login

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/server"
)

// token serves POST /{tenant}/oauth2/v2.0/token (v2: scope=…/.default) and
// POST /{tenant}/oauth2/token (v1: resource=…). Only the client credentials
// grant with a client secret is supported. Checks run in Entra's order:
// tenant and parameters first, then the client, then the resource.
func (h *handler) token(ver version) server.Func {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := allowMethods(w, r, http.MethodPost); err != nil {
			return err
		}
		tenant := r.PathValue("tenant")
		if err := checkTenantForGrant(tenant); err != nil {
			return err
		}
		form, err := readForm(r)
		if err != nil {
			return err
		}
		if err := checkGrant(form.Get("grant_type")); err != nil {
			return err
		}
		creds, err := readClientCredentials(r, form)
		if err != nil {
			return err
		}
		if creds.id == "" {
			return missing("client_id")
		}
		if len(creds.id) > maxClientIDLen {
			return errMalformedRequest.WithMessage("The value of the client_id parameter is too long.")
		}
		resource, err := requestedResource(ver, form)
		if err != nil {
			return err
		}
		if creds.secret == "" {
			return errMissingSecret.WithMessage("'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
		}
		auth, err := h.identity.Authenticate(r.Context(), tenant, creds.id, creds.secret)
		if err != nil {
			return err
		}
		tok, err := h.identity.IssueToken(r.Context(), auth, graphAlias(resource, r.Host))
		if err != nil {
			return err
		}
		h.logger.DebugContext(r.Context(), "token issued", "tenant_id", auth.Tenant.ID, "client_id", auth.Principal.AppID,
			"audience", tok.Audience, "endpoint_version", int(ver))
		noStore(w)
		lifetime := int64(tok.ExpiresOn.Sub(tok.IssuedAt).Seconds())
		if ver == v1 {
			server.WriteJSON(w, http.StatusOK, oauth2.TokenResponseV1{
				TokenType:    "Bearer",
				ExpiresIn:    strconv.FormatInt(lifetime, 10),
				ExtExpiresIn: strconv.FormatInt(lifetime, 10),
				ExpiresOn:    strconv.FormatInt(tok.ExpiresOn.Unix(), 10),
				NotBefore:    strconv.FormatInt(tok.NotBefore.Unix(), 10),
				Resource:     resource,
				AccessToken:  tok.Raw,
			})
			return nil
		}
		server.WriteJSON(w, http.StatusOK, oauth2.TokenResponse{
			TokenType: "Bearer", ExpiresIn: lifetime, ExtExpiresIn: lifetime, AccessToken: tok.Raw,
		})
		return nil
	}
}

// graphAlias maps a resource that names this server itself to Microsoft
// Graph. The cloud metadata of a registered cloud names the server as its
// Graph (microsoftGraphResourceId), and az asks for Graph tokens by that
// URL, so "https://<host>/" is Graph here, as graph.microsoft.com is in
// Azure.
func graphAlias(resource, host string) string {
	if _, _, known := identity.ResolveResource(resource); known {
		return resource
	}
	rest, ok := strings.CutPrefix(strings.ToLower(resource), "https://")
	if !ok {
		return resource
	}
	if strings.TrimSuffix(strings.TrimSuffix(rest, "/"), ":443") == strings.TrimSuffix(strings.ToLower(host), ":443") {
		return graphResource
	}
	return resource
}

// graphResource is Microsoft Graph's resource identifier.
const graphResource = "https://graph.microsoft.com"

func missing(param string) error {
	return errMissingParameter.WithMessage("The request body must contain the following parameter: '%s'.", param)
}

// checkGrant accepts client_credentials only.
func checkGrant(grant string) error {
	switch grant {
	case "":
		return missing("grant_type")
	case "client_credentials":
		return nil
	}
	return errUnsupportedGrant.WithMessage("The app requested an unsupported grant type '%s'.", truncate(grant))
}

// requestedResource reads the resource of a v2 (scope) or v1 (resource)
// request.
func requestedResource(ver version, form url.Values) (string, error) {
	if ver == v1 {
		res := strings.TrimSpace(form.Get("resource"))
		if res == "" {
			return "", missing("resource")
		}
		return res, nil
	}
	if form.Has("resource") {
		return "", errResourceParameter
	}
	scope := form.Get("scope")
	if strings.TrimSpace(scope) == "" {
		return "", missing("scope")
	}
	return resourceFromScope(scope)
}

// maxClientIDLen bounds a client id (an application id is a GUID), so that
// an error message never repeats a long client-supplied value.
const maxClientIDLen = 256

// maxTenantLen bounds a tenant path segment (a GUID or a domain name).
const maxTenantLen = 253

// validTenant reports whether s can name a tenant: a GUID or a domain,
// made of letters, digits, '.' and '-' (the characters azidentity allows).
func validTenant(s string) bool {
	if s == "" || len(s) > maxTenantLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func invalidTenantName(tenant string) error {
	return errInvalidTenantName.WithMessage("Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", truncate(tenant))
}

// multiTenant reports whether tenant is one of Entra's tenant-less
// authorities.
func multiTenant(tenant string) bool {
	switch strings.ToLower(tenant) {
	case "common", "organizations", "consumers":
		return true
	}
	return false
}

// checkTenantForGrant refuses malformed tenants and the tenant-less
// authorities, over which Entra does not issue app-only tokens.
func checkTenantForGrant(tenant string) error {
	if !validTenant(tenant) {
		return invalidTenantName(tenant)
	}
	if multiTenant(tenant) {
		return errTenantlessGrant
	}
	return nil
}
