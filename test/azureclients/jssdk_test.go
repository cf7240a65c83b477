package azureclients

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// jsSummary is what testdata/js/seed.mjs prints.
type jsSummary struct {
	ResourceGroup struct{ Name, Location, ProvisioningState string }
	Registry      struct {
		ID, Name, LoginServer, Sku string
		AdminUserEnabled           bool
		CreatedProvisioningState   string
		ProvisioningState          string
	}
	RoleAssignments []struct{ PrincipalID, RoleName, Scope string }
	Push            struct {
		Layer, Config struct {
			Digest      string
			SizeInBytes int64
		}
		ManifestDigest string
		GetManifest    struct {
			Digest, MediaType string
			Layers            int
		}
	}
	Repositories []string
	Manifests    []struct {
		Digest, Architecture, OperatingSystem string
		Tags                                  []string
	}
	Tag                  struct{ Name, Digest, RepositoryName, RegistryLoginServer string }
	PullDownloadedConfig bool
	PullUpload           struct {
		Refused    bool
		StatusCode int
		Name       string
	}
	ContainerGroup struct {
		ProvisioningState, State, Logs string
		ExitCode                       *int
		Left                           int
	}
	Deleted struct {
		RegistriesLeft      []string
		ResourceGroupExists bool
	}
}

