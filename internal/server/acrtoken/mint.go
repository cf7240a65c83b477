package acrtoken

import (
	"context"

	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/registry"
)

// RefreshTokenFor mints an ACR refresh token of reg for a principal whose
// Entra token was issued for the client secret keyID, as /oauth2/exchange
// does for that token: ACR Tasks' runs pull and push with it (user
// NullGUID), so they have the caller's own rights, evaluated again at
// every access token request, and lose them when the secret, the
// principal or its role assignments go.
func (s *Server) RefreshTokenFor(ctx context.Context, p principal.Principal, keyID string, reg registry.Registry) (string, error) {
	sub := subject{kind: principalSubject, id: p.ObjectID, tenant: p.TenantID, appID: p.AppID, ckid: keyID}
	perms, err := s.rightsOf(ctx, reg, sub).permissionNames()
	if err != nil {
		return "", err
	}
	tok, err := s.issueRefresh(reg, sub, perms)
	if err != nil {
		return "", err
	}
	return tok.raw, nil
}
