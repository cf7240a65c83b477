// Package arm serves Azure Resource Manager: the management surface under
// /subscriptions, /tenants and /providers that az and the Azure SDKs call.
//
// Every request passes the same pipeline, in this order: authenticate the
// bearer token (401 with Azure's challenge), require an api-version (any
// value), parse the path into a scope and an operation with a hand-written,
// case-insensitive router, resolve the subscription and its tenant (404,
// or 401 for a token from another tenant), authorize the route's declared
// action with RBAC (403), check that the parent scope exists (404), then
// run the route's handler. Handlers decode, call one domain service and
// encode; errors.go is the only place that turns an error into a response.
//
// Resource providers plug in as ResourceType values: a provider namespace,
// a type, and the operations on its items, collections and POST actions,
// each with the RBAC action it requires. Microsoft.Authorization
// (role assignments and definitions) is registered that way; the
// Microsoft.Resources routes (tenants, subscriptions, locations, resource
// groups, generic resources) sit in a small fixed table.
package arm

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

// Config configures the ARM handler.
type Config struct {
	Logger    *slog.Logger
	Identity  *identity.Service
	RBAC      *rbac.Service
	Resources *resource.Service
	// Types are additional resource provider types (for example
	// Microsoft.ContainerRegistry/registries). Microsoft.Authorization is
	// always registered. A type registered twice is a programming error
	// and makes New panic.
	Types []ResourceType
}

// handler is the ARM surface.
type handler struct {
	logger    *slog.Logger
	identity  *identity.Service
	rbac      *rbac.Service
	resources *resource.Service
	types     *registry
	core      []coreRoute
	serve     http.Handler
}

// New returns the ARM handler. It expects full request paths and is meant
// to sit behind server.Middleware, which assigns the request ids.
func New(cfg Config) http.Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{logger: logger, identity: cfg.Identity, rbac: cfg.RBAC, resources: cfg.Resources}
	h.core = h.coreRoutes()
	h.types = newRegistry(append(h.authorizationTypes(), cfg.Types...))
	h.serve = server.Adapt(logger, writeError, h.pipeline)
	return h
}

// requestState carries what the pipeline learns about a request that the
// error writer needs: the tenant to name in a 401 challenge.
type requestState struct {
	tenantID string
}

type stateKey struct{}

func stateFrom(ctx context.Context) *requestState {
	if s, ok := ctx.Value(stateKey{}).(*requestState); ok {
		return s
	}
	return &requestState{}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := context.WithValue(r.Context(), stateKey{}, &requestState{})
	h.serve.ServeHTTP(w, r.WithContext(ctx))
}

// pipeline runs the generic stages, then the route's handler.
func (h *handler) pipeline(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	segs, pathErr := splitPath(r.URL.EscapedPath())

	caller, err := h.authenticate(ctx, r)
	if err != nil {
		h.challengeTenant(ctx, segs)
		return err
	}
	apiVersion := r.URL.Query().Get("api-version")
	if apiVersion == "" {
		return errMissingAPIVersion
	}
	if pathErr != nil {
		return errUnknownType("Microsoft.Resources", "", apiVersion)
	}
	m, err := h.match(r.Method, segs, apiVersion)
	if m.allow != "" {
		w.Header().Set("Allow", m.allow)
	}
	if err != nil {
		return err
	}
	if m.subscription != "" {
		if err := h.checkSubscription(ctx, r, caller, m.subscription); err != nil {
			return err
		}
	}
	c := &Call{
		Request: r, Caller: caller, Scope: m.scope, Target: m.target, Name: m.name, Names: m.names,
		Action: m.action, APIVersion: apiVersion, h: h,
	}
	if err := h.authorize(ctx, m.op, c); err != nil {
		return err
	}
	return m.op.Serve(ctx, w, c)
}

// authorize applies the route's declared authorization, then checks that
// the scope the route addresses exists. Authorization comes first so that a
// caller learns nothing about scopes it may not see.
func (h *handler) authorize(ctx context.Context, op Op, c *Call) error {
	switch op.Auth {
	case CheckAction:
		if err := h.rbac.Check(ctx, c.Caller, op.Action, c.Target); err != nil {
			return err
		}
	case FilterItems:
		ok, err := h.rbac.Allowed(ctx, c.Caller.ObjectID, op.Action, c.Target)
		if err != nil {
			return err
		}
		c.AllowedAll = ok
		if ok {
			break
		}
		// Whether a scope exists is not the business of a caller that
		// holds no role assignment at it, above it or below it: it is
		// refused whether or not the scope exists, as Azure answers a list
		// in a subscription where the caller holds nothing with
		// AuthorizationFailed. A caller with an assignment somewhere in
		// the scope's tree gets the items it may read, possibly none.
		held, err := h.rbac.List(ctx, c.Scope, rbac.ListFilter{PrincipalID: c.Caller.ObjectID})
		if err != nil {
			return err
		}
		if len(held) == 0 {
			return h.rbac.Check(ctx, c.Caller, op.Action, c.Target)
		}
		if c.Scope.Level() > resourceid.Subscription {
			// Nor is it told that a scope below the subscription is
			// missing: that is refused like an unreadable one.
			err := h.resources.CheckScope(ctx, c.Scope)
			if errdefs.IsKind(err, errdefs.NotFound) {
				return h.rbac.Check(ctx, c.Caller, op.Action, c.Target)
			}
			return err
		}
	case Visible, Authenticated:
		// The handler decides (Visible) or nothing is needed (Authenticated).
	default:
		return errRouteWithoutAuth
	}
	if c.Scope.Level() > resourceid.Subscription {
		return h.resources.CheckScope(ctx, c.Scope)
	}
	return nil
}

// checkSubscription resolves the subscription a request names: it must
// exist and belong to the caller's tenant, as Azure requires.
func (h *handler) checkSubscription(ctx context.Context, r *http.Request, caller principal.Principal, id string) error {
	sub, err := h.resources.Subscription(ctx, id)
	if err != nil {
		return err
	}
	if !equalFold(sub.TenantID, caller.TenantID) {
		stateFrom(ctx).tenantID = sub.TenantID
		return errWrongTenant(caller.TenantID, sub.TenantID, authority(r))
	}
	return nil
}
