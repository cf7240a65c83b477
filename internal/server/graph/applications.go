package graph

import (
	"context"
	"net/http"
	"reflect"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/resourceid"
)

func (h *handler) listApplications(w http.ResponseWriter, r *http.Request, _ target) error {
	opt, err := parseListOptions(r, applications)
	if err != nil {
		return err
	}
	tid := callerTenant(r)
	tenant, err := h.identity.Tenant(r.Context(), tid)
	if err != nil {
		return err
	}
	var apps []identity.Application
	if !opt.none {
		if apps, err = h.identity.Applications(r.Context(), tid, opt.filter); err != nil {
			return err
		}
		apps = keepIdentifierURIs(apps, opt.identifierURIs)
	}
	pg, more := page(apps, opt)
	out := graph.List[graph.Application]{Context: baseURL(r) + "/$metadata#applications", Value: make([]graph.Application, 0, len(pg))}
	for _, app := range pg {
		out.Value = append(out.Value, toApplication(app, tenant))
	}
	if more {
		out.NextLink = nextLink(r, opt)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) createApplication(w http.ResponseWriter, r *http.Request, _ target) error {
	in, err := decodeApplication(r)
	if err != nil {
		return err
	}
	tid := callerTenant(r)
	tenant, err := h.identity.Tenant(r.Context(), tid)
	if err != nil {
		return err
	}
	// The caller owns what it creates, as Entra makes an app-only caller
	// the owner (see authorizeManage).
	in.Owners = []string{callerID(r)}
	app, err := h.identity.CreateApplication(r.Context(), tid, in)
	if err != nil {
		return err
	}
	out := toApplication(app, tenant)
	out.ODataContext = baseURL(r) + "/$metadata#applications/$entity"
	w.Header().Set("Location", baseURL(r)+"/applications/"+app.ID)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (h *handler) getApplication(w http.ResponseWriter, r *http.Request, t target) error {
	tid := callerTenant(r)
	app, err := h.resolveApplication(r.Context(), tid, t)
	if err != nil {
		return err
	}
	tenant, err := h.identity.Tenant(r.Context(), tid)
	if err != nil {
		return err
	}
	out := toApplication(app, tenant)
	out.ODataContext = baseURL(r) + "/$metadata#applications/$entity"
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) patchApplication(w http.ResponseWriter, r *http.Request, t target) error {
	in, err := decodeApplication(r)
	if err != nil {
		return err
	}
	tid := callerTenant(r)
	id, err := h.applicationID(r.Context(), tid, t)
	if err != nil {
		return err
	}
	if _, err := h.identity.UpdateApplication(r.Context(), tid, id, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) deleteApplication(w http.ResponseWriter, r *http.Request, t target) error {
	tid := callerTenant(r)
	id, err := h.applicationID(r.Context(), tid, t)
	if err != nil {
		return err
	}
	if err := h.identity.DeleteApplication(r.Context(), tid, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// resolveApplication reads the application a target addresses.
func (h *handler) resolveApplication(ctx context.Context, tid string, t target) (identity.Application, error) {
	if t.byAppID {
		if err := appIDKey(t.key); err != nil {
			return identity.Application{}, err
		}
		return h.identity.ApplicationByAppID(ctx, tid, t.key)
	}
	id, err := objectID(t.key)
	if err != nil {
		return identity.Application{}, err
	}
	return h.identity.Application(ctx, tid, id)
}

// applicationID returns the object id a target addresses, reading the
// application only when it is addressed by app id.
func (h *handler) applicationID(ctx context.Context, tid string, t target) (string, error) {
	if !t.byAppID {
		return objectID(t.key)
	}
	app, err := h.resolveApplication(ctx, tid, t)
	return app.ID, err
}

// appIDKey validates the key of an (appId='…') address.
func appIDKey(appID string) error {
	if !resourceid.IsGUID(appID) {
		return errInvalidValue.WithMessage("Invalid value specified for object reference property 'appId'. Please ensure that this value has an appropriate syntax and length.")
	}
	return nil
}

// decodeApplication reads an application body. The writable properties
// Cerulean does not model are accepted only with their default (empty)
// values, so that clients sending empty collections keep working and no
// setting is silently dropped.
func decodeApplication(r *http.Request) (identity.ApplicationInput, error) {
	var in graph.ApplicationInput
	if err := decodeBody(r, &in); err != nil {
		return identity.ApplicationInput{}, err
	}
	unmodelled := []struct {
		name  string
		value any
	}{
		{"keyCredentials", in.KeyCredentials},
		{"passwordCredentials", in.PasswordCredentials},
		{"appRoles", in.AppRoles},
		{"requiredResourceAccess", in.RequiredResourceAccess},
		{"web", in.Web},
		{"spa", in.SPA},
		{"publicClient", in.PublicClient},
		{"api", in.API},
		{"isFallbackPublicClient", in.IsFallbackPublicClient},
		{"optionalClaims", in.OptionalClaims},
		{"groupMembershipClaims", in.GroupMembershipClaims},
	}
	for _, p := range unmodelled {
		if !isDefault(reflect.ValueOf(p.value)) {
			return identity.ApplicationInput{}, errUnsupportedProperty.WithMessage(
				"Cerulean does not support setting the property '%s' of microsoft.graph.application; only its default (empty) value is accepted.", p.name).WithTarget(p.name)
		}
	}
	return identity.ApplicationInput{
		DisplayName:    in.DisplayName,
		Description:    in.Description,
		IdentifierURIs: in.IdentifierURIs,
		SignInAudience: in.SignInAudience,
		Tags:           in.Tags,
		Notes:          in.Notes,
	}, nil
}

// isDefault reports whether a decoded JSON value is empty: null, false,
// zero, "", an empty array, or an object whose members are all empty (so
// {"web":{"redirectUris":[],"implicitGrantSettings":{"enableIdTokenIssuance":false}}}
// counts as the default web settings). groupMembershipClaims "None" is its
// default too.
func isDefault(v reflect.Value) bool {
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return true
		}
		if s, ok := v.Interface().(*string); ok && *s == "None" {
			return true
		}
		return isDefault(v.Elem())
	case reflect.Slice:
		return v.Len() == 0
	case reflect.Map:
		for _, k := range v.MapKeys() {
			if !isDefault(v.MapIndex(k)) {
				return false
			}
		}
		return true
	}
	return v.IsZero()
}
