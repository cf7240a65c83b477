package graph

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/resourceid"
)

func (h *handler) listServicePrincipals(w http.ResponseWriter, r *http.Request, _ target) error {
	opt, err := parseListOptions(r, servicePrincipals)
	if err != nil {
		return err
	}
	tid := callerTenant(r)
	var sps []identity.ServicePrincipal
	if !opt.none {
		if sps, err = h.identity.ServicePrincipals(r.Context(), tid, opt.filter); err != nil {
			return err
		}
		sps = keepServicePrincipalNames(sps, opt.servicePrincipalNames)
	}
	pg, more := page(sps, opt)
	apps := h.appCache(tid)
	out := graph.List[graph.ServicePrincipal]{Context: baseURL(r) + "/$metadata#servicePrincipals", Value: make([]graph.ServicePrincipal, 0, len(pg))}
	for _, sp := range pg {
		app, err := apps(r.Context(), sp.AppID)
		if err != nil {
			return err
		}
		out.Value = append(out.Value, toServicePrincipal(sp, app))
	}
	if more {
		out.NextLink = nextLink(r, opt)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) createServicePrincipal(w http.ResponseWriter, r *http.Request, _ target) error {
	var in graph.ServicePrincipalInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.AppID == nil || *in.AppID == "" {
		return errInvalidValue.WithMessage("The appId property is required to create a service principal.").WithTarget("appId")
	}
	if !resourceid.IsGUID(*in.AppID) {
		return errInvalidValue.WithMessage("Invalid value specified for property 'appId' of resource 'ServicePrincipal'.").WithTarget("appId")
	}
	tid := callerTenant(r)
	spIn := servicePrincipalInput(in)
	spIn.Owners = []string{callerID(r)} // as for applications
	sp, err := h.identity.CreateServicePrincipal(r.Context(), tid, *in.AppID, spIn)
	if err != nil {
		return err
	}
	app, err := h.appCache(tid)(r.Context(), sp.AppID)
	if err != nil {
		return err
	}
	out := toServicePrincipal(sp, app)
	out.ODataContext = baseURL(r) + "/$metadata#servicePrincipals/$entity"
	w.Header().Set("Location", baseURL(r)+"/servicePrincipals/"+sp.ID)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (h *handler) getServicePrincipal(w http.ResponseWriter, r *http.Request, t target) error {
	tid := callerTenant(r)
	sp, err := h.resolveServicePrincipal(r.Context(), tid, t)
	if err != nil {
		return err
	}
	app, err := h.appCache(tid)(r.Context(), sp.AppID)
	if err != nil {
		return err
	}
	out := toServicePrincipal(sp, app)
	out.ODataContext = baseURL(r) + "/$metadata#servicePrincipals/$entity"
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) patchServicePrincipal(w http.ResponseWriter, r *http.Request, t target) error {
	var in graph.ServicePrincipalInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.AppID != nil {
		return errInvalidValue.WithMessage("Property 'appId' is read-only and cannot be set.").WithTarget("appId")
	}
	tid := callerTenant(r)
	id, err := h.servicePrincipalID(r.Context(), tid, t)
	if err != nil {
		return err
	}
	if _, err := h.identity.UpdateServicePrincipal(r.Context(), tid, id, servicePrincipalInput(in)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) deleteServicePrincipal(w http.ResponseWriter, r *http.Request, t target) error {
	tid := callerTenant(r)
	id, err := h.servicePrincipalID(r.Context(), tid, t)
	if err != nil {
		return err
	}
	if err := h.identity.DeleteServicePrincipal(r.Context(), tid, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func servicePrincipalInput(in graph.ServicePrincipalInput) identity.ServicePrincipalInput {
	return identity.ServicePrincipalInput{
		AccountEnabled:            in.AccountEnabled,
		DisplayName:               in.DisplayName,
		Description:               in.Description,
		Notes:                     in.Notes,
		AppRoleAssignmentRequired: in.AppRoleAssignmentRequired,
		ServicePrincipalNames:     in.ServicePrincipalNames,
		Tags:                      in.Tags,
	}
}

// resolveServicePrincipal reads the service principal a target addresses.
func (h *handler) resolveServicePrincipal(ctx context.Context, tid string, t target) (identity.ServicePrincipal, error) {
	if t.byAppID {
		if err := appIDKey(t.key); err != nil {
			return identity.ServicePrincipal{}, err
		}
		return h.identity.ServicePrincipalByAppID(ctx, tid, t.key)
	}
	id, err := objectID(t.key)
	if err != nil {
		return identity.ServicePrincipal{}, err
	}
	return h.identity.ServicePrincipal(ctx, tid, id)
}

// servicePrincipalID returns the object id a target addresses.
func (h *handler) servicePrincipalID(ctx context.Context, tid string, t target) (string, error) {
	if !t.byAppID {
		return objectID(t.key)
	}
	sp, err := h.resolveServicePrincipal(ctx, tid, t)
	return sp.ID, err
}

// appCache returns a lookup of applications by app id that reads each one
// once per request; a missing application is nil, not an error.
func (h *handler) appCache(tid string) func(context.Context, string) (*identity.Application, error) {
	seen := map[string]*identity.Application{}
	return func(ctx context.Context, appID string) (*identity.Application, error) {
		if app, ok := seen[appID]; ok {
			return app, nil
		}
		app, err := h.identity.ApplicationByAppID(ctx, tid, appID)
		switch {
		case err == nil:
			seen[appID] = &app
		case isNotFound(err):
			seen[appID] = nil
		default:
			return nil, err
		}
		return seen[appID], nil
	}
}
