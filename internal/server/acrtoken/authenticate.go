package acrtoken

import (
	"context"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/internal/registry"
)

// Authenticate checks a data-plane request's Authorization header for
// registry reg and returns what it may do among want:
//
//   - Bearer: an ACR access token this server minted for reg; its access
//     claim intersected with want. Verifying it needs no store lookup
//     (the signature, the claims against reg, and for admin and anonymous
//     tokens reg's current settings), so a token outlives a revoked role
//     assignment until it expires (75 minutes), as in ACR.
//   - Basic: the admin user, a service principal appId:secret, or the
//     null GUID with an ACR refresh or access token for reg; evaluated
//     like a token request for want, against the principal and RBAC now.
//   - no Authorization: Grant{Anonymous: true}, with pull access when reg
//     allows anonymous pull and none otherwise (no error).
//
// Anything else — a malformed header, a forged, expired or other
// registry's token, a wrong password — is ErrUnauthorized. want is used
// as given (ParseScopes output); an empty want authenticates only.
func (s *Server) Authenticate(ctx context.Context, r *http.Request, reg registry.Registry, want []Scope) (Grant, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		g := Grant{Anonymous: true}
		if reg.AnonymousPullEnabled {
			g.Access, _ = s.grant(ctx, reg, subject{kind: anonymousSubject}, want) // no RBAC: cannot fail
		}
		return g, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		c, err := s.verifyToken(strings.TrimSpace(rest), reg, grantAccess)
		if err != nil {
			return Grant{}, err
		}
		switch kindOf(c) {
		case adminSubject:
			err = checkAdminToken(reg, c.Sub, c.CKID)
		case anonymousSubject:
			err = checkAnonymousToken(reg)
		}
		if err != nil {
			return Grant{}, err
		}
		return Grant{Subject: c.Sub, Access: intersect(c.Access, want)}, nil
	case strings.EqualFold(scheme, "Basic"):
		user, pass, ok := r.BasicAuth()
		if !ok {
			return Grant{}, ErrUnauthorized.WithMessage("The Authorization header is not valid HTTP Basic credentials.")
		}
		sub, err := s.basicSubject(ctx, reg, user, pass)
		if err != nil {
			return Grant{}, err
		}
		want, err = normalize(want)
		if err != nil {
			return Grant{}, err
		}
		access, err := s.grant(ctx, reg, sub, want)
		if err != nil {
			return Grant{}, err
		}
		return Grant{Subject: sub.id, Access: access}, nil
	}
	return Grant{}, ErrUnauthorized.WithMessage("The Authorization scheme is not supported; use Bearer or Basic.")
}

// Challenge is the WWW-Authenticate value of a 401 from reg's data plane,
// byte for byte as ACR writes it: Bearer realm="https://<login
// server>/oauth2/token",service="<login server>", then scope="…" with the
// scopes the request needs (space-separated; none on /v2/) and, when a
// token was presented but fell short, error="insufficient_scope" (pass
// errCode "" otherwise). Parameters are separated by a comma without a
// space: the Azure SDK and az CLI parse them naively.
func Challenge(reg registry.Registry, scopes []Scope, errCode string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="https://`)
	b.WriteString(quote(reg.LoginServer))
	b.WriteString(`/oauth2/token",service="`)
	b.WriteString(quote(reg.LoginServer))
	b.WriteByte('"')
	if len(scopes) > 0 {
		b.WriteString(`,scope="`)
		for i, sc := range scopes {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(quote(sc.String()))
		}
		b.WriteByte('"')
	}
	if errCode != "" {
		b.WriteString(`,error="`)
		b.WriteString(quote(errCode))
		b.WriteByte('"')
	}
	return b.String()
}
