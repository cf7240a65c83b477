package acrtoken

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server"
)

// tokenResponse is the token endpoints' answer. ACR sends access_token
// alone; Cerulean adds expires_in, which the Docker token specification
// lists and every client tolerates: without it docker's token client
// assumes 60 seconds and asks again every minute. refresh_token is set
// only when docker logs in with the null GUID and an ACR refresh token
// and asks for an offline token: that is how `az acr login` leaves docker
// an identity token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
}

// exchangeResponse is /oauth2/exchange's answer.
type exchangeResponse struct {
	RefreshToken string `json:"refresh_token"`
}

// serveToken serves GET and POST /oauth2/token.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		return errMethodNotAllowed.WithMessage("The token endpoint accepts GET and POST requests only.")
	}
	reg, err := s.lookupRegistry(r)
	if err != nil {
		return err
	}
	var params url.Values
	if r.Method == http.MethodGet {
		params = r.URL.Query()
	} else if params, err = readForm(r); err != nil {
		return err
	}
	if err := checkService(reg, params); err != nil {
		return err
	}
	want, err := ParseScopes(params["scope"]...)
	if err != nil {
		return err
	}
	if want, err = normalize(want); err != nil {
		return err
	}

	var sub subject
	offline := false
	if r.Method == http.MethodGet {
		sub, err = s.getSubject(r, reg)
		offline = params.Get("offline_token") == "true"
	} else {
		sub, err = s.postSubject(r, reg, params)
		offline = params.Get("access_type") == "offline"
	}
	if err != nil {
		return err
	}
	access, err := s.grant(r.Context(), reg, sub, want)
	if err != nil {
		return err
	}
	tok, err := s.issueAccess(reg, sub, access)
	if err != nil {
		return err
	}
	resp := tokenResponse{AccessToken: tok.raw, ExpiresIn: tok.expiresIn}
	if offline {
		resp.RefreshToken = sub.refreshToken
	}
	s.logger.DebugContext(r.Context(), "registry token issued", "registry", reg.Name, "subject", sub.id,
		"method", r.Method, "requested", len(want), "granted", len(access))
	noStore(w.Header())
	server.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// getSubject authenticates GET /oauth2/token: HTTP Basic credentials, or
// none (anonymous).
func (s *Server) getSubject(r *http.Request, reg registry.Registry) (subject, error) {
	if r.Header.Get("Authorization") == "" {
		return anonymous(reg)
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return subject{}, ErrUnauthorized.WithMessage("The token endpoint takes HTTP Basic credentials.")
	}
	return s.basicSubject(r.Context(), reg, user, pass)
}

// postSubject authenticates a POST /oauth2/token form: an ACR refresh
// token (grant_type=refresh_token), a user name and password
// (grant_type=password), or nothing at all (grant_type=password with
// an empty refresh_token: the Azure SDK's anonymous form).
func (s *Server) postSubject(r *http.Request, reg registry.Registry, form url.Values) (subject, error) {
	switch grant := form.Get("grant_type"); grant {
	case "refresh_token":
		raw := form.Get("refresh_token")
		if raw == "" {
			return subject{}, missing("refresh_token")
		}
		return s.tokenSubject(r.Context(), reg, raw, grantRefresh)
	case "password":
		user, pass := form.Get("username"), form.Get("password")
		if user == "" && pass == "" && form.Get("refresh_token") == "" {
			return anonymous(reg)
		}
		if user == "" {
			return subject{}, missing("username")
		}
		return s.basicSubject(r.Context(), reg, user, pass)
	case "":
		return subject{}, missing("grant_type")
	default:
		return subject{}, errUnsupportedGrant.WithMessage("The grant type '%s' is not supported; use refresh_token or password.", truncate(grant))
	}
}

// anonymous is the subject of a request without credentials, allowed only
// while the registry has anonymous pull enabled.
func anonymous(reg registry.Registry) (subject, error) {
	if !reg.AnonymousPullEnabled {
		return subject{}, ErrUnauthorized
	}
	return subject{kind: anonymousSubject}, nil
}

