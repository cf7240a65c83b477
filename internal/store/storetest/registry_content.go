package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/store"
)

// ---- repositories, links, manifests, tags

func testRegistryRepositories(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	mkRegistry(t, s, "repos")
	other := newRegistry(mkSubscription(t, s).ID, "rg", "elsewhere")
	mkGroup(t, s, newGroup(other.ID.SubscriptionID, "rg"))
	must(t, rs.CreateRegistry(ctx, other), "CreateRegistry elsewhere")
	for _, repo := range []string{"b", "a/z", "a", "c", "b/a"} {
		link(t, s, "repos", repo, "blob")
	}
	link(t, s, "elsewhere", "zzz", "blob")

	for _, tc := range []struct {
		p    registry.Page
		want []string
	}{
		{registry.Page{}, []string{"a", "a/z", "b", "b/a", "c"}},
		{registry.Page{N: 2}, []string{"a", "a/z"}},
		{registry.Page{Last: "a/z", N: 2}, []string{"b", "b/a"}},
		{registry.Page{Last: "b/a", N: 2}, []string{"c"}},
		{registry.Page{Last: "c"}, []string{}},
		{registry.Page{Last: "aa"}, []string{"b", "b/a", "c"}},
	} {
		got, err := rs.Repositories(ctx, "REPOS", tc.p)
		must(t, err, "Repositories")
		equal(t, fmt.Sprintf("Repositories %+v", tc.p), got, tc.want)
	}

	repo, err := rs.GetRepository(ctx, "repos", "b")
	must(t, err, "GetRepository")
	if repo.Registry != "repos" || repo.Name != "b" || repo.Attributes != registry.DefaultAttributes {
		t.Errorf("GetRepository: %+v", repo)
	}
	_, err = rs.GetRepository(ctx, "repos", "B")
	mustKind(t, err, errdefs.NotFound, "GetRepository in another case")

	locked := registry.Attributes{DeleteEnabled: false, WriteEnabled: false, ReadEnabled: true, ListEnabled: false}
	got, err := rs.UpdateRepository(ctx, "repos", "b", func(r *registry.Repository) error {
		r.Attributes = locked
		r.UpdatedAt = at(50)
		return nil
	})
	must(t, err, "UpdateRepository")
	if got.Attributes != locked || !got.UpdatedAt.Equal(at(50)) {
		t.Errorf("UpdateRepository: %+v", got)
	}
	_, err = rs.UpdateRepository(ctx, "repos", "b", func(r *registry.Repository) error {
		r.Attributes = registry.DefaultAttributes
		return errStop
	})
	mustStop(t, err, "UpdateRepository failing")
	got, err = rs.GetRepository(ctx, "repos", "b")
	must(t, err, "GetRepository")
	equal(t, "attributes after failed update", got.Attributes, locked)
	_, err = rs.UpdateRepository(ctx, "repos", "nope", func(*registry.Repository) error { return nil })
	mustKind(t, err, errdefs.NotFound, "UpdateRepository missing")

	// Links: sizes, idempotence, unlinking.
	size, err := rs.BlobLink(ctx, "repos", "a", dg("blob"))
	must(t, err, "BlobLink")
	equal(t, "link size", size, int64(4))
	must(t, rs.LinkBlob(ctx, "repos", "a", dg("blob"), 4), "LinkBlob again")
	_, err = rs.BlobLink(ctx, "repos", "a", dg("other"))
	mustKind(t, err, errdefs.NotFound, "BlobLink of an unlinked blob")
	_, err = rs.BlobLink(ctx, "elsewhere", "a", dg("blob"))
	mustKind(t, err, errdefs.NotFound, "BlobLink in another registry")
	must(t, rs.UnlinkBlob(ctx, "repos", "a", dg("blob")), "UnlinkBlob")
	mustKind(t, rs.UnlinkBlob(ctx, "repos", "a", dg("blob")), errdefs.NotFound, "UnlinkBlob again")
	mustKind(t, rs.LinkBlob(ctx, "missing9", "a", dg("blob"), 4), errdefs.NotFound, "LinkBlob in a missing registry")

	if f, ok := rs.(registry.LinkFinder); ok {
		size, err := f.FindBlobLink(ctx, "repos", dg("blob"))
		must(t, err, "FindBlobLink")
		equal(t, "FindBlobLink size", size, int64(4))
		_, err = f.FindBlobLink(ctx, "repos", dg("other"))
		mustKind(t, err, errdefs.NotFound, "FindBlobLink of an unlinked blob")
	}
}

