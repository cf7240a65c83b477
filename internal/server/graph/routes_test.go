package graph

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// TestRouteTable: every route names a permission in the Microsoft.Graph
// namespace and a handler, and no two routes overlap.
func TestRouteTable(t *testing.T) {
	seen := map[string]bool{}
	for _, rt := range routes {
		key := fmt.Sprintf("%d|%v|%s|%s", rt.set, rt.item, rt.action, rt.method)
		if seen[key] {
			t.Errorf("duplicate route %s", key)
		}
		seen[key] = true
		if !strings.HasPrefix(rt.permission, "Microsoft.Graph/") || rt.handle == nil {
			t.Errorf("route %s has permission %q and handler %v", key, rt.permission, rt.handle != nil)
		}
		// getByIds and getMemberGroups are reads sent as POST.
		if rt.method == "GET" != strings.HasSuffix(rt.permission, "/read") && rt.action != "getbyids" && rt.action != "getmembergroups" {
			t.Errorf("route %s: a %s needs a matching read/write permission, has %q", key, rt.method, rt.permission)
		}
	}
}

func TestParseTarget(t *testing.T) {
	const id = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	tests := []struct {
		path string
		want target
		err  bool
	}{
		{path: "/v1.0/applications", want: target{set: applications}},
		{path: "/v1.0/applications/", want: target{set: applications}},
		{path: "/v1.0/ServicePrincipals/" + id, want: target{set: servicePrincipals, key: id}},
		{path: "/v1.0/servicePrincipals/" + id + "/addPassword", want: target{set: servicePrincipals, key: id, action: "addpassword"}},
		{path: "/v1.0/applications/" + id + "/microsoft.graph.removePassword", want: target{set: applications, key: id, action: "removepassword"}},
		{path: "/v1.0/applications(appId='" + id + "')", want: target{set: applications, key: id, byAppID: true}},
		{path: "/v1.0/applications(appid = '" + id + "')/addPassword", want: target{set: applications, key: id, byAppID: true, action: "addpassword"}},
		{path: "/v1.0/directoryObjects/getByIds", want: target{set: directoryObjects, action: "getbyids"}},
		{path: "/v1.0/directoryobjects/microsoft.graph.getByIds", want: target{set: directoryObjects, action: "getbyids"}},
		{path: "/v1.0/users", want: target{set: users}},
		{path: "/v1.0/users/someone@example.com", want: target{set: users, key: "someone@example.com"}},
		{path: "/v1.0/Users('$x''y@example.com')", want: target{set: users, key: "$x'y@example.com"}},
		{path: "/v1.0/users/" + id + "/getMemberGroups", want: target{set: users, key: id, action: "getmembergroups"}},
		{path: "/v1.0/users('')", err: true},
		{path: "/v1.0/users(x)", err: true},
		{path: "/v1.0/groups", err: true},
		{path: "/beta/applications", err: true},
		{path: "/v1.0/applications(appId='x'", err: true},
		{path: "/v1.0/applications(displayName='x')", err: true},
		{path: "/v1.0/directoryObjects(appId='x')", err: true},
		{path: "/v1.0/applications/" + id + "/owners/$ref", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := parseTarget(tt.path)
			if tt.err {
				if !errors.Is(err, errUnknownSegment) {
					t.Fatalf("err = %v, want unknown segment", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestParseTargetMe: every path under /me is refused, whatever follows.
func TestParseTargetMe(t *testing.T) {
	for _, path := range []string{"/v1.0/me", "/v1.0/me/", "/v1.0/ME/ownedObjects", "/v1.0/me/memberOf/x", "/v1.0/me(x)"} {
		if _, err := parseTarget(path); !errors.Is(err, errDelegatedOnly) {
			t.Errorf("%s: err = %v, want the delegated-only error", path, err)
		}
	}
	if _, err := parseTarget("/v1.0/meow"); !errors.Is(err, errUnknownSegment) {
		t.Errorf("/v1.0/meow: err = %v, want unknown segment", err)
	}
}

func TestIsDefault(t *testing.T) {
	str := func(s string) *string { return &s }
	yes, no := true, false
	web := func(m map[string]any) *map[string]any { return &m }
	tests := []struct {
		name string
		v    any
		want bool
	}{
		{"nil slice", []any(nil), true},
		{"empty slice", []any{}, true},
		{"slice with an empty object", []any{map[string]any{}}, false},
		{"nil map", (*map[string]any)(nil), true},
		{"empty web", web(map[string]any{"redirectUris": []any{}, "homePageUrl": nil, "implicitGrantSettings": map[string]any{"enableIdTokenIssuance": false}}), true},
		{"web with a redirect", web(map[string]any{"redirectUris": []any{"https://x"}}), false},
		{"web with implicit flow", web(map[string]any{"implicitGrantSettings": map[string]any{"enableIdTokenIssuance": true}}), false},
		{"api version 2", web(map[string]any{"requestedAccessTokenVersion": float64(2)}), false},
		{"false", &no, true},
		{"true", &yes, false},
		{"None", str("None"), true},
		{"SecurityGroup", str("SecurityGroup"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isDefault(reflect.ValueOf(tt.v)); got != tt.want {
				t.Fatalf("isDefault = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestErrorTable: every protocol error this package raises has a wire
// mapping.
func TestErrorTable(t *testing.T) {
	for _, e := range []*errdefs.Error{
		errUnknownSegment, errMethodNotAllowed, errInvalidObjectID, errUnknownProperty, errUnsupportedProperty,
		errInvalidValue, errInvalidFilter, errUnsupportedQuery, errInvalidQuery, errDuplicateOption, errDenied,
		errDelegatedOnly, errUserNotFound,
	} {
		if _, ok := reasons[e.Reason]; !ok {
			t.Errorf("no wire mapping for %s", e.Reason)
		}
	}
}
