package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// Config configures a Service.
type Config struct {
	Store  Store
	Signer Signer
	// TokenLifetime is how long access tokens live (default 1 hour; MSAL
	// and azcore refresh 5 minutes before expiry, so keep it well above).
	TokenLifetime time.Duration
	// Now and Rand are injected for tests; nil means the real clock and
	// crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// Signer signs and verifies JWTs (token.Signer satisfies it).
type Signer interface {
	Sign(claims any) (string, error)
	Verify(raw string, dst any) error
}

// Service is the directory and token service.
type Service struct {
	store    Store
	signer   Signer
	lifetime time.Duration
	now      func() time.Time
	rand     io.Reader
}

// DefaultTokenLifetime is the access token lifetime unless configured.
const DefaultTokenLifetime = time.Hour

// DefaultPasswordLifetime is how long a new client secret lives when the
// caller gives no end date (Graph's default).
const DefaultPasswordLifetime = 2 * 365 * 24 * time.Hour

// NewService returns a Service.
func NewService(cfg Config) *Service {
	s := &Service{store: cfg.Store, signer: cfg.Signer, lifetime: cfg.TokenLifetime, now: cfg.Now, rand: cfg.Rand}
	if s.lifetime <= 0 {
		s.lifetime = DefaultTokenLifetime
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s
}

func (s *Service) newID() string {
	u, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		panic("identity: reading random bytes: " + err.Error())
	}
	return u.String()
}

// CreateTenant creates a tenant; an empty ID is generated.
func (s *Service) CreateTenant(ctx context.Context, t Tenant) (Tenant, error) {
	if t.ID == "" {
		t.ID = s.newID()
	}
	if t.DefaultDomain == "" {
		t.DefaultDomain = "cerulean" + strings.ReplaceAll(t.ID, "-", "")[:8] + ".onmicrosoft.com"
	}
	t.CreatedAt = s.now().UTC()
	if err := s.store.CreateTenant(ctx, t); err != nil {
		return Tenant{}, err
	}
	return t, nil
}

// Tenant resolves a tenant by GUID or by its default domain.
func (s *Service) Tenant(ctx context.Context, idOrDomain string) (Tenant, error) {
	t, err := s.store.GetTenant(ctx, strings.ToLower(idOrDomain))
	if err == nil {
		return t, nil
	}
	if !errdefs.IsKind(err, errdefs.NotFound) {
		return Tenant{}, err
	}
	all, lerr := s.store.ListTenants(ctx)
	if lerr != nil {
		return Tenant{}, lerr
	}
	for _, t := range all {
		if strings.EqualFold(t.DefaultDomain, idOrDomain) {
			return t, nil
		}
	}
	return Tenant{}, ErrTenantNotFound.WithMessage("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", idOrDomain).WithTarget(idOrDomain)
}

// Tenants lists every tenant.
func (s *Service) Tenants(ctx context.Context) ([]Tenant, error) { return s.store.ListTenants(ctx) }

// ApplicationInput are the settable fields of an application. Nil leaves a
// field unchanged on update.
type ApplicationInput struct {
	DisplayName    *string
	Description    *string
	IdentifierURIs []string
	SignInAudience *string
	Tags           []string
	Notes          *string
	// Owners are the object ids of the new application's owners. Only
	// CreateApplication reads them: updates never change ownership.
	Owners []string
}

func (in ApplicationInput) apply(app *Application) {
	if in.DisplayName != nil {
		app.DisplayName = *in.DisplayName
	}
	if in.Description != nil {
		app.Description = *in.Description
	}
	if in.IdentifierURIs != nil {
		app.IdentifierURIs = slices.Clone(in.IdentifierURIs)
	}
	if in.SignInAudience != nil {
		app.SignInAudience = *in.SignInAudience
	}
	if in.Tags != nil {
		app.Tags = slices.Clone(in.Tags)
	}
	if in.Notes != nil {
		app.Notes = *in.Notes
	}
}

var signInAudiences = []string{"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"}

func validateApplication(app Application) error {
	if strings.TrimSpace(app.DisplayName) == "" {
		return ErrInvalidObject.WithMessage("Invalid value specified for property 'displayName' of resource 'Application'.").WithTarget("displayName")
	}
	if len(app.DisplayName) > 256 {
		return ErrInvalidObject.WithMessage("Property 'displayName' is longer than 256 characters.").WithTarget("displayName")
	}
	if !slices.Contains(signInAudiences, app.SignInAudience) {
		return ErrInvalidObject.WithMessage("Invalid value specified for property 'signInAudience' of resource 'Application'.").WithTarget("signInAudience")
	}
	for _, u := range app.IdentifierURIs {
		if !strings.Contains(u, ":") {
			return ErrInvalidObject.WithMessage("Values of identifierUris property must use a verified domain of the organization or its subdomain: '%s'", u).WithTarget("identifierUris")
		}
	}
	return nil
}

// CreateApplication registers an application.
func (s *Service) CreateApplication(ctx context.Context, tenantID string, in ApplicationInput) (Application, error) {
	app := Application{
		ID: s.newID(), TenantID: tenantID, AppID: s.newID(), SignInAudience: "AzureADMyOrg",
		Owners: normalizeOwners(in.Owners), CreatedAt: s.now().UTC().Truncate(time.Second),
	}
	in.apply(&app)
	if err := validateApplication(app); err != nil {
		return Application{}, err
	}
	if err := s.checkIdentifierURIs(ctx, tenantID, app.AppID, app.IdentifierURIs); err != nil {
		return Application{}, err
	}
	if err := s.store.CreateApplication(ctx, app); err != nil {
		return Application{}, err
	}
	return app, nil
}

// Application returns an application by object id.
func (s *Service) Application(ctx context.Context, tenantID, id string) (Application, error) {
	app, err := s.store.GetApplication(ctx, tenantID, strings.ToLower(id))
	return app, notFound(err, ErrApplicationNotFound, id)
}

// ApplicationByAppID returns an application by client id.
func (s *Service) ApplicationByAppID(ctx context.Context, tenantID, appID string) (Application, error) {
	app, err := s.store.GetApplicationByAppID(ctx, tenantID, appID)
	return app, notFound(err, ErrApplicationNotFound, appID)
}

// Applications lists applications.
func (s *Service) Applications(ctx context.Context, tenantID string, f Filter) ([]Application, error) {
	return s.store.ListApplications(ctx, tenantID, f)
}

// UpdateApplication changes an application's settable fields.
func (s *Service) UpdateApplication(ctx context.Context, tenantID, id string, in ApplicationInput) (Application, error) {
	if in.IdentifierURIs != nil {
		cur, err := s.Application(ctx, tenantID, id)
		if err != nil {
			return Application{}, err
		}
		if err := s.checkIdentifierURIs(ctx, tenantID, cur.AppID, in.IdentifierURIs); err != nil {
			return Application{}, err
		}
	}
	app, err := s.store.UpdateApplication(ctx, tenantID, strings.ToLower(id), func(app *Application) error {
		in.apply(app)
		return validateApplication(*app)
	})
	return app, notFound(err, ErrApplicationNotFound, id)
}

// DeleteApplication deletes an application and its service principal.
func (s *Service) DeleteApplication(ctx context.Context, tenantID, id string) error {
	return notFound(s.store.DeleteApplication(ctx, tenantID, strings.ToLower(id)), ErrApplicationNotFound, id)
}

// ServicePrincipalInput are the settable fields of a service principal.
type ServicePrincipalInput struct {
	AccountEnabled            *bool
	DisplayName               *string
	Description               *string
	Notes                     *string
	AppRoleAssignmentRequired *bool
	ServicePrincipalNames     []string
	Tags                      []string
	// Owners are the object ids of the new service principal's owners.
	// Only CreateServicePrincipal reads them: updates never change
	// ownership.
	Owners []string
}

func (in ServicePrincipalInput) apply(sp *ServicePrincipal) {
	if in.AccountEnabled != nil {
		sp.AccountEnabled = *in.AccountEnabled
	}
	if in.DisplayName != nil {
		sp.DisplayName = *in.DisplayName
	}
	if in.Description != nil {
		sp.Description = *in.Description
	}
	if in.Notes != nil {
		sp.Notes = *in.Notes
	}
	if in.AppRoleAssignmentRequired != nil {
		sp.AppRoleAssignmentRequired = *in.AppRoleAssignmentRequired
	}
	if in.ServicePrincipalNames != nil {
		// The app id always stays the first name.
		names := []string{sp.AppID}
		for _, n := range in.ServicePrincipalNames {
			if !strings.EqualFold(n, sp.AppID) && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		sp.ServicePrincipalNames = names
	}
	if in.Tags != nil {
		sp.Tags = slices.Clone(in.Tags)
	}
}

// CreateServicePrincipal creates the service principal of an application
// registered in the tenant. Its names are the app id and the app's
// identifier URIs.
func (s *Service) CreateServicePrincipal(ctx context.Context, tenantID, appID string, in ServicePrincipalInput) (ServicePrincipal, error) {
	app, err := s.store.GetApplicationByAppID(ctx, tenantID, appID)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return ServicePrincipal{}, ErrAppNotReferenced.WithMessage("The appId '%s' of the service principal does not reference a valid application object.", appID).WithTarget("appId")
	}
	if err != nil {
		return ServicePrincipal{}, err
	}
	sp := ServicePrincipal{
		ID: s.newID(), TenantID: tenantID, AppID: app.AppID, DisplayName: app.DisplayName, Description: app.Description,
		AccountEnabled: true, ServicePrincipalNames: append([]string{app.AppID}, app.IdentifierURIs...),
		Tags: []string{}, Owners: normalizeOwners(in.Owners), CreatedAt: s.now().UTC().Truncate(time.Second),
	}
	in.apply(&sp)
	taken := ErrAppIDTaken.WithMessage("The service principal cannot be created, updated, or restored because the service principal name %s is already in use.", app.AppID)
	// The app's existing service principal would also fail the name check
	// below; it is the 409 Graph gives for a second service principal.
	if _, err := s.store.GetServicePrincipalByAppID(ctx, tenantID, app.AppID); err == nil {
		return ServicePrincipal{}, taken
	} else if !errdefs.IsKind(err, errdefs.NotFound) {
		return ServicePrincipal{}, err
	}
	if err := s.checkServicePrincipalNames(ctx, tenantID, "", sp.AppID, sp.ServicePrincipalNames); err != nil {
		return ServicePrincipal{}, err
	}
	if err := s.store.CreateServicePrincipal(ctx, sp); err != nil {
		if errdefs.IsKind(err, errdefs.AlreadyExists) {
			return ServicePrincipal{}, taken
		}
		return ServicePrincipal{}, err
	}
	return sp, nil
}

// ServicePrincipal returns a service principal by object id.
func (s *Service) ServicePrincipal(ctx context.Context, tenantID, id string) (ServicePrincipal, error) {
	sp, err := s.store.GetServicePrincipal(ctx, tenantID, strings.ToLower(id))
	return sp, notFound(err, ErrPrincipalNotFound, id)
}

// ServicePrincipalByAppID returns the tenant's service principal of an app.
func (s *Service) ServicePrincipalByAppID(ctx context.Context, tenantID, appID string) (ServicePrincipal, error) {
	sp, err := s.store.GetServicePrincipalByAppID(ctx, tenantID, appID)
	return sp, notFound(err, ErrPrincipalNotFound, appID)
}

// ServicePrincipals lists service principals.
func (s *Service) ServicePrincipals(ctx context.Context, tenantID string, f Filter) ([]ServicePrincipal, error) {
	return s.store.ListServicePrincipals(ctx, tenantID, f)
}

// UpdateServicePrincipal changes a service principal's settable fields.
func (s *Service) UpdateServicePrincipal(ctx context.Context, tenantID, id string, in ServicePrincipalInput) (ServicePrincipal, error) {
	if in.ServicePrincipalNames != nil {
		cur, err := s.ServicePrincipal(ctx, tenantID, id)
		if err != nil {
			return ServicePrincipal{}, err
		}
		next := cur
		in.apply(&next)
		if err := s.checkServicePrincipalNames(ctx, tenantID, cur.ID, cur.AppID, next.ServicePrincipalNames); err != nil {
			return ServicePrincipal{}, err
		}
	}
	sp, err := s.store.UpdateServicePrincipal(ctx, tenantID, strings.ToLower(id), func(sp *ServicePrincipal) error {
		in.apply(sp)
		if strings.TrimSpace(sp.DisplayName) == "" {
			return ErrInvalidObject.WithMessage("Invalid value specified for property 'displayName' of resource 'ServicePrincipal'.").WithTarget("displayName")
		}
		return nil
	})
	return sp, notFound(err, ErrPrincipalNotFound, id)
}

// DeleteServicePrincipal deletes a service principal; its application stays.
func (s *Service) DeleteServicePrincipal(ctx context.Context, tenantID, id string) error {
	return notFound(s.store.DeleteServicePrincipal(ctx, tenantID, strings.ToLower(id)), ErrPrincipalNotFound, id)
}

// normalizeOwners lower-cases owner object ids and drops empty and
// repeated ones; it never returns nil.
func normalizeOwners(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// notFound gives a store's bare NotFound the domain's reason and Graph's
// message; other errors pass through.
func notFound(err error, proto *errdefs.Error, id string) error {
	if e, ok := errors.AsType[*errdefs.Error](err); ok && e.Kind == errdefs.NotFound && e.Reason == "" {
		return proto.WithMessage("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id).WithTarget(id)
	}
	return err
}