func testManifestRoundTrip(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	mkRegistry(t, s, "Manifests")
	link(t, s, "manifests", "app", "config", "l1", "l2")

	m := newManifest("Manifests", "app", "one", "config", "l1", "l2", "l1")
	m.Subject = dg("subject")
	got := putManifest(t, s, m, "")
	equalManifest(t, "PutManifest", got, m)
	got, err := rs.GetManifest(ctx, "MANIFESTS", "app", m.Digest)
	must(t, err, "GetManifest")
	equalManifest(t, "GetManifest", got, m)

	// Without annotations, and an index of it.
	bare := newManifest("manifests", "app", "bare")
	bare.Annotations = nil
	bare.Architecture, bare.OS, bare.ArtifactType, bare.ConfigMediaType = "", "", "", ""
	got = putManifest(t, s, bare, "")
	if got.Annotations != nil {
		t.Errorf("manifest without annotations: %#v", got.Annotations)
	}
	idx := newManifest("manifests", "app", "index")
	idx.MediaType = registry.MediaTypeOCIIndex
	idx.Manifests = []digest.Digest{m.Digest, bare.Digest}
	got = putManifest(t, s, idx, "latest")
	equalManifest(t, "PutManifest index", got, idx)

	// Storing an existing manifest changes nothing but the tag.
	again := m
	again.CreatedAt, again.UpdatedAt, again.Architecture = at(90), at(91), "arm64"
	got = putManifest(t, s, again, "v1")
	equalManifest(t, "PutManifest existing", got, m)
	tg, err := rs.GetTag(ctx, "manifests", "app", "v1")
	must(t, err, "GetTag")
	if tg.Digest != m.Digest || tg.Registry != "manifests" || tg.Repository != "app" || tg.Attributes != registry.DefaultAttributes {
		t.Errorf("GetTag: %+v", tg)
	}
	assertUTC(t, "tag times", tg.CreatedAt, tg.UpdatedAt)

	// Update: attributes and platform change; identity and content cannot.
	locked := registry.Attributes{ReadEnabled: true, ListEnabled: true}
	got, err = rs.UpdateManifest(ctx, "manifests", "app", bare.Digest, func(x *registry.Manifest) error {
		x.Attributes, x.Architecture, x.OS, x.UpdatedAt = locked, "arm64", "linux", at(60)
		return nil
	})
	must(t, err, "UpdateManifest")
	if got.Attributes != locked || got.Architecture != "arm64" || !got.UpdatedAt.Equal(at(60)) {
		t.Errorf("UpdateManifest: %+v", got)
	}
	_, err = rs.UpdateManifest(ctx, "manifests", "app", bare.Digest, func(x *registry.Manifest) error {
		x.Attributes = registry.DefaultAttributes
		return errStop
	})
	mustStop(t, err, "UpdateManifest failing")
	got, err = rs.GetManifest(ctx, "manifests", "app", bare.Digest)
	must(t, err, "GetManifest")
	equal(t, "attributes after failed update", got.Attributes, locked)
	for what, fn := range map[string]func(*registry.Manifest){
		"digest": func(x *registry.Manifest) { x.Digest = dg("else") },
		"blobs":  func(x *registry.Manifest) { x.Blobs = append(x.Blobs, dg("l1")) },
		"size":   func(x *registry.Manifest) { x.Size++ },
	} {
		if _, err := rs.UpdateManifest(ctx, "manifests", "app", bare.Digest, func(x *registry.Manifest) error { fn(x); return nil }); err == nil {
			t.Errorf("UpdateManifest changing the %s succeeded", what)
		}
	}
	_, err = rs.UpdateManifest(ctx, "manifests", "app", dg("nope"), func(*registry.Manifest) error { return nil })
	mustKind(t, err, errdefs.NotFound, "UpdateManifest missing")

	// Listing by digest, with paging.
	all := sortedDigests(m.Digest, bare.Digest, idx.Digest)
	ms, err := rs.Manifests(ctx, "manifests", "app", registry.Page{})
	must(t, err, "Manifests")
	equal(t, "Manifests", manifestDigests(ms), all)
	ms, err = rs.Manifests(ctx, "manifests", "app", registry.Page{Last: string(all[0]), N: 1})
	must(t, err, "Manifests page")
	equal(t, "Manifests page", manifestDigests(ms), all[1:2])
	ms, err = rs.Manifests(ctx, "manifests", "nope", registry.Page{})
	must(t, err, "Manifests of a missing repository")
	equal(t, "Manifests of a missing repository", len(ms), 0)

	_, err = rs.GetManifest(ctx, "manifests", "other", m.Digest)
	mustKind(t, err, errdefs.NotFound, "GetManifest in another repository")
}

