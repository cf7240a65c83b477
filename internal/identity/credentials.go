package identity

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// OwnerKind says which directory object a password credential belongs to.
type OwnerKind int

// The owners of password credentials: an application registration or its
// service principal (az ad sp credential reset writes to the latter).
const (
	OnApplication OwnerKind = iota
	OnServicePrincipal
)

// PasswordInput are the caller's settings for a new client secret.
type PasswordInput struct {
	DisplayName string
	Start       *time.Time // default now
	End         *time.Time // default Start + DefaultPasswordLifetime
}

// MaxPasswordsPerObject caps the secrets an object may hold.
const MaxPasswordsPerObject = 100

// Credential dates must lie in years 0001 to 9999 in UTC: RFC 3339, the
// wire format of Graph and of the stores, has four-digit years.
var (
	minCredentialTime = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	maxCredentialTime = time.Date(10000, time.January, 1, 0, 0, 0, 0, time.UTC) // exclusive
)

// maxDefaultPasswordEnd is the latest end date AddPassword gives a secret
// whose caller set none: start + DefaultPasswordLifetime, clamped to the
// last second of year 9999.
var maxDefaultPasswordEnd = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)

func credentialTimeInRange(t time.Time) bool {
	return !t.Before(minCredentialTime) && t.Before(maxCredentialTime)
}

// AddPassword adds a client secret to an application or service principal
// and returns the credential and the secret text. The secret is returned
// only here; only its salted digest is stored.
func (s *Service) AddPassword(ctx context.Context, kind OwnerKind, tenantID, id string, in PasswordInput) (PasswordCredential, string, error) {
	now := s.now().UTC()
	start := now
	if in.Start != nil {
		start = in.Start.UTC()
		if !credentialTimeInRange(start) {
			return PasswordCredential{}, "", ErrInvalidObject.WithMessage("Invalid value specified for property 'startDateTime' of resource 'PasswordCredential': it must lie between years 0001 and 9999 (UTC).").WithTarget("startDateTime")
		}
	}
	end := start.Add(DefaultPasswordLifetime)
	if end.After(maxDefaultPasswordEnd) {
		end = maxDefaultPasswordEnd
	}
	if in.End != nil {
		end = in.End.UTC()
		if !credentialTimeInRange(end) {
			return PasswordCredential{}, "", ErrInvalidObject.WithMessage("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential': it must lie between years 0001 and 9999 (UTC).").WithTarget("endDateTime")
		}
	}
	if !end.After(start) {
		return PasswordCredential{}, "", ErrInvalidObject.WithMessage("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential': it must be later than startDateTime.").WithTarget("endDateTime")
	}
	secret, err := newSecret(s.rand)
	if err != nil {
		return PasswordCredential{}, "", errdefs.Internalf(err, "generating secret")
	}
	salt := make([]byte, 16)
	if _, err := s.rand.Read(salt); err != nil {
		return PasswordCredential{}, "", errdefs.Internalf(err, "generating salt")
	}
	cred := PasswordCredential{
		KeyID: s.newID(), DisplayName: in.DisplayName, Hint: secret[:3],
		Salt: salt, Hash: hashSecret(salt, secret), StartDateTime: start, EndDateTime: end,
	}
	add := func(list []PasswordCredential) ([]PasswordCredential, error) {
		if len(list) >= MaxPasswordsPerObject {
			return nil, errdefs.New(errdefs.ResourceExhausted, "TooManyPasswords", "The object already holds the maximum number of password credentials.")
		}
		return append(slices.Clone(list), cred), nil
	}
	if err := s.updatePasswords(ctx, kind, tenantID, id, add); err != nil {
		return PasswordCredential{}, "", err
	}
	return cred, secret, nil
}

// RemovePassword removes a client secret by key id. Tokens issued with it
// stop working on their next use.
func (s *Service) RemovePassword(ctx context.Context, kind OwnerKind, tenantID, id, keyID string) error {
	return s.updatePasswords(ctx, kind, tenantID, id, func(list []PasswordCredential) ([]PasswordCredential, error) {
		i := slices.IndexFunc(list, func(c PasswordCredential) bool { return strings.EqualFold(c.KeyID, keyID) })
		if i < 0 {
			return nil, ErrPasswordNotFound.WithMessage("No password credential found with keyId '%s'.", keyID).WithTarget("keyId")
		}
		return slices.Delete(slices.Clone(list), i, i+1), nil
	})
}

func (s *Service) updatePasswords(ctx context.Context, kind OwnerKind, tenantID, id string, fn func([]PasswordCredential) ([]PasswordCredential, error)) error {
	id = strings.ToLower(id)
	var err error
	switch kind {
	case OnApplication:
		_, err = s.store.UpdateApplication(ctx, tenantID, id, func(app *Application) error {
			list, err := fn(app.Passwords)
			app.Passwords = list
			return err
		})
		return notFound(err, ErrApplicationNotFound, id)
	default:
		_, err = s.store.UpdateServicePrincipal(ctx, tenantID, id, func(sp *ServicePrincipal) error {
			list, err := fn(sp.Passwords)
			sp.Passwords = list
			return err
		})
		return notFound(err, ErrPrincipalNotFound, id)
	}
}

// Authenticated is the outcome of a successful client authentication.
type Authenticated struct {
	Tenant    Tenant
	Principal ServicePrincipal
	KeyID     string // the password credential that matched
}

// Authenticate checks a client_credentials grant: the client id names an
// application with a service principal in the tenant, and the secret
// matches a current password of either.
func (s *Service) Authenticate(ctx context.Context, tenant, clientID, secret string) (Authenticated, error) {
	t, err := s.Tenant(ctx, tenant)
	if err != nil {
		return Authenticated{}, err
	}
	unknown := ErrUnknownClient.WithMessage("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, t.DefaultDomain).WithTarget(clientID)
	app, err := s.store.GetApplicationByAppID(ctx, t.ID, clientID)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Authenticated{}, unknown
	}
	if err != nil {
		return Authenticated{}, err
	}
	sp, err := s.store.GetServicePrincipalByAppID(ctx, t.ID, app.AppID)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Authenticated{}, ErrMissingPrincipal.WithMessage("The client application %s is missing service principal in the tenant %s.", app.AppID, t.ID).WithTarget(clientID)
	}
	if err != nil {
		return Authenticated{}, err
	}
	now := s.now()
	expired := false
	for _, c := range slices.Concat(sp.Passwords, app.Passwords) {
		if !c.matches(secret) {
			continue
		}
		if now.Before(c.StartDateTime) || !now.Before(c.EndDateTime) {
			expired = true
			continue
		}
		if !sp.AccountEnabled {
			return Authenticated{}, ErrDisabledPrincipal.WithMessage("Application '%s'(%s) is disabled.", app.AppID, sp.DisplayName).WithTarget(clientID)
		}
		return Authenticated{Tenant: t, Principal: sp, KeyID: c.KeyID}, nil
	}
	if expired {
		return Authenticated{}, ErrExpiredClientSecret.WithMessage("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", app.AppID).WithTarget(clientID)
	}
	return Authenticated{}, ErrInvalidClientSecret.WithMessage("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.AppID).WithTarget(clientID)
}