// serveExchange serves POST /oauth2/exchange: an Entra access token of
// ARM or ACR audience becomes an ACR refresh token for this registry.
func (s *Server) serveExchange(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.lookupRegistry(r)
	if err != nil {
		return err
	}
	form, err := readForm(r)
	if err != nil {
		return err
	}
	switch grant := form.Get("grant_type"); grant {
	case "access_token", "access_token_refresh_token":
		// The deprecated access_token_refresh_token grant also sends an
		// Entra refresh token; the access token alone decides.
	case "":
		return missing("grant_type")
	default:
		// Includes the deprecated refresh_token grant: Cerulean issues no
		// Entra refresh tokens.
		return errUnsupportedGrant.WithMessage("The grant type '%s' is not supported; use access_token.", truncate(grant))
	}
	if err := checkService(reg, form); err != nil {
		return err
	}
	raw := form.Get("access_token")
	if raw == "" {
		return missing("access_token")
	}
	p, c, err := s.verifyEntra(r, raw)
	if err != nil {
		return err
	}
	if tenant := form.Get("tenant"); tenant != "" && !s.sameTenant(r, tenant, p.TenantID) {
		return ErrUnauthorized.WithMessage("The access token was not issued by tenant '%s'.", truncate(tenant))
	}
	sub := subject{kind: principalSubject, id: p.ObjectID, tenant: p.TenantID, appID: p.AppID, ckid: c.CKID}
	perms, err := s.rightsOf(r.Context(), reg, sub).permissionNames()
	if err != nil {
		return err
	}
	tok, err := s.issueRefresh(reg, sub, perms)
	if err != nil {
		return err
	}
	s.logger.DebugContext(r.Context(), "registry refresh token issued", "registry", reg.Name, "subject", sub.id, "tenant_id", sub.tenant)
	noStore(w.Header())
	server.WriteJSON(w, http.StatusOK, exchangeResponse{RefreshToken: tok.raw})
	return nil
}

// verifyEntra verifies an Entra access token of ARM audience (what az
// acr login sends) or of ACR audience (what the Azure SDK sends), with
// everything identity.Verify checks: signature, issuer, lifetime, and that
// the principal and its secret still exist.
func (s *Server) verifyEntra(r *http.Request, raw string) (principal.Principal, identity.Claims, error) {
	p, c, err := s.identity.Verify(r.Context(), raw, identity.ARM)
	if errors.Is(err, identity.ErrTokenAudience) {
		p, c, err = s.identity.Verify(r.Context(), raw, identity.Registry)
	}
	if err != nil {
		return principal.Principal{}, identity.Claims{}, err
	}
	return p, c, nil
}

// sameTenant reports whether tenant (a GUID or a domain) is the tenant
// with id tid.
func (s *Server) sameTenant(r *http.Request, tenant, tid string) bool {
	if strings.EqualFold(tenant, tid) {
		return true
	}
	t, err := s.identity.Tenant(r.Context(), tenant)
	return err == nil && strings.EqualFold(t.ID, tid)
}

// checkService requires the service parameter to name this registry's
// login server. A token asked for another service is refused as
// unauthorized, like a token of another registry.
func checkService(reg registry.Registry, params url.Values) error {
	service := params.Get("service")
	if service == "" {
		return missing("service")
	}
	if !strings.EqualFold(service, reg.LoginServer) {
		return ErrUnauthorized.WithMessage("The service '%s' is not this registry's login server '%s'.", truncate(service), reg.LoginServer)
	}
	return nil
}

func missing(param string) error {
	return errMissingParameter.WithMessage("The request must contain the parameter '%s'.", param)
}

// maxFormBody bounds a token request body.
const maxFormBody = 64 << 10

// readForm reads an application/x-www-form-urlencoded body of at most
// maxFormBody bytes; a body of another type carries no parameters.
// Parameters in the query string (api-version) are not read. Errors never
// repeat the body: it may hold a secret.
func readForm(r *http.Request) (url.Values, error) {
	if !isForm(r.Header.Get("Content-Type")) {
		return url.Values{}, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody+1))
	if err != nil {
		return nil, errInvalidRequest.WithMessage("The request body could not be read.")
	}
	if len(body) > maxFormBody {
		return nil, errInvalidRequest.WithMessage("The request body exceeds %d bytes.", maxFormBody)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errInvalidRequest.WithMessage("The request body is not valid form-urlencoded content.")
	}
	return form, nil
}

// isForm reports whether a Content-Type names form-urlencoded data.
func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && strings.EqualFold(mt, "application/x-www-form-urlencoded")
}
