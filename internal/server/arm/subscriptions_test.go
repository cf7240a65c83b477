package arm

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

func TestTenantsSubscriptionsLocations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	second, err := e.Resources.CreateSubscription(ctx, resource.Subscription{ID: server.NewID(), DisplayName: "Second", TenantID: e.Tenant.ID})
	if err != nil {
		t.Fatal(err)
	}
	rg := e.group(t, "rg1")
	rgOnly := e.newActor(t, "rg-only", grant{rbac.AcrPullID, rg})
	root := e.newActor(t, "root", grant{rbac.ReaderID, resourceid.ID{}})

	var tenants arm.List[arm.Tenant]
	r := e.do(t, http.MethodGet, "/tenants", e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	r.decode(t, &tenants)
	if len(tenants.Value) != 1 || tenants.Value[0].TenantID != e.Tenant.ID || tenants.Value[0].ID != "/tenants/"+e.Tenant.ID ||
		tenants.Value[0].DefaultDomain != e.Tenant.DefaultDomain {
		t.Fatalf("tenants %+v", tenants)
	}

	subs := func(a *actor) []string {
		t.Helper()
		var list arm.List[arm.Subscription]
		r := e.do(t, http.MethodGet, "/subscriptions", a.token, nil)
		expect(t, r, http.StatusOK, "")
		r.decode(t, &list)
		var ids []string
		for _, s := range list.Value {
			ids = append(ids, s.SubscriptionID)
		}
		return ids
	}
	if got := subs(e.owner); len(got) != 1 || got[0] != e.Subscription.ID {
		t.Errorf("owner sees %v", got)
	}
	if got := subs(rgOnly); len(got) != 1 || got[0] != e.Subscription.ID {
		t.Errorf("a group-level role shows its subscription: got %v", got)
	}
	if got := subs(root); len(got) != 2 {
		t.Errorf("a root-level role shows every subscription of the tenant: got %v", got)
	}
	if got := subs(e.newActor(t, "nobody")); len(got) != 0 {
		t.Errorf("nobody sees %v", got)
	}

	var s arm.Subscription
	r = e.do(t, http.MethodGet, e.subPath(), e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	r.decode(t, &s)
	if s.ID != "/subscriptions/"+e.Subscription.ID || s.SubscriptionID != e.Subscription.ID || s.TenantID != e.Tenant.ID || s.State != "Enabled" ||
		s.DisplayName != "Test subscription" || s.AuthorizationSource != "RoleBased" {
		t.Fatalf("subscription %+v", s)
	}
	expect(t, e.do(t, http.MethodGet, "/subscriptions/"+second.ID, e.owner.token, nil), http.StatusNotFound, "SubscriptionNotFound")
	expect(t, e.do(t, http.MethodGet, "/subscriptions/"+second.ID, root.token, nil), http.StatusOK, "")
	r = e.do(t, http.MethodGet, "/subscriptions/"+server.NewID()+"/resourcegroups", e.owner.token, nil)
	expect(t, r, http.StatusNotFound, "SubscriptionNotFound")

	var locs arm.List[arm.Location]
	r = e.do(t, http.MethodGet, e.subPath()+"/locations", e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	r.decode(t, &locs)
	var eastus *arm.Location
	for i, l := range locs.Value {
		if l.Name == "eastus" {
			eastus = &locs.Value[i]
		}
	}
	if eastus == nil || eastus.DisplayName != "East US" || eastus.RegionalDisplayName != "(US) East US" ||
		eastus.ID != "/subscriptions/"+e.Subscription.ID+"/locations/eastus" || eastus.Metadata.RegionType != "Physical" {
		t.Fatalf("eastus %+v", eastus)
	}
}

func TestGenericResources(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rg1, rg2 := e.group(t, "rg1"), e.group(t, "rg2")
	now := time.Now().UTC()
	put := func(id resourceid.ID, loc string, tags map[string]string) {
		t.Helper()
		if err := e.Store.PutGenericResource(ctx, resource.Generic{ID: id, Location: loc, SKU: "Basic", Tags: tags, CreatedAt: now, ChangedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	reg1 := resourceid.ForResource(e.Subscription.ID, "rg1", "Microsoft.ContainerRegistry", "registries", "reg1")
	reg2 := resourceid.ForResource(e.Subscription.ID, "rg2", "Microsoft.ContainerRegistry", "registries", "reg2")
	cg := resourceid.ForResource(e.Subscription.ID, "rg1", "Microsoft.ContainerInstance", "containerGroups", "web")
	put(reg1, "eastus", map[string]string{"env": "prod"})
	put(reg2, "westus", nil)
	put(cg, "eastus", nil)
	_ = rg2

	pullOnReg2 := e.newActor(t, "pull", grant{rbac.AcrPullID, reg2})
	readerOnReg2 := e.newActor(t, "reader-reg2", grant{rbac.ReaderID, reg2})
	readerOnRG1 := e.newActor(t, "reader-rg1", grant{rbac.ReaderID, rg1})

	tests := []struct {
		name   string
		who    *actor
		path   string
		filter string
		want   []string
		code   string
	}{
		{"all", e.owner, e.subPath() + "/resources", "", []string{cg.String(), reg1.String(), reg2.String()}, ""},
		{"by type", e.owner, e.subPath() + "/resources", "resourceType eq 'Microsoft.ContainerRegistry/registries'", []string{reg1.String(), reg2.String()}, ""},
		{"by type, any case", e.owner, e.subPath() + "/resources", "resourcetype eq 'microsoft.containerregistry/REGISTRIES'", []string{reg1.String(), reg2.String()}, ""},
		{"by type and name", e.owner, e.subPath() + "/resources", "resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq 'reg2'", []string{reg2.String()}, ""},
		{"by location", e.owner, e.subPath() + "/resources", "location eq 'eastus'", []string{cg.String(), reg1.String()}, ""},
		{"by tag", e.owner, e.subPath() + "/resources", "tagName eq 'env' and tagValue eq 'prod'", []string{reg1.String()}, ""},
		{"in a group", e.owner, rg1.String() + "/resources", "", []string{cg.String(), reg1.String()}, ""},
		{"in a group by type", e.owner, rg1.String() + "/resources", "resourceType eq 'Microsoft.ContainerInstance/containerGroups'", []string{cg.String()}, ""},
		{"reader of one registry", readerOnReg2, e.subPath() + "/resources", "resourceType eq 'Microsoft.ContainerRegistry/registries'", []string{reg2.String()}, ""},
		{"reader of one group", readerOnRG1, e.subPath() + "/resources", "", []string{cg.String(), reg1.String()}, ""},
		{"pull is not read", pullOnReg2, e.subPath() + "/resources", "", nil, ""},
		{"missing group", e.owner, e.subPath() + "/resourceGroups/nope/resources", "", nil, "ResourceGroupNotFound"},
		{"unsupported filter", e.owner, e.subPath() + "/resources", "substringof('reg', name)", nil, "InvalidFilterInQueryString"},
		{"unknown field", e.owner, e.subPath() + "/resources", "kind eq 'x'", nil, "InvalidFilterInQueryString"},
		{"or", e.owner, e.subPath() + "/resources", "name eq 'a' or name eq 'b'", nil, "InvalidFilterInQueryString"},
		{"repeated field", e.owner, e.subPath() + "/resources", "name eq 'a' and name eq 'b'", nil, "InvalidFilterInQueryString"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path + "?api-version=2021-04-01"
			if tt.filter != "" {
				path += "&$filter=" + escapeQuery(tt.filter)
			}
			r := e.do(t, http.MethodGet, path, tt.who.token, nil)
			if tt.code != "" {
				if r.status < 400 || r.errorCode() != tt.code {
					t.Fatalf("got %d %s, want %s", r.status, r.body, tt.code)
				}
				return
			}
			expect(t, r, http.StatusOK, "")
			var list arm.List[arm.GenericResource]
			r.decode(t, &list)
			var got []string
			for _, g := range list.Value {
				got = append(got, g.ID)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}

	// The shape az acr login reads, and $top.
	var list arm.List[arm.GenericResource]
	r := e.do(t, http.MethodGet, e.subPath()+"/resources?api-version=2021-04-01&$top=1&$filter="+escapeQuery("name eq 'reg1'"), e.owner.token, nil)
	expect(t, r, http.StatusOK, "")
	r.decode(t, &list)
	if len(list.Value) != 1 || list.Value[0].Name != "reg1" || list.Value[0].Type != "Microsoft.ContainerRegistry/registries" ||
		list.Value[0].Location != "eastus" || list.Value[0].SKU == nil || list.Value[0].SKU.Name != "Basic" {
		t.Fatalf("resources %+v", list)
	}
	if list.Value[0].CreatedTime != nil {
		t.Error("createdTime without $expand")
	}
	r = e.do(t, http.MethodGet, e.subPath()+"/resources?api-version=2021-04-01&$expand=createdTime,changedTime", e.owner.token, nil)
	list = arm.List[arm.GenericResource]{}
	r.decode(t, &list)
	if len(list.Value) != 3 || list.Value[0].CreatedTime == nil || list.Value[0].ChangedTime == nil {
		t.Fatalf("expanded %+v", list.Value)
	}
}
