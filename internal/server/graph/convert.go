package graph

import (
	"slices"
	"time"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/identity"
)

// The @odata.type values of directory objects.
const (
	odataApplication      = "#microsoft.graph.application"
	odataServicePrincipal = "#microsoft.graph.servicePrincipal"
)

// toApplication renders an application with every property Graph returns;
// the ones Cerulean does not model carry their defaults. Password
// credentials never carry their secret here.
func toApplication(app identity.Application, t identity.Tenant) graph.Application {
	return graph.Application{
		ID:              app.ID,
		AppID:           app.AppID,
		CreatedDateTime: app.CreatedAt.UTC(),
		DisplayName:     app.DisplayName,
		Description:     optional(app.Description),
		IdentifierURIs:  list(app.IdentifierURIs),
		Notes:           optional(app.Notes),
		PublisherDomain: t.DefaultDomain,
		SignInAudience:  app.SignInAudience,
		Tags:            list(app.Tags),
		AddIns:          []any{},
		API: graph.ApplicationAPI{
			KnownClientApplications:   []any{},
			OAuth2PermissionScopes:    []any{},
			PreAuthorizedApplications: []any{},
		},
		AppRoles:               []any{},
		KeyCredentials:         []any{},
		PasswordCredentials:    toPasswords(app.Passwords),
		PublicClient:           graph.RedirectURIs{RedirectURIs: []string{}},
		RequiredResourceAccess: []any{},
		Web:                    graph.Web{RedirectURIs: []string{}},
		SPA:                    graph.RedirectURIs{RedirectURIs: []string{}},
	}
}

// toServicePrincipal renders a service principal. app is its application
// (for appDisplayName and signInAudience); nil when it cannot be found.
func toServicePrincipal(sp identity.ServicePrincipal, app *identity.Application) graph.ServicePrincipal {
	appName, audience := sp.DisplayName, "AzureADMyOrg"
	if app != nil {
		appName, audience = app.DisplayName, app.SignInAudience
	}
	return graph.ServicePrincipal{
		ID:                                     sp.ID,
		AccountEnabled:                         sp.AccountEnabled,
		AlternativeNames:                       []string{},
		AppDisplayName:                         appName,
		AppID:                                  sp.AppID,
		AppOwnerOrganizationID:                 sp.TenantID,
		AppRoleAssignmentRequired:              sp.AppRoleAssignmentRequired,
		CreatedDateTime:                        sp.CreatedAt.UTC(),
		Description:                            optional(sp.Description),
		DisplayName:                            sp.DisplayName,
		Notes:                                  optional(sp.Notes),
		NotificationEmailAddresses:             []string{},
		ReplyURLs:                              []string{},
		ServicePrincipalNames:                  list(sp.ServicePrincipalNames),
		ServicePrincipalType:                   "Application",
		SignInAudience:                         audience,
		Tags:                                   list(sp.Tags),
		AddIns:                                 []any{},
		AppRoles:                               []any{},
		KeyCredentials:                         []any{},
		OAuth2PermissionScopes:                 []any{},
		PasswordCredentials:                    toPasswords(sp.Passwords),
		ResourceSpecificApplicationPermissions: []any{},
	}
}

// toPasswords renders password credentials without their secrets.
func toPasswords(ps []identity.PasswordCredential) []graph.PasswordCredential {
	out := make([]graph.PasswordCredential, 0, len(ps))
	for _, p := range ps {
		out = append(out, toPassword(p, ""))
	}
	return out
}

// toPassword renders one credential; secret is set only in the addPassword
// response.
func toPassword(p identity.PasswordCredential, secret string) graph.PasswordCredential {
	start, end := p.StartDateTime.UTC(), p.EndDateTime.UTC()
	keyID := p.KeyID
	return graph.PasswordCredential{
		DisplayName:   optional(p.DisplayName),
		EndDateTime:   &end,
		Hint:          optional(p.Hint),
		KeyID:         &keyID,
		SecretText:    optional(secret),
		StartDateTime: &start,
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func list(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// optionalTime is a *time.Time for an optional input date.
func optionalTime(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
