// Package identity is Cerulean's slice of Microsoft Entra ID: tenants,
// application registrations, service principals and their client secrets,
// and the rules for issuing and accepting access tokens.
//
// Secrets are random and long, so they are stored as salted SHA-256 digests
// (a slow password hash buys nothing against a 256-bit secret) and shown to
// the caller exactly once, when they are created.
package identity

import (
	"context"
	"strings"
	"time"
)

// Tenant is an Entra directory.
type Tenant struct {
	ID            string // GUID
	DisplayName   string
	DefaultDomain string // e.g. "cerulean.onmicrosoft.com"
	CreatedAt     time.Time
}

// PasswordCredential is a client secret. Only its salted digest is kept.
type PasswordCredential struct {
	KeyID         string // GUID
	DisplayName   string
	Hint          string // the first three characters of the secret
	Salt          []byte
	Hash          []byte // SHA-256(salt || secret)
	StartDateTime time.Time
	EndDateTime   time.Time
}

// Application is an app registration.
type Application struct {
	ID             string // object id (GUID)
	TenantID       string
	AppID          string // client id (GUID)
	DisplayName    string
	Description    string
	SignInAudience string
	IdentifierURIs []string
	Tags           []string
	Notes          string
	// Owners are the object ids (lower case) of the principals that own
	// the registration, as Entra's owners navigation property: an owner may
	// change it and its secrets without holding a directory role. Empty for
	// objects created outside Graph (the bootstrap principal).
	Owners    []string
	Passwords []PasswordCredential
	CreatedAt time.Time
}

// ServicePrincipal is an application's identity in a tenant: what tokens are
// issued to and what role assignments name.
type ServicePrincipal struct {
	ID                        string // object id (GUID)
	TenantID                  string
	AppID                     string
	DisplayName               string
	Description               string
	Notes                     string
	AccountEnabled            bool
	AppRoleAssignmentRequired bool
	ServicePrincipalNames     []string // always holds the AppID first
	Tags                      []string
	// Owners are the object ids (lower case) of the principals that own
	// the service principal. The owners of its application own it too
	// (see OwnedBy on Application).
	Owners    []string
	Passwords []PasswordCredential
	CreatedAt time.Time
}

// OwnedBy reports whether the principal with object id objectID is one of
// the application's owners.
func (a Application) OwnedBy(objectID string) bool { return ownedBy(a.Owners, objectID) }

// OwnedBy reports whether the principal with object id objectID is one of
// the service principal's own owners; the owners of its application are
// not consulted here.
func (sp ServicePrincipal) OwnedBy(objectID string) bool { return ownedBy(sp.Owners, objectID) }

func ownedBy(owners []string, objectID string) bool {
	if objectID == "" {
		return false
	}
	for _, o := range owners {
		if strings.EqualFold(o, objectID) {
			return true
		}
	}
	return false
}

// Filter selects applications or service principals. Every set field must
// match (the fields are AND-ed); the zero Filter selects everything.
type Filter struct {
	DisplayName          string   // exact, case-insensitive
	DisplayNamePrefix    string   // startswith, case-insensitive
	ServicePrincipalName string   // servicePrincipalNames/any(c:c eq …), case-insensitive (service principals only)
	AppID                string   // exact, case-insensitive
	IDs                  []string // object ids
}

// Store persists the directory. Implementations return errdefs NotFound and
// AlreadyExists (without a reason; the service adds it). Update functions run
// inside the backend's transaction and may be called more than once, so they
// must be pure; they may not change an object's ID, TenantID or AppID.
// Object, tenant and app ids match in any case. An object's tenant must
// exist (NotFound otherwise). Deleting an object leaves the role
// assignments that name it, as Entra does.
type Store interface {
	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)

	// CreateApplication fails with AlreadyExists when the object id or the
	// app id is taken.
	CreateApplication(ctx context.Context, app Application) error
	GetApplication(ctx context.Context, tenantID, id string) (Application, error)
	GetApplicationByAppID(ctx context.Context, tenantID, appID string) (Application, error)
	// ListApplications returns matches ordered by creation time, then id.
	ListApplications(ctx context.Context, tenantID string, f Filter) ([]Application, error)
	UpdateApplication(ctx context.Context, tenantID, id string, fn func(*Application) error) (Application, error)
	// DeleteApplication also deletes the application's service principal in
	// the tenant, as Entra does.
	DeleteApplication(ctx context.Context, tenantID, id string) error

	// CreateServicePrincipal fails with AlreadyExists when the object id is
	// taken or the tenant already has a service principal for the app id.
	CreateServicePrincipal(ctx context.Context, sp ServicePrincipal) error
	GetServicePrincipal(ctx context.Context, tenantID, id string) (ServicePrincipal, error)
	GetServicePrincipalByAppID(ctx context.Context, tenantID, appID string) (ServicePrincipal, error)
	ListServicePrincipals(ctx context.Context, tenantID string, f Filter) ([]ServicePrincipal, error)
	UpdateServicePrincipal(ctx context.Context, tenantID, id string, fn func(*ServicePrincipal) error) (ServicePrincipal, error)
	DeleteServicePrincipal(ctx context.Context, tenantID, id string) error
}
