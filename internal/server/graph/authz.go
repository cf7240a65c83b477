package graph

import (
	"context"
	"strings"

	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// Graph's own permission model is app roles (Application.ReadWrite.All and
// the like) granted to a client by admin consent. Cerulean keeps no consent
// grants; it expresses those permissions as RBAC actions in a
// Microsoft.Graph namespace and grants them through the role assignments a
// principal holds at a subscription of its own tenant (or at the root
// scope). So Owner and Contributor ("*") may manage the directory, Reader
// ("*/read") may read it, and data-plane roles such as AcrPull may do
// neither. Assignments below a subscription (a resource group, a registry)
// never reach the directory.
const (
	permApplicationsRead       = "Microsoft.Graph/applications/read"
	permApplicationsWrite      = "Microsoft.Graph/applications/write"
	permApplicationsDelete     = "Microsoft.Graph/applications/delete"
	permServicePrincipalsRead  = "Microsoft.Graph/servicePrincipals/read"
	permServicePrincipalsWrite = "Microsoft.Graph/servicePrincipals/write"
	permServicePrincipalsDel   = "Microsoft.Graph/servicePrincipals/delete"
	permDirectoryObjectsRead   = "Microsoft.Graph/directoryObjects/read"
	permUsersRead              = "Microsoft.Graph/users/read"
	permUsersWrite             = "Microsoft.Graph/users/write"
	permUsersDelete            = "Microsoft.Graph/users/delete"

	// permRoleAssignmentsWrite is the ARM action that lets a caller grant
	// itself any role; see authorizeManage.
	permRoleAssignmentsWrite = "Microsoft.Authorization/roleAssignments/write"
)

// authorize allows the caller when some role it holds at a subscription of
// its tenant, or at the root scope, grants the permission.
func (h *handler) authorize(ctx context.Context, p principal.Principal, permission string) error {
	ok, err := h.allowedInTenant(ctx, p, permission, false)
	if err != nil {
		return err
	}
	if !ok {
		return errDenied
	}
	return nil
}

// allowedInTenant reports whether roles the caller holds grant permission
// at a subscription of its tenant (any one, or with every set, each of
// them), or at the root scope when the tenant has no subscription.
func (h *handler) allowedInTenant(ctx context.Context, p principal.Principal, permission string, every bool) (bool, error) {
	subs, err := h.resources.Subscriptions(ctx)
	if err != nil {
		return false, err
	}
	var scopes []resourceid.ID
	for _, s := range subs {
		if strings.EqualFold(s.TenantID, p.TenantID) {
			scopes = append(scopes, resourceid.ForSubscription(s.ID))
		}
	}
	if len(scopes) == 0 {
		scopes = []resourceid.ID{{}} // the root scope; a subscription's ancestors include it
	}
	for _, scope := range scopes {
		ok, err := h.rbac.Allowed(ctx, p.ObjectID, permission, scope)
		if err != nil {
			return false, err
		}
		if ok != every {
			return ok, nil // the first grant when any will do, the first refusal when every must
		}
	}
	return every, nil
}

// authorizeManage is the second check of a Graph write on an existing
// object (PATCH, DELETE, addPassword and removePassword on an application
// or a service principal); the route's Microsoft.Graph write or delete
// permission has passed already. It mirrors Entra's ownership model: a
// caller without a directory role (app-only, with
// Application.ReadWrite.OwnedBy) manages only the objects it owns. So the
// caller must also either
//
//   - own the object: be in its Owners; for a service principal, being an
//     owner of its application counts too; or
//   - hold Microsoft.Authorization/roleAssignments/write at every
//     subscription of its tenant (Owner, User Access Administrator, Role
//     Based Access Control Administrator): such a caller could grant itself
//     any role anyway, so taking over another principal gains it nothing.
//     Every subscription, not any one, because the object may hold roles in
//     any of them.
//
// Without that, a Contributor could add a secret to, say, the bootstrap
// Owner's service principal and sign in as it. Objects created through
// Graph are owned by their creator (createApplication,
// createServicePrincipal); objects created by the composition root, like
// the bootstrap principal, have no owners and are left to role assignment
// writers. Creating objects needs only the route's permission, as before.
//
// An object that does not exist, or an invalid key, fails as the handler
// would (404, 400): a caller that passed the route's write permission may
// read the directory anyway. Refusal is Graph's 403
// Authorization_RequestDenied.
func (h *handler) authorizeManage(ctx context.Context, p principal.Principal, t target) error {
	admin, err := h.allowedInTenant(ctx, p, permRoleAssignmentsWrite, true)
	if err != nil || admin {
		return err
	}
	owned, err := h.owns(ctx, p, t)
	if err != nil {
		return err
	}
	if !owned {
		return errDenied
	}
	return nil
}

// owns reports whether the caller owns the application or service
// principal t addresses, or, for a service principal, its application.
func (h *handler) owns(ctx context.Context, p principal.Principal, t target) (bool, error) {
	if t.set == applications {
		app, err := h.resolveApplication(ctx, p.TenantID, t)
		if err != nil {
			return false, err
		}
		return app.OwnedBy(p.ObjectID), nil
	}
	sp, err := h.resolveServicePrincipal(ctx, p.TenantID, t)
	if err != nil {
		return false, err
	}
	if sp.OwnedBy(p.ObjectID) {
		return true, nil
	}
	app, err := h.identity.ApplicationByAppID(ctx, p.TenantID, sp.AppID)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return app.OwnedBy(p.ObjectID), nil
}
