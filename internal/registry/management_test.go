package registry_test

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
)

func TestCreate(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	r := e.reg
	if r.Name != regName || r.SKU != registry.SKUBasic || r.Location != "eastus" || r.ProvisioningState != "Succeeded" {
		t.Errorf("created registry: %+v", r)
	}
	if r.LoginServer != "myregistry.azurecr.test:8443" {
		t.Errorf("login server %q", r.LoginServer)
	}
	wantID := "/subscriptions/" + subID + "/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/MyRegistry"
	if r.ID.String() != wantID {
		t.Errorf("id %s, want %s", r.ID, wantID)
	}
	if len(r.AdminPasswords) != 2 || r.AdminPasswords[0].Name != "password" || r.AdminPasswords[1].Name != "password2" {
		t.Errorf("admin passwords %+v", r.AdminPasswords)
	}

	// The generic index lists it (so `az acr login` and CheckScope find it).
	idx, err := e.store.Resources().ListResources(ctx, subID, "rg")
	must(t, err)
	if len(idx) != 1 || !idx[0].ID.Equal(r.ID) || idx[0].SKU != "Basic" {
		t.Errorf("generic index: %+v", idx)
	}
	if err := resourceCheck(e, r.ID); err != nil {
		t.Errorf("CheckScope of the registry: %v", err)
	}

	for _, tc := range []struct {
		name   string
		in     registry.CreateInput
		reason string
	}{
		{"short name", registry.CreateInput{Group: e.group, Name: "abcd", Location: "eastus", SKU: "Basic"}, "InvalidRegistryName"},
		{"dash in name", registry.CreateInput{Group: e.group, Name: "my-registry", Location: "eastus", SKU: "Basic"}, "InvalidRegistryName"},
		{"bad sku", registry.CreateInput{Group: e.group, Name: "another", Location: "eastus", SKU: "Gold"}, "InvalidSku"},
		{"classic sku", registry.CreateInput{Group: e.group, Name: "another", Location: "eastus", SKU: "Classic"}, "InvalidSku"},
		{"no location", registry.CreateInput{Group: e.group, Name: "another", SKU: "Basic"}, "LocationRequired"},
		{"bad location", registry.CreateInput{Group: e.group, Name: "another", Location: "east-us", SKU: "Basic"}, "LocationNotAvailableForResourceType"},
		{"bad tags", registry.CreateInput{Group: e.group, Name: "another", Location: "eastus", SKU: "Basic", Tags: map[string]string{"a/b": "x"}}, "InvalidTag"},
		{"missing group", registry.CreateInput{Group: resourceid.ForResourceGroup(subID, "nope"), Name: "another", Location: "eastus", SKU: "Basic"}, "ResourceGroupNotFound"},
		{"name taken in another group", registry.CreateInput{Group: resourceid.ForResourceGroup(subID, "rg2"), Name: "myregistry", Location: "eastus", SKU: "Basic"}, "RegistryNameNotAvailable"},
		{"other location", registry.CreateInput{Group: e.group, Name: regName, Location: "westus", SKU: "Basic"}, "InvalidResourceLocation"},
	} {
		_, _, err := e.svc.Create(ctx, tc.in)
		mustReason(t, err, tc.reason, tc.name)
	}
	if _, err := e.svc.ByName(ctx, "another"); err == nil {
		t.Error("a failed create left a registry behind")
	}

	// PUT again in the same group (name in another case): an update of
	// the updatable properties, keeping the passwords and the spelling.
	up, created, err := e.svc.Create(ctx, registry.CreateInput{Group: resourceid.ForResourceGroup(strings.ToUpper(subID), "RG"),
		Name: "MYREGISTRY", Location: "eastus", SKU: "PREMIUM", AdminUserEnabled: true, Tags: map[string]string{"k": "v"}, CreatedBy: "other"})
	must(t, err)
	if created || up.Name != regName || up.SKU != registry.SKUPremium || !up.AdminUserEnabled || up.Tags["k"] != "v" || up.CreatedBy != "creator" || up.ChangedBy != "other" {
		t.Errorf("PUT of an existing registry: created=%v %+v", created, up)
	}
	if !bytes.Equal(up.AdminPasswords[0].Sealed, r.AdminPasswords[0].Sealed) {
		t.Error("PUT of an existing registry changed its passwords")
	}
	idx, err = e.store.Resources().ListResources(ctx, subID, "rg")
	must(t, err)
	if len(idx) != 1 || idx[0].SKU != "Premium" || idx[0].Tags["k"] != "v" {
		t.Errorf("generic index after update: %+v", idx)
	}
}

func resourceCheck(e *env, id resourceid.ID) error {
	rs, err := e.store.Resources().ListResources(e.t.Context(), id.SubscriptionID, id.ResourceGroup)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.ID.Equal(id) {
			return nil
		}
	}
	return os.ErrNotExist
}

