// Package principal describes who is calling: the authenticated identity a
// verified access token stands for, carried in the request context.
package principal

import "context"

// Type is an Entra principal type as ARM spells it in role assignments.
type Type string

// The principal types. Cerulean's directory holds service principals only;
// the others are accepted where ARM accepts them.
const (
	ServicePrincipal Type = "ServicePrincipal"
	User             Type = "User"
	Group            Type = "Group"
	ForeignGroup     Type = "ForeignGroup"
	Device           Type = "Device"
)

// Principal is a verified caller.
type Principal struct {
	TenantID    string
	ObjectID    string // the service principal's object id (token claim oid)
	AppID       string // the application (client) id (token claim appid)
	DisplayName string
	Type        Type
}

type ctxKey struct{}

// With returns a context carrying p.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal in ctx, if any.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
