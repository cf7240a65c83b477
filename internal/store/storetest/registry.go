package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store"
)

// ---- registry fixtures

func newRegistry(sub, group, name string) registry.Registry {
	return registry.Registry{
		ID:       resourceid.ForResource(sub, group, "Microsoft.ContainerRegistry", "registries", name),
		Name:     name,
		Location: "westeurope", Tags: map[string]string{"env": "test"}, SKU: registry.SKUBasic,
		AdminUserEnabled: true, LoginServer: strings.ToLower(name) + ".azurecr.test", ProvisioningState: "Succeeded",
		InstanceID: "instance-of-" + name,
		AdminPasswords: []registry.AdminPassword{
			{Name: "password", Sealed: []byte{0x01, 0x00, 0xff, 'a'}, CreatedAt: at(1).In(otherZone)},
			{Name: "password2", Sealed: []byte{0x01, 0x02}, CreatedAt: at(1)},
		},
		CreatedAt: at(1).In(otherZone), CreatedBy: "creator", ChangedAt: at(2), ChangedBy: "changer",
	}
}

// mkRegistry creates a subscription, a group in it and a registry in that.
func mkRegistry(t *testing.T, s store.Store, name string) registry.Registry {
	t.Helper()
	sub := mkSubscription(t, s)
	mkGroup(t, s, newGroup(sub.ID, "rg"))
	r := newRegistry(sub.ID, "rg", name)
	must(t, s.Registry().CreateRegistry(t.Context(), r), "CreateRegistry "+name)
	return r
}

func normRegistry(r registry.Registry) registry.Registry {
	r.ID = resourceid.MustParse(r.ID.String())
	r.CreatedAt, r.ChangedAt = r.CreatedAt.UTC(), r.ChangedAt.UTC()
	ps := make([]registry.AdminPassword, 0, len(r.AdminPasswords))
	for _, p := range r.AdminPasswords {
		p.Sealed = bytesOf(p.Sealed)
		p.CreatedAt = p.CreatedAt.UTC()
		ps = append(ps, p)
	}
	r.AdminPasswords = ps
	return r
}

func equalRegistry(t *testing.T, what string, got, want registry.Registry) {
	t.Helper()
	assertUTC(t, what, got.CreatedAt, got.ChangedAt)
	equal(t, what, normRegistry(got), normRegistry(want))
}

// dg returns a distinct sha256 digest per name.
func dg(name string) digest.Digest { return digest.FromString(name) }

func link(t *testing.T, s store.Store, reg, repo string, names ...string) {
	t.Helper()
	for _, n := range names {
		must(t, s.Registry().LinkBlob(t.Context(), reg, repo, dg(n), int64(len(n))), "LinkBlob "+n)
	}
}

// newManifest is an image manifest of a repository referencing blobs.
func newManifest(reg, repo, name string, blobs ...string) registry.Manifest {
	m := registry.Manifest{
		Registry: strings.ToLower(reg), Repository: repo, Digest: dg("manifest " + name),
		MediaType: registry.MediaTypeOCIManifest, ArtifactType: "application/vnd.oci.image.config.v1+json",
		ConfigMediaType: "application/vnd.oci.image.config.v1+json", Size: 1234,
		Annotations: map[string]string{"org.opencontainers.image.title": name},
		Blobs:       []digest.Digest{}, Manifests: []digest.Digest{},
		Architecture: "amd64", OS: "linux", Attributes: registry.DefaultAttributes,
		CreatedAt: at(10).In(otherZone), UpdatedAt: at(11),
	}
	for _, b := range blobs {
		m.Blobs = append(m.Blobs, dg(b))
	}
	return m
}

func putManifest(t *testing.T, s store.Store, m registry.Manifest, tag string) registry.Manifest {
	t.Helper()
	got, err := s.Registry().PutManifest(t.Context(), m, tag)
	must(t, err, "PutManifest "+string(m.Digest))
	return got
}

func normManifest(m registry.Manifest) registry.Manifest {
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	if m.Blobs == nil {
		m.Blobs = []digest.Digest{}
	}
	if m.Manifests == nil {
		m.Manifests = []digest.Digest{}
	}
	return m
}

func equalManifest(t *testing.T, what string, got, want registry.Manifest) {
	t.Helper()
	assertUTC(t, what, got.CreatedAt, got.UpdatedAt)
	equal(t, what, normManifest(got), normManifest(want))
}

func tagNames(ts []registry.Tag) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func manifestDigests(ms []registry.Manifest) []digest.Digest {
	out := []digest.Digest{}
	for _, m := range ms {
		out = append(out, m.Digest)
	}
	return out
}

func sortedDigests(ds ...digest.Digest) []digest.Digest {
	out := slices.Clone(ds)
	slices.Sort(out)
	return out
}

// ---- registries

