package client

// The registry's 401 challenge and ACR's token endpoints
// (reference/acr-entra.md §1.1, §1.2): /oauth2/exchange, the refresh_token
// and password grants of POST /oauth2/token, and docker's Basic GET.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ---- challenge ------------------------------------------------------------------

// Challenge is the answer to an unauthenticated GET /v2/.
type Challenge struct {
	// StatusCode is the response status (401 when the registry asks for
	// credentials).
	StatusCode int
	// Header is the raw WWW-Authenticate value ("" when absent).
	Header string
	// Scheme is "bearer" or "basic" (lower case), Params its parameters
	// (realm, service, scope, error).
	Scheme string
	Params map[string]string
}

// Realm is the bearer challenge's token endpoint.
func (c Challenge) Realm() string { return c.Params["realm"] }

// Service is the bearer challenge's service (the login server).
func (c Challenge) Service() string { return c.Params["service"] }

// Scope is the scope the challenged request needed (absent on /v2/).
func (c Challenge) Scope() string { return c.Params["scope"] }

// Ping is GET https://<login server>/v2/ without credentials.
func (r *Registry) Ping(ctx context.Context) (Challenge, error) {
	resp, err := r.send(ctx, call{method: http.MethodGet, url: r.url("/v2/", nil)})
	if err != nil {
		return Challenge{}, err
	}
	ch := ParseChallenge(resp.Header.Get("WWW-Authenticate"))
	ch.StatusCode = resp.StatusCode
	return ch, nil
}

// ParseChallenge parses a WWW-Authenticate value such as
// `Bearer realm="https://r/oauth2/token",service="r",scope="…"`. Quoted
// values may contain commas; parameter names are lower-cased.
func ParseChallenge(h string) Challenge {
	ch := Challenge{Header: h, Params: map[string]string{}}
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	ch.Scheme = strings.ToLower(scheme)
	for rest = strings.TrimSpace(rest); rest != ""; {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			break
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimSpace(rest[eq+1:])
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			val, rest = b.String(), rest[min(i+1, len(rest)):]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:end]), rest[end:]
		}
		ch.Params[key] = val
		rest = strings.TrimLeft(rest, ", ")
	}
	return ch
}

// ---- tokens -------------------------------------------------------------------------

// tokenURL is the realm's scheme and host with path: az posts to
// urlunparse((realm.scheme, realm.netloc, path, …)). Tokens and passwords
// go only to the login server itself: a realm elsewhere is refused.
func (r *Registry) tokenURL(realm, path string) (string, error) {
	u, err := url.Parse(realm)
	if err != nil || u.Scheme != "https" || !strings.EqualFold(u.Host, r.loginServer) {
		return "", fmt.Errorf("client: the token realm %q of %s is not on the login server; refusing to send credentials there", realm, r.loginServer)
	}
	return "https://" + r.loginServer + path, nil
}

// postForm posts a form to a token endpoint and decodes the JSON answer;
// any status but 200 is an error carrying the status.
func (r *Registry) postForm(ctx context.Context, u string, form url.Values, out any) error {
	resp, err := r.send(ctx, call{method: http.MethodPost, url: u,
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: []byte(form.Encode())})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return decodeRegistryError(http.MethodPost, u, resp)
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return fmt.Errorf("client: decoding %s response: %w", redactURL(u), err)
	}
	return nil
}

// ExchangeRequest is the form of POST /oauth2/exchange.
type ExchangeRequest struct {
	// Service is the challenge's service.
	Service string
	// Tenant is sent by az (and omitted by the Go SDK) when not empty.
	Tenant string
	// AccessToken is the Entra token (az sends its ARM token).
	AccessToken string
}

// Exchange is POST /oauth2/exchange grant_type=access_token: an Entra
// token for an ACR refresh token.
func (r *Registry) Exchange(ctx context.Context, realm string, in ExchangeRequest) (string, error) {
	u, err := r.tokenURL(realm, "/oauth2/exchange")
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"access_token"}, "service": {in.Service}, "access_token": {in.AccessToken}}
	if in.Tenant != "" {
		form.Set("tenant", in.Tenant)
	}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := r.postForm(ctx, u, form, &out); err != nil {
		return "", err
	}
	if out.RefreshToken == "" {
		return "", errors.New("client: the exchange response has no refresh_token")
	}
	return out.RefreshToken, nil
}

// RefreshTokenGrant is POST /oauth2/token grant_type=refresh_token: an ACR
// access token for scope (e.g. "repository:hello:pull,push").
func (r *Registry) RefreshTokenGrant(ctx context.Context, realm, service, scope, refreshToken string) (string, error) {
	return r.accessToken(ctx, realm, url.Values{"grant_type": {"refresh_token"}, "service": {service},
		"scope": {scope}, "refresh_token": {refreshToken}})
}

// PasswordGrant is POST /oauth2/token grant_type=password (az's path for
// a user name and password: admin user, service principal, scoped token).
func (r *Registry) PasswordGrant(ctx context.Context, realm, service, scope, username, password string) (string, error) {
	return r.accessToken(ctx, realm, url.Values{"service": {service}, "grant_type": {"password"},
		"username": {username}, "password": {password}, "scope": {scope}})
}

func (r *Registry) accessToken(ctx context.Context, realm string, form url.Values) (string, error) {
	u, err := r.tokenURL(realm, "/oauth2/token")
	if err != nil {
		return "", err
	}
	var out struct {
		AccessToken string `json:"access_token"`
		Token       string `json:"token"`
	}
	if err := r.postForm(ctx, u, form, &out); err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		out.AccessToken = out.Token
	}
	if out.AccessToken == "" {
		return "", errors.New("client: the token response has no access_token")
	}
	return out.AccessToken, nil
}

// LoginResult is the answer of the token endpoint to a docker-style login.
type LoginResult struct {
	AccessToken string
	// RefreshToken is what docker stores as the identity token.
	RefreshToken string
}

// BasicLogin is what `docker login` does after the challenge: GET
// <realm>?account=<user>&client_id=docker&offline_token=true&service=<svc>
// with Basic credentials, no scope.
func (r *Registry) BasicLogin(ctx context.Context, realm, service, username, password string) (LoginResult, error) {
	u, err := r.tokenURL(realm, "/oauth2/token")
	if err != nil {
		return LoginResult{}, err
	}
	u += "?" + url.Values{"account": {username}, "client_id": {"docker"}, "offline_token": {"true"}, "service": {service}}.Encode()
	resp, err := r.send(ctx, call{method: http.MethodGet, url: u, header: http.Header{"Authorization": {basicAuth(username, password)}}})
	if err != nil {
		return LoginResult{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return LoginResult{}, decodeRegistryError(http.MethodGet, u, resp)
	}
	var out struct {
		AccessToken  string `json:"access_token"`
		Token        string `json:"token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return LoginResult{}, fmt.Errorf("client: decoding %s response: %w", redactURL(u), err)
	}
	if out.AccessToken == "" {
		out.AccessToken = out.Token
	}
	return LoginResult{AccessToken: out.AccessToken, RefreshToken: out.RefreshToken}, nil
}
