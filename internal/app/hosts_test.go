package app

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/bootstrap"
	"github.com/cerulean/cerulean/internal/config"
	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// TestReadHosts reads the hosts entries of a data dir while its server
// is up: registries at the listen address, labelled container groups at
// their own, Azure's names only when asked for.
func TestReadHosts(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	a := newTestApp(t, dir)
	t.Cleanup(func() { _ = a.Close() })
	creds, err := bootstrap.Load(bootstrap.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	sub := creds.SubscriptionID
	if _, _, err := a.Resources.PutGroup(ctx, sub, "rg", resource.GroupInput{Location: "eastus"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ZetaReg", "alphareg"} {
		if _, _, err := a.Registries.Create(ctx, registry.CreateInput{Group: resourceid.ForResourceGroup(sub, "rg"), Name: name,
			Location: "eastus", SKU: "Basic", CreatedBy: creds.ObjectID}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for i, g := range []struct {
		name, label string
		ip          string
	}{{"web", "MyWeb", "127.1.0.1"}, {"nolabel", "", "127.1.0.2"}, {"api", "api", "127.1.0.3"}} {
		grp := containergroup.Group{
			ID:   resourceid.ForResource(sub, "rg", "Microsoft.ContainerInstance", "containerGroups", g.name),
			Name: g.name, Location: "westeurope", InstanceID: strings.Repeat(string(rune('a'+i)), 32),
			SealedSpec: []byte("x"), ProvisioningState: "Succeeded", IP: netip.MustParseAddr(g.ip), DNSNameLabel: g.label,
			CreatedAt: now, ChangedAt: now,
		}
		if err := a.store.ContainerGroups().CreateGroup(ctx, grp); err != nil {
			t.Fatal(err)
		}
	}

	cfg := config.Config{DataDir: dir, Listen: "0.0.0.0:8443", RegistryDomain: "azurecr.localhost", Location: "eastus",
		LogLevel: "info", InstancesDomain: "aci.test", Runtime: "runc"}
	lo := netip.MustParseAddr("127.0.0.1")
	want := []HostsEntry{
		{lo, []string{"cerulean.blob.azurecr.localhost"}},
		{lo, []string{"alphareg.azurecr.localhost"}},
		{lo, []string{"zetareg.azurecr.localhost"}},
		{netip.MustParseAddr("127.1.0.3"), []string{"api.westeurope.aci.test"}},
		{netip.MustParseAddr("127.1.0.1"), []string{"myweb.westeurope.aci.test"}},
	}
	h, err := ReadHosts(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h.Entries, want) || len(h.Warnings) != 0 {
		t.Fatalf("entries %v, warnings %q\nwant %v", h.Entries, h.Warnings, want)
	}

	cfg.AzureHostnames = true
	cfg.RegistryDomain = config.AzureRegistryDomain
	h, err = ReadHosts(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h.Entries[0], HostsEntry{lo, append(slices.Clone(config.AzureHosts), "cerulean.blob.core.windows.net")}) || len(h.Entries) != len(want) {
		t.Fatalf("with Azure's names: %v", h.Entries)
	}
	// The server still serves its registries under azurecr.localhost.
	if len(h.Warnings) != 2 || !strings.Contains(h.Warnings[0], "alphareg.azurecr.localhost") {
		t.Fatalf("warnings %q, want one per registry under another domain", h.Warnings)
	}

	if _, err := ReadHosts(ctx, config.Config{DataDir: filepath.Join(dir, "nothing"), Listen: "127.0.0.1:1", RegistryDomain: "a.b",
		Location: "eastus", LogLevel: "info", InstancesDomain: "c.d", Runtime: "runc"}); err == nil || !strings.Contains(err.Error(), "has not run") {
		t.Fatalf("a data dir without a store: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nothing")); !os.IsNotExist(err) {
		t.Fatalf("reading created the data dir: %v", err)
	}

	servers, err := LoginServers(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 2 || !strings.HasPrefix(servers[0], "alphareg.azurecr.localhost:") {
		t.Fatalf("login servers %q, want host:port of both registries", servers)
	}
	if got := CAFile(dir); got != a.CAFile() {
		t.Fatalf("CAFile %s, the app's %s", got, a.CAFile())
	}
}

func TestListenIP(t *testing.T) {
	for _, tt := range []struct{ listen, want string }{
		{"127.0.0.1:443", "127.0.0.1"},
		{"0.0.0.0:443", "127.0.0.1"},
		{"[::]:8443", "127.0.0.1"},
		{":8443", "127.0.0.1"},
		{"localhost:8443", "127.0.0.1"},
		{"127.0.0.2:8443", "127.0.0.2"},
		{"[::1]:8443", "::1"},
		{"[::ffff:127.0.0.3]:1", "127.0.0.3"},
	} {
		got, err := ListenIP(t.Context(), tt.listen)
		if err != nil || got.String() != tt.want {
			t.Errorf("ListenIP(%q) = %v, %v; want %s", tt.listen, got, err, tt.want)
		}
	}
	if _, err := ListenIP(t.Context(), "8443"); err == nil {
		t.Error("a listen address without a port was accepted")
	}
}