func testRegistryCreateGet(t *testing.T, s store.Store) {
	ctx, rs, res := t.Context(), s.Registry(), s.Resources()
	sub := mkSubscription(t, s)
	mkGroup(t, s, newGroup(sub.ID, "rg-a"))
	mkGroup(t, s, newGroup(sub.ID, "rg-b"))
	other := mkSubscription(t, s)
	mkGroup(t, s, newGroup(other.ID, "rg-a"))

	r1 := newRegistry(sub.ID, "rg-a", "MyRegistry")
	r2 := newRegistry(sub.ID, "rg-b", "another1")
	r2.Tags, r2.AdminPasswords = nil, nil
	r3 := newRegistry(sub.ID, "rg-a", "abcde")
	r3.Tags = map[string]string{}
	for _, r := range []registry.Registry{r1, r2, r3} {
		must(t, rs.CreateRegistry(ctx, r), "CreateRegistry "+r.Name)
	}

	for _, name := range []string{"MyRegistry", "myregistry", "MYREGISTRY"} {
		got, err := rs.GetRegistry(ctx, name)
		must(t, err, "GetRegistry "+name)
		equalRegistry(t, "GetRegistry "+name, got, r1)
	}
	got, err := rs.GetRegistry(ctx, "another1")
	must(t, err, "GetRegistry another1")
	if got.Tags != nil || len(got.AdminPasswords) != 0 {
		t.Errorf("registry without tags and passwords: tags %#v, passwords %#v", got.Tags, got.AdminPasswords)
	}
	got, err = rs.GetRegistry(ctx, "abcde")
	must(t, err, "GetRegistry abcde")
	if got.Tags == nil || len(got.Tags) != 0 {
		t.Errorf("registry with empty tags: tags %#v, want empty map", got.Tags)
	}

	// Names are global and case-insensitive.
	for _, dup := range []registry.Registry{
		newRegistry(sub.ID, "rg-a", "myREGISTRY"),
		newRegistry(sub.ID, "rg-b", "MyRegistry"),
		newRegistry(other.ID, "rg-a", "MyRegistry"),
	} {
		mustKind(t, rs.CreateRegistry(ctx, dup), errdefs.AlreadyExists, "CreateRegistry duplicate in "+dup.ID.String())
	}
	mustKind(t, rs.CreateRegistry(ctx, newRegistry(sub.ID, "missing", "orphan01")), errdefs.NotFound, "CreateRegistry in a missing group")
	_, err = rs.GetRegistry(ctx, "orphan01")
	mustKind(t, err, errdefs.NotFound, "GetRegistry after failed create")
	_, err = rs.GetRegistry(ctx, "nothere1")
	mustKind(t, err, errdefs.NotFound, "GetRegistry missing")

	all, err := rs.ListRegistries(ctx, sub.ID, "")
	must(t, err, "ListRegistries")
	var names []string
	for _, r := range all {
		names = append(names, r.Name)
	}
	equal(t, "ListRegistries subscription", names, []string{"abcde", "another1", "MyRegistry"})
	inGroup, err := rs.ListRegistries(ctx, sub.ID, "RG-A")
	must(t, err, "ListRegistries group")
	if len(inGroup) != 2 || inGroup[0].Name != "abcde" || inGroup[1].Name != "MyRegistry" {
		t.Errorf("ListRegistries group: %+v", inGroup)
	}
	none, err := rs.ListRegistries(ctx, other.ID, "")
	must(t, err, "ListRegistries other subscription")
	equal(t, "ListRegistries other subscription", len(none), 0)

	// The generic resource index lists them, with their SKU.
	idx, err := res.ListResources(ctx, sub.ID, "rg-a")
	must(t, err, "ListResources")
	equal(t, "index entries", resourceIDs(idx), []string{r3.ID.String(), r1.ID.String()})
	for _, g := range idx {
		if g.SKU != registry.SKUBasic || g.Location != "westeurope" || g.ID.ResourceType() != registry.ResourceType {
			t.Errorf("index entry %+v", g)
		}
	}
}

