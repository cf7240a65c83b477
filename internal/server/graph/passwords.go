package graph

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// passwordOwner resolves the object a password action addresses.
func (h *handler) passwordOwner(ctx context.Context, tid string, t target) (identity.OwnerKind, string, error) {
	if t.set == applications {
		id, err := h.applicationID(ctx, tid, t)
		return identity.OnApplication, id, err
	}
	id, err := h.servicePrincipalID(ctx, tid, t)
	return identity.OnServicePrincipal, id, err
}

// addPassword serves POST …/addPassword on an application or a service
// principal. Its response is the only place a secret ever appears; it is
// neither logged nor stored.
func (h *handler) addPassword(w http.ResponseWriter, r *http.Request, t target) error {
	var req graph.AddPasswordRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	var in identity.PasswordInput
	if pc := req.PasswordCredential; pc != nil {
		if pc.DisplayName != nil {
			in.DisplayName = *pc.DisplayName
		}
		in.Start, in.End = optionalTime(pc.StartDateTime), optionalTime(pc.EndDateTime)
	}
	if len(in.DisplayName) > 256 {
		return errInvalidValue.WithMessage("Property 'displayName' of resource 'PasswordCredential' is longer than 256 characters.").WithTarget("displayName")
	}
	tid := callerTenant(r)
	kind, id, err := h.passwordOwner(r.Context(), tid, t)
	if err != nil {
		return err
	}
	cred, secret, err := h.identity.AddPassword(r.Context(), kind, tid, id, in)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, graph.PasswordCredentialResponse{
		ODataContext:       baseURL(r) + "/$metadata#microsoft.graph.passwordCredential",
		PasswordCredential: toPassword(cred, secret),
	})
	return nil
}

// removePassword serves POST …/removePassword.
func (h *handler) removePassword(w http.ResponseWriter, r *http.Request, t target) error {
	var req graph.RemovePasswordRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if !resourceid.IsGUID(req.KeyID) {
		return errInvalidValue.WithMessage("Invalid value specified for property 'keyId' of resource 'PasswordCredential'.").WithTarget("keyId")
	}
	tid := callerTenant(r)
	kind, id, err := h.passwordOwner(r.Context(), tid, t)
	if err != nil {
		return err
	}
	if err := h.identity.RemovePassword(r.Context(), kind, tid, id, req.KeyID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func isNotFound(err error) bool { return errdefs.IsKind(err, errdefs.NotFound) }
