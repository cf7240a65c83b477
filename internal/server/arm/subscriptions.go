package arm

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

func subscriptionWire(s resource.Subscription) arm.Subscription {
	return arm.Subscription{
		ID: "/subscriptions/" + s.ID, AuthorizationSource: "RoleBased", ManagedByTenants: []arm.ManagedByTenant{},
		SubscriptionID: s.ID, TenantID: s.TenantID, DisplayName: s.DisplayName, State: s.State,
		SubscriptionPolicies: arm.SubscriptionPolicies{
			LocationPlacementID: "Public_2014-09-01", QuotaID: "PayAsYouGo_2014-09-01", SpendingLimit: "Off",
		},
	}
}

// listSubscriptions serves GET /subscriptions: the subscriptions of the
// caller's tenant where it holds a role assignment at the root, at the
// subscription or anywhere below it.
func (h *handler) listSubscriptions(ctx context.Context, w http.ResponseWriter, c *Call) error {
	mine, err := h.rbac.List(ctx, resourceid.ID{}, rbac.ListFilter{PrincipalID: c.Caller.ObjectID})
	if err != nil {
		return err
	}
	all, err := h.resources.Subscriptions(ctx)
	if err != nil {
		return err
	}
	out := []arm.Subscription{}
	for _, s := range all {
		if equalFold(s.TenantID, c.Caller.TenantID) && visibleIn(mine, s.ID) {
			out = append(out, subscriptionWire(s))
		}
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.Subscription]{Value: out})
	return nil
}

// visibleIn reports whether some assignment is at the root or at or below
// the subscription.
func visibleIn(as []rbac.RoleAssignment, subscriptionID string) bool {
	for _, a := range as {
		if a.Scope.Level() == resourceid.Root || equalFold(a.Scope.SubscriptionID, subscriptionID) {
			return true
		}
	}
	return false
}

// requireVisible 404s a subscription the caller has no role in, as the
// Subscriptions API does.
func (h *handler) requireVisible(ctx context.Context, c *Call) (resource.Subscription, error) {
	sub, err := h.resources.Subscription(ctx, c.Target.SubscriptionID)
	if err != nil {
		return sub, err
	}
	mine, err := h.rbac.List(ctx, c.Target, rbac.ListFilter{PrincipalID: c.Caller.ObjectID})
	if err != nil {
		return sub, err
	}
	if !visibleIn(mine, sub.ID) {
		return sub, resource.ErrSubscriptionNotFound.WithMessage("The subscription '%s' could not be found.", c.Target.SubscriptionID).WithTarget(c.Target.SubscriptionID)
	}
	return sub, nil
}

// getSubscription serves GET /subscriptions/{s}.
func (h *handler) getSubscription(ctx context.Context, w http.ResponseWriter, c *Call) error {
	sub, err := h.requireVisible(ctx, c)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, subscriptionWire(sub))
	return nil
}
