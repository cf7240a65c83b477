package arm

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/rbac"
)

func TestResourceGroupLifecycle(t *testing.T) {
	e := newEnv(t)
	tok := e.owner.token
	path := e.subPath() + "/resourcegroups/myResourceGroup"
	wantID := "/subscriptions/" + e.Subscription.ID + "/resourceGroups/myResourceGroup"

	// Create: 201, provisioned, no long-running-operation headers.
	r := e.do(t, http.MethodPut, path, tok, map[string]any{"location": "East US", "tags": map[string]string{"env": "test"}})
	expect(t, r, http.StatusCreated, "")
	for _, h := range []string{"Azure-AsyncOperation", "Location", "Operation-Location", "Retry-After"} {
		if r.header.Get(h) != "" {
			t.Errorf("PUT answered with %s", h)
		}
	}
	var g arm.ResourceGroup
	r.decode(t, &g)
	if g.ID != wantID || g.Name != "myResourceGroup" || g.Type != "Microsoft.Resources/resourceGroups" ||
		g.Location != "eastus" || g.Properties.ProvisioningState != "Succeeded" || g.Tags["env"] != "test" || g.ManagedBy != nil {
		t.Fatalf("created group %+v", g)
	}

	// Update in place: 200; a body echoed from GET (read-only fields,
	// unknown properties) is accepted.
	r = e.do(t, http.MethodGet, path, tok, nil)
	expect(t, r, http.StatusOK, "")
	echo := strings.Replace(string(r.body), `{"id"`, `{"resourceGroup":"x","id"`, 1)
	r = e.do(t, http.MethodPut, path, tok, echo)
	expect(t, r, http.StatusOK, "")

	// A group cannot move.
	expect(t, e.do(t, http.MethodPut, path, tok, `{"location":"westus"}`), http.StatusConflict, "InvalidResourceGroupLocation")
	expect(t, e.do(t, http.MethodPut, path, tok, `{"tags":{}}`), http.StatusBadRequest, "LocationRequired")
	expect(t, e.do(t, http.MethodPut, e.subPath()+"/resourcegroups/bad.", tok, `{"location":"eastus"}`), http.StatusBadRequest, "InvalidResourceGroup")

	// HEAD: 204 without a body, 404 for a missing group.
	r = e.do(t, http.MethodHead, path, tok, nil)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("HEAD: %d %q", r.status, r.body)
	}
	r = e.do(t, http.MethodHead, e.subPath()+"/resourcegroups/missing", tok, nil)
	if r.status != http.StatusNotFound || len(r.body) != 0 {
		t.Fatalf("HEAD missing: %d %q", r.status, r.body)
	}

	// PATCH replaces tags and keeps the rest.
	r = e.do(t, http.MethodPatch, path, tok, `{"tags":{"a":"1"}}`)
	expect(t, r, http.StatusOK, "")
	g = arm.ResourceGroup{}
	r.decode(t, &g)
	if len(g.Tags) != 1 || g.Tags["a"] != "1" || g.Location != "eastus" {
		t.Fatalf("patched group %+v", g)
	}
	expect(t, e.do(t, http.MethodPatch, e.subPath()+"/resourcegroups/missing", tok, `{"tags":{}}`), http.StatusNotFound, "ResourceGroupNotFound")

	// DELETE: a final 200, then 404.
	r = e.do(t, http.MethodDelete, path, tok, nil)
	expect(t, r, http.StatusOK, "")
	if r.header.Get("Location") != "" || r.header.Get("Azure-AsyncOperation") != "" {
		t.Error("DELETE answered with polling headers")
	}
	r = e.do(t, http.MethodGet, path, tok, nil)
	expect(t, r, http.StatusNotFound, "ResourceGroupNotFound")
	if r.errorMessage() != "Resource group 'myResourceGroup' could not be found." {
		t.Errorf("message %q", r.errorMessage())
	}
	expect(t, e.do(t, http.MethodDelete, path, tok, nil), http.StatusNotFound, "ResourceGroupNotFound")
}

