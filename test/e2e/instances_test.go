package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerinstance/armcontainerinstance/v2"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cerulean/cerulean/test/testimage"
)

// requireRuntime skips (or fails, in CI) a test that runs containers
// when this machine cannot: not root, or no runc or busybox.
func requireRuntime(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		requireOrSkip(t, "running containers needs root")
	}
	for _, tool := range []string{"runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			requireOrSkip(t, tool+" is not installed (apt-get install runc)")
		}
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		requireOrSkip(t, "/bin/busybox is not installed (apt-get install busybox-static)")
	}
}

// busyboxImage is a one-layer linux/amd64 image holding the host's static
// busybox and the links a shell script needs, running cmd.
func busyboxImage(t *testing.T, cmd ...string) v1.Image {
	t.Helper()
	img, err := testimage.Busybox("/bin/busybox", cmd, "FROM_IMAGE=yes")
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// instancesEnv is a registry holding a private image, an acrpush principal
// that pushed it and an acrpull principal that may pull it.
type instancesEnv struct {
	*registryEnv
	registryID, loginServer string
	pusher, puller          principal
}

func newInstancesEnv(t *testing.T) *instancesEnv {
	t.Helper()
	requireRuntime(t)
	e := &instancesEnv{registryEnv: newRegistryEnv(t)}
	e.registryID, e.loginServer = e.createRegistry(t, "mycontainerregistry")
	e.pusher = e.newPrincipal(t, "acr-push-sp", "acrpush", e.registryID)
	e.puller = e.newPrincipal(t, "acr-pull-sp", "acrpull", e.registryID)
	// Containers outlive the server by design: delete every group before
	// the server stops, so that nothing keeps running (or mounted) after
	// the test.
	t.Cleanup(func() {
		// t.Context is already cancelled here: run az without it.
		az := func(args ...string) string {
			cmd := exec.Command(filepath.Join(binaries(t), "az"), args...)
			cmd.Env = e.env
			out, _ := cmd.Output()
			return string(out)
		}
		for line := range strings.SplitSeq(az("container", "list", "--query", "[].[resourceGroup, name]", "-o", "tsv"), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				az("container", "delete", "-g", f[0], "-n", f[1], "--yes", "-o", "none")
			}
		}
	})
	return e
}

func (e *instancesEnv) push(t *testing.T, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(e.loginServer + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(e.pusher.basic()), remote.WithTransport(e.transport), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref.String()
}

// waitFor polls cond every 100 ms for up to a minute.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: gave up; last seen %s", what, last)
}

