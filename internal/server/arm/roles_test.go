package arm

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
)

func TestRoleDefinitions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rg := e.group(t, "rg1")
	reg := resourceid.ForResource(e.Subscription.ID, "rg1", "Microsoft.ContainerRegistry", "registries", "reg1")
	if err := e.Store.PutGenericResource(ctx, resource.Generic{ID: reg, Location: "eastus", CreatedAt: time.Now(), ChangedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	wantReaderID := "/subscriptions/" + e.Subscription.ID + "/providers/Microsoft.Authorization/roleDefinitions/" + rbac.ReaderID

	for _, scope := range []string{e.subPath(), rg.String(), reg.String(), strings.ToUpper(rg.String())} {
		t.Run(scope, func(t *testing.T) {
			r := e.do(t, http.MethodGet, scope+"/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter="+escapeQuery("roleName eq 'reader'"), e.owner.token, nil)
			expect(t, r, http.StatusOK, "")
			var list arm.List[arm.RoleDefinition]
			r.decode(t, &list)
			if len(list.Value) != 1 {
				t.Fatalf("got %d definitions", len(list.Value))
			}
			d := list.Value[0]
			if d.ID != wantReaderID && !strings.EqualFold(d.ID, wantReaderID) || d.Name != rbac.ReaderID || d.Type != "Microsoft.Authorization/roleDefinitions" ||
				d.Properties.RoleName != "Reader" || d.Properties.Type != "BuiltInRole" || len(d.Properties.Permissions) != 1 ||
				d.Properties.Permissions[0].Actions[0] != "*/read" || d.Properties.Permissions[0].NotActions == nil {
				t.Fatalf("definition %+v", d)
			}
		})
	}

	r := e.do(t, http.MethodGet, e.subPath()+"/providers/Microsoft.Authorization/roleDefinitions", e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	var all arm.List[arm.RoleDefinition]
	r.decode(t, &all)
	if len(all.Value) != len(rbac.RoleDefinitions()) {
		t.Errorf("listed %d definitions, want %d", len(all.Value), len(rbac.RoleDefinitions()))
	}
	for _, f := range []string{"type eq 'BuiltInRole'", "type eq 'builtinrole' and roleName eq 'AcrPull'"} {
		r := e.do(t, http.MethodGet, e.subPath()+"/providers/Microsoft.Authorization/roleDefinitions?api-version=1&$filter="+escapeQuery(f), e.owner.token, nil)
		expect(t, r, http.StatusOK, "")
	}
	r = e.do(t, http.MethodGet, e.subPath()+"/providers/Microsoft.Authorization/roleDefinitions?api-version=1&$filter="+escapeQuery("type eq 'CustomRole'"), e.owner.token, nil)
	if names := len(decodeList[arm.RoleDefinition](t, r)); names != 0 {
		t.Errorf("custom roles: %d", names)
	}
	expect(t, e.do(t, http.MethodGet, e.subPath()+"/providers/Microsoft.Authorization/roleDefinitions?api-version=1&$filter="+escapeQuery("description eq 'x'"), e.owner.token, nil),
		http.StatusBadRequest, "UnsupportedQuery")

	// By id, in both forms, at any scope; the id stays subscription-scoped.
	for _, path := range []string{wantReaderID, rg.String() + "/providers/Microsoft.Authorization/roleDefinitions/" + strings.ToUpper(rbac.ReaderID)} {
		r := e.do(t, http.MethodGet, path, e.owner.token, nil)
		expect(t, r, http.StatusOK, "")
		var d arm.RoleDefinition
		r.decode(t, &d)
		if d.ID != wantReaderID {
			t.Errorf("id %q, want %q", d.ID, wantReaderID)
		}
	}
	expect(t, e.do(t, http.MethodGet, e.subPath()+"/providers/Microsoft.Authorization/roleDefinitions/"+"00000000-0000-0000-0000-000000000000", e.owner.token, nil),
		http.StatusNotFound, "RoleDefinitionDoesNotExist")
	expect(t, e.do(t, http.MethodGet, e.subPath()+"/providers/Microsoft.Authorization/roleDefinitions/reader", e.owner.token, nil),
		http.StatusNotFound, "RoleDefinitionDoesNotExist")

	// Reading definitions needs roleDefinitions/read (AcrPull lacks it).
	pull := e.newActor(t, "pull", grant{rbac.AcrPullID, rg})
	expect(t, e.do(t, http.MethodGet, rg.String()+"/providers/Microsoft.Authorization/roleDefinitions", pull.token, nil), http.StatusForbidden, "AuthorizationFailed")
	expect(t, e.do(t, http.MethodGet, reg.String()+"x/providers/Microsoft.Authorization/roleDefinitions", e.owner.token, nil), http.StatusNotFound, "ResourceNotFound")
}

func decodeList[T any](t *testing.T, r response) []T {
	t.Helper()
	var list arm.List[T]
	r.decode(t, &list)
	return list.Value
}

func TestRoleAssignments(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rg := e.group(t, "rg1")
	reg := resourceid.ForResource(e.Subscription.ID, "rg1", "Microsoft.ContainerRegistry", "registries", "reg1")
	if err := e.Store.PutGenericResource(ctx, resource.Generic{ID: reg, Location: "eastus", CreatedAt: time.Now(), ChangedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sp := e.newActor(t, "acr-pull-sp")
	other := e.newActor(t, "other")
	subRoleID := func(guid string) string {
		return "/subscriptions/" + e.Subscription.ID + "/providers/Microsoft.Authorization/roleDefinitions/" + guid
	}
	name := "a1b2c3d4-0000-4000-8000-000000000001"
	path := reg.String() + "/providers/Microsoft.Authorization/roleAssignments/" + name
	body := fmt.Sprintf(`{"properties":{"roleDefinitionId":%q,"principalId":%q,"principalType":"ServicePrincipal"}}`, subRoleID(rbac.AcrPullID), sp.SP.ID)

	// Create (201), the same again (200), a duplicate under another name (409).
	r := e.do(t, http.MethodPut, path, e.owner.token, body)
	expect(t, r, http.StatusCreated, "")
	var ra arm.RoleAssignment
	r.decode(t, &ra)
	if ra.ID != path || ra.Name != name || ra.Type != "Microsoft.Authorization/roleAssignments" ||
		ra.Properties.RoleDefinitionID != subRoleID(rbac.AcrPullID) || ra.Properties.PrincipalID != sp.SP.ID ||
		ra.Properties.PrincipalType != "ServicePrincipal" || ra.Properties.Scope != reg.String() ||
		ra.Properties.CreatedBy == nil || *ra.Properties.CreatedBy != e.owner.SP.ID || ra.Properties.Condition != nil {
		t.Fatalf("created %+v", ra)
	}
	expect(t, e.do(t, http.MethodPut, path, e.owner.token, body), http.StatusOK, "")
	r = e.do(t, http.MethodPut, strings.Replace(path, name, "a1b2c3d4-0000-4000-8000-000000000002", 1), e.owner.token, body)
	expect(t, r, http.StatusConflict, "RoleAssignmentExists")
	if !strings.Contains(r.errorMessage(), "role assignment already exists") {
		t.Errorf("message %q", r.errorMessage())
	}
	// The same name with another role cannot be updated.
	expect(t, e.do(t, http.MethodPut, path, e.owner.token, strings.Replace(body, rbac.AcrPullID, rbac.AcrPushID, 1)), http.StatusConflict, "RoleAssignmentUpdateNotPermitted")

	// Get in both forms, any case.
	for _, p := range []string{path, strings.ToLower(path)} {
		r = e.do(t, http.MethodGet, p, e.owner.token, nil)
		expect(t, r, http.StatusOK, "")
	}
	expect(t, e.do(t, http.MethodGet, rg.String()+"/providers/Microsoft.Authorization/roleAssignments/"+name, e.owner.token, nil), http.StatusNotFound, "RoleAssignmentNotFound")

	// More assignments, then the filters az uses.
	e.Assign(t, other.SP.ID, rbac.ReaderID, rg)
	e.Assign(t, sp.SP.ID, rbac.ReaderID, resourceid.ID{})
	e.Assign(t, sp.SP.ID, rbac.AcrPushID, rg)
	list := func(scope, filter string) []arm.RoleAssignment {
		t.Helper()
		p := scope + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
		if filter != "" {
			p += "&$filter=" + escapeQuery(filter)
		}
		r := e.do(t, http.MethodGet, p, e.owner.token, nil)
		expect(t, r, http.StatusOK, "")
		return decodeList[arm.RoleAssignment](t, r)
	}
	scopes := func(as []arm.RoleAssignment) string {
		var out []string
		for _, a := range as {
			out = append(out, a.Properties.Scope+"="+a.Properties.RoleDefinitionID[strings.LastIndexByte(a.Properties.RoleDefinitionID, '/')+1:][:4])
		}
		return strings.Join(out, " ")
	}
	sub := e.subPath()
	tests := []struct {
		scope, filter, want string
	}{
		// at and above (inherited included)
		{rg.String(), "atScope()", "/subscriptions/" + e.Subscription.ID + "=8e3a " + rg.String() + "=acdd /=acdd " + rg.String() + "=8311"},
		// at, above and below
		{rg.String(), "", "/subscriptions/" + e.Subscription.ID + "=8e3a " + reg.String() + "=7f95 " + rg.String() + "=acdd /=acdd " + rg.String() + "=8311"},
		{sub, "principalId eq '" + sp.SP.ID + "'", reg.String() + "=7f95 /=acdd " + rg.String() + "=8311"},
		{sub, "assignedTo('" + strings.ToUpper(sp.SP.ID) + "')", reg.String() + "=7f95 /=acdd " + rg.String() + "=8311"},
		{rg.String(), "atScope() and assignedTo('" + sp.SP.ID + "')", "/=acdd " + rg.String() + "=8311"},
		{reg.String(), "atScope()", "/subscriptions/" + e.Subscription.ID + "=8e3a " + reg.String() + "=7f95 " + rg.String() + "=acdd /=acdd " + rg.String() + "=8311"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			got := list(tt.scope, tt.filter)
			if g := scopes(got); !sameSet(g, tt.want) {
				t.Errorf("got  %s\nwant %s", g, tt.want)
			}
			// roleDefinitionId is always under the queried subscription.
			for _, a := range got {
				if !strings.HasPrefix(a.Properties.RoleDefinitionID, "/subscriptions/"+e.Subscription.ID+"/providers/Microsoft.Authorization/roleDefinitions/") {
					t.Errorf("roleDefinitionId %q", a.Properties.RoleDefinitionID)
				}
			}
		})
	}
	for _, bad := range []string{"atScope() and principalId eq '" + sp.SP.ID + "'", "roleDefinitionId eq 'x'", "principalId eq 'not-a-guid'",
		"assignedTo('')", "atScope(", "atScope() or assignedTo('" + sp.SP.ID + "')", "principalId eq '" + sp.SP.ID + "' and principalId eq '" + sp.SP.ID + "'"} {
		r := e.do(t, http.MethodGet, sub+"/providers/Microsoft.Authorization/roleAssignments?api-version=1&$filter="+escapeQuery(bad), e.owner.token, nil)
		expect(t, r, http.StatusBadRequest, "UnsupportedQuery")
	}

	// The SDK sends $filter unencoded; the listener repairs the request line.
	r = e.call(t, e.H1, http.MethodGet, sub+"/providers/Microsoft.Authorization/roleAssignments?api-version=1&$filter=principalId eq '"+sp.SP.ID+"'", e.owner.token, nil)
	expect(t, r, http.StatusOK, "")

	// Delete: 200 with the body, then 204.
	r = e.do(t, http.MethodDelete, strings.ToUpper(path[:10])+path[10:], e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	r.decode(t, &ra)
	if ra.Name != name {
		t.Errorf("deleted %+v", ra)
	}
	r = e.do(t, http.MethodDelete, path, e.owner.token, nil)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("second delete: %d %s", r.status, r.body)
	}
	expect(t, e.do(t, http.MethodGet, path, e.owner.token, nil), http.StatusNotFound, "RoleAssignmentNotFound")
}

func sameSet(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	if len(x) != len(y) {
		return false
	}
	seen := map[string]int{}
	for _, s := range x {
		seen[s]++
	}
	for _, s := range y {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestRoleAssignmentValidation(t *testing.T) {
	e := newEnv(t)
	rg := e.group(t, "rg1")
	sp := e.newActor(t, "sp")
	base := rg.String() + "/providers/Microsoft.Authorization/roleAssignments/"
	name := "b1b2c3d4-0000-4000-8000-000000000001"
	reader := "/subscriptions/" + e.Subscription.ID + "/providers/Microsoft.Authorization/roleDefinitions/" + rbac.ReaderID
	props := func(extra string) string {
		return fmt.Sprintf(`{"properties":{"roleDefinitionId":%q,"principalId":%q%s}}`, reader, sp.SP.ID, extra)
	}
	tests := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"name not a guid", base + "not-a-guid", props(""), http.StatusBadRequest, "InvalidRoleAssignmentId"},
		{"unknown role", base + name, strings.Replace(props(""), rbac.ReaderID, "00000000-0000-0000-0000-000000000000", 1), http.StatusBadRequest, "RoleDefinitionDoesNotExist"},
		{"bad role id", base + name, strings.Replace(props(""), reader, "/foo/"+rbac.ReaderID, 1), http.StatusBadRequest, "RoleDefinitionDoesNotExist"},
		{"unknown principal", base + name, strings.Replace(props(""), sp.SP.ID, "00000000-0000-0000-0000-000000000000", 1), http.StatusBadRequest, "PrincipalNotFound"},
		{"principal type mismatch", base + name, props(`,"principalType":"User"`), http.StatusBadRequest, "PrincipalTypeNotSupported"},
		{"principal type unknown", base + name, props(`,"principalType":"Robot"`), http.StatusBadRequest, "UnsupportedPrincipalType"},
		{"condition", base + name, props(`,"condition":"x","conditionVersion":"2.0"`), http.StatusBadRequest, "ConditionNotSupported"},
		{"delegated identity", base + name, props(`,"delegatedManagedIdentityResourceId":"/x"`), http.StatusBadRequest, "DelegatedManagedIdentityNotSupported"},
		{"unknown property", base + name, props(`,"isAdmin":true`), http.StatusBadRequest, "InvalidRequestContent"},
		{"unknown top-level property", base + name, `{"properties":{},"extra":1}`, http.StatusBadRequest, "InvalidRequestContent"},
		{"scope mismatch", base + name, props(`,"scope":"/subscriptions/` + e.Subscription.ID + `"`), http.StatusBadRequest, "InvalidCreateRoleAssignmentRequest"},
		{"malformed json", base + name, `{"properties":`, http.StatusBadRequest, "InvalidRequestContent"},
		{"empty body", base + name, ``, http.StatusBadRequest, "InvalidRequestContent"},
		{"echoed read-only fields", base + name, props(`,"scope":"` + strings.ToLower(rg.String()) + `","createdOn":"2024-01-01T00:00:00Z","createdBy":null`), http.StatusCreated, ""},
		{"missing scope", e.subPath() + "/resourceGroups/nope/providers/Microsoft.Authorization/roleAssignments/" + name, props(""), http.StatusNotFound, "ResourceGroupNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any = tt.body
			if tt.body == "" {
				body = []byte{}
			}
			expect(t, e.do(t, http.MethodPut, tt.path, e.owner.token, body), tt.status, tt.code)
		})
	}
}
