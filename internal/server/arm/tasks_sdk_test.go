package arm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerregistry/armcontainerregistry"
)

// gzipTar is a build context holding one file, packed as az packs it
// (PAX, the root first as "/").
func gzipTar(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range []*tar.Header{
		{Name: "/", Typeflag: tar.TypeDir, Mode: 0o755, Format: tar.FormatPAX},
		{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body)), Format: tar.FormatPAX},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTasksAzureSDK drives ACR Tasks with the official armcontainerregistry
// v1.2.0 clients (2019-06-01-preview): GetBuildSourceUploadURL, then
// BeginScheduleRun, whose poller must finish on the first response with
// the queued run, then RunsClient.Get and NewListPager.
func TestTasksAzureSDK(t *testing.T) {
	te := newTasksEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	copts := azcore.ClientOptions{Transport: te.H2, Cloud: cloud.Configuration{
		ActiveDirectoryAuthorityHost: te.URL + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Audience: "https://management.core.windows.net/", Endpoint: te.URL},
		},
	}}
	cred, err := azidentity.NewClientSecretCredential(te.Tenant.ID, te.owner.App.AppID, te.owner.Secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: copts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	factory, err := armcontainerregistry.NewClientFactory(te.Subscription.ID, cred, &azarm.ClientOptions{ClientOptions: copts})
	if err != nil {
		t.Fatal(err)
	}
	registries, runs := factory.NewRegistriesClient(), factory.NewRunsClient()

	up, err := registries.GetBuildSourceUploadURL(ctx, "rg", "myreg", nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(*up.UploadURL)
	if err != nil || u.Host != "cerulean.blob.azurecr.test:8443" || u.Path != "/myreg/"+*up.RelativePath {
		t.Fatalf("upload URL %s: %v", *up.UploadURL, err)
	}
	ref, err := te.tasks.AuthorizeBlob(ctx, "myreg", *up.RelativePath, u.Query(), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := te.tasks.PutSource(ctx, ref, bytes.NewReader(gzipTar(t, "Dockerfile", "FROM scratch\n"))); err != nil {
		t.Fatal(err)
	}

	poller, err := registries.BeginScheduleRun(ctx, "rg", "myreg", &armcontainerregistry.DockerBuildRequest{
		Type: to.Ptr("DockerBuildRequest"), SourceLocation: up.RelativePath,
		DockerFilePath: to.Ptr("Dockerfile"), ImageNames: []*string{to.Ptr("sdk:{{.Run.ID}}")}, IsPushEnabled: to.Ptr(true),
		Platform: &armcontainerregistry.PlatformProperties{OS: to.Ptr(armcontainerregistry.OSLinux), Architecture: to.Ptr(armcontainerregistry.ArchitectureAmd64)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !poller.Done() {
		t.Fatal("the scheduleRun poller is not done on the first response")
	}
	queued, err := poller.PollUntilDone(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *queued.Name != "ca1" || *queued.Properties.RunID != "ca1" || *queued.Properties.Status != armcontainerregistry.RunStatusQueued ||
		*queued.Properties.RunType != armcontainerregistry.RunTypeQuickBuild {
		t.Fatalf("queued %+v", queued.Properties)
	}
	te.tasks.Wait()

	got, err := runs.Get(ctx, "rg", "myreg", "ca1", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Properties
	if *p.Status != armcontainerregistry.RunStatusSucceeded || p.FinishTime == nil || len(p.OutputImages) != 1 || *p.OutputImages[0].Tag != "ca1" {
		t.Fatalf("run %+v", p)
	}
	pager := runs.NewListPager("rg", "myreg", &armcontainerregistry.RunsClientListOptions{Top: to.Ptr[int32](10), Filter: to.Ptr("Status eq 'Succeeded'")})
	var ids []string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Value {
			ids = append(ids, *r.Name)
		}
	}
	if strings.Join(ids, ",") != "ca1" {
		t.Fatalf("listed %v", ids)
	}
	logs, err := runs.GetLogSasURL(ctx, "rg", "myreg", "ca1", nil)
	if err != nil || !strings.HasPrefix(*logs.LogLink, blobBase+"/myreg/logs/ca1/rawtext.log?") {
		t.Fatalf("log link: %v", err)
	}
	cancelPoller, err := runs.BeginCancel(ctx, "rg", "myreg", "ca1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cancelPoller.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
}