// TestSeedScenario is the seed: an image pushed by an acrpush principal is
// run by `az container create` with an acrpull principal's appId and
// password; its output shows in `az container logs`; bad credentials,
// missing roles, unknown tags and unknown registries are refused with
// InaccessibleImage and a detail saying which check failed.
func TestSeedScenario(t *testing.T) {
	e := newInstancesEnv(t)
	image := e.push(t, "myimage:v1", busyboxImage(t, "/bin/sh", "-c", "echo hello from $(hostname); echo env=$FROM_IMAGE; sleep 600"))
	create := func(name, image, user, password string, extra ...string) (string, string, int) {
		args := append([]string{"container", "create", "-g", "registries", "-n", name, "--image", image,
			"--registry-login-server", e.loginServer, "--registry-username", user, "--registry-password", password,
			"--only-show-errors"}, extra...)
		return e.az(t, args...)
	}
	out, errOut, code := create("mycontainer", image, e.puller.appID, e.puller.password, "--query", "provisioningState", "-o", "tsv")
	if code != 0 {
		t.Fatalf("az container create: exit %d\n%s", code, errOut)
	}
	if out != "Succeeded" {
		t.Fatalf("provisioningState %q, want Succeeded", out)
	}
	waitFor(t, "the container runs and logs", func() (bool, string) {
		state := e.mustAz(t, "container", "show", "-g", "registries", "-n", "mycontainer", "--query", "containers[0].instanceView.currentState.state", "-o", "tsv")
		logs, _, _ := e.az(t, "container", "logs", "-g", "registries", "-n", "mycontainer")
		return state == "Running" && strings.Contains(logs, "hello from mycontainer") && strings.Contains(logs, "env=yes"), state + ": " + logs
	})
	show := e.mustAz(t, "container", "show", "-g", "registries", "-n", "mycontainer", "-o", "json")
	if strings.Contains(show, e.puller.password) {
		t.Fatal("az container show printed the registry password")
	}

	// Each failure is InaccessibleImage with a detail naming the check.
	cases := []struct {
		name, image, user, password, detail string
	}{
		{"wrong-password", image, e.puller.appID, "not-the-password", "RegistryUnauthorized"},
		{"no-role", image, e.newPrincipal(t, "no-role-sp", "", "").appID, "", "RegistryAccessDenied"},
		{"wrong-tag", e.loginServer + "/myimage:v2", e.puller.appID, e.puller.password, "ImageNotFound"},
		{"unknown-registry", "nosuchregistry.azurecr.localhost:1/myimage:v1", e.puller.appID, e.puller.password, "RegistryHostUnknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			password := c.password
			if c.name == "no-role" {
				password = e.mustAz(t, "ad", "app", "credential", "reset", "--id", c.user, "--query", "password", "-o", "tsv", "--only-show-errors")
			}
			_, errOut, code := create("c-"+c.name, c.image, c.user, password)
			if code == 0 {
				t.Fatalf("az container create succeeded with %s", c.name)
			}
			if !strings.Contains(errOut, "(InaccessibleImage)") || !strings.Contains(errOut, "is not accessible. Please check the image and registry credential.") || !strings.Contains(errOut, c.detail) {
				t.Fatalf("error output lacks InaccessibleImage and %s:\n%s", c.detail, errOut)
			}
			if password != "" && strings.Contains(errOut, password) {
				t.Fatal("the error repeats the password")
			}
		})
	}
	e.mustAz(t, "container", "delete", "-g", "registries", "-n", "mycontainer", "--yes", "-o", "none")
	if _, _, code := e.az(t, "container", "show", "-g", "registries", "-n", "mycontainer"); code == 0 {
		t.Fatal("the group is still there after delete")
	}
}