func testManifestPutAtomic(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	mkRegistry(t, s, "atomic")
	link(t, s, "atomic", "linked", "config")
	link(t, s, "atomic", "elsewhere", "layer")

	// A blob linked only to another repository does not count.
	m := newManifest("atomic", "linked", "m", "config", "layer")
	_, err := rs.PutManifest(ctx, m, "v1")
	mustKind(t, err, errdefs.FailedPrecondition, "PutManifest with an unlinked blob")
	if err != nil && !strings.Contains(errdefs.As(err).Message, string(dg("layer"))) {
		t.Errorf("PutManifest error %q does not name the missing blob", errdefs.As(err).Message)
	}
	_, err = rs.GetManifest(ctx, "atomic", "linked", m.Digest)
	mustKind(t, err, errdefs.NotFound, "manifest after failed put")
	_, err = rs.GetTag(ctx, "atomic", "linked", "v1")
	mustKind(t, err, errdefs.NotFound, "tag after failed put")

	// Nor does a repository come into being.
	fresh := newManifest("atomic", "fresh", "m", "config")
	_, err = rs.PutManifest(ctx, fresh, "v1")
	mustKind(t, err, errdefs.FailedPrecondition, "PutManifest in a new repository")
	_, err = rs.GetRepository(ctx, "atomic", "fresh")
	mustKind(t, err, errdefs.NotFound, "repository after failed put")

	// An index needs its children in the repository.
	idx := newManifest("atomic", "linked", "index")
	idx.MediaType = registry.MediaTypeOCIIndex
	idx.Manifests = []digest.Digest{dg("missing child")}
	_, err = rs.PutManifest(ctx, idx, "idx")
	mustKind(t, err, errdefs.FailedPrecondition, "PutManifest with a missing child")
	_, err = rs.GetManifest(ctx, "atomic", "linked", idx.Digest)
	mustKind(t, err, errdefs.NotFound, "index after failed put")

	_, err = rs.PutManifest(ctx, newManifest("missing9", "linked", "m"), "")
	mustKind(t, err, errdefs.NotFound, "PutManifest in a missing registry")
}

