package arm

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

// authenticate verifies the request's bearer token for the ARM audience.
// The identity service also checks, on every request, that the token's
// principal and client secret still exist.
func (h *handler) authenticate(ctx context.Context, r *http.Request) (principal.Principal, error) {
	raw := server.BearerToken(r)
	if raw == "" && r.Header.Get("Authorization") != "" {
		return principal.Principal{}, errMalformedAuthorization
	}
	p, _, err := h.identity.Verify(ctx, raw, identity.ARM)
	return p, err
}

// challengeTenant records, for the 401 challenge, the tenant owning the
// subscription the path names, as Azure's authorization_uri does. Lookup
// failures only leave the tenant out.
func (h *handler) challengeTenant(ctx context.Context, segs []string) {
	if len(segs) < 2 || !equalFold(segs[0], "subscriptions") || !resourceid.IsGUID(segs[1]) {
		return
	}
	if sub, err := h.resources.Subscription(ctx, segs[1]); err == nil {
		stateFrom(ctx).tenantID = sub.TenantID
	}
}
