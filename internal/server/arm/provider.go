package arm

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// Auth says how a route is authorized. Every route declares one; a route
// without it is refused (see TestRoutesDeclareAuth).
type Auth int

// The authorization modes.
const (
	// CheckAction requires the route's Action at Call.Target before the
	// handler runs (403 AuthorizationFailed otherwise).
	CheckAction Auth = iota + 1
	// FilterItems is for lists: the handler returns only the items the
	// caller may read. Call.AllowedAll reports that the caller holds the
	// route's Action at Call.Target, so every item is readable.
	FilterItems
	// Visible is for the Subscriptions API: the handler shows a
	// subscription only to callers holding some role assignment at, above
	// or below it, and 404s otherwise, as Azure does.
	Visible
	// Authenticated needs only a valid token; the handler serves the
	// caller's own data (its tenants, its subscriptions).
	Authenticated
)

// ServeFunc serves one operation. It returns errors instead of writing
// them; errors.go maps them to ARM's envelope.
type ServeFunc func(ctx context.Context, w http.ResponseWriter, c *Call) error

// Op is one operation of a route: the RBAC action it requires, how that
// action is checked, and its handler.
type Op struct {
	Action string // e.g. "Microsoft.ContainerRegistry/registries/read"
	Auth   Auth
	Serve  ServeFunc
}

// Methods maps HTTP methods to operations.
type Methods map[string]Op

// ResourceType is a resource provider type plugged into the router.
//
// A tracked type (Extension false) lives in a resource group:
// items at /subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name},
// collections there and (top-level types only) at the subscription. Nested
// types ("registries/replications") live under their parent resource.
// Item operations are authorized at the item's id, collections at their
// scope; the generic pipeline checks that the parent scope exists, the
// handler that the item does.
//
// An extension type (Microsoft.Authorization/roleAssignments) may sit under
// any scope — the root, a subscription, a resource group or a resource —
// and all its operations are authorized at, and check the existence of,
// that scope.
type ResourceType struct {
	Namespace string // e.g. "Microsoft.ContainerRegistry"
	Type      string // e.g. "registries" or "registries/replications"
	Extension bool
	// Proxy types are the provider's own endpoints at the subscription or
	// the root (locations/{l}/usages, operations): every operation is
	// authorized at, and checks the existence of, that scope.
	Proxy      bool
	Item       Methods       // {id}
	Collection Methods       // {scope}/providers/{ns}/{type}
	Actions    map[string]Op // POST {id}/{action}, by action name (any case)
}

// FullType returns "{Namespace}/{Type}".
func (t ResourceType) FullType() string { return t.Namespace + "/" + t.Type }

// Call is what a handler receives about its request.
type Call struct {
	Request *http.Request
	Caller  principal.Principal
	// Scope is where the addressed collection lives: the parent of an
	// item, the scope of a collection, the scope of an extension resource.
	Scope resourceid.ID
	// Target is where the route's action was authorized: the item's id for
	// tracked items, otherwise Scope.
	Target resourceid.ID
	// Name is the addressed item's name ("" for a collection).
	Name string
	// Names are the names in the provider section of the path, outermost
	// first (["g", "c"] for …/containerGroups/g/containers/c/logs).
	Names []string
	// Action is the action segment of a POST {id}/{action}.
	Action     string
	APIVersion string
	// AllowedAll is set for FilterItems routes whose caller holds the
	// route's action at Target.
	AllowedAll bool

	h *handler
}

// Allowed reports whether the caller may perform action at id; list
// handlers use it to filter items.
func (c *Call) Allowed(ctx context.Context, action string, id resourceid.ID) (bool, error) {
	return c.h.rbac.Allowed(ctx, c.Caller.ObjectID, action, id)
}

// Readable is Allowed for list handlers: every item is readable when the
// caller holds the route's action at the list's scope (AllowedAll).
func (c *Call) Readable(ctx context.Context, action string, id resourceid.ID) (bool, error) {
	if c.AllowedAll {
		return true, nil
	}
	return c.Allowed(ctx, action, id)
}

// Query returns a query parameter.
func (c *Call) Query(name string) string { return c.Request.URL.Query().Get(name) }

// registry indexes resource types by lower-case namespace and full type.
type registry struct {
	namespaces map[string]bool
	types      map[string]*ResourceType
}

func newRegistry(types []ResourceType) *registry {
	reg := &registry{namespaces: map[string]bool{}, types: map[string]*ResourceType{}}
	for i := range types {
		t := &types[i]
		key := strings.ToLower(t.FullType())
		if _, dup := reg.types[key]; dup {
			panic(fmt.Sprintf("arm: resource type %s registered twice", t.FullType()))
		}
		reg.types[key] = t
		reg.namespaces[strings.ToLower(t.Namespace)] = true
	}
	return reg
}

func (reg *registry) lookup(namespace string, types []string) *ResourceType {
	return reg.types[strings.ToLower(namespace+"/"+strings.Join(types, "/"))]
}
