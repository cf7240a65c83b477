package app

import (
	"context"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/principal"
)

// directory lets rbac ask whether a principal exists without importing
// identity.
type directory struct{ ids *identity.Service }

func (d directory) PrincipalType(ctx context.Context, tenantID, objectID string) (principal.Type, error) {
	if _, err := d.ids.ServicePrincipal(ctx, tenantID, objectID); err != nil {
		return "", err
	}
	return principal.ServicePrincipal, nil
}
