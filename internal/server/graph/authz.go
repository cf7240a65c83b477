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
)

// authorize allows the caller when some role it holds at a subscription of
// its tenant, or at the root scope, grants the permission.
func (h *handler) authorize(ctx context.Context, p principal.Principal, permission string) error {
	subs, err := h.resources.Subscriptions(ctx)
	if err != nil {
		return err
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
			return err
		}
		if ok {
			return nil
		}
	}
	return errDenied
}