func testTags(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	mkRegistry(t, s, "tagged")
	link(t, s, "tagged", "app", "config")
	m1 := putManifest(t, s, newManifest("tagged", "app", "one", "config"), "v1")
	m2 := putManifest(t, s, newManifest("tagged", "app", "two", "config"), "v2")
	for _, tag := range []string{"latest", "V1", "a-tag", "v1.0"} {
		putManifest(t, s, m1, tag)
	}

	all := []string{"V1", "a-tag", "latest", "v1", "v1.0", "v2"}
	for _, tc := range []struct {
		p    registry.Page
		want []string
	}{
		{registry.Page{}, all},
		{registry.Page{N: 3}, all[:3]},
		{registry.Page{Last: "latest", N: 2}, []string{"v1", "v1.0"}},
		{registry.Page{Last: "v2"}, []string{}},
	} {
		got, err := rs.Tags(ctx, "tagged", "app", tc.p)
		must(t, err, "Tags")
		equal(t, fmt.Sprintf("Tags %+v", tc.p), tagNames(got), tc.want)
	}
	of, err := rs.TagsOf(ctx, "tagged", "app", m1.Digest)
	must(t, err, "TagsOf")
	equal(t, "TagsOf", tagNames(of), []string{"V1", "a-tag", "latest", "v1", "v1.0"})

	// Moving a tag.
	before, err := rs.GetTag(ctx, "tagged", "app", "latest")
	must(t, err, "GetTag")
	moved := m2
	moved.UpdatedAt = at(70)
	putManifest(t, s, moved, "latest")
	after, err := rs.GetTag(ctx, "tagged", "app", "latest")
	must(t, err, "GetTag after move")
	if after.Digest != m2.Digest || !after.CreatedAt.Equal(before.CreatedAt) || after.UpdatedAt.Before(before.UpdatedAt) {
		t.Errorf("moved tag: %+v (before %+v)", after, before)
	}

	// Attributes.
	locked := registry.Attributes{ReadEnabled: true}
	got, err := rs.UpdateTag(ctx, "tagged", "app", "v1", func(tg *registry.Tag) error {
		tg.Attributes, tg.UpdatedAt = locked, at(80)
		return nil
	})
	must(t, err, "UpdateTag")
	if got.Attributes != locked || !got.UpdatedAt.Equal(at(80)) {
		t.Errorf("UpdateTag: %+v", got)
	}
	_, err = rs.UpdateTag(ctx, "tagged", "app", "v1", func(tg *registry.Tag) error {
		tg.Attributes = registry.DefaultAttributes
		return errStop
	})
	mustStop(t, err, "UpdateTag failing")
	if _, err := rs.UpdateTag(ctx, "tagged", "app", "v1", func(tg *registry.Tag) error { tg.Digest = m2.Digest; return nil }); err == nil {
		t.Error("UpdateTag moving the tag succeeded")
	}
	_, err = rs.UpdateTag(ctx, "tagged", "app", "nope", func(*registry.Tag) error { return nil })
	mustKind(t, err, errdefs.NotFound, "UpdateTag missing")

	// Deleting a tag leaves the manifest; deleting the manifest its tags.
	must(t, rs.DeleteTag(ctx, "tagged", "app", "v1.0"), "DeleteTag")
	mustKind(t, rs.DeleteTag(ctx, "tagged", "app", "v1.0"), errdefs.NotFound, "DeleteTag again")
	if _, err := rs.GetManifest(ctx, "tagged", "app", m1.Digest); err != nil {
		t.Errorf("manifest after DeleteTag: %v", err)
	}
	must(t, rs.DeleteManifest(ctx, "tagged", "app", m1.Digest), "DeleteManifest")
	mustKind(t, rs.DeleteManifest(ctx, "tagged", "app", m1.Digest), errdefs.NotFound, "DeleteManifest again")
	left, err := rs.Tags(ctx, "tagged", "app", registry.Page{})
	must(t, err, "Tags after DeleteManifest")
	equal(t, "tags after DeleteManifest", tagNames(left), []string{"latest", "v2"})
	of, err = rs.TagsOf(ctx, "tagged", "app", m1.Digest)
	must(t, err, "TagsOf deleted")
	equal(t, "TagsOf deleted manifest", len(of), 0)
}

func testReferrers(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	mkRegistry(t, s, "referrers")
	link(t, s, "referrers", "app", "config")
	link(t, s, "referrers", "other", "config")
	subject := putManifest(t, s, newManifest("referrers", "app", "subject", "config"), "")
	var want []digest.Digest
	for _, name := range []string{"sig", "sbom", "attestation"} {
		m := newManifest("referrers", "app", name, "config")
		m.Subject, m.ArtifactType = subject.Digest, "application/vnd.example."+name
		putManifest(t, s, m, "")
		want = append(want, m.Digest)
	}
	elsewhere := newManifest("referrers", "other", "sig", "config")
	elsewhere.Subject = subject.Digest
	putManifest(t, s, elsewhere, "")

	got, err := rs.Referrers(ctx, "referrers", "app", subject.Digest)
	must(t, err, "Referrers")
	equal(t, "Referrers", manifestDigests(got), sortedDigests(want...))
	if len(got) > 0 && (got[0].Subject != subject.Digest || got[0].ArtifactType == "") {
		t.Errorf("referrer: %+v", got[0])
	}
	none, err := rs.Referrers(ctx, "referrers", "app", dg("nothing"))
	must(t, err, "Referrers of nothing")
	equal(t, "Referrers of nothing", len(none), 0)

	// Referrers outlive their subject.
	must(t, rs.DeleteManifest(ctx, "referrers", "app", subject.Digest), "DeleteManifest subject")
	got, err = rs.Referrers(ctx, "referrers", "app", subject.Digest)
	must(t, err, "Referrers after subject delete")
	equal(t, "Referrers after subject delete", len(got), 3)
}

