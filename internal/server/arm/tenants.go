package arm

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/server"
)

// listTenants serves GET /tenants: the caller's own tenant.
func (h *handler) listTenants(ctx context.Context, w http.ResponseWriter, c *Call) error {
	t, err := h.identity.Tenant(ctx, c.Caller.TenantID)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.Tenant]{Value: []arm.Tenant{{
		ID: "/tenants/" + t.ID, TenantID: t.ID, DisplayName: t.DisplayName,
		DefaultDomain: t.DefaultDomain, Domains: []string{t.DefaultDomain}, TenantType: "AAD",
	}}})
	return nil
}
