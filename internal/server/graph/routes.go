package graph

import (
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/internal/resourceid"
)

// entitySet is a top-level Graph collection.
type entitySet int

const (
	applications entitySet = iota + 1
	servicePrincipals
	directoryObjects
	users // always empty: see users.go
)

// entitySets maps the lower-cased segment to its set: Graph matches entity
// set names case-insensitively.
var entitySets = map[string]entitySet{
	"applications":      applications,
	"serviceprincipals": servicePrincipals,
	"directoryobjects":  directoryObjects,
	"users":             users,
}

// target is what a request path addresses.
type target struct {
	set     entitySet
	key     string // object id, or app id when byAppID, or a user's id or userPrincipalName; "" for the collection
	byAppID bool   // addressed as applications(appId='…')
	action  string // lower-cased bound action, or ""
}

func (t target) item() bool { return t.key != "" || t.byAppID }

// route is one operation. Every route names the permission it needs; the
// route table test fails on one that does not.
type route struct {
	set        entitySet
	item       bool
	action     string // lower-cased bound action, or ""
	method     string
	permission string
	handle     func(h *handler, w http.ResponseWriter, r *http.Request, t target) error
}

// managesObject reports whether the route writes to or deletes an
// existing object (PATCH, DELETE or a bound action such as addPassword on
// an item), which authorizeManage checks beyond the permission. There are
// no users to own or manage (users.go).
func (rt route) managesObject() bool {
	return rt.item && rt.method != http.MethodGet && rt.set != users
}

var routes = []route{
	{applications, false, "", http.MethodGet, permApplicationsRead, (*handler).listApplications},
	{applications, false, "", http.MethodPost, permApplicationsWrite, (*handler).createApplication},
	{applications, true, "", http.MethodGet, permApplicationsRead, (*handler).getApplication},
	{applications, true, "", http.MethodPatch, permApplicationsWrite, (*handler).patchApplication},
	{applications, true, "", http.MethodDelete, permApplicationsDelete, (*handler).deleteApplication},
	{applications, true, "addpassword", http.MethodPost, permApplicationsWrite, (*handler).addPassword},
	{applications, true, "removepassword", http.MethodPost, permApplicationsWrite, (*handler).removePassword},

	{servicePrincipals, false, "", http.MethodGet, permServicePrincipalsRead, (*handler).listServicePrincipals},
	{servicePrincipals, false, "", http.MethodPost, permServicePrincipalsWrite, (*handler).createServicePrincipal},
	{servicePrincipals, true, "", http.MethodGet, permServicePrincipalsRead, (*handler).getServicePrincipal},
	{servicePrincipals, true, "", http.MethodPatch, permServicePrincipalsWrite, (*handler).patchServicePrincipal},
	{servicePrincipals, true, "", http.MethodDelete, permServicePrincipalsDel, (*handler).deleteServicePrincipal},
	{servicePrincipals, true, "addpassword", http.MethodPost, permServicePrincipalsWrite, (*handler).addPassword},
	{servicePrincipals, true, "removepassword", http.MethodPost, permServicePrincipalsWrite, (*handler).removePassword},

	{directoryObjects, false, "getbyids", http.MethodPost, permDirectoryObjectsRead, (*handler).getByIDs},

	{users, false, "", http.MethodGet, permUsersRead, (*handler).listUsers},
	{users, true, "", http.MethodGet, permUsersRead, (*handler).userNotFound},
	{users, true, "", http.MethodPatch, permUsersWrite, (*handler).userNotFound},
	{users, true, "", http.MethodDelete, permUsersDelete, (*handler).userNotFound},
	{users, true, "getmembergroups", http.MethodPost, permUsersRead, (*handler).userNotFound},
}

// collectionActions are the bound actions addressed on a collection.
var collectionActions = map[entitySet][]string{directoryObjects: {"getbyids"}}

