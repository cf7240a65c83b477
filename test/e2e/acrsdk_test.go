package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/containers/azcontainerregistry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestAzureSDKForContainerRegistry drives the data plane with the official
// azcontainerregistry SDK: an Entra token of ACR audience exchanged for ACR
// tokens, blob uploads, a manifest push, and ACR's /acr/v1 API.
func TestAzureSDKForContainerRegistry(t *testing.T) {
	e := newRegistryEnv(t)
	id, ls := e.createRegistry(t, "sdkregistry")
	tenant := e.mustAz(t, "account", "show", "--query", "tenantId", "-o", "tsv")
	pusher := e.newPrincipal(t, "sdk-pusher", "acrpush", id)
	e.mustAz(t, "role", "assignment", "create", "--assignee", pusher.appID, "--role", "AcrDelete", "--scope", id, "-o", "none")

	httpClient := &http.Client{Transport: e.transport}
	cred, err := azidentity.NewClientSecretCredential(tenant, pusher.appID, pusher.password, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: "https://" + e.addr + "/"}, Transport: httpClient},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := azcore.ClientOptions{Transport: httpClient}
	endpoint := "https://" + ls
	blobs, err := azcontainerregistry.NewBlobClient(endpoint, cred, &azcontainerregistry.BlobClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	client, err := azcontainerregistry.NewClient(endpoint, cred, &azcontainerregistry.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const repo = "sdk/hello"

	upload := func(data []byte) ocispec.Descriptor {
		start, err := blobs.StartUpload(ctx, repo, nil)
		if err != nil {
			t.Fatalf("start upload: %v", err)
		}
		calc := azcontainerregistry.NewBlobDigestCalculator()
		location := *start.Location
		for off := 0; off < len(data); off += 1000 { // several chunks
			end := min(off+1000, len(data))
			res, err := blobs.UploadChunk(ctx, location, bytes.NewReader(data[off:end]), calc, nil)
			if err != nil {
				t.Fatalf("upload chunk: %v", err)
			}
			location = *res.Location
		}
		done, err := blobs.CompleteUpload(ctx, location, calc, nil)
		if err != nil {
			t.Fatalf("complete upload: %v", err)
		}
		d := digest.FromBytes(data)
		if *done.DockerContentDigest != d.String() {
			t.Fatalf("digest %s, want %s", *done.DockerContentDigest, d)
		}
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: int64(len(data))}
	}
	config := upload([]byte(`{"architecture":"amd64","os":"linux"}`))
	config.MediaType = ocispec.MediaTypeImageConfig
	layer := upload(bytes.Repeat([]byte("cerulean"), 1000))
	manifest, _ := json.Marshal(ocispec.Manifest{
		Versioned: ocispecVersioned(), MediaType: ocispec.MediaTypeImageManifest,
		Config: config, Layers: []ocispec.Descriptor{layer},
	})
	put, err := client.UploadManifest(ctx, repo, "v1", azcontainerregistry.ContentTypeApplicationVndOciImageManifestV1JSON,
		streaming.NopCloser(bytes.NewReader(manifest)), nil)
	if err != nil {
		t.Fatalf("upload manifest: %v", err)
	}
	manifestDigest := *put.DockerContentDigest

	got, err := client.GetManifest(ctx, repo, "v1", &azcontainerregistry.ClientGetManifestOptions{Accept: to.Ptr(string(azcontainerregistry.ContentTypeApplicationVndOciImageManifestV1JSON))})
	if err != nil {
		t.Fatalf("get manifest: %v", err)
	}
	got.ManifestData.Close()

	var repos []string
	for pager := client.NewListRepositoriesPager(&azcontainerregistry.ClientListRepositoriesOptions{MaxNum: to.Ptr[int32](1)}); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list repositories: %v", err)
		}
		for _, r := range page.Names {
			repos = append(repos, *r)
		}
	}
	if strings.Join(repos, ",") != repo {
		t.Fatalf("repositories %v", repos)
	}
	tagProps, err := client.GetTagProperties(ctx, repo, "v1", nil)
	if err != nil || *tagProps.Tag.Digest != manifestDigest {
		t.Fatalf("tag properties: %+v, %v", tagProps, err)
	}
	props, err := client.GetManifestProperties(ctx, repo, manifestDigest, nil)
	if err != nil || *props.Manifest.Digest != manifestDigest {
		t.Fatalf("manifest properties: %v", err)
	}
	if _, err := client.UpdateTagProperties(ctx, repo, "v1", &azcontainerregistry.ClientUpdateTagPropertiesOptions{
		Value: &azcontainerregistry.TagWriteableProperties{CanDelete: to.Ptr(false)},
	}); err != nil {
		t.Fatalf("update tag properties: %v", err)
	}
	if _, err := client.DeleteTag(ctx, repo, "v1", nil); err == nil {
		t.Fatal("deleted a tag whose deleteEnabled is false")
	}
	if _, err := client.UpdateTagProperties(ctx, repo, "v1", &azcontainerregistry.ClientUpdateTagPropertiesOptions{
		Value: &azcontainerregistry.TagWriteableProperties{CanDelete: to.Ptr(true)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteRepository(ctx, repo, nil); err != nil {
		t.Fatalf("delete repository: %v", err)
	}
	if _, err := client.GetRepositoryProperties(ctx, repo, nil); err == nil {
		t.Fatal("repository still there after delete")
	}
}
