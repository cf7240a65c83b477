package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cerulean/cerulean/api/oauth2"
)

// Token is an access token and its expiry.
type Token struct {
	AccessToken string
	TokenType   string
	ExpiresOn   time.Time
}

// TokenSource hands out access tokens for a resource (ResourceARM,
// ResourceGraph, ...). The CLI implements it with an on-disk cache.
type TokenSource interface {
	Token(ctx context.Context, resource string) (Token, error)
}

// ScopeForResource turns a resource into the v2 scope az asks for: the
// resource followed by "/.default", keeping a trailing slash
// ("https://management.core.windows.net//.default").
func ScopeForResource(resource string) string { return resource + "/.default" }

// ResourceForScope is the reverse of ScopeForResource.
func ResourceForScope(scope string) string {
	for _, suffix := range []string{"/.default", "/user_impersonation"} {
		if strings.HasSuffix(scope, suffix) {
			return strings.TrimSuffix(scope, suffix)
		}
	}
	return scope
}

// ClientCredentialsToken asks the v2 token endpoint of tenant for a token
// for resource with the client credentials grant.
func (c *Client) ClientCredentialsToken(ctx context.Context, tenant, clientID, secret, resource string) (Token, error) {
	return c.ClientCredentialsTokenForScope(ctx, tenant, clientID, secret, ScopeForResource(resource))
}

// ClientCredentialsTokenForScope is ClientCredentialsToken with an explicit
// scope.
func (c *Client) ClientCredentialsTokenForScope(ctx context.Context, tenant, clientID, secret, scope string) (Token, error) {
	if tenant == "" {
		return Token{}, errors.New("client: no tenant")
	}
	form := url.Values{}
	form.Set("client_id", clientID)
	form.Set("client_secret", secret)
	form.Set("grant_type", "client_credentials")
	form.Set("scope", scope)
	u := c.urlFor("/"+url.PathEscape(tenant)+"/oauth2/v2.0/token", "")
	now := time.Now()
	resp, err := c.do(ctx, call{
		surface: SurfaceLogin,
		method:  http.MethodPost,
		url:     u,
		header:  http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		body:    []byte(form.Encode()),
		ok:      []int{http.StatusOK},
	})
	if err != nil {
		return Token{}, err
	}
	var tr oauth2.TokenResponse
	if err := decodeJSON(resp, &tr); err != nil {
		return Token{}, err
	}
	if tr.AccessToken == "" {
		return Token{}, errors.New("client: token response has no access_token")
	}
	typ := tr.TokenType
	if typ == "" {
		typ = "Bearer"
	}
	return Token{AccessToken: tr.AccessToken, TokenType: typ, ExpiresOn: now.Add(time.Duration(tr.ExpiresIn) * time.Second)}, nil
}

// SecretCredential is a TokenSource for a service principal's client
// secret. It keeps tokens in memory until five minutes before expiry.
type SecretCredential struct {
	Client   *Client
	TenantID string
	ClientID string
	Secret   string

	mu    sync.Mutex
	cache map[string]Token
}

// Token implements TokenSource.
func (s *SecretCredential) Token(ctx context.Context, resource string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.cache[resource]; ok && time.Until(t.ExpiresOn) > 5*time.Minute {
		return t, nil
	}
	t, err := s.Client.ClientCredentialsToken(ctx, s.TenantID, s.ClientID, s.Secret, resource)
	if err != nil {
		return Token{}, err
	}
	if s.cache == nil {
		s.cache = map[string]Token{}
	}
	s.cache[resource] = t
	return t, nil
}

// StaticToken is a TokenSource that always returns the same token.
type StaticToken string

// Token implements TokenSource.
func (t StaticToken) Token(context.Context, string) (Token, error) {
	return Token{AccessToken: string(t), TokenType: "Bearer", ExpiresOn: time.Now().Add(time.Hour)}, nil
}