// match parses the request path and finds its route: an unknown segment is
// Graph's 400 "Resource not found for the segment", a known target with the
// wrong method 405.
func match(r *http.Request) (route, target, error) {
	t, err := parseTarget(r.URL.Path)
	if err != nil {
		return route{}, target{}, err
	}
	found := false
	for _, rt := range routes {
		if rt.set != t.set || rt.item != t.item() || rt.action != t.action {
			continue
		}
		found = true
		if rt.method == r.Method {
			return rt, t, nil
		}
	}
	if !found {
		return route{}, target{}, unknownSegment(lastSegment(r.URL.Path))
	}
	return route{}, target{}, errMethodNotAllowed
}

// parseTarget parses /v1.0/{set}[/{id}|(appId='{appId}')|('{id}')][/{action}].
// Every path under /v1.0/me is refused: Cerulean's tokens are all app-only
// (client credentials), and /me names the signed-in user of a delegated
// token.
func parseTarget(path string) (target, error) {
	rest, ok := strings.CutPrefix(path, "/v1.0/")
	if !ok {
		return target{}, unknownSegment(lastSegment(path))
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	var t target
	name, key, hasKey := strings.Cut(segs[0], "(")
	if strings.EqualFold(name, "me") {
		return target{}, errDelegatedOnly
	}
	set, ok := entitySets[strings.ToLower(name)]
	if !ok {
		return target{}, unknownSegment(name)
	}
	t.set = set
	segs = segs[1:]
	if hasKey && set == users {
		// users('{id or userPrincipalName}'): how az addresses a UPN
		// that starts with "$".
		id, err := parseStringKey(key)
		if err != nil || id == "" {
			return target{}, unknownSegment(name + "(" + key)
		}
		t.key = id
	} else if hasKey {
		appID, err := parseAppIDKey(key)
		if err != nil || set == directoryObjects {
			return target{}, unknownSegment(name + "(" + key)
		}
		t.key, t.byAppID = appID, true
	} else if len(segs) > 0 {
		if a := actionName(segs[0]); containsString(collectionActions[set], a) {
			t.action = a
		} else {
			t.key = segs[0]
		}
		segs = segs[1:]
	}
	if len(segs) > 0 && t.key != "" {
		t.action = actionName(segs[0])
		segs = segs[1:]
	}
	if len(segs) > 0 {
		return target{}, unknownSegment(segs[0])
	}
	return t, nil
}

// parseAppIDKey parses the key of applications(appId='…'): the part after
// "(" up to the closing ")".
func parseAppIDKey(key string) (string, error) {
	inner, ok := strings.CutSuffix(key, ")")
	if !ok {
		return "", errInvalidValue
	}
	prop, lit, ok := strings.Cut(inner, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(prop), "appId") {
		return "", errInvalidValue
	}
	return parseStringKey(lit + ")")
}

// parseStringKey parses a key that is an OData string literal (quoted,
// a doubled quote standing for one): the part after "(" up to the
// closing ")".
func parseStringKey(key string) (string, error) {
	lit, ok := strings.CutSuffix(key, ")")
	if !ok {
		return "", errInvalidValue
	}
	p := &filterParser{s: strings.TrimSpace(lit)}
	v, err := p.str()
	if err != nil || p.pos != len(p.s) {
		return "", errInvalidValue
	}
	return v, nil
}

// actionName lower-cases a bound action segment and drops the optional
// "microsoft.graph." namespace.
func actionName(seg string) string {
	a := strings.ToLower(seg)
	return strings.TrimPrefix(a, "microsoft.graph.")
}

func lastSegment(path string) string {
	path = strings.TrimSuffix(path, "/")
	return path[strings.LastIndexByte(path, '/')+1:]
}

func unknownSegment(seg string) error {
	return errUnknownSegment.WithMessage("Resource not found for the segment '%s'.", truncate(seg))
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// objectID validates an object id from a path or body.
func objectID(id string) (string, error) {
	if !resourceid.IsGUID(id) {
		return "", errInvalidObjectID.WithMessage("Invalid object identifier '%s'.", truncate(id))
	}
	return strings.ToLower(id), nil
}

// maxEcho bounds how much of a client value an error message repeats.
const maxEcho = 200

func truncate(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return strings.ToValidUTF8(s[:maxEcho], "") + "…"
}
