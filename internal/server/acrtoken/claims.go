package acrtoken

import (
	"errors"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server"
)

// The fixed claim values of ACR tokens (Azure/acr docs/AAD-OAuth.md).
const (
	issuer         = "Azure Container Registry"
	tokenVersion   = "1.0"
	grantRefresh   = "refresh_token"
	grantAccess    = "access_token"
	notBeforeSkew  = time.Minute // tolerance for another frontend's clock
	refreshEarlier = time.Minute // expires_in is this much shorter than the token's life
)

// claims is the payload of both kinds of ACR token. ACR's own claims come
// first, in its order; then the private ones Cerulean needs to check a
// token against the current state:
//
//   - rid, the registry's resource id, and riid, its instance id (random,
//     never reused), so that a token of a deleted registry is refused by a
//     new registry of the same name however soon it is re-created (times
//     are whole seconds, so the issue time cannot tell the two apart);
//   - tenant (also on ACR's refresh tokens) and ckid, the key id of the
//     client secret the principal signed in with, so that a removed
//     secret revokes the tokens it produced; for the admin user ckid is a
//     fingerprint of the admin passwords.
//
// Access is set only on access tokens (an empty list is written as []),
// Permissions only on refresh tokens.
type claims struct {
	JTI         string       `json:"jti"`
	Sub         string       `json:"sub"`
	Nbf         int64        `json:"nbf"`
	Exp         int64        `json:"exp"`
	Iat         int64        `json:"iat"`
	Iss         string       `json:"iss"`
	Aud         string       `json:"aud"`
	Version     string       `json:"version"`
	RID         string       `json:"rid"`
	RIID        string       `json:"riid"`
	GrantType   string       `json:"grant_type"`
	AppID       string       `json:"appid,omitempty"`
	Tenant      string       `json:"tenant,omitempty"`
	Permissions *permissions `json:"permissions,omitempty"`
	Access      []Scope      `json:"access,omitzero"`
	Roles       []string     `json:"roles"`
	CKID        string       `json:"ckid,omitempty"`
}

// permissions is a refresh token's summary of the registry permissions
// its subject held when it was issued, spelled as ACR spells them. It is
// informational: every token request evaluates RBAC again.
type permissions struct {
	Actions    []string `json:"Actions"`
	NotActions []string `json:"NotActions"`
}

// newClaims fills the claims every token carries for sub on reg.
func (s *Server) newClaims(reg registry.Registry, sub subject, grantType string, lifetime time.Duration) claims {
	now := s.now().UTC().Truncate(time.Second)
	return claims{
		JTI: server.NewID(), Sub: sub.id, Nbf: now.Unix(), Exp: now.Add(lifetime).Unix(), Iat: now.Unix(),
		Iss: issuer, Aud: reg.LoginServer, Version: tokenVersion, RID: reg.ID.String(), RIID: reg.InstanceID, GrantType: grantType,
		Tenant: sub.tenant, Roles: []string{}, CKID: sub.ckid,
	}
}

// issued is a minted token and how long clients may use it.
type issued struct {
	raw       string
	expiresIn int64 // seconds
}

// issueAccess mints an access token granting access to sub on reg.
func (s *Server) issueAccess(reg registry.Registry, sub subject, access []Scope) (issued, error) {
	c := s.newClaims(reg, sub, grantAccess, AccessTokenLifetime)
	c.Access = access
	if c.Access == nil {
		c.Access = []Scope{}
	}
	return s.sign(c, AccessTokenLifetime)
}

// issueRefresh mints a refresh token for a principal on reg.
func (s *Server) issueRefresh(reg registry.Registry, sub subject, perms []string) (issued, error) {
	c := s.newClaims(reg, sub, grantRefresh, RefreshTokenLifetime)
	c.AppID = sub.appID
	c.Permissions = &permissions{Actions: perms}
	return s.sign(c, RefreshTokenLifetime)
}

// sign signs claims so that the payload also decodes as standard base64
// (the Azure SDK for Go reads a refresh token's exp that way).
func (s *Server) sign(c claims, lifetime time.Duration) (issued, error) {
	raw, err := s.signer.SignStdCompatible(c)
	if err != nil {
		return issued{}, errdefs.Internalf(err, "signing registry token")
	}
	return issued{raw: raw, expiresIn: int64((lifetime - refreshEarlier) / time.Second)}, nil
}

// verifyToken checks that raw is an ACR token this server minted for reg,
// of grantType ("" accepts either kind), current now, and returns its
// claims. The signature is checked once per token (verifiedTokens); the
// rest on every call. Every failure is ErrUnauthorized; the detail goes to the cause,
// never the token itself.
func (s *Server) verifyToken(raw string, reg registry.Registry, grantType string) (claims, error) {
	c, ok := s.verified.get(raw)
	if !ok {
		if err := s.signer.Verify(raw, &c); err != nil {
			return claims{}, ErrUnauthorized.WithMessage("The token is malformed or its signature is invalid.").WithCause(err)
		}
		s.verified.put(raw, c, s.now())
	}
	if c.Iss != issuer || c.Version != tokenVersion || (c.GrantType != grantAccess && c.GrantType != grantRefresh) {
		return claims{}, ErrUnauthorized.WithMessage("The token was not issued by this registry's token service.").WithCause(errors.New("unexpected issuer, version or grant type"))
	}
	if grantType != "" && c.GrantType != grantType {
		if grantType == grantAccess {
			return claims{}, ErrUnauthorized.WithMessage("The token is a refresh token; present an access token.")
		}
		return claims{}, ErrUnauthorized.WithMessage("The token is an access token, not a refresh token.")
	}
	// The audience is the login server the token was issued under: after
	// the registry domain changed, tokens of the old name stop working.
	if !strings.EqualFold(c.Aud, reg.LoginServer) || !strings.EqualFold(c.RID, reg.ID.String()) || c.RIID != reg.InstanceID {
		return claims{}, ErrUnauthorized.WithMessage("The token was issued for another registry.").WithCause(errors.New("audience, registry id or instance id mismatch"))
	}
	now := s.now()
	if now.Add(notBeforeSkew).Unix() < c.Nbf {
		return claims{}, ErrUnauthorized.WithMessage("The token is not valid yet.")
	}
	if now.Unix() >= c.Exp {
		return claims{}, ErrUnauthorized.WithMessage("The token has expired.")
	}
	return c, nil
}