func TestGetListLookup(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	other, _, err := e.svc.Create(ctx, registry.CreateInput{Group: resourceid.ForResourceGroup(subID, "rg2"), Name: "second01", Location: "eastus", SKU: "Standard"})
	must(t, err)

	got, err := e.svc.Get(ctx, e.group, "myregistry")
	must(t, err)
	if got.Name != regName {
		t.Errorf("Get: %+v", got)
	}
	_, err = e.svc.Get(ctx, resourceid.ForResourceGroup(subID, "rg2"), regName)
	mustReason(t, err, "ResourceNotFound", "Get from another group")
	_, err = e.svc.Get(ctx, e.group, "nothere1")
	mustReason(t, err, "ResourceNotFound", "Get missing")

	for _, host := range []string{"myregistry.azurecr.test", "MyRegistry.AzureCR.test:8443", "myregistry.azurecr.test:443"} {
		r, err := e.svc.ByLoginServer(ctx, host)
		if err != nil || r.Name != regName {
			t.Errorf("ByLoginServer(%q) = %v, %v", host, r.Name, err)
		}
	}
	for _, host := range []string{"myregistry.example.com", "nothere1.azurecr.test", "x.myregistry.azurecr.test", "azurecr.test"} {
		_, err := e.svc.ByLoginServer(ctx, host)
		mustReason(t, err, "ResourceNotFound", "ByLoginServer "+host)
	}

	all, err := e.svc.List(ctx, strings.ToUpper(subID), "")
	must(t, err)
	if len(all) != 2 || all[0].Name != regName || all[1].Name != other.Name {
		t.Errorf("List subscription: %+v", all)
	}
	inGroup, err := e.svc.List(ctx, subID, "RG2")
	must(t, err)
	if len(inGroup) != 1 || inGroup[0].Name != "second01" {
		t.Errorf("List group: %+v", inGroup)
	}
}

func TestUpdate(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	up, err := e.svc.Update(ctx, e.group, regName, registry.UpdateInput{SKU: ptr("standard"), AdminUserEnabled: ptr(true), ChangedBy: "u"})
	must(t, err)
	if up.SKU != registry.SKUStandard || !up.AdminUserEnabled || up.Tags != nil || up.ChangedBy != "u" {
		t.Errorf("Update: %+v", up)
	}
	up, err = e.svc.Update(ctx, e.group, regName, registry.UpdateInput{Tags: map[string]string{"a": "b"}, SetTags: true, AnonymousPullEnabled: ptr(true)})
	must(t, err)
	if up.SKU != registry.SKUStandard || !up.AdminUserEnabled || up.Tags["a"] != "b" || !up.AnonymousPullEnabled {
		t.Errorf("Update tags: %+v", up)
	}
	_, err = e.svc.Update(ctx, e.group, regName, registry.UpdateInput{SKU: ptr("Free")})
	mustReason(t, err, "InvalidSku", "Update bad sku")
	_, err = e.svc.Update(ctx, resourceid.ForResourceGroup(subID, "rg2"), regName, registry.UpdateInput{SKU: ptr("Basic")})
	mustReason(t, err, "ResourceNotFound", "Update from another group")
	got, err := e.svc.ByName(ctx, regName)
	must(t, err)
	if got.SKU != registry.SKUStandard {
		t.Errorf("a failed update changed the SKU: %+v", got)
	}
}

// TestInstanceID: every registry gets a random instance id, and one
// re-created under a deleted one's name gets another.
func TestInstanceID(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	first := e.reg.InstanceID
	if len(first) != 32 || strings.Trim(first, "0123456789abcdef") != "" {
		t.Fatalf("instance id %q, want 32 hex digits", first)
	}
	got, err := e.svc.ByName(ctx, regName)
	must(t, err)
	if got.InstanceID != first {
		t.Fatalf("stored instance id %q, created %q", got.InstanceID, first)
	}
	up, _, err := e.svc.Create(ctx, registry.CreateInput{Group: e.group, Name: regName, Location: "eastus", SKU: "Standard"})
	must(t, err)
	if up.InstanceID != first {
		t.Fatal("a PUT over the registry changed its instance id")
	}
	must(t, e.svc.Delete(ctx, e.group, regName))
	again, _, err := e.svc.Create(ctx, registry.CreateInput{Group: e.group, Name: regName, Location: "eastus", SKU: "Basic"})
	must(t, err)
	if again.InstanceID == first || len(again.InstanceID) != 32 {
		t.Fatalf("re-created registry's instance id %q (the old one was %q)", again.InstanceID, first)
	}
}