func testDeleteRepository(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	mkRegistry(t, s, "deleterepo")
	link(t, s, "deleterepo", "app", "config")
	link(t, s, "deleterepo", "kept", "config")
	m1 := putManifest(t, s, newManifest("deleterepo", "app", "one", "config"), "b")
	m2 := putManifest(t, s, newManifest("deleterepo", "app", "two", "config"), "a")
	putManifest(t, s, m1, "c")
	putManifest(t, s, newManifest("deleterepo", "kept", "one", "config"), "a")

	ms, tags, err := rs.DeleteRepository(ctx, "deleterepo", "app")
	must(t, err, "DeleteRepository")
	equal(t, "deleted manifests", ms, sortedDigests(m1.Digest, m2.Digest))
	equal(t, "deleted tags", tags, []string{"a", "b", "c"})
	_, err = rs.GetRepository(ctx, "deleterepo", "app")
	mustKind(t, err, errdefs.NotFound, "GetRepository after delete")
	_, err = rs.BlobLink(ctx, "deleterepo", "app", dg("config"))
	mustKind(t, err, errdefs.NotFound, "BlobLink after delete")
	_, _, err = rs.DeleteRepository(ctx, "deleterepo", "app")
	mustKind(t, err, errdefs.NotFound, "DeleteRepository again")
	repos, err := rs.Repositories(ctx, "deleterepo", registry.Page{})
	must(t, err, "Repositories")
	equal(t, "repositories left", repos, []string{"kept"})

	// A repository with nothing in it reports empty lists.
	link(t, s, "deleterepo", "empty", "config")
	ms, tags, err = rs.DeleteRepository(ctx, "deleterepo", "empty")
	must(t, err, "DeleteRepository empty")
	if ms == nil || tags == nil || len(ms)+len(tags) != 0 {
		t.Errorf("DeleteRepository empty: %#v %#v", ms, tags)
	}
}

func testBlobReferenced(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	mkRegistry(t, s, "refs1")
	referenced := func(name string, want bool) {
		t.Helper()
		got, err := rs.BlobReferenced(ctx, dg(name))
		must(t, err, "BlobReferenced "+name)
		if got != want {
			t.Errorf("BlobReferenced(%s) = %v, want %v", name, got, want)
		}
	}
	referenced("layer", false)
	link(t, s, "refs1", "app", "layer", "config")
	referenced("layer", true)

	m := newManifest("refs1", "app", "m", "config", "layer")
	putManifest(t, s, m, "v1")
	// Unlinked, the layer is still referenced by the manifest.
	must(t, rs.UnlinkBlob(ctx, "refs1", "app", dg("layer")), "UnlinkBlob")
	referenced("layer", true)
	// The manifest's own bytes are referenced as a manifest.
	if used, err := rs.BlobReferenced(ctx, m.Digest); err != nil || !used {
		t.Errorf("BlobReferenced(manifest) = %v, %v", used, err)
	}

	must(t, rs.DeleteManifest(ctx, "refs1", "app", m.Digest), "DeleteManifest")
	referenced("layer", false)
	if used, err := rs.BlobReferenced(ctx, m.Digest); err != nil || used {
		t.Errorf("BlobReferenced(deleted manifest) = %v, %v", used, err)
	}
	referenced("config", true)
	must(t, rs.UnlinkBlob(ctx, "refs1", "app", dg("config")), "UnlinkBlob config")
	referenced("config", false)
}

