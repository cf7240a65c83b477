package azureclients

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"reflect"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/cerulean/cerulean/test/testimage"
)

// TestPythonSDKRegistry runs the identity and registry part of the seed
// with the Azure SDK for Python that Debian ships with azure-cli
// (testdata/python/registry.py), unchanged, in the AzureCloud cloud: the
// management plane creates, reads, lists and deletes a registry and
// manages its admin user; the data plane (azure-containerregistry) reads
// and deletes tags as service principals, within their roles.
func TestPythonSDKRegistry(t *testing.T) {
	python := debianPython(t)
	az := requireCommand(t, "az")
	busybox := requireBusybox(t)
	e := newEnv(t)
	owner := e.azConfig(t)
	c := e.creds
	e.must(t, owner, az, "login", "--service-principal", "-u", c.AppID, "-p", c.Password, "--tenant", c.TenantID, "-o", "none")
	push := e.rolelessPrincipal(t, owner, "py-push-sp")
	pull := e.rolelessPrincipal(t, owner, "py-pull-sp")

	const group, registry, repository = "pyResourceGroup", "pyregistry", "hello-py"
	loginServer := registry + ".azurecr.io"
	e.hosts(t, loginServer)
	vars := []string{
		"AZURE_TENANT_ID=" + c.TenantID, "AZURE_SUBSCRIPTION_ID=" + c.SubscriptionID,
		"AZURE_CLIENT_ID=" + c.AppID, "AZURE_CLIENT_SECRET=" + c.Password,
		"SEED_PUSH_APP_ID=" + push.appID, "SEED_PUSH_PASSWORD=" + push.password,
		"SEED_PULL_APP_ID=" + pull.appID, "SEED_PULL_PASSWORD=" + pull.password,
		"SEED_RESOURCE_GROUP=" + group, "SEED_REGISTRY=" + registry,
		"SEED_REPOSITORY=" + repository, "SEED_TAG=v2",
	}
	py := func(t *testing.T, out any, args ...string) {
		t.Helper()
		stdout, stderr, code := e.run(t, vars, python, append([]string{"testdata/python/registry.py"}, args...)...)
		if code != 0 || stderr != "" {
			t.Fatalf("registry.py %v: exit %d\n%s", args, code, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			t.Fatalf("registry.py %v: %v\n%s", args, err, stdout)
		}
		t.Logf("registry.py %v:\n%s", args, stdout)
	}

	// Management plane: create, get, list.
	type registrySummary struct {
		ID, Name, Location, LoginServer, Sku, ProvisioningState string
		AdminUserEnabled                                        bool
	}
	var created struct {
		ResourceGroup       struct{ Name, ProvisioningState string }
		Created, Get        registrySummary
		ListByResourceGroup []string
		List                []string
	}
	py(t, &created, "create")
	registryID := "/subscriptions/" + c.SubscriptionID + "/resourceGroups/" + group + "/providers/Microsoft.ContainerRegistry/registries/" + registry
	want := registrySummary{ID: registryID, Name: registry, Location: "eastus", LoginServer: loginServer, Sku: "Basic", ProvisioningState: "Succeeded"}
	if created.ResourceGroup.Name != group || created.ResourceGroup.ProvisioningState != "Succeeded" {
		t.Errorf("resource group: %+v", created.ResourceGroup)
	}
	if created.Created != want || created.Get != want {
		t.Errorf("registry: created %+v, get %+v, want %+v", created.Created, created.Get, want)
	}
	if !reflect.DeepEqual(created.ListByResourceGroup, []string{registry}) || !reflect.DeepEqual(created.List, []string{registryID}) {
		t.Errorf("lists: by group %v, in subscription %v", created.ListByResourceGroup, created.List)
	}

	// Roles, with Debian's azure-mgmt-authorization (as in TestAzureCLISeed).
	assign := func(role string, p principal) {
		e.must(t, nil, python, "testdata/python/role_assignments.py", "create", c.TenantID, c.AppID, c.Password, c.SubscriptionID, registryID, role, p.objectID)
	}
	assign("AcrPush", push)
	assign("AcrPull", pull)

	// The push principal pushes one image under two tags, with
	// go-containerregistry and its service principal credentials.
	registryClient := e.registryTransport(t, loginServer)
	img := busyboxImage(t, busybox, "echo hello from python")
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	pushAuth := remote.WithAuth(&authn.Basic{Username: push.appID, Password: push.password})
	for _, tag := range []string{"v1", "v2"} {
		ref, err := name.ParseReference(loginServer + "/" + repository + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img, pushAuth, registryClient, remote.WithContext(t.Context())); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}

	// Data plane: the pull principal reads.
	var read struct {
		Repositories, Tags []string
		Manifest           struct {
			Digest, RepositoryName, Architecture, OperatingSystem string
			Tags                                                  []string
		}
	}
	py(t, &read, "read", "pull")
	if !reflect.DeepEqual(read.Repositories, []string{repository}) || !reflect.DeepEqual(read.Tags, []string{"v1", "v2"}) {
		t.Errorf("repositories %v, tags %v", read.Repositories, read.Tags)
	}
	m := read.Manifest
	if m.Digest != digest.String() || m.RepositoryName != repository || !reflect.DeepEqual(m.Tags, []string{"v1", "v2"}) ||
		m.Architecture != "amd64" || m.OperatingSystem != "linux" {
		t.Errorf("manifest properties %+v, want %s [v1 v2] amd64 linux", m, digest)
	}

	// Deleting needs AcrDelete: AcrPull and AcrPush do not carry it, in
	// Azure as here. The token service grants what RBAC allows (never an
	// error for asking too much), so the delete itself is refused: 401
	// insufficient_scope, which the SDK raises as ClientAuthenticationError.
	type deleteResult struct {
		Refused bool
		Status  int
		Type    string
		Tags    []string
	}
	refused := func(who string) {
		t.Helper()
		var d deleteResult
		py(t, &d, "delete-tag", who)
		if !d.Refused || d.Status != http.StatusUnauthorized || d.Type != "ClientAuthenticationError" || !reflect.DeepEqual(d.Tags, []string{"v1", "v2"}) {
			t.Errorf("delete-tag as %s: %+v, want refused with 401 (ClientAuthenticationError), tags v1 v2", who, d)
		}
	}
	refused("pull")
	refused("push")
	assign("AcrDelete", push)
	var deleted deleteResult
	py(t, &deleted, "delete-tag", "push")
	if deleted.Refused || !reflect.DeepEqual(deleted.Tags, []string{"v1"}) {
		t.Errorf("delete-tag as push with AcrDelete: %+v, want done, tags v1", deleted)
	}

	// The admin user: enabled, its passwords listed and one regenerated;
	// the registry takes the new one at once and no longer the old.
	var adm struct {
		AdminUserEnabled bool
		ListCredentials  struct {
			Username  string
			Passwords map[string]string
		}
		Regenerated struct {
			Username  string
			Passwords map[string]string
		}
	}
	py(t, &adm, "admin")
	before, after := adm.ListCredentials, adm.Regenerated
	if !adm.AdminUserEnabled || before.Username != registry || after.Username != registry ||
		len(before.Passwords) != 2 || len(after.Passwords) != 2 || before.Passwords["password"] == "" ||
		after.Passwords["password"] == before.Passwords["password"] || after.Passwords["password2"] != before.Passwords["password2"] {
		t.Errorf("admin credentials: before %+v, after %+v", before, after)
	}
	v1Ref, err := name.ParseReference(loginServer + "/" + repository + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		password string
		ok       bool
	}{
		{after.Passwords["password"], true},
		{after.Passwords["password2"], true},
		{before.Passwords["password"], false},
	} {
		desc, err := remote.Head(v1Ref, remote.WithAuth(&authn.Basic{Username: registry, Password: tt.password}), registryClient, remote.WithContext(t.Context()))
		switch {
		case tt.ok && (err != nil || desc.Digest != digest):
			t.Errorf("admin pull with a current password: %v, %v", desc, err)
		case !tt.ok && !isUnauthorized(err):
			t.Errorf("admin pull with the replaced password: %v, want 401", err)
		}
	}

	var gone struct {
		RegistriesLeft      []string
		ResourceGroupExists bool
	}
	py(t, &gone, "delete")
	if len(gone.RegistriesLeft) != 0 || gone.ResourceGroupExists {
		t.Errorf("after delete: %+v", gone)
	}
}

// registryTransport is the test's own way to a registry login server (not
// a client under test): it trusts the local CA and dials the server
// directly, since Go's resolver may have cached /etc/hosts from before
// the registry existed.
func (e *env) registryTransport(t *testing.T, loginServer string) remote.Option {
	t.Helper()
	pool := e.caPool(t)
	var d net.Dialer
	return remote.WithTransport(&http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == loginServer+":443" {
				addr = "127.0.0.1:443"
			}
			return d.DialContext(ctx, network, addr)
		},
	})
}

// busyboxImage is a FROM scratch image holding a static busybox whose
// command runs script with busybox sh.
func busyboxImage(t *testing.T, busybox, script string) v1.Image {
	t.Helper()
	img, err := testimage.Busybox(busybox, []string{"/bin/busybox", "sh", "-c", script})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// isUnauthorized reports whether a registry call failed with 401.
func isUnauthorized(err error) bool {
	te, ok := errors.AsType[*transport.Error](err)
	return ok && te.StatusCode == http.StatusUnauthorized
}