// TestContainerInstancesWithTheGoSDK drives the same story with the
// official armcontainerinstance/v2 client, unmodified but for endpoint and
// CA: BeginCreateOrUpdate + PollUntilDone, Get, ListLogs, Stop, Start,
// Restart, BeginDelete.
func TestContainerInstancesWithTheGoSDK(t *testing.T) {
	e := newInstancesEnv(t)
	image := e.push(t, "sdk/app:v1", busyboxImage(t, "/bin/sh", "-c", "echo started; sleep 600"))
	tenant := e.mustAz(t, "account", "show", "--query", "tenantId", "-o", "tsv")
	sub := e.mustAz(t, "account", "show", "--query", "id", "-o", "tsv")
	groupID := e.mustAz(t, "group", "show", "-n", "registries", "--query", "id", "-o", "tsv")
	deployer := e.newPrincipal(t, "aci-deployer", "Contributor", groupID)

	httpClient := &http.Client{Transport: e.transport}
	cfg := cloud.Configuration{
		ActiveDirectoryAuthorityHost: "https://" + e.addr + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Audience: "https://management.core.windows.net/", Endpoint: "https://" + e.addr},
		},
	}
	cred, err := azidentity.NewClientSecretCredential(tenant, deployer.appID, deployer.password, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{Cloud: cfg, Transport: httpClient}, DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := &arm.ClientOptions{ClientOptions: azcore.ClientOptions{Cloud: cfg, Transport: httpClient}}
	groups, err := armcontainerinstance.NewContainerGroupsClient(sub, cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	containers, err := armcontainerinstance.NewContainersClient(sub, cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	poller, err := groups.BeginCreateOrUpdate(ctx, "registries", "sdkgroup", armcontainerinstance.ContainerGroup{
		Location: to.Ptr("eastus"),
		Properties: &armcontainerinstance.ContainerGroupPropertiesProperties{
			OSType:        to.Ptr(armcontainerinstance.OperatingSystemTypesLinux),
			RestartPolicy: to.Ptr(armcontainerinstance.ContainerGroupRestartPolicyAlways),
			Containers: []*armcontainerinstance.Container{{
				Name: to.Ptr("app"),
				Properties: &armcontainerinstance.ContainerProperties{
					Image: to.Ptr(image),
					Resources: &armcontainerinstance.ResourceRequirements{Requests: &armcontainerinstance.ResourceRequests{
						CPU: to.Ptr(0.5), MemoryInGB: to.Ptr(0.5)}},
					EnvironmentVariables: []*armcontainerinstance.EnvironmentVariable{{Name: to.Ptr("SECRET"), SecureValue: to.Ptr("s3cr3t")}},
				},
			}},
			ImageRegistryCredentials: []*armcontainerinstance.ImageRegistryCredential{{
				Server: to.Ptr(e.loginServer), Username: to.Ptr(e.puller.appID), Password: to.Ptr(e.puller.password)}},
		},
	}, nil)
	if err != nil {
		t.Fatalf("BeginCreateOrUpdate: %v", err)
	}
	res, err := poller.PollUntilDone(ctx, &runtimePollOptions)
	if err != nil {
		t.Fatalf("PollUntilDone: %v", err)
	}
	if *res.Properties.ProvisioningState != "Succeeded" {
		t.Fatalf("provisioningState %s", *res.Properties.ProvisioningState)
	}
	if p := res.Properties.ImageRegistryCredentials[0].Password; p != nil {
		t.Fatal("the password came back")
	}
	if v := res.Properties.Containers[0].Properties.EnvironmentVariables[0]; v.SecureValue != nil || v.Value != nil {
		t.Fatal("the secure value came back")
	}
	waitFor(t, "logs", func() (bool, string) {
		logs, err := containers.ListLogs(ctx, "registries", "sdkgroup", "app", nil)
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(*logs.Content, "started"), *logs.Content
	})
	state := func() string {
		g, err := groups.Get(ctx, "registries", "sdkgroup", nil)
		if err != nil {
			t.Fatal(err)
		}
		return *g.Properties.InstanceView.State
	}
	if _, err := groups.Stop(ctx, "registries", "sdkgroup", nil); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if s := state(); s != "Stopped" {
		t.Fatalf("state after stop %q", s)
	}
	startPoller, err := groups.BeginStart(ctx, "registries", "sdkgroup", nil)
	if err != nil {
		t.Fatalf("BeginStart: %v", err)
	}
	if _, err := startPoller.PollUntilDone(ctx, &runtimePollOptions); err != nil {
		t.Fatalf("start PollUntilDone: %v", err)
	}
	waitFor(t, "running after start", func() (bool, string) { s := state(); return s == "Running", s })
	restartPoller, err := groups.BeginRestart(ctx, "registries", "sdkgroup", nil)
	if err != nil {
		t.Fatalf("BeginRestart: %v", err)
	}
	if _, err := restartPoller.PollUntilDone(ctx, &runtimePollOptions); err != nil {
		t.Fatalf("restart PollUntilDone: %v", err)
	}
	waitFor(t, "running after restart", func() (bool, string) { s := state(); return s == "Running", s })
	pager := groups.NewListByResourceGroupPager("registries", nil)
	page, err := pager.NextPage(ctx)
	if err != nil || len(page.Value) != 1 || page.Value[0].Properties.InstanceView != nil {
		t.Fatalf("list: %v %+v", err, page.Value)
	}
	delPoller, err := groups.BeginDelete(ctx, "registries", "sdkgroup", nil)
	if err != nil {
		t.Fatalf("BeginDelete: %v", err)
	}
	if _, err := delPoller.PollUntilDone(ctx, &runtimePollOptions); err != nil {
		t.Fatalf("delete PollUntilDone: %v", err)
	}
	if _, err := groups.Get(ctx, "registries", "sdkgroup", nil); err == nil {
		t.Fatal("the group is still there")
	}
	raw, _ := json.Marshal(res)
	if strings.Contains(string(raw), "s3cr3t") || strings.Contains(string(raw), e.puller.password) {
		t.Fatal("a secret came back in the create response")
	}
}

// runtimePollOptions polls every 200 ms (the server also says Retry-After: 1).
var runtimePollOptions = runtime.PollUntilDoneOptions{Frequency: 200 * time.Millisecond}
