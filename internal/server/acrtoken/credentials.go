package acrtoken

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// NullGUID is the user name that says "the password is an ACR token"
// (a refresh token, or an access token).
const NullGUID = "00000000-0000-0000-0000-000000000000"

// subjectKind says who a subject is.
type subjectKind int

const (
	principalSubject subjectKind = iota // an Entra service principal
	adminSubject                        // the registry's admin user
	anonymousSubject                    // no credentials
)

// subject is who a credential or token stands for.
type subject struct {
	kind   subjectKind
	id     string // principal object id, or the registry name for the admin user
	tenant string // principals only
	appID  string // principals only
	ckid   string // the client secret's key id, or the admin passwords' fingerprint

	// limit caps what the subject may be granted when it presented an
	// access token as its password: no more than that token allows.
	limit   []Scope
	limited bool
	// refreshToken is the refresh token the subject presented as its
	// password, returned to docker as its identity token.
	refreshToken string
}

// kindOf tells a token's subject kind from its claims: principal tokens
// carry their tenant, admin tokens name the admin user, anonymous tokens
// name nobody.
func kindOf(c claims) subjectKind {
	switch {
	case c.Tenant != "":
		return principalSubject
	case c.Sub != "":
		return adminSubject
	}
	return anonymousSubject
}

// basicSubject authenticates HTTP Basic credentials the way ACR does:
//   - the null GUID with an ACR refresh or access token of this registry;
//   - the registry name (any case) with an admin password, while the
//     admin user is enabled;
//   - an application (client) id with one of its client secrets.
//
// Token and admin subjects are checked against the current directory and
// registry state; identity.Authenticate does that for secrets.
func (s *Server) basicSubject(ctx context.Context, reg registry.Registry, user, pass string) (subject, error) {
	switch {
	case user == NullGUID:
		return s.tokenSubject(ctx, reg, pass, "")
	case strings.EqualFold(user, reg.Name):
		// The same answer for a wrong password and a disabled admin user:
		// an unauthenticated caller learns nothing of the registry. ACR's
		// words are its generic ones (docker prints "unauthorized:
		// authentication required, visit https://aka.ms/acr/authorization
		// for more information.", Azure/azure-cli#29659).
		if !reg.AdminUserEnabled || !s.registries.CheckAdmin(ctx, reg, user, pass) {
			return subject{}, ErrUnauthorized
		}
		return subject{kind: adminSubject, id: reg.Name, ckid: adminFingerprint(reg)}, nil
	case !resourceid.IsGUID(user):
		// ACR's words when a user name is neither the admin user nor an
		// application id.
		return subject{}, ErrUnauthorized.WithMessage("aad access token with sp failed client id must be guid")
	}
	auth, err := s.authenticateSP(ctx, user, pass)
	if err != nil {
		return subject{}, err
	}
	return subject{kind: principalSubject, id: auth.Principal.ID, tenant: auth.Tenant.ID, appID: auth.Principal.AppID, ckid: auth.KeyID}, nil
}

// tokenSubject accepts an ACR token of this registry as a credential and
// checks its subject again. An access token limits the subject to its own
// access; a refresh token is remembered so that docker gets it back.
func (s *Server) tokenSubject(ctx context.Context, reg registry.Registry, raw, grantType string) (subject, error) {
	c, err := s.verifyToken(raw, reg, grantType)
	if err != nil {
		return subject{}, err
	}
	sub := subject{kind: kindOf(c), id: c.Sub, tenant: c.Tenant, appID: c.AppID, ckid: c.CKID}
	if c.GrantType == grantAccess {
		sub.limit, sub.limited = c.Access, true
	} else {
		sub.refreshToken = raw
	}
	if err := s.recheck(ctx, reg, sub); err != nil {
		return subject{}, err
	}
	return sub, nil
}