func testRegistryUpdate(t *testing.T, s store.Store) {
	ctx, rs, res := t.Context(), s.Registry(), s.Resources()
	r := mkRegistry(t, s, "updatable")

	want := r
	want.SKU = registry.SKUPremium
	want.Tags = map[string]string{"new": "tag"}
	want.AdminUserEnabled = false
	want.AnonymousPullEnabled = true
	want.AdminPasswords = []registry.AdminPassword{r.AdminPasswords[0], {Name: "password2", Sealed: []byte("new"), CreatedAt: at(5)}}
	want.ChangedAt, want.ChangedBy = at(5), "someone"
	got, err := rs.UpdateRegistry(ctx, "UPDATABLE", func(cur *registry.Registry) error {
		equalRegistry(t, "UpdateRegistry current", *cur, r)
		cur.SKU, cur.Tags, cur.AdminUserEnabled, cur.AnonymousPullEnabled = want.SKU, want.Tags, false, true
		cur.AdminPasswords[1] = want.AdminPasswords[1]
		cur.ChangedAt, cur.ChangedBy = want.ChangedAt, want.ChangedBy
		return nil
	})
	must(t, err, "UpdateRegistry")
	equalRegistry(t, "UpdateRegistry", got, want)
	got, err = rs.GetRegistry(ctx, "updatable")
	must(t, err, "GetRegistry")
	equalRegistry(t, "GetRegistry after update", got, want)
	idx, err := res.ListResources(ctx, r.ID.SubscriptionID, "rg")
	must(t, err, "ListResources")
	if len(idx) != 1 || idx[0].SKU != registry.SKUPremium || !equalMaps(idx[0].Tags, want.Tags) {
		t.Errorf("index entry after update: %+v", idx)
	}

	// A failing update function changes nothing and its error comes back.
	_, err = rs.UpdateRegistry(ctx, "updatable", func(cur *registry.Registry) error {
		cur.SKU = registry.SKUStandard
		return errStop
	})
	mustStop(t, err, "UpdateRegistry failing")
	got, err = rs.GetRegistry(ctx, "updatable")
	must(t, err, "GetRegistry")
	equalRegistry(t, "GetRegistry after failed update", got, want)

	// Identity cannot change.
	for what, fn := range map[string]func(*registry.Registry){
		"name":         func(r *registry.Registry) { r.Name = "renamed1" },
		"login server": func(r *registry.Registry) { r.LoginServer = "x.example" },
		"instance id":  func(r *registry.Registry) { r.InstanceID = "another-instance" },
		"id":           func(r *registry.Registry) { r.ID.ResourceGroup = "elsewhere" },
	} {
		_, err := rs.UpdateRegistry(ctx, "updatable", func(r *registry.Registry) error { fn(r); return nil })
		if err == nil {
			t.Errorf("UpdateRegistry changing the %s succeeded", what)
		}
	}
	_, err = rs.UpdateRegistry(ctx, "missing1", func(*registry.Registry) error {
		t.Error("UpdateRegistry called the update function for a missing registry")
		return nil
	})
	mustKind(t, err, errdefs.NotFound, "UpdateRegistry missing")
}

// testRegistryMoveLoginServers: every registry of every subscription gets
// the login server the function gives, in one transaction; only those that
// changed are reported; nothing else changes.
func testRegistryMoveLoginServers(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	a := mkRegistry(t, s, "MoveA")
	b := mkRegistry(t, s, "moveb")
	c := mkRegistry(t, s, "stays1")
	moved, err := rs.MoveLoginServers(ctx, func(name string) string {
		if name == "stays1" {
			return "stays1.azurecr.test"
		}
		return strings.ToLower(name) + ".elsewhere.test:8443"
	})
	must(t, err, "MoveLoginServers")
	equal(t, "moved", moved, []registry.LoginServerMove{
		{Name: "MoveA", From: "movea.azurecr.test", To: "movea.elsewhere.test:8443"},
		{Name: "moveb", From: "moveb.azurecr.test", To: "moveb.elsewhere.test:8443"},
	})
	for _, want := range []registry.Registry{a, b, c} {
		if want.Name != "stays1" {
			want.LoginServer = strings.ToLower(want.Name) + ".elsewhere.test:8443"
		}
		got, err := rs.GetRegistry(ctx, want.Name)
		must(t, err, "GetRegistry "+want.Name)
		equalRegistry(t, "GetRegistry "+want.Name, got, want)
	}
	moved, err = rs.MoveLoginServers(ctx, func(name string) string { return strings.ToLower(name) + ".elsewhere.test:8443" })
	must(t, err, "MoveLoginServers again")
	equal(t, "moved again", moved, []registry.LoginServerMove{{Name: "stays1", From: "stays1.azurecr.test", To: "stays1.elsewhere.test:8443"}})
	moved, err = rs.MoveLoginServers(ctx, func(name string) string { return strings.ToLower(name) + ".elsewhere.test:8443" })
	must(t, err, "MoveLoginServers unchanged")
	equal(t, "moved when nothing changed", moved, []registry.LoginServerMove{})
}

// fillRegistry gives a registry a bit of everything.
func fillRegistry(t *testing.T, s store.Store, reg string) {
	t.Helper()
	ctx := t.Context()
	link(t, s, reg, "app", "layer", "config")
	putManifest(t, s, newManifest(reg, "app", "m1", "config", "layer"), "v1")
	must(t, s.Registry().CreateUpload(ctx, registry.Upload{ID: "upload-" + strings.ToLower(reg), Registry: reg, Repository: "app",
		StartedAt: at(1), UpdatedAt: at(1)}), "CreateUpload")
}