// TestAdoptLoginServers: a service configured with another registry domain
// or port moves every stored login server to it, once, logging each move.
func TestAdoptLoginServers(t *testing.T) {
	var cfg registry.Config
	e := newEnv(t, func(c *registry.Config) { cfg = *c })
	ctx := t.Context()
	if e.reg.LoginServer != "myregistry.azurecr.test:8443" {
		t.Fatalf("login server %q", e.reg.LoginServer)
	}
	var log bytes.Buffer
	cfg.Domain, cfg.Port, cfg.Logger = "cr.example", "443", slog.New(slog.NewTextHandler(&log, nil))
	moved := registry.NewService(cfg)
	must(t, moved.AdoptLoginServers(ctx))
	for _, get := range []func() (registry.Registry, error){
		func() (registry.Registry, error) { return moved.ByName(ctx, regName) },
		func() (registry.Registry, error) { return moved.ByLoginServer(ctx, "MyRegistry.cr.example:443") },
		func() (registry.Registry, error) { return moved.Get(ctx, e.group, regName) },
	} {
		r, err := get()
		must(t, err)
		if r.LoginServer != "myregistry.cr.example" {
			t.Errorf("login server after the move %q", r.LoginServer)
		}
	}
	if _, err := moved.ByLoginServer(ctx, "myregistry.azurecr.test:8443"); err == nil {
		t.Error("the old login server still names the registry")
	}
	want := `msg="registry login server changed" registry=MyRegistry old=myregistry.azurecr.test:8443 new=myregistry.cr.example`
	if !strings.Contains(log.String(), want) || strings.Count(log.String(), "\n") != 1 {
		t.Errorf("log %q, want one line with %q", log.String(), want)
	}
	log.Reset()
	must(t, moved.AdoptLoginServers(ctx))
	if log.Len() != 0 {
		t.Errorf("nothing moved, yet logged %q", log.String())
	}
}

// TestAnonymousPullNeedsStandard: anonymous pull is refused on Basic when
// created, enabled, or kept while moving to Basic, with Azure's 400.
func TestAnonymousPullNeedsStandard(t *testing.T) {
	e := newEnv(t) // MyRegistry is Basic
	ctx := t.Context()
	const want = "Anonymous pull is not supported for SKU Managed_Basic. For more information on SKU tiers, please visit https://aka.ms/acr/tiers."
	check := func(err error, what string) {
		t.Helper()
		mustReason(t, err, "BadRequest", what)
		if err != nil && errdefs.As(err).Message != want {
			t.Errorf("%s: message %q", what, errdefs.As(err).Message)
		}
	}
	_, _, err := e.svc.Create(ctx, registry.CreateInput{Group: e.group, Name: "basicanon", Location: "eastus", SKU: "basic", AnonymousPullEnabled: true})
	check(err, "create Basic with anonymous pull")
	_, _, err = e.svc.Create(ctx, registry.CreateInput{Group: e.group, Name: regName, Location: "eastus", SKU: "Basic", AnonymousPullEnabled: true})
	check(err, "PUT over a Basic registry with anonymous pull")
	_, err = e.svc.Update(ctx, e.group, regName, registry.UpdateInput{AnonymousPullEnabled: ptr(true)})
	check(err, "enable on Basic")

	_, err = e.svc.Update(ctx, e.group, regName, registry.UpdateInput{SKU: ptr("Standard"), AnonymousPullEnabled: ptr(true)})
	must(t, err)
	_, err = e.svc.Update(ctx, e.group, regName, registry.UpdateInput{SKU: ptr("Basic")})
	check(err, "move to Basic with anonymous pull")
	got, err := e.svc.ByName(ctx, regName)
	must(t, err)
	if got.SKU != registry.SKUStandard || !got.AnonymousPullEnabled {
		t.Errorf("a refused update changed the registry: %+v", got)
	}
	_, err = e.svc.Update(ctx, e.group, regName, registry.UpdateInput{SKU: ptr("Basic"), AnonymousPullEnabled: ptr(false)})
	must(t, err)
	_, _, err = e.svc.Create(ctx, registry.CreateInput{Group: e.group, Name: "premiumanon", Location: "eastus", SKU: "Premium", AnonymousPullEnabled: true})
	must(t, err)
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	m := e.pushImage("app", "v1", content(1))
	mustReason(t, e.svc.Delete(ctx, resourceid.ForResourceGroup(subID, "rg2"), regName), "ResourceNotFound", "Delete from another group")
	must(t, e.svc.Delete(ctx, e.group, regName))
	mustReason(t, e.svc.Delete(ctx, e.group, regName), "ResourceNotFound", "Delete again")
	_, err := e.svc.ByName(ctx, regName)
	mustReason(t, err, "ResourceNotFound", "ByName after delete")
	idx, err := e.store.Resources().ListResources(ctx, subID, "")
	must(t, err)
	if len(idx) != 0 {
		t.Errorf("generic index after delete: %+v", idx)
	}

	// Re-created, the registry is empty: nothing of the old one shows.
	_, created, err := e.svc.Create(ctx, registry.CreateInput{Group: e.group, Name: regName, Location: "eastus", SKU: "Basic"})
	must(t, err)
	if !created {
		t.Error("Create after delete: created = false")
	}
	cat, err := e.svc.Catalog(ctx, regName, registry.Page{})
	must(t, err)
	if len(cat) != 0 {
		t.Errorf("catalog of the re-created registry: %v", cat)
	}
	_, _, err = e.readManifest("app", m.Digest.String())
	mustReason(t, err, "NAME_UNKNOWN", "old manifest in the re-created registry")
	_, err = e.svc.StatBlob(ctx, regName, "app", digestOf(content(1)))
	mustReason(t, err, "BLOB_UNKNOWN", "old blob in the re-created registry")
}