// authenticateSP checks an application id and client secret. The
// application may live in any tenant (an app id is a globally unique
// GUID); what it may do on the registry is decided by role assignments on
// the registry, its group or its subscription.
func (s *Server) authenticateSP(ctx context.Context, appID, secret string) (identity.Authenticated, error) {
	tenants, err := s.identity.Tenants(ctx)
	if err != nil {
		return identity.Authenticated{}, err
	}
	for _, t := range tenants {
		auth, err := s.identity.Authenticate(ctx, t.ID, appID, secret)
		switch {
		case err == nil:
			return auth, nil
		case errors.Is(err, identity.ErrUnknownClient):
			continue
		case errors.Is(err, identity.ErrInvalidClientSecret), errors.Is(err, identity.ErrExpiredClientSecret):
			return identity.Authenticated{}, ErrUnauthorized.WithMessage("Invalid clientid or client secret.").WithCause(err)
		case errdefs.IsKind(err, errdefs.Unauthenticated):
			// A missing or disabled service principal: identity's message
			// says which, and holds no secret.
			return identity.Authenticated{}, ErrUnauthorized.WithMessage("%s", errdefs.As(err).Message).WithCause(err)
		default:
			return identity.Authenticated{}, err
		}
	}
	return identity.Authenticated{}, ErrUnauthorized.WithMessage("Application not registered with AAD.")
}

// recheck confirms that a token's subject may still sign in: the
// principal exists, is enabled and still holds the secret it signed in
// with; the admin user is enabled and its passwords are unchanged;
// anonymous pull is still on.
func (s *Server) recheck(ctx context.Context, reg registry.Registry, sub subject) error {
	switch sub.kind {
	case adminSubject:
		return checkAdminToken(reg, sub.id, sub.ckid)
	case anonymousSubject:
		return checkAnonymousToken(reg)
	}
	sp, err := s.identity.ServicePrincipal(ctx, sub.tenant, sub.id)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return ErrUnauthorized.WithMessage("The token's service principal no longer exists.")
	}
	if err != nil {
		return err
	}
	if !sp.AccountEnabled {
		return ErrUnauthorized.WithMessage("The token's service principal is disabled.")
	}
	if s.secretCurrent(ctx, sp, sub.ckid) {
		return nil
	}
	return ErrUnauthorized.WithMessage("The client secret the token was issued for has been removed or has expired.")
}

// secretCurrent reports whether the principal or its application still
// holds an unexpired secret with the key id.
func (s *Server) secretCurrent(ctx context.Context, sp identity.ServicePrincipal, keyID string) bool {
	if keyID == "" {
		return false
	}
	now := s.now()
	current := func(list []identity.PasswordCredential) bool {
		return slices.ContainsFunc(list, func(c identity.PasswordCredential) bool {
			return strings.EqualFold(c.KeyID, keyID) && now.Before(c.EndDateTime)
		})
	}
	if current(sp.Passwords) {
		return true
	}
	app, err := s.identity.ApplicationByAppID(ctx, sp.TenantID, sp.AppID)
	return err == nil && current(app.Passwords)
}

// checkAdminToken confirms that an admin user's token still stands: the
// admin user is enabled and its passwords are the ones it signed in with.
func checkAdminToken(reg registry.Registry, user, fingerprint string) error {
	if !reg.AdminUserEnabled {
		return ErrUnauthorized.WithMessage("The admin user is disabled.")
	}
	if !strings.EqualFold(user, reg.Name) || fingerprint != adminFingerprint(reg) {
		return ErrUnauthorized.WithMessage("The admin password the token was issued for has been regenerated.")
	}
	return nil
}

// checkAnonymousToken confirms that anonymous pull is still on.
func checkAnonymousToken(reg registry.Registry) error {
	if !reg.AnonymousPullEnabled {
		return ErrUnauthorized.WithMessage("Anonymous pull is disabled on this registry.")
	}
	return nil
}

// adminFingerprint identifies the registry's current admin passwords
// without revealing them: a digest of their sealed values (which change
// whenever a password is regenerated).
func adminFingerprint(reg registry.Registry) string {
	h := sha256.New()
	for _, p := range reg.AdminPasswords {
		h.Write([]byte(p.Name))
		h.Write([]byte{0})
		h.Write(p.Sealed)
		h.Write([]byte{0})
		var t [8]byte
		n := p.CreatedAt.UnixNano()
		for i := range t {
			t[i] = byte(n >> (8 * i))
		}
		h.Write(t[:])
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))[:22]
}
