package oci

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/api/oci"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
)

// The error parameters of a Bearer challenge (RFC 6750 §3.1).
const (
	challengeInvalidToken      = "invalid_token"
	challengeInsufficientScope = "insufficient_scope"
)

// authorize authenticates the caller and checks that its grant covers every
// action of st.want; a route that wants nothing (GET /v2/) needs a caller
// that is not anonymous. Any failure is errUnauthorized, whose response
// challenges for st.want; a Bearer token that was refused or falls short
// is named in the challenge's error parameter.
func (h *handler) authorize(ctx context.Context, r *http.Request, reg registry.Registry, st *state) error {
	bearer := server.BearerToken(r) != ""
	grant, err := h.auth.Authenticate(ctx, r, reg, st.want)
	if err != nil {
		if k := errdefs.KindOf(err); k != errdefs.Unauthenticated && k != errdefs.PermissionDenied {
			return err
		}
		if bearer {
			st.challenge = challengeInvalidToken
		}
		return errUnauthorized.WithCause(err)
	}
	if len(st.want) == 0 && grant.Anonymous {
		return errUnauthorized
	}
	for _, s := range st.want {
		for _, a := range s.Actions {
			if !grant.Allows(s.Type, s.Name, a) {
				if bearer {
					st.challenge = challengeInsufficientScope
				}
				return errUnauthorized
			}
		}
	}
	return nil
}

// accessDetail is the UNAUTHORIZED error's detail: one entry per wanted
// action, or nil when the route wants none.
func accessDetail(want []acrtoken.Scope) []oci.AccessDetail {
	var d []oci.AccessDetail
	for _, s := range want {
		for _, a := range s.Actions {
			d = append(d, oci.AccessDetail{Type: s.Type, Name: s.Name, Action: a})
		}
	}
	return d
}
