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
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerregistry/armcontainerregistry"
)

// TestRegistriesAzureSDK drives the provider with the official
// armcontainerregistry client (api-version 2023-07-01): every long-running
// operation must finish on its first response.
func TestRegistriesAzureSDK(t *testing.T) {
	e := newServiceRegistryEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	copts := azcore.ClientOptions{Transport: e.H2, Cloud: cloud.Configuration{
		ActiveDirectoryAuthorityHost: e.URL + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Audience: "https://management.core.windows.net/", Endpoint: e.URL},
		},
	}}
	cred, err := azidentity.NewClientSecretCredential(e.Tenant.ID, e.owner.App.AppID, e.owner.Secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: copts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	client, err := armcontainerregistry.NewRegistriesClient(e.Subscription.ID, cred, &azarm.ClientOptions{ClientOptions: copts})
	if err != nil {
		t.Fatal(err)
	}
	e.group(t, "sdk")
	const name = "sdkregistry"
	start := time.Now()

	poller, err := client.BeginCreate(ctx, "sdk", name, armcontainerregistry.Registry{
		Location: to.Ptr("eastus"), SKU: &armcontainerregistry.SKU{Name: to.Ptr(armcontainerregistry.SKUNameBasic)},
		Tags:       map[string]*string{"env": to.Ptr("test")},
		Properties: &armcontainerregistry.RegistryProperties{AdminUserEnabled: to.Ptr(true)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	created, err := poller.PollUntilDone(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := created.Properties
	if *created.Name != name || *created.Type != "Microsoft.ContainerRegistry/registries" || *created.SKU.Tier != armcontainerregistry.SKUTierBasic ||
		*p.LoginServer != name+".azurecr.localhost" || *p.ProvisioningState != armcontainerregistry.ProvisioningStateSucceeded ||
		!*p.AdminUserEnabled || p.CreationDate == nil || *created.SystemData.CreatedByType != armcontainerregistry.CreatedByTypeApplication {
		t.Fatalf("created %+v %+v", created.Registry, p)
	}

	got, err := client.Get(ctx, "sdk", name, nil)
	if err != nil || *got.ID != *created.ID || *got.Tags["env"] != "test" {
		t.Fatalf("get: %v", err)
	}

	up, err := client.BeginUpdate(ctx, "sdk", name, armcontainerregistry.RegistryUpdateParameters{
		SKU: &armcontainerregistry.SKU{Name: to.Ptr(armcontainerregistry.SKUNameStandard)}, Tags: map[string]*string{},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	updated, err := up.PollUntilDone(ctx, nil)
	if err != nil || *updated.SKU.Name != armcontainerregistry.SKUNameStandard || len(updated.Tags) != 0 {
		t.Fatalf("update: %v %+v", err, updated.Registry)
	}

	found := func(page []*armcontainerregistry.Registry) (n int) {
		for _, r := range page {
			if *r.Name == name {
				n++
			}
		}
		return n
	}
	n := 0
	for pager := client.NewListByResourceGroupPager("sdk", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += found(page.Value)
	}
	for pager := client.NewListPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += found(page.Value)
	}
	if n != 2 {
		t.Errorf("the lists by group and by subscription found it %d times", n)
	}

	creds, err := client.ListCredentials(ctx, "sdk", name, nil)
	if err != nil || *creds.Username != name || len(creds.Passwords) != 2 || *creds.Passwords[0].Name != armcontainerregistry.PasswordNamePassword {
		t.Fatalf("list credentials: %v %+v", err, creds)
	}
	regen, err := client.RegenerateCredential(ctx, "sdk", name, armcontainerregistry.RegenerateCredentialParameters{
		Name: to.Ptr(armcontainerregistry.PasswordNamePassword)}, nil)
	if err != nil || *regen.Passwords[0].Value == *creds.Passwords[0].Value || *regen.Passwords[1].Value != *creds.Passwords[1].Value {
		t.Fatalf("regenerate: %v", err)
	}

	check := func(n string) armcontainerregistry.RegistryNameStatus {
		t.Helper()
		st, err := client.CheckNameAvailability(ctx, armcontainerregistry.RegistryNameCheckRequest{
			Name: to.Ptr(n), Type: to.Ptr("Microsoft.ContainerRegistry/registries")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st.RegistryNameStatus
	}
	if st := check(name); *st.NameAvailable || *st.Reason != "AlreadyExists" {
		t.Errorf("taken: %+v", st)
	}
	if st := check("freename"); !*st.NameAvailable {
		t.Errorf("free: %+v", st)
	}

	del, err := client.BeginDelete(ctx, "sdk", name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := del.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, err = client.Get(ctx, "sdk", name, nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound || re.ErrorCode != "ResourceNotFound" {
		t.Fatalf("get after delete: %v", err)
	}
	// Deleting what is gone succeeds too.
	if del, err = client.BeginDelete(ctx, "sdk", name, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := del.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the SDK calls took %v: a poller waited", d)
	}
}
