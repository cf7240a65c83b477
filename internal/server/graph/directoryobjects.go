package graph

import (
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/identity"
)

// maxGetByIDs is Graph's limit on the ids of one getByIds call.
const maxGetByIDs = 1000

// directoryTypes are the type names getByIds accepts (lower-cased); the
// directory holds applications and service principals, so asking for the
// others finds nothing.
var directoryTypes = map[string]bool{
	"application": true, "serviceprincipal": true, "user": true, "group": true, "device": true,
	"orgcontact": true, "directoryrole": true, "administrativeunit": true, "directoryobjectpartnerreference": true,
}

// getByIDs serves POST /v1.0/directoryObjects/getByIds: the objects with
// the given ids, of the given types, in the order asked for; unknown ids
// are left out.
func (h *handler) getByIDs(w http.ResponseWriter, r *http.Request, _ target) error {
	var req graph.GetByIDsRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if len(req.IDs) == 0 {
		return errInvalidValue.WithMessage("The request must specify at least one id in 'ids'.").WithTarget("ids")
	}
	if len(req.IDs) > maxGetByIDs {
		return errInvalidValue.WithMessage("The request specifies %d ids; at most %d are allowed.", len(req.IDs), maxGetByIDs).WithTarget("ids")
	}
	var ids []string
	seen := map[string]bool{}
	for _, raw := range req.IDs {
		id, err := objectID(raw)
		if err != nil {
			return err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	wantApps, wantSPs := len(req.Types) == 0, len(req.Types) == 0
	for _, t := range req.Types {
		lt := strings.ToLower(strings.TrimPrefix(strings.ToLower(t), "microsoft.graph."))
		if !directoryTypes[lt] {
			return errInvalidValue.WithMessage("Invalid type name '%s' in 'types'.", truncate(t)).WithTarget("types")
		}
		wantApps = wantApps || lt == "application"
		wantSPs = wantSPs || lt == "serviceprincipal"
	}

	tid := callerTenant(r)
	found := map[string]any{}
	filter := identity.Filter{IDs: ids}
	if wantApps {
		tenant, err := h.identity.Tenant(r.Context(), tid)
		if err != nil {
			return err
		}
		apps, err := h.identity.Applications(r.Context(), tid, filter)
		if err != nil {
			return err
		}
		for _, app := range apps {
			v := toApplication(app, tenant)
			v.ODataType = odataApplication
			found[strings.ToLower(app.ID)] = v
		}
	}
	if wantSPs {
		sps, err := h.identity.ServicePrincipals(r.Context(), tid, filter)
		if err != nil {
			return err
		}
		apps := h.appCache(tid)
		for _, sp := range sps {
			app, err := apps(r.Context(), sp.AppID)
			if err != nil {
				return err
			}
			v := toServicePrincipal(sp, app)
			v.ODataType = odataServicePrincipal
			found[strings.ToLower(sp.ID)] = v
		}
	}
	out := graph.List[any]{Context: baseURL(r) + "/$metadata#directoryObjects", Value: []any{}}
	for _, id := range ids {
		if v, ok := found[id]; ok {
			out.Value = append(out.Value, v)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
