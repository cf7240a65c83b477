// Package graph serves the slice of Microsoft Graph v1.0 that `az ad`,
// `az role assignment` and the Azure SDKs use to manage app registrations
// and service principals: /v1.0/applications, /v1.0/servicePrincipals
// (with addPassword and removePassword) and
// /v1.0/directoryObjects/getByIds, in Graph's shapes, with its $filter
// subset and its error envelope. /v1.0/users is there too, always empty
// (the directory has no users), and /v1.0/me answers as Graph answers an
// app-only token, which every Cerulean token is.
package graph

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/server"
)

// Config configures the Graph surface.
type Config struct {
	Logger    *slog.Logger
	Identity  *identity.Service
	RBAC      *rbac.Service
	Resources *resource.Service
}

type handler struct {
	logger    *slog.Logger
	identity  *identity.Service
	rbac      *rbac.Service
	resources *resource.Service
}

// New returns the Graph surface. It expects paths starting with /v1.0/.
func New(cfg Config) http.Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{logger: logger, identity: cfg.Identity, rbac: cfg.RBAC, resources: cfg.Resources}
	inner := server.Adapt(logger, writeError, h.serve)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRequestIDs(w, r)
		inner.ServeHTTP(w, r)
	})
}

// serve authenticates the caller, finds the route, checks the route's
// permission (and, for a write to an existing object, ownership: see
// authorizeManage) and runs it.
func (h *handler) serve(w http.ResponseWriter, r *http.Request) error {
	p, _, err := h.identity.Verify(r.Context(), server.BearerToken(r), identity.Graph)
	if err != nil {
		return err
	}
	rt, t, err := match(r)
	if err != nil {
		return err
	}
	if err := h.authorize(r.Context(), p, rt.permission); err != nil {
		return err
	}
	if rt.managesObject() {
		if err := h.authorizeManage(r.Context(), p, t); err != nil {
			return err
		}
	}
	return rt.handle(h, w, r.WithContext(principal.With(r.Context(), p)), t)
}

// setRequestIDs sets Graph's request-id and client-request-id headers; the
// error envelope repeats them. A client-request-id is echoed only when it is
// short and printable; otherwise, as when there is none, the request id
// stands in for it, as Graph does.
func setRequestIDs(w http.ResponseWriter, r *http.Request) {
	id := server.RequestID(r.Context())
	if id == "" {
		id = server.NewID()
	}
	client := r.Header.Get("client-request-id")
	if !printable(client, 64) {
		client = id
	}
	w.Header().Set("request-id", id)
	w.Header().Set("client-request-id", client)
}

func printable(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// writeJSON writes v as Graph does: OData minimal metadata JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	h.Set("OData-Version", "4.0")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// baseURL is the service root the client used: https://{host}/v1.0.
func baseURL(r *http.Request) string { return "https://" + r.Host + "/v1.0" }

// callerTenant returns the verified caller's tenant.
func callerTenant(r *http.Request) string {
	p, _ := principal.From(r.Context())
	return p.TenantID
}

// callerID returns the verified caller's object id.
func callerID(r *http.Request) string {
	p, _ := principal.From(r.Context())
	return p.ObjectID
}