// TestJavaScriptSDKSeed runs the seed with the Azure SDK for JavaScript from
// npm (testdata/js: package-lock.json pins every package), unchanged, in
// the AzureCloud cloud: resource group, registry, role assignments, a push
// and reads on the data plane, a container group running the pushed image
// with the acrpull principal's credentials, and the clean-up.
func TestJavaScriptSDKSeed(t *testing.T) {
	node := requireCommand(t, "node")
	npm := requireCommand(t, "npm")
	az := requireCommand(t, "az")
	requireCommand(t, "runc")
	busybox := requireBusybox(t)
	dir := npmCI(t, npm)

	e := newEnv(t)
	owner := e.azConfig(t)
	c := e.creds
	e.must(t, owner, az, "login", "--service-principal", "-u", c.AppID, "-p", c.Password, "--tenant", c.TenantID, "-o", "none")
	ownerObjectID := e.must(t, owner, az, "ad", "sp", "show", "--id", c.AppID, "--query", "id", "--output", "tsv")
	push := e.rolelessPrincipal(t, owner, "js-push-sp")
	pull := e.rolelessPrincipal(t, owner, "js-pull-sp")

	const group, registry, containerGroup = "jsResourceGroup", "jsregistry", "jscontainer"
	loginServer := registry + ".azurecr.io"
	e.hosts(t, loginServer)
	// Containers outlive the server by design: if the script stops half
	// way, its group must not keep running after the test.
	t.Cleanup(func() {
		cmd := exec.Command(az, "container", "delete", "--resource-group", group, "--name", containerGroup, "--yes", "-o", "none")
		cmd.Env = append(append([]string{}, e.vars...), owner...)
		_ = cmd.Run()
	})
	out, errOut, code := e.run(t, []string{
		"AZURE_TENANT_ID=" + c.TenantID, "AZURE_SUBSCRIPTION_ID=" + c.SubscriptionID,
		"AZURE_CLIENT_ID=" + c.AppID, "AZURE_CLIENT_SECRET=" + c.Password,
		"SEED_PUSH_APP_ID=" + push.appID, "SEED_PUSH_OBJECT_ID=" + push.objectID, "SEED_PUSH_PASSWORD=" + push.password,
		"SEED_PULL_APP_ID=" + pull.appID, "SEED_PULL_OBJECT_ID=" + pull.objectID, "SEED_PULL_PASSWORD=" + pull.password,
		"SEED_RESOURCE_GROUP=" + group, "SEED_REGISTRY=" + registry, "SEED_CONTAINER_GROUP=" + containerGroup,
		"SEED_BUSYBOX=" + busybox,
	}, node, filepath.Join(dir, "seed.mjs"))
	t.Logf("seed.mjs stderr:\n%s", errOut)
	if code != 0 {
		t.Fatalf("seed.mjs: exit %d", code)
	}
	var s jsSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("seed.mjs output: %v\n%s", err, out)
	}
	t.Logf("seed.mjs:\n%s", out)

	fail := func(what string, got, want any) {
		t.Helper()
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
	if s.ResourceGroup.Name != group || s.ResourceGroup.Location != "eastus" || s.ResourceGroup.ProvisioningState != "Succeeded" {
		fail("resource group", s.ResourceGroup, group+" eastus Succeeded")
	}
	registryID := "/subscriptions/" + c.SubscriptionID + "/resourceGroups/" + group + "/providers/Microsoft.ContainerRegistry/registries/" + registry
	r := s.Registry
	if r.ID != registryID || r.Name != registry || r.LoginServer != loginServer || r.Sku != "Basic" || r.AdminUserEnabled ||
		r.CreatedProvisioningState != "Succeeded" || r.ProvisioningState != "Succeeded" {
		fail("registry", r, registryID+" "+loginServer+" Basic admin disabled Succeeded")
	}
	// listForScope answers the assignments at the registry and above it:
	// the two made here, and the bootstrap Owner's at the subscription.
	type assignment struct{ PrincipalID, RoleName, Scope string }
	wantAssignments := map[assignment]bool{
		{ownerObjectID, "Owner", "/subscriptions/" + c.SubscriptionID}: true,
		{push.objectID, "AcrPush", registryID}:                         true,
		{pull.objectID, "AcrPull", registryID}:                         true,
	}
	for _, a := range s.RoleAssignments {
		if !wantAssignments[assignment(a)] {
			t.Errorf("unexpected role assignment %+v", a)
		}
		delete(wantAssignments, assignment(a))
	}
	if len(wantAssignments) != 0 {
		t.Errorf("role assignments %+v lack %v", s.RoleAssignments, wantAssignments)
	}

	p := s.Push
	digest := p.ManifestDigest
	if !strings.HasPrefix(digest, "sha256:") || p.GetManifest.Digest != digest ||
		p.GetManifest.MediaType != "application/vnd.oci.image.manifest.v1+json" || p.GetManifest.Layers != 1 ||
		p.Layer.SizeInBytes < 100_000 || p.Config.SizeInBytes == 0 {
		fail("push", p, "one OCI manifest with a busybox layer")
	}
	if !reflect.DeepEqual(s.Repositories, []string{"hello-js"}) {
		fail("listRepositoryNames", s.Repositories, "[hello-js]")
	}
	if len(s.Manifests) != 1 || s.Manifests[0].Digest != digest || !reflect.DeepEqual(s.Manifests[0].Tags, []string{"v1"}) ||
		s.Manifests[0].Architecture != "amd64" || s.Manifests[0].OperatingSystem != "linux" {
		fail("listManifestProperties", s.Manifests, digest+" [v1] amd64 linux")
	}
	if s.Tag.Name != "v1" || s.Tag.Digest != digest || s.Tag.RepositoryName != "hello-js" || s.Tag.RegistryLoginServer != loginServer {
		fail("getTagProperties", s.Tag, "v1 "+digest+" hello-js "+loginServer)
	}
	if !s.PullDownloadedConfig {
		t.Error("downloadBlob as the pull principal did not return the config pushed")
	}
	// ACR's token service grants the pull principal only pull; the upload
	// is then refused with 401 insufficient_scope.
	if u := s.PullUpload; !u.Refused || u.StatusCode != http.StatusUnauthorized || u.Name != "RestError" {
		fail("uploadBlob as the pull principal", u, "refused: RestError 401")
	}

	g := s.ContainerGroup
	if g.ProvisioningState != "Succeeded" || g.State != "Terminated" || g.ExitCode == nil || *g.ExitCode != 0 ||
		g.Logs != "hello from js\n" || g.Left != 0 {
		fail("container group", g, `Succeeded, Terminated with 0, logs "hello from js\n", deleted`)
	}
	if len(s.Deleted.RegistriesLeft) != 0 || s.Deleted.ResourceGroupExists {
		fail("clean-up", s.Deleted, "no registry, no resource group")
	}
}

// npmCI installs testdata/js's locked packages into a temporary copy of it
// and returns the copy.
func npmCI(t *testing.T, npm string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "seed.mjs"} {
		data, err := os.ReadFile(filepath.Join("testdata", "js", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	t.Logf("npm ci: %s", time.Since(start).Round(time.Second))
	return dir
}

// rolelessPrincipal runs `az ad sp create-for-rbac --name N` without a
// role (az 2.45 assigns none then) and returns the new principal.
func (e *env) rolelessPrincipal(t *testing.T, owner []string, name string) principal {
	t.Helper()
	var created struct{ AppID, Password string }
	out := e.must(t, owner, "az", "ad", "sp", "create-for-rbac", "--name", name, "-o", "json")
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create-for-rbac: %v\n%s", err, out)
	}
	p := principal{appID: created.AppID, password: created.Password}
	p.objectID = e.must(t, owner, "az", "ad", "sp", "show", "--id", p.appID, "--query", "id", "--output", "tsv")
	if p.appID == "" || p.password == "" || p.objectID == "" {
		t.Fatalf("service principal %s: %+v", name, p)
	}
	return p
}
