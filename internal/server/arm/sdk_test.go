package arm

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/servertest"
)

// TestAzureSDK drives the ARM surface with the official Azure SDK for Go:
// azidentity against the login surface, then armresources and
// armauthorization, over HTTP/1.1 and over HTTP/2.
func TestAzureSDK(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		client *http.Client
		proto  string
	}{
		{"HTTP/1.1", e.H1, "HTTP/1.1"},
		{"HTTP/2", e.H2, "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.resetProtocols()
			runSDK(t, e, tc.client)
			for proto, n := range e.sawProtocols() {
				if proto != tc.proto {
					t.Errorf("server saw %d %s requests", n, proto)
				}
			}
		})
	}
}

func runSDK(t *testing.T, e *env, transport *http.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := cloud.Configuration{
		ActiveDirectoryAuthorityHost: e.URL + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Audience: "https://management.core.windows.net/", Endpoint: e.URL},
		},
	}
	copts := azcore.ClientOptions{Cloud: cfg, Transport: transport}
	cred, err := azidentity.NewClientSecretCredential(e.Tenant.ID, e.owner.App.AppID, e.owner.Secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: copts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := &azarm.ClientOptions{ClientOptions: copts}
	groups, err := armresources.NewResourceGroupsClient(e.Subscription.ID, cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	assignments, err := armauthorization.NewRoleAssignmentsClient(e.Subscription.ID, cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	definitions, err := armauthorization.NewRoleDefinitionsClient(cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	name := "sdk-" + server.NewID()[:8]
	scope := "/subscriptions/" + e.Subscription.ID + "/resourceGroups/" + name

	// Resource groups.
	created, err := groups.CreateOrUpdate(ctx, name, armresources.ResourceGroup{Location: to.Ptr("eastus"), Tags: map[string]*string{"a": to.Ptr("1")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *created.ID != scope || *created.Properties.ProvisioningState != "Succeeded" || *created.Location != "eastus" {
		t.Fatalf("created %+v", created.ResourceGroup)
	}
	got, err := groups.Get(ctx, name, nil)
	if err != nil || *got.Name != name {
		t.Fatalf("get: %v %+v", err, got)
	}
	exists, err := groups.CheckExistence(ctx, name, nil)
	if err != nil || !exists.Success {
		t.Fatalf("check existence: %v %v", err, exists.Success)
	}
	missing, err := groups.CheckExistence(ctx, "missing-"+name, nil)
	if err != nil || missing.Success {
		t.Fatalf("check missing: %v %v", err, missing.Success)
	}
	found := false
	for pager := groups.NewListPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page.Value {
			found = found || *g.Name == name
		}
	}
	if !found {
		t.Fatal("list misses the group")
	}
	updated, err := groups.Update(ctx, name, armresources.ResourceGroupPatchable{Tags: map[string]*string{"b": to.Ptr("2")}}, nil)
	if err != nil || len(updated.Tags) != 1 || *updated.Tags["b"] != "2" {
		t.Fatalf("update: %v %+v", err, updated.Tags)
	}
	_, err = groups.Get(ctx, "missing-"+name, nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound || re.ErrorCode != "ResourceGroupNotFound" {
		t.Fatalf("get missing: %v", err)
	}

	// Role definitions.
	var acrPull *armauthorization.RoleDefinition
	for pager := definitions.NewListPager(scope, &armauthorization.RoleDefinitionsClientListOptions{Filter: to.Ptr("roleName eq 'acrpull'")}); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Value {
			acrPull = d
		}
	}
	wantDef := "/subscriptions/" + e.Subscription.ID + "/providers/Microsoft.Authorization/roleDefinitions/" + rbac.AcrPullID
	if acrPull == nil || *acrPull.ID != wantDef || *acrPull.Properties.RoleName != "AcrPull" {
		t.Fatalf("role definition %+v", acrPull)
	}
	byID, err := definitions.GetByID(ctx, *acrPull.ID, nil)
	if err != nil || *byID.Name != rbac.AcrPullID {
		t.Fatalf("get by id: %v", err)
	}

	// Role assignments.
	sp := e.newActor(t, "sdk-pull-"+name)
	raName := server.NewID()
	params := armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: acrPull.ID, PrincipalID: to.Ptr(sp.SP.ID), PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal),
	}}
	ra, err := assignments.Create(ctx, scope, raName, params, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *ra.Name != raName || *ra.Properties.Scope != scope || *ra.Properties.RoleDefinitionID != wantDef {
		t.Fatalf("assignment %+v", ra.Properties)
	}
	if _, err := assignments.Create(ctx, scope, raName, params, nil); err != nil {
		t.Fatalf("idempotent create: %v", err)
	}
	_, err = assignments.Create(ctx, scope, server.NewID(), params, nil)
	if !errors.As(err, &re) || re.StatusCode != http.StatusConflict || re.ErrorCode != "RoleAssignmentExists" {
		t.Fatalf("duplicate: %v", err)
	}
	if g, err := assignments.Get(ctx, scope, raName, nil); err != nil || *g.ID != *ra.ID {
		t.Fatalf("get: %v", err)
	}
	if g, err := assignments.GetByID(ctx, *ra.ID, nil); err != nil || *g.Name != raName {
		t.Fatalf("get by id: %v", err)
	}
	count := func(filter string) (n int, mine bool) {
		t.Helper()
		for pager := assignments.NewListForScopePager(scope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr(filter)}); pager.More(); {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatalf("list %q: %v", filter, err)
			}
			for _, a := range page.Value {
				n++
				mine = mine || *a.Name == raName
			}
		}
		return n, mine
	}
	if n, mine := count("atScope()"); n != 2 || !mine { // the owner's, inherited, and ours
		t.Errorf("atScope(): %d, mine %v", n, mine)
	}
	if n, mine := count("principalId eq '" + sp.SP.ID + "'"); n != 1 || !mine {
		t.Errorf("principalId eq: %d, mine %v", n, mine)
	}
	if n, mine := count("assignedTo('" + sp.SP.ID + "')"); n != 1 || !mine {
		t.Errorf("assignedTo: %d, mine %v", n, mine)
	}
	if _, err := assignments.Delete(ctx, scope, raName, nil); err != nil {
		t.Fatal(err)
	}
	if del, err := assignments.Delete(ctx, scope, raName, nil); err != nil || del.ID != nil {
		t.Fatalf("second delete: %v %+v", err, del)
	}

	// Deleting the group completes at once.
	start := time.Now()
	poller, err := groups.BeginDelete(ctx, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poller.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("delete took %v", d)
	}
	if exists, err := groups.CheckExistence(ctx, name, nil); err != nil || exists.Success {
		t.Fatalf("after delete: %v %v", err, exists.Success)
	}
}

// BenchmarkAuthorizedGet measures GET of a resource group with a valid
// token over keep-alive HTTPS connections: token verification (signature
// and the principal/secret lookups), subscription and tenant check, RBAC
// check and the read.
func BenchmarkAuthorizedGet(b *testing.B) {
	e := newEnv(b)
	rg := e.group(b, "bench")
	reader := e.newActor(b, "bench-reader", grant{rbac.ReaderID, rg})
	url := e.URL + withAPI(rg.String())
	for _, tc := range []struct {
		name   string
		client *http.Client
	}{{"HTTP1", e.H1}, {"HTTP2", e.H2}} {
		b.Run(tc.name, func(b *testing.B) {
			servertest.RunParallel(b, tc.client, http.MethodGet, url, http.Header{"Authorization": {"Bearer " + reader.token}}, "")
		})
	}
}