func testUploads(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	mkRegistry(t, s, "uploads")
	u1 := registry.Upload{ID: "u1", Registry: "uploads", Repository: "app", StartedAt: at(1).In(otherZone), UpdatedAt: at(1)}
	u2 := registry.Upload{ID: "u2", Registry: "uploads", Repository: "new/repo", StartedAt: at(2), UpdatedAt: at(5)}
	for _, u := range []registry.Upload{u1, u2} {
		must(t, rs.CreateUpload(ctx, u), "CreateUpload "+u.ID)
	}
	mustKind(t, rs.CreateUpload(ctx, u1), errdefs.AlreadyExists, "CreateUpload duplicate")
	mustKind(t, rs.CreateUpload(ctx, registry.Upload{ID: "u3", Registry: "missing9", Repository: "app", StartedAt: at(1), UpdatedAt: at(1)}),
		errdefs.NotFound, "CreateUpload in a missing registry")

	got, err := rs.GetUpload(ctx, "UPLOADS", "app", "u1")
	must(t, err, "GetUpload")
	assertUTC(t, "upload times", got.StartedAt, got.UpdatedAt)
	if got.ID != "u1" || got.Registry != "uploads" || got.Repository != "app" || !got.StartedAt.Equal(u1.StartedAt) {
		t.Errorf("GetUpload: %+v", got)
	}
	// A session is found only through its own registry and repository.
	_, err = rs.GetUpload(ctx, "uploads", "other", "u1")
	mustKind(t, err, errdefs.NotFound, "GetUpload in another repository")
	// A session does not create its repository.
	_, err = rs.GetRepository(ctx, "uploads", "new/repo")
	mustKind(t, err, errdefs.NotFound, "repository of an upload")

	stale, err := rs.StaleUploads(ctx, at(3))
	must(t, err, "StaleUploads")
	equal(t, "stale before at(3)", uploadIDs(stale), []string{"u1"})
	must(t, rs.TouchUpload(ctx, "u1", at(10)), "TouchUpload")
	mustKind(t, rs.TouchUpload(ctx, "nope", at(10)), errdefs.NotFound, "TouchUpload missing")
	stale, err = rs.StaleUploads(ctx, at(6))
	must(t, err, "StaleUploads")
	equal(t, "stale before at(6)", uploadIDs(stale), []string{"u2"})
	stale, err = rs.StaleUploads(ctx, at(20))
	must(t, err, "StaleUploads")
	equal(t, "stale before at(20)", uploadIDs(stale), []string{"u2", "u1"})

	must(t, rs.DeleteUpload(ctx, "u1"), "DeleteUpload")
	mustKind(t, rs.DeleteUpload(ctx, "u1"), errdefs.NotFound, "DeleteUpload again")
	_, err = rs.GetUpload(ctx, "uploads", "app", "u1")
	mustKind(t, err, errdefs.NotFound, "GetUpload after delete")
}

func uploadIDs(us []registry.Upload) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// testRegistryTimesUTC checks that content times come back in UTC, to the
// nanosecond.
func testRegistryTimesUTC(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	mkRegistry(t, s, "times")
	link(t, s, "times", "app", "config")
	when := at(3).Add(123456789 * time.Nanosecond).In(otherZone)
	m := newManifest("times", "app", "m", "config")
	m.CreatedAt, m.UpdatedAt = when, when.Add(time.Nanosecond)
	putManifest(t, s, m, "v1")
	got, err := rs.GetManifest(ctx, "times", "app", m.Digest)
	must(t, err, "GetManifest")
	if !got.CreatedAt.Equal(when) || got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Sub(got.CreatedAt) != time.Nanosecond {
		t.Errorf("manifest times %v %v, want %v", got.CreatedAt, got.UpdatedAt, when.UTC())
	}
	tg, err := rs.GetTag(ctx, "times", "app", "v1")
	must(t, err, "GetTag")
	assertUTC(t, "tag times", tg.CreatedAt, tg.UpdatedAt)
}

