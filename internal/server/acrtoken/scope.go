// Package acrtoken is Azure Container Registry's token service on the
// registry host: GET and POST /oauth2/token and POST /oauth2/exchange, the
// ACR refresh and access tokens they mint, and the authentication of every
// data-plane request (Bearer tokens and the Basic credentials ACR accepts
// directly). Granted access is always the intersection of what was asked
// and what RBAC allows; asking for too much is never an error.
package acrtoken

import (
	"slices"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// Scope is one resource scope of the Docker token protocol:
// "repository:samples/hello:pull,push" is {repository samples/hello [pull push]}.
type Scope struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// String formats the scope as the protocol writes it.
func (s Scope) String() string {
	return s.Type + ":" + s.Name + ":" + strings.Join(s.Actions, ",")
}

// ErrInvalidScope is returned for a scope string that does not parse.
var ErrInvalidScope = errdefs.New(errdefs.InvalidArgument, "InvalidScope", "invalid scope")

// ParseScopes parses scope parameters. Each value may hold several scopes
// separated by spaces (the POST form); the resource name may itself contain
// colons (a "host:port/" prefix), so the type is everything before the first
// colon and the actions everything after the last.
func ParseScopes(values ...string) ([]Scope, error) {
	var out []Scope
	for _, v := range values {
		for _, f := range strings.Fields(v) {
			first, last := strings.IndexByte(f, ':'), strings.LastIndexByte(f, ':')
			if first <= 0 || last == first || last == len(f)-1 {
				return nil, ErrInvalidScope.WithMessage("invalid scope %q", f).WithTarget("scope")
			}
			s := Scope{Type: f[:first], Name: f[first+1 : last]}
			for _, a := range strings.Split(f[last+1:], ",") {
				if a == "" {
					return nil, ErrInvalidScope.WithMessage("invalid scope %q", f).WithTarget("scope")
				}
				if !slices.Contains(s.Actions, a) {
					s.Actions = append(s.Actions, a)
				}
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// Grant is what an authenticated (or anonymous) caller may do on one
// registry.
type Grant struct {
	Subject   string  // object id of the principal, the admin user name, or "" when anonymous
	Anonymous bool    // no credentials were presented
	Access    []Scope // granted scopes
}

// Allows reports whether the grant includes action on the resource. A
// granted "*" action allows every action on that resource.
func (g Grant) Allows(typ, name, action string) bool {
	for _, s := range g.Access {
		if s.Type == typ && s.Name == name && (slices.Contains(s.Actions, action) || slices.Contains(s.Actions, "*")) {
			return true
		}
	}
	return false
}