// assertEmptyRegistry checks that a registry name holds nothing.
func assertEmptyRegistry(t *testing.T, s store.Store, reg string) {
	t.Helper()
	ctx, rs := t.Context(), s.Registry()
	repos, err := rs.Repositories(ctx, reg, registry.Page{})
	must(t, err, "Repositories")
	equal(t, "repositories of "+reg, repos, []string{})
	_, err = rs.BlobLink(ctx, reg, "app", dg("layer"))
	mustKind(t, err, errdefs.NotFound, "BlobLink in "+reg)
	_, err = rs.GetManifest(ctx, reg, "app", newManifest(reg, "app", "m1").Digest)
	mustKind(t, err, errdefs.NotFound, "GetManifest in "+reg)
	_, err = rs.GetTag(ctx, reg, "app", "v1")
	mustKind(t, err, errdefs.NotFound, "GetTag in "+reg)
	_, err = rs.GetUpload(ctx, reg, "app", "upload-"+strings.ToLower(reg))
	mustKind(t, err, errdefs.NotFound, "GetUpload in "+reg)
}

func testRegistryDelete(t *testing.T, s store.Store) {
	ctx, rs, res, rb := t.Context(), s.Registry(), s.Resources(), s.RBAC()
	r := mkRegistry(t, s, "doomed")
	keep := newRegistry(r.ID.SubscriptionID, "rg", "kept1")
	must(t, rs.CreateRegistry(ctx, keep), "CreateRegistry kept1")
	fillRegistry(t, s, "doomed")
	fillRegistry(t, s, "kept1")
	p := guid()
	atReg := mkRA(t, s, newRA(r.ID, p, roleContributor, at(1)))
	atKept := mkRA(t, s, newRA(keep.ID, p, roleContributor, at(2)))

	must(t, rs.DeleteRegistry(ctx, "DOOMED"), "DeleteRegistry")
	_, err := rs.GetRegistry(ctx, "doomed")
	mustKind(t, err, errdefs.NotFound, "GetRegistry after delete")
	mustKind(t, rs.DeleteRegistry(ctx, "doomed"), errdefs.NotFound, "DeleteRegistry again")
	assertEmptyRegistry(t, s, "doomed")
	idx, err := res.ListResources(ctx, r.ID.SubscriptionID, "")
	must(t, err, "ListResources")
	equal(t, "index after delete", resourceIDs(idx), []string{keep.ID.String()})
	_, err = rb.GetRoleAssignment(ctx, atReg.Name)
	mustKind(t, err, errdefs.NotFound, "role assignment at the deleted registry")
	if _, err := rb.GetRoleAssignment(ctx, atKept.Name); err != nil {
		t.Errorf("role assignment at another registry: %v", err)
	}
	// The other registry keeps its content, and the shared blobs are still
	// referenced through it.
	if _, err := rs.GetTag(ctx, "kept1", "app", "v1"); err != nil {
		t.Errorf("tag of the other registry: %v", err)
	}
	used, err := rs.BlobReferenced(ctx, dg("layer"))
	must(t, err, "BlobReferenced")
	equal(t, "layer referenced by the other registry", used, true)

	// The name is free again, and a new registry under it starts empty.
	must(t, rs.CreateRegistry(ctx, newRegistry(r.ID.SubscriptionID, "rg", "doomed")), "CreateRegistry again")
	assertEmptyRegistry(t, s, "doomed")
}

func testRegistryGroupDeleteCascades(t *testing.T, s store.Store) {
	ctx, rs, res := t.Context(), s.Registry(), s.Resources()
	r := mkRegistry(t, s, "ingroup1")
	mkGroup(t, s, newGroup(r.ID.SubscriptionID, "other"))
	other := newRegistry(r.ID.SubscriptionID, "other", "outside1")
	must(t, rs.CreateRegistry(ctx, other), "CreateRegistry outside1")
	fillRegistry(t, s, "ingroup1")
	fillRegistry(t, s, "outside1")

	must(t, res.DeleteGroup(ctx, r.ID.SubscriptionID, "RG"), "DeleteGroup")
	_, err := rs.GetRegistry(ctx, "ingroup1")
	mustKind(t, err, errdefs.NotFound, "registry of the deleted group")
	assertEmptyRegistry(t, s, "ingroup1")
	if _, err := rs.GetRegistry(ctx, "outside1"); err != nil {
		t.Errorf("registry of another group: %v", err)
	}
	if _, err := rs.GetTag(ctx, "outside1", "app", "v1"); err != nil {
		t.Errorf("content of another group's registry: %v", err)
	}
	// The name can be taken again, in another group.
	must(t, rs.CreateRegistry(ctx, newRegistry(r.ID.SubscriptionID, "other", "ingroup1")), "CreateRegistry after group delete")
}
