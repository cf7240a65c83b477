package identity

import (
	"context"
	"slices"
	"strings"
)

// Names that identify an object in a tenant must be unique there, as in
// Entra: an application's identifierUris among applications, a service
// principal's servicePrincipalNames among service principals. The two
// lists also share one namespace per application: a service principal's
// names start from its application's app id and identifier URIs, so a
// service principal may not claim another application's app id or
// identifier URI as a name, and an application may not claim an identifier
// URI that the service principal of another application holds. Otherwise a
// principal could make lookups by name (az ad sp show --id api://…,
// servicePrincipalNames/any(…)) resolve to itself instead of the rightful
// owner of the name, or block that application's service principal from
// ever being created.
//
// The checks read the directory before the write, in separate statements,
// so two concurrent writes claiming the same name can both pass them; the
// store has no unique index over JSON lists. The window is one request
// wide and needs two callers that may both write the directory; closing it
// would take a name table with a unique key in every backend.

// checkIdentifierURIs fails with ErrObjectConflict when uris holds a
// value that another application of the tenant (any but the one with app
// id appID) uses as an identifier URI, or that the service principal of
// another application holds as a name.
func (s *Service) checkIdentifierURIs(ctx context.Context, tenantID, appID string, uris []string) error {
	if len(uris) == 0 {
		return nil
	}
	conflict := ErrObjectConflict.WithMessage("Another object with the same value for property identifierUris already exists.").WithTarget("identifierUris")
	apps, err := s.store.ListApplications(ctx, tenantID, Filter{})
	if err != nil {
		return err
	}
	for _, a := range apps {
		if !strings.EqualFold(a.AppID, appID) && overlaps(a.IdentifierURIs, uris) {
			return conflict
		}
	}
	for _, u := range uris {
		sps, err := s.store.ListServicePrincipals(ctx, tenantID, Filter{ServicePrincipalName: u})
		if err != nil {
			return err
		}
		for _, sp := range sps {
			if !strings.EqualFold(sp.AppID, appID) {
				return conflict
			}
		}
	}
	return nil
}

// checkServicePrincipalNames fails with ErrObjectConflict when names holds
// a value that another service principal of the tenant (any but the one
// with object id spID, "" for a new one) holds, or that is the app id or
// an identifier URI of an application other than the one with app id
// appID.
func (s *Service) checkServicePrincipalNames(ctx context.Context, tenantID, spID, appID string, names []string) error {
	conflict := ErrObjectConflict.WithMessage("Another object with the same value for property servicePrincipalNames already exists.").WithTarget("servicePrincipalNames")
	var apps []Application // read once, when a name is not the own app id
	for _, n := range names {
		if strings.EqualFold(n, appID) {
			continue // the service principal's own app id (a duplicate SP is the store's AlreadyExists)
		}
		sps, err := s.store.ListServicePrincipals(ctx, tenantID, Filter{ServicePrincipalName: n})
		if err != nil {
			return err
		}
		for _, sp := range sps {
			if !strings.EqualFold(sp.ID, spID) {
				return conflict
			}
		}
		if apps == nil {
			if apps, err = s.store.ListApplications(ctx, tenantID, Filter{}); err != nil {
				return err
			}
		}
		for _, a := range apps {
			if strings.EqualFold(a.AppID, appID) {
				continue
			}
			if strings.EqualFold(a.AppID, n) || slices.ContainsFunc(a.IdentifierURIs, func(u string) bool { return strings.EqualFold(u, n) }) {
				return conflict
			}
		}
	}
	return nil
}

// overlaps reports whether a and b share a value, case-insensitively.
func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.ContainsFunc(b, func(y string) bool { return strings.EqualFold(x, y) }) {
			return true
		}
	}
	return false
}