func TestResourceGroupList(t *testing.T) {
	e := newEnv(t)
	tok := e.owner.token
	for _, g := range []struct{ name, tags string }{
		{"alpha", `{"env":"prod","team":"a"}`}, {"beta", `{"env":"dev"}`}, {"gamma", `{}`},
	} {
		expect(t, e.do(t, http.MethodPut, e.subPath()+"/resourcegroups/"+g.name, tok, `{"location":"eastus","tags":`+g.tags+`}`), http.StatusCreated, "")
	}
	tests := []struct {
		query string
		want  []string
		code  string
	}{
		{"", []string{"alpha", "beta", "gamma"}, ""},
		{"$top=2", []string{"alpha", "beta"}, ""},
		{"$filter=tagName eq 'env'", []string{"alpha", "beta"}, ""},
		{"$filter=TAGNAME eq 'ENV' and tagValue eq 'prod'", []string{"alpha"}, ""},
		{"$filter=tagName eq 'env' and tagValue eq 'PROD'", nil, ""},
		{"$filter=tagName eq 'env'&$top=1", []string{"alpha"}, ""},
		{"$filter=tagValue eq 'prod'", nil, "InvalidFilterInQueryString"},
		{"$filter=name eq 'alpha'", nil, "InvalidFilterInQueryString"},
		{"$filter=tagName eq 'env' or tagName eq 'x'", nil, "InvalidFilterInQueryString"},
		{"$filter=tagName eq 'unterminated", nil, "InvalidFilterInQueryString"},
		{"$top=0", nil, "InvalidTopInQueryString"},
		{"$top=x", nil, "InvalidTopInQueryString"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.do(t, http.MethodGet, e.subPath()+"/resourcegroups?api-version=2021-04-01&"+strings.ReplaceAll(tt.query, " ", "%20"), tok, nil)
			if tt.code != "" {
				expect(t, r, http.StatusBadRequest, tt.code)
				return
			}
			expect(t, r, http.StatusOK, "")
			if got := groupNames(t, r); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func groupNames(t *testing.T, r response) []string {
	t.Helper()
	var list arm.List[arm.ResourceGroup]
	r.decode(t, &list)
	var out []string
	for _, g := range list.Value {
		out = append(out, g.Name)
	}
	return out
}

func TestAuthorizationInheritance(t *testing.T) {
	e := newEnv(t)
	sub := e.SubscriptionScope()
	rg1, rg2 := e.group(t, "rg1"), e.group(t, "rg2")
	subReader := e.newActor(t, "sub-reader", grant{rbac.ReaderID, sub})
	rgReader := e.newActor(t, "rg-reader", grant{rbac.ReaderID, rg1})
	rgContrib := e.newActor(t, "rg-contributor", grant{rbac.ContributorID, rg1})
	acrPull := e.newActor(t, "acr-pull", grant{rbac.AcrPullID, rg1})
	nobody := e.newActor(t, "nobody")

	tests := []struct {
		name   string
		who    *actor
		method string
		path   string
		body   string
		status int
		code   string
	}{
		{"owner writes a group", e.owner, http.MethodPut, rg2.String(), `{"location":"eastus"}`, http.StatusOK, ""},
		{"sub reader reads a group", subReader, http.MethodGet, rg1.String(), "", http.StatusOK, ""},
		{"sub reader reads a missing group", subReader, http.MethodGet, e.subPath() + "/resourceGroups/missing", "", http.StatusNotFound, "ResourceGroupNotFound"},
		{"sub reader cannot write", subReader, http.MethodPut, rg1.String(), `{"location":"eastus"}`, http.StatusForbidden, "AuthorizationFailed"},
		{"sub reader cannot delete", subReader, http.MethodDelete, rg1.String(), "", http.StatusForbidden, "AuthorizationFailed"},
		{"sub reader cannot create", subReader, http.MethodPut, e.subPath() + "/resourceGroups/new", `{"location":"eastus"}`, http.StatusForbidden, "AuthorizationFailed"},
		{"rg reader reads its group", rgReader, http.MethodGet, rg1.String(), "", http.StatusOK, ""},
		{"rg reader cannot read another", rgReader, http.MethodGet, rg2.String(), "", http.StatusForbidden, "AuthorizationFailed"},
		{"missing groups look forbidden", rgReader, http.MethodGet, e.subPath() + "/resourceGroups/missing", "", http.StatusForbidden, "AuthorizationFailed"},
		{"rg contributor writes its group", rgContrib, http.MethodPatch, rg1.String(), `{"tags":{"a":"b"}}`, http.StatusOK, ""},
		{"rg contributor cannot create groups", rgContrib, http.MethodPut, e.subPath() + "/resourceGroups/new", `{"location":"eastus"}`, http.StatusForbidden, "AuthorizationFailed"},
		{"rg contributor cannot assign roles", rgContrib, http.MethodPut, roleAssignmentID(rg1, "11111111-1111-1111-1111-111111111111"),
			`{"properties":{"roleDefinitionId":"` + rbac.ReaderID + `","principalId":"` + nobody.SP.ID + `"}}`, http.StatusForbidden, "AuthorizationFailed"},
		{"acr pull cannot read its group", acrPull, http.MethodGet, rg1.String(), "", http.StatusForbidden, "AuthorizationFailed"},
		{"acr pull: a missing group looks forbidden", acrPull, http.MethodGet, e.subPath() + "/resourceGroups/missing/resources", "", http.StatusForbidden, "AuthorizationFailed"},
		{"acr pull sees the subscription it has a role in", acrPull, http.MethodGet, e.subPath(), "", http.StatusOK, ""},
		{"nobody cannot see the subscription", nobody, http.MethodGet, e.subPath(), "", http.StatusNotFound, "SubscriptionNotFound"},
		{"nobody cannot list locations", nobody, http.MethodGet, e.subPath() + "/locations", "", http.StatusNotFound, "SubscriptionNotFound"},
		{"nobody cannot read a group", nobody, http.MethodHead, rg1.String(), "", http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			r := e.do(t, tt.method, tt.path, tt.who.token, body)
			expect(t, r, tt.status, tt.code)
			if tt.status == http.StatusForbidden && r.header.Get("x-ms-failure-cause") != "gateway" {
				t.Error("403 without x-ms-failure-cause: gateway")
			}
			if tt.code == "AuthorizationFailed" && !strings.Contains(r.errorMessage(), "does not have authorization to perform action") {
				t.Errorf("message %q", r.errorMessage())
			}
		})
	}

	lists := []struct {
		who  *actor
		want []string
	}{
		{e.owner, []string{"rg1", "rg2"}},
		{subReader, []string{"rg1", "rg2"}},
		{rgReader, []string{"rg1"}},
		{acrPull, nil},
	}
	for _, l := range lists {
		r := e.do(t, http.MethodGet, e.subPath()+"/resourcegroups", l.who.token, nil)
		expect(t, r, http.StatusOK, "")
		if got := groupNames(t, r); strings.Join(got, ",") != strings.Join(l.want, ",") {
			t.Errorf("%s lists %v, want %v", l.who.App.DisplayName, got, l.want)
		}
	}
	// A caller holding nothing in the subscription may not list its
	// groups, as in Azure (403 AuthorizationFailed over the subscription).
	r := e.do(t, http.MethodGet, e.subPath()+"/resourcegroups", nobody.token, nil)
	expect(t, r, http.StatusForbidden, "AuthorizationFailed")
	if !strings.Contains(r.errorMessage(), "over scope '"+e.subPath()+"'") {
		t.Errorf("message %q", r.errorMessage())
	}
}

// TestListScopeExistenceHidden: a caller with no role assignment at, above
// or below a resource group cannot tell whether it exists by listing its
// resources: existing and missing groups are both 403, with the same
// message up to the name.
func TestListScopeExistenceHidden(t *testing.T) {
	e := newEnv(t)
	rg1, rg2 := e.group(t, "rg1"), e.group(t, "rg2")
	nobody := e.newActor(t, "nobody")
	rg1Reader := e.newActor(t, "rg1-reader", grant{rbac.ReaderID, rg1})
	rg2Reader := e.newActor(t, "rg2-reader", grant{rbac.ReaderID, rg2})
	acrPull := e.newActor(t, "acr-pull", grant{rbac.AcrPullID, rg1})

	for _, c := range []struct {
		who      *actor
		existing string
	}{{nobody, "rg1"}, {rg2Reader, "rg1"}, {rg1Reader, "rg2"}, {acrPull, "rg2"}} {
		var msgs []string
		for _, name := range []string{c.existing, "missing"} {
			r := e.do(t, http.MethodGet, e.subPath()+"/resourceGroups/"+name+"/resources", c.who.token, nil)
			expect(t, r, http.StatusForbidden, "AuthorizationFailed")
			msgs = append(msgs, r.errorMessage())
		}
		if strings.Replace(msgs[0], "/"+c.existing+"'", "/missing'", 1) != msgs[1] {
			t.Errorf("%s: messages differ beyond the name:\n%s\n%s", c.who.App.DisplayName, msgs[0], msgs[1])
		}
	}
	// A caller with an assignment in the group's tree still gets what it
	// may read: the readable items, or none.
	for _, who := range []*actor{rg1Reader, acrPull} {
		expect(t, e.do(t, http.MethodGet, rg1.String()+"/resources", who.token, nil), http.StatusOK, "")
		expect(t, e.do(t, http.MethodGet, e.subPath()+"/resources", who.token, nil), http.StatusOK, "")
	}
	expect(t, e.do(t, http.MethodGet, e.subPath()+"/resources", nobody.token, nil), http.StatusForbidden, "AuthorizationFailed")
}
