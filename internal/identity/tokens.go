package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/principal"
)

// API is a resource that accepts Cerulean's access tokens.
type API int

// The APIs tokens can be issued for.
const (
	ARM      API = iota + 1 // Azure Resource Manager
	Graph                   // Microsoft Graph
	Registry                // Azure Container Registry (the audience the ACR SDK asks for)
)

func (a API) String() string {
	switch a {
	case ARM:
		return "arm"
	case Graph:
		return "graph"
	case Registry:
		return "registry"
	}
	return "unknown"
}

// Audiences lists, per API, the resource identifiers a token may be
// requested for; each is also the token's aud claim. ARM takes all four
// spellings Azure accepts.
var Audiences = map[API][]string{
	ARM:      {"https://management.core.windows.net/", "https://management.core.windows.net", "https://management.azure.com/", "https://management.azure.com"},
	Graph:    {"https://graph.microsoft.com", "https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000"},
	Registry: {"https://containerregistry.azure.net", "https://containerregistry.azure.net/"},
}

// ResolveResource maps a requested resource identifier to its API and the
// aud claim to issue (Graph tokens always carry the bare Graph URL).
func ResolveResource(resource string) (API, string, bool) {
	for api, auds := range Audiences {
		for _, a := range auds {
			if strings.EqualFold(a, resource) {
				if api == Graph {
					return api, "https://graph.microsoft.com", true
				}
				return api, a, true
			}
		}
	}
	return 0, "", false
}

// Claims is the payload of a Cerulean access token: the claims Entra puts
// in a v1 app-only token, plus ckid, the key id of the client secret it was
// issued for, so that removing the secret revokes the token at once.
type Claims struct {
	Aud      string `json:"aud"`
	Iss      string `json:"iss"`
	Iat      int64  `json:"iat"`
	Nbf      int64  `json:"nbf"`
	Exp      int64  `json:"exp"`
	Aio      string `json:"aio"`
	AppID    string `json:"appid"`
	AppIDACR string `json:"appidacr"`
	IDP      string `json:"idp"`
	IDTyp    string `json:"idtyp"`
	OID      string `json:"oid"`
	RH       string `json:"rh"`
	Sub      string `json:"sub"`
	TID      string `json:"tid"`
	UTI      string `json:"uti"`
	Ver      string `json:"ver"`
	CKID     string `json:"ckid"`
}

// Issuer returns the v1 issuer of a tenant.
func Issuer(tenantID string) string { return "https://sts.windows.net/" + tenantID + "/" }

// Token is an issued access token.
type Token struct {
	Raw       string
	Audience  string
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresOn time.Time
}

// IssueToken mints an access token for an authenticated client and a
// requested resource.
func (s *Service) IssueToken(ctx context.Context, a Authenticated, resource string) (Token, error) {
	_, aud, ok := ResolveResource(resource)
	if !ok {
		return Token{}, ErrInvalidResource.WithMessage("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, a.Tenant.DefaultDomain).WithTarget(resource)
	}
	now := s.now().UTC().Truncate(time.Second)
	nbf := now.Add(-5 * time.Minute) // Entra back-dates nbf to absorb clock skew
	exp := now.Add(s.lifetime)
	iss := Issuer(a.Tenant.ID)
	c := Claims{
		Aud: aud, Iss: iss, Iat: nbf.Unix(), Nbf: nbf.Unix(), Exp: exp.Unix(),
		Aio: strings.ReplaceAll(s.newID(), "-", ""), AppID: a.Principal.AppID, AppIDACR: "1", IDP: iss, IDTyp: "app",
		OID: a.Principal.ID, RH: "0.cerulean." + strings.ReplaceAll(a.Principal.ID, "-", "")[:8] + ".", Sub: a.Principal.ID,
		TID: a.Tenant.ID, UTI: strings.ReplaceAll(s.newID(), "-", "")[:22], Ver: "1.0", CKID: a.KeyID,
	}
	raw, err := s.signer.Sign(c)
	if err != nil {
		return Token{}, errdefs.Internalf(err, "signing token")
	}
	return Token{Raw: raw, Audience: aud, IssuedAt: now, NotBefore: nbf, ExpiresOn: exp}, nil
}

// clockSkew is the tolerance for nbf and exp checks.
const clockSkew = 5 * time.Minute

// Verify checks a bearer token presented to api: signature, issuer,
// lifetime, audience, and that its principal and client secret still exist.
// It is called on every request, so a deleted principal or removed secret
// takes effect at once.
func (s *Service) Verify(ctx context.Context, raw string, api API) (principal.Principal, Claims, error) {
	var c Claims
	if raw == "" {
		return principal.Principal{}, c, ErrTokenMissing
	}
	if err := s.signer.Verify(raw, &c); err != nil {
		return principal.Principal{}, c, ErrTokenInvalid.WithCause(err)
	}
	if c.Ver != "1.0" || c.TID == "" || c.Iss != Issuer(c.TID) || c.OID == "" {
		return principal.Principal{}, c, ErrTokenInvalid.WithCause(errors.New("unexpected issuer or claims"))
	}
	now := s.now()
	if now.Add(clockSkew).Unix() < c.Nbf {
		return principal.Principal{}, c, ErrTokenInvalid.WithMessage("The access token is not yet valid.")
	}
	if exp := time.Unix(c.Exp, 0).UTC(); !now.Before(exp.Add(clockSkew)) {
		return principal.Principal{}, c, ErrTokenExpired.WithMessage("The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
			exp.Format("1/2/2006 3:04:05 PM"), now.UTC().Format("1/2/2006 3:04:05 PM"))
	}
	if !slices.Contains(Audiences[api], c.Aud) {
		return principal.Principal{}, c, ErrTokenAudience.WithMessage("%s", c.Aud)
	}
	sp, err := s.store.GetServicePrincipal(ctx, c.TID, c.OID)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return principal.Principal{}, c, ErrTokenRevoked.WithMessage("The access token's service principal no longer exists.")
	}
	if err != nil {
		return principal.Principal{}, c, err
	}
	if !sp.AccountEnabled {
		return principal.Principal{}, c, ErrTokenRevoked.WithMessage("The access token's service principal is disabled.")
	}
	if !s.credentialCurrent(ctx, sp, c.CKID, now) {
		return principal.Principal{}, c, ErrTokenRevoked.WithMessage("The client secret the access token was issued for has been removed or has expired.")
	}
	return principal.Principal{TenantID: c.TID, ObjectID: sp.ID, AppID: sp.AppID, DisplayName: sp.DisplayName, Type: principal.ServicePrincipal}, c, nil
}

// credentialCurrent reports whether the secret with keyID still exists on the
// principal or its application and has not expired.
func (s *Service) credentialCurrent(ctx context.Context, sp ServicePrincipal, keyID string, now time.Time) bool {
	current := func(list []PasswordCredential) bool {
		return slices.ContainsFunc(list, func(c PasswordCredential) bool {
			return c.KeyID == keyID && now.Before(c.EndDateTime)
		})
	}
	if current(sp.Passwords) {
		return true
	}
	app, err := s.store.GetApplicationByAppID(ctx, sp.TenantID, sp.AppID)
	return err == nil && current(app.Passwords)
}