func TestCheckName(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name      string
		available bool
		reason    string
	}{
		{"freename", true, ""},
		{"MYREGISTRY", false, "AlreadyExists"},
		{"myregistry", false, "AlreadyExists"},
		{"abc", false, "Invalid"},
		{"my_registry", false, "Invalid"},
		{strings.Repeat("a", 51), false, "Invalid"},
	} {
		got, err := e.svc.CheckName(ctx, tc.name)
		must(t, err)
		if got.Available != tc.available || got.Reason != tc.reason || (!tc.available && got.Message == "") {
			t.Errorf("CheckName(%q) = %+v", tc.name, got)
		}
	}
	got, _ := e.svc.CheckName(ctx, "myregistry")
	if got.Message != "The registry myregistry is already in use." {
		t.Errorf("AlreadyExists message %q", got.Message)
	}
}

func TestAdminCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, err := e.svc.Credentials(ctx, e.group, regName)
	mustReason(t, err, "UnAuthorizedForCredentialOperations", "Credentials with admin disabled")
	_, err = e.svc.RegenerateCredential(ctx, e.group, regName, "password")
	mustReason(t, err, "UnAuthorizedForCredentialOperations", "Regenerate with admin disabled")
	if e.svc.CheckAdmin(ctx, e.reg, regName, "anything") {
		t.Error("CheckAdmin accepted a login with the admin user disabled")
	}

	r, err := e.svc.Update(ctx, e.group, regName, registry.UpdateInput{AdminUserEnabled: ptr(true)})
	must(t, err)
	creds, err := e.svc.Credentials(ctx, e.group, regName)
	must(t, err)
	if creds.Username != regName || len(creds.Passwords) != 2 || creds.Passwords[0].Name != "password" || creds.Passwords[1].Name != "password2" {
		t.Fatalf("Credentials: %+v", creds)
	}
	p1, p2 := creds.Passwords[0].Value, creds.Passwords[1].Value
	if len(p1) != 52 || p1 == p2 || !strings.Contains(p1, "+ACR") {
		t.Errorf("passwords %q %q are not ACR-shaped and distinct", p1, p2)
	}

	// Sealed at rest: the database files never hold the plaintext.
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(e.dbPath + suffix)
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte(p1)) || bytes.Contains(b, []byte(p2)) {
			t.Errorf("cerulean.db%s contains an admin password in the clear", suffix)
		}
	}

	for _, tc := range []struct {
		user, pass string
		ok         bool
	}{
		{regName, p1, true},
		{"myregistry", p2, true},
		{regName, p1 + "x", false},
		{regName, p1[:51], false},
		{regName, "", false},
		{"other", p1, false},
	} {
		if got := e.svc.CheckAdmin(ctx, r, tc.user, tc.pass); got != tc.ok {
			t.Errorf("CheckAdmin(%q, %q) = %v, want %v", tc.user, tc.pass, got, tc.ok)
		}
	}

	regen, err := e.svc.RegenerateCredential(ctx, e.group, regName, "Password2")
	must(t, err)
	if regen.Passwords[0].Value != p1 || regen.Passwords[1].Value == p2 || len(regen.Passwords) != 2 {
		t.Errorf("RegenerateCredential password2: %+v", regen)
	}
	r, err = e.svc.ByName(ctx, regName)
	must(t, err)
	if e.svc.CheckAdmin(ctx, r, regName, p2) || !e.svc.CheckAdmin(ctx, r, regName, regen.Passwords[1].Value) {
		t.Error("CheckAdmin after regenerate: the old password2 works or the new one does not")
	}
	_, err = e.svc.RegenerateCredential(ctx, e.group, regName, "password1")
	mustReason(t, err, "InvalidPasswordName", "Regenerate password1")

	// Disabling the admin user takes effect at once.
	r, err = e.svc.Update(ctx, e.group, regName, registry.UpdateInput{AdminUserEnabled: ptr(false)})
	must(t, err)
	if e.svc.CheckAdmin(ctx, r, regName, p1) {
		t.Error("CheckAdmin accepted the admin user after it was disabled")
	}
}