// testResolveManifest checks the optional one-query read of a manifest GET
// against the separate reads it replaces.
func testResolveManifest(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	mr, ok := rs.(registry.ManifestResolver)
	if !ok {
		t.Skip("the store has no ManifestResolver")
	}
	mkRegistry(t, s, "Resolve")
	link(t, s, "resolve", "app", "config", "l1")
	m := putManifest(t, s, newManifest("resolve", "app", "one", "config", "l1"), "v1")
	locked := registry.Attributes{ReadEnabled: false, ListEnabled: true}
	_, err := rs.UpdateTag(ctx, "resolve", "app", "v1", func(tg *registry.Tag) error { tg.Attributes = locked; return nil })
	must(t, err, "UpdateTag")
	_, err = rs.UpdateRepository(ctx, "resolve", "app", func(r *registry.Repository) error {
		r.Attributes = registry.Attributes{ReadEnabled: true, DeleteEnabled: true}
		return nil
	})
	must(t, err, "UpdateRepository")

	got, err := mr.ResolveManifest(ctx, "RESOLVE", "app", "v1", "")
	must(t, err, "ResolveManifest by tag")
	equalManifest(t, "ResolveManifest by tag", got.Manifest, m)
	if got.TagAttributes == nil || *got.TagAttributes != locked {
		t.Errorf("ResolveManifest by tag: tag attributes %+v, want %+v", got.TagAttributes, locked)
	}
	equal(t, "repository attributes", got.RepositoryAttributes, registry.Attributes{ReadEnabled: true, DeleteEnabled: true})

	got, err = mr.ResolveManifest(ctx, "resolve", "app", "", m.Digest)
	must(t, err, "ResolveManifest by digest")
	equalManifest(t, "ResolveManifest by digest", got.Manifest, m)
	if got.TagAttributes != nil {
		t.Errorf("ResolveManifest by digest: tag attributes %+v", got.TagAttributes)
	}

	for what, call := range map[string][3]string{
		"missing tag":        {"resolve", "app", "v2"},
		"missing repository": {"resolve", "nope", "v1"},
		"missing registry":   {"nope", "app", "v1"},
	} {
		_, err := mr.ResolveManifest(ctx, call[0], call[1], call[2], "")
		mustKind(t, err, errdefs.NotFound, "ResolveManifest of a "+what)
	}
	_, err = mr.ResolveManifest(ctx, "resolve", "app", "", dg("nope"))
	mustKind(t, err, errdefs.NotFound, "ResolveManifest of a missing digest")
}

// testResolveRegistryManifest checks the optional one-query read of a
// manifest GET with its registry against the separate reads it replaces.
func testResolveRegistryManifest(t *testing.T, s store.Store) {
	ctx, rs := t.Context(), s.Registry()
	rr, ok := rs.(registry.RegistryManifestResolver)
	if !ok {
		t.Skip("the store has no RegistryManifestResolver")
	}
	mkRegistry(t, s, "ResolveBoth")
	link(t, s, "resolveboth", "app", "config", "l1")
	m := putManifest(t, s, newManifest("resolveboth", "app", "one", "config", "l1"), "v1")
	want, err := rs.GetRegistry(ctx, "resolveboth")
	must(t, err, "GetRegistry")

	for _, c := range []struct {
		what, repo, tag string
		d               digest.Digest
		found           bool
	}{
		{"by tag", "app", "v1", "", true},
		{"by digest", "app", "", m.Digest, true},
		{"missing tag", "app", "v2", "", false},
		{"missing digest", "app", "", dg("nope"), false},
		{"missing repository", "nope", "v1", "", false},
		{"missing repository by digest", "nope", "", m.Digest, false},
	} {
		reg, res, found, err := rr.ResolveRegistryManifest(ctx, "RESOLVEBOTH", c.repo, c.tag, c.d)
		must(t, err, "ResolveRegistryManifest "+c.what)
		equalRegistry(t, "ResolveRegistryManifest "+c.what, reg, want)
		if found != c.found {
			t.Errorf("ResolveRegistryManifest %s: found %v", c.what, found)
			continue
		}
		if !found {
			continue
		}
		equalManifest(t, "ResolveRegistryManifest "+c.what, res.Manifest, m)
		equal(t, "repository attributes "+c.what, res.RepositoryAttributes, registry.DefaultAttributes)
		if (res.TagAttributes != nil) != (c.tag != "") || res.TagAttributes != nil && *res.TagAttributes != registry.DefaultAttributes {
			t.Errorf("ResolveRegistryManifest %s: tag attributes %+v", c.what, res.TagAttributes)
		}
	}
	_, _, _, err = rr.ResolveRegistryManifest(ctx, "nope", "app", "v1", "")
	mustKind(t, err, errdefs.NotFound, "ResolveRegistryManifest of a missing registry")
}
