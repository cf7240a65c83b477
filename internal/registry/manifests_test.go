package registry_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/registry"
)

func TestPutGetManifest(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	body := e.image("app", "arm64", content(1), content(2))
	m, err := e.svc.PutManifest(ctx, regName, "app", "v1", registry.MediaTypeOCIManifest, body)
	must(t, err)
	if m.Digest != digestOf(body) || m.Size != int64(len(body)) || m.MediaType != registry.MediaTypeOCIManifest ||
		m.Architecture != "arm64" || m.OS != "linux" || len(m.Blobs) != 3 || m.ArtifactType != "application/vnd.oci.image.config.v1+json" {
		t.Errorf("PutManifest: %+v", m)
	}
	for _, ref := range []string{"v1", m.Digest.String()} {
		got, b, err := e.readManifest("app", ref)
		must(t, err)
		if !bytes.Equal(b, body) || got.Digest != m.Digest {
			t.Errorf("GetManifest(%s): %+v", ref, got)
		}
	}
	// Idempotent by digest, and another tag for the same content.
	_, err = e.svc.PutManifest(ctx, regName, "app", m.Digest.String(), registry.MediaTypeOCIManifest, body)
	must(t, err)
	_, err = e.svc.PutManifest(ctx, regName, "app", "latest", registry.MediaTypeOCIManifest, body)
	must(t, err)

	_, _, err = e.readManifest("app", "nope")
	mustReason(t, err, "MANIFEST_UNKNOWN", "unknown tag")
	_, _, err = e.readManifest("app", digestOf([]byte("nope")).String())
	mustReason(t, err, "MANIFEST_UNKNOWN", "unknown digest")
	_, _, err = e.readManifest("other", "v1")
	mustReason(t, err, "NAME_UNKNOWN", "unknown repository")
	_, _, err = e.readManifest("app", "sha256:baddigeststring")
	mustReason(t, err, "DIGEST_INVALID", "malformed digest reference")
	_, _, err = e.readManifest("app", "-bad")
	mustReason(t, err, "TAG_INVALID", "malformed tag reference")
}

func TestPutManifestValidation(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	layer := content(7)
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	e.pushBlob("app", layer)
	e.pushBlob("app", cfg)
	e.pushBlob("elsewhere", content(8))
	cfgDesc := descOf("application/vnd.oci.image.config.v1+json", cfg)
	img := func(layers ...descJSON) []byte {
		return marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIManifest, Config: &cfgDesc, Layers: layers})
	}
	good := img(descOf("application/vnd.oci.image.layer.v1.tar", layer))
	wrongSize := descOf("application/vnd.oci.image.layer.v1.tar", layer)
	wrongSize.Size++
	nondist := descJSON{MediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Digest: digestOf([]byte("remote")), Size: 123456}
	big := marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIManifest, Config: &cfgDesc,
		Annotations: map[string]string{"pad": strings.Repeat("x", registry.MaxManifestSize)}})

	for _, tc := range []struct {
		name, repo, ref, contentType string
		body                         []byte
		reason                       string
	}{
		{"good by tag", "app", "good", registry.MediaTypeOCIManifest, good, ""},
		{"good by digest", "app", digestOf(good).String(), registry.MediaTypeOCIManifest, good, ""},
		{"non-distributable layer need not exist", "app", "nd", registry.MediaTypeOCIManifest, img(nondist), ""},
		{"layer linked elsewhere only", "app", "x", registry.MediaTypeOCIManifest, img(descOf("application/vnd.oci.image.layer.v1.tar", content(8))), "MANIFEST_BLOB_UNKNOWN"},
		{"layer never pushed", "app", "x", registry.MediaTypeOCIManifest, img(descOf("application/vnd.oci.image.layer.v1.tar", content(9))), "MANIFEST_BLOB_UNKNOWN"},
		{"layer of another size", "app", "x", registry.MediaTypeOCIManifest, img(wrongSize), "MANIFEST_BLOB_UNKNOWN"},
		{"digest reference mismatch", "app", digestOf([]byte("x")).String(), registry.MediaTypeOCIManifest, good, "DIGEST_INVALID"},
		{"body with trailing whitespace", "app", digestOf(good).String(), registry.MediaTypeOCIManifest, append(slices.Clone(good), ' ', ' '), "DIGEST_INVALID"},
		{"malformed digest reference", "app", "sha256:baddigeststring", registry.MediaTypeOCIManifest, good, "DIGEST_INVALID"},
		{"bad tag", "app", "-bad", registry.MediaTypeOCIManifest, good, "TAG_INVALID"},
		{"bad repository", "App", "v1", registry.MediaTypeOCIManifest, good, "NAME_INVALID"},
		{"content type mismatch", "app", "v1", registry.MediaTypeDockerManifest, good, "MANIFEST_INVALID"},
		{"not JSON", "app", "v1", registry.MediaTypeOCIManifest, []byte("{not json"), "MANIFEST_INVALID"},
		{"too large", "app", "v1", registry.MediaTypeOCIManifest, big, "MANIFEST_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.PutManifest(ctx, regName, tc.repo, tc.ref, tc.contentType, tc.body)
			if tc.reason == "" {
				must(t, err)
				return
			}
			mustReason(t, err, tc.reason, tc.name)
			if bytes.Equal(tc.body, good) || strings.ToLower(tc.repo) != tc.repo {
				return // stored by an earlier case, or unreadable
			}
			if _, _, err := e.readManifest(tc.repo, digestOf(tc.body).String()); err == nil {
				t.Error("a refused manifest is stored")
			}
		})
	}
	if _, _, err := e.readManifest("app", "x"); err == nil {
		t.Error("a refused manifest's tag exists")
	}
}

func TestManifestKinds(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()

	// Docker schema 2 manifest and manifest list.
	dcfg := []byte(`{"architecture":"amd64","os":"windows"}`)
	e.pushBlob("app", dcfg)
	e.pushBlob("app", content(1))
	docker := marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeDockerManifest,
		Config: ptr(descOf("application/vnd.docker.container.image.v1+json", dcfg)),
		Layers: []descJSON{descOf("application/vnd.docker.image.rootfs.diff.tar.gzip", content(1)),
			{MediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", Digest: digestOf([]byte("windows base")), Size: 99}}})
	dm, err := e.svc.PutManifest(ctx, regName, "app", "docker", registry.MediaTypeDockerManifest, docker)
	must(t, err)
	if dm.MediaType != registry.MediaTypeDockerManifest || dm.OS != "windows" {
		t.Errorf("docker manifest: %+v", dm)
	}

	// An OCI image whose config is not an image config: the platform comes
	// from the index that lists it.
	art := []byte("{}")
	e.pushBlob("app", art)
	plain := marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIManifest,
		Config: ptr(descOf("application/vnd.oci.empty.v1+json", art)), Layers: []descJSON{descOf("application/octet-stream", content(1))}})
	pm, err := e.svc.PutManifest(ctx, regName, "app", digestOf(plain).String(), registry.MediaTypeOCIManifest, plain)
	must(t, err)
	if pm.Architecture != "" {
		t.Errorf("platform of an image with an empty config: %q", pm.Architecture)
	}
	child := descOf(registry.MediaTypeOCIManifest, plain)
	child.Platform = map[string]string{"architecture": "riscv64", "os": "linux"}
	list := marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeDockerManifestList,
		Manifests: []descJSON{descOf(registry.MediaTypeDockerManifest, docker)}})
	_, err = e.svc.PutManifest(ctx, regName, "app", "list", registry.MediaTypeDockerManifestList, list)
	must(t, err)
	idx := marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIIndex, Manifests: []descJSON{child}})
	im, err := e.svc.PutManifest(ctx, regName, "app", "index", registry.MediaTypeOCIIndex, idx)
	must(t, err)
	if len(im.Manifests) != 1 || im.Manifests[0] != pm.Digest {
		t.Errorf("index: %+v", im)
	}
	info, err := e.svc.Manifest(ctx, regName, "app", pm.Digest)
	must(t, err)
	if info.Architecture != "riscv64" || info.OS != "linux" {
		t.Errorf("child platform from the index: %q/%q", info.Architecture, info.OS)
	}

	// An index needs its children in the repository, with their sizes.
	missing := marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIIndex,
		Manifests: []descJSON{descOf(registry.MediaTypeOCIManifest, []byte("not pushed"))}})
	_, err = e.svc.PutManifest(ctx, regName, "app", "bad", registry.MediaTypeOCIIndex, missing)
	mustReason(t, err, "MANIFEST_BLOB_UNKNOWN", "index with a missing child")
	otherRepo := marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIIndex, Manifests: []descJSON{child}})
	_, err = e.svc.PutManifest(ctx, regName, "other", "bad", registry.MediaTypeOCIIndex, otherRepo)
	mustReason(t, err, "MANIFEST_BLOB_UNKNOWN", "index with a child in another repository")
	wrong := child
	wrong.Size--
	_, err = e.svc.PutManifest(ctx, regName, "app", "bad", registry.MediaTypeOCIIndex,
		marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIIndex, Manifests: []descJSON{wrong}}))
	mustReason(t, err, "MANIFEST_BLOB_UNKNOWN", "index with a child of another size")

	// An index of indexes, and an empty index.
	nested := marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIIndex, Manifests: []descJSON{descOf(registry.MediaTypeOCIIndex, idx)}})
	_, err = e.svc.PutManifest(ctx, regName, "app", "nested", registry.MediaTypeOCIIndex, nested)
	must(t, err)
	_, err = e.svc.PutManifest(ctx, regName, "app", "empty", registry.MediaTypeOCIIndex, []byte(`{"schemaVersion":2,"mediaType":"`+registry.MediaTypeOCIIndex+`","manifests":[]}`))
	must(t, err)

	// sha512 throughout: blobs, manifest and reference.
	cfg512 := []byte(`{"architecture":"amd64","os":"linux"}`)
	l512 := []byte("sha512 layer")
	for _, b := range [][]byte{cfg512, l512} {
		_, err := e.svc.PutBlob(ctx, regName, "app", digest.SHA512.FromBytes(b), int64(len(b)), bytes.NewReader(b))
		must(t, err)
	}
	m512 := marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIManifest,
		Config: &descJSON{MediaType: "application/vnd.oci.image.config.v1+json", Digest: digest.SHA512.FromBytes(cfg512), Size: int64(len(cfg512))},
		Layers: []descJSON{{MediaType: "application/octet-stream", Digest: digest.SHA512.FromBytes(l512), Size: int64(len(l512))}}})
	ref := digest.SHA512.FromBytes(m512)
	got, err := e.svc.PutManifest(ctx, regName, "app", ref.String(), registry.MediaTypeOCIManifest, m512)
	must(t, err)
	if got.Digest != ref {
		t.Errorf("sha512 manifest stored as %s", got.Digest)
	}
	if _, b, err := e.readManifest("app", ref.String()); err != nil || !bytes.Equal(b, m512) {
		t.Errorf("sha512 manifest: %v", err)
	}
}

// artifact pushes an artifact manifest with a subject into repo.
func (e *env) artifact(repo string, subject registry.Manifest, artifactType string, n int) registry.Manifest {
	e.t.Helper()
	empty := []byte("{}")
	e.pushBlob(repo, empty)
	blob := []byte(fmt.Sprintf("%s payload %d", artifactType, n))
	e.pushBlob(repo, blob)
	body := marshal(e.t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIManifest, ArtifactType: artifactType,
		Config:      ptr(descOf("application/vnd.oci.empty.v1+json", empty)),
		Layers:      []descJSON{descOf("application/vnd.example", blob)},
		Subject:     &descJSON{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: map[string]string{"n": fmt.Sprint(n)}})
	m, err := e.svc.PutManifest(e.t.Context(), regName, repo, digestOf(body).String(), registry.MediaTypeOCIManifest, body)
	must(e.t, err)
	return m
}

func TestReferrers(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	subject := e.pushImage("app", "v1", content(1))
	sig := e.artifact("app", subject, "application/vnd.example.sig", 1)
	sbom := e.artifact("app", subject, "application/vnd.example.sbom", 2)
	sig2 := e.artifact("app", subject, "application/vnd.example.sig", 3)
	if sig.Subject != subject.Digest || sig.ArtifactType != "application/vnd.example.sig" || sig.Annotations["n"] != "1" {
		t.Errorf("artifact: %+v", sig)
	}

	all, err := e.svc.Referrers(ctx, regName, "app", subject.Digest, "")
	must(t, err)
	if got := digests(all); !slices.Equal(got, sorted(sig.Digest, sbom.Digest, sig2.Digest)) {
		t.Errorf("Referrers: %v", got)
	}
	sigs, err := e.svc.Referrers(ctx, regName, "app", subject.Digest, "application/vnd.example.sig")
	must(t, err)
	if got := digests(sigs); !slices.Equal(got, sorted(sig.Digest, sig2.Digest)) {
		t.Errorf("Referrers filtered: %v", got)
	}
	none, err := e.svc.Referrers(ctx, regName, "unknown", subject.Digest, "")
	must(t, err)
	if len(none) != 0 {
		t.Errorf("Referrers of an unknown repository: %v", none)
	}

	// A missing subject is allowed.
	ghost := registry.Manifest{MediaType: registry.MediaTypeOCIManifest, Digest: digestOf([]byte("missing content")), Size: 123}
	orphan := e.artifact("app", ghost, "application/vnd.example.sig", 4)
	got, err := e.svc.Referrers(ctx, regName, "app", ghost.Digest, "")
	must(t, err)
	if len(got) != 1 || got[0].Digest != orphan.Digest {
		t.Errorf("Referrers of a missing subject: %v", got)
	}
}

func digests(ms []registry.Manifest) []digest.Digest {
	var out []digest.Digest
	for _, m := range ms {
		out = append(out, m.Digest)
	}
	return out
}

func sorted(ds ...digest.Digest) []digest.Digest {
	slices.Sort(ds)
	return ds
}

func tagNames(ts []registry.Tag) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func TestTagsAndCatalog(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	m := e.pushImage("app", "", content(1))
	_, raw, err := e.readManifest("app", m.Digest.String())
	must(t, err)
	var want []string
	for i := range 12 {
		tag := fmt.Sprintf("t%02d", i)
		want = append(want, tag)
		_, err := e.svc.PutManifest(ctx, regName, "app", tag, registry.MediaTypeOCIManifest, raw)
		must(t, err)
	}
	all, err := e.svc.Tags(ctx, regName, "app", registry.Page{})
	must(t, err)
	if !slices.Equal(tagNames(all), want) {
		t.Errorf("Tags: %v", tagNames(all))
	}
	var paged []string
	p := registry.Page{N: 5}
	for {
		page, err := e.svc.Tags(ctx, regName, "app", p)
		must(t, err)
		paged = append(paged, tagNames(page)...)
		if len(page) < p.N {
			break
		}
		p.Last = page[len(page)-1].Name
	}
	if !slices.Equal(paged, want) {
		t.Errorf("Tags paged: %v", paged)
	}
	_, err = e.svc.Tags(ctx, regName, "unknown", registry.Page{})
	mustReason(t, err, "NAME_UNKNOWN", "Tags of an unknown repository")

	for _, repo := range []string{"b/one", "a", "c", "b"} {
		e.pushBlob(repo, content(2))
	}
	cat, err := e.svc.Catalog(ctx, regName, registry.Page{})
	must(t, err)
	if !slices.Equal(cat, []string{"a", "app", "b", "b/one", "c"}) {
		t.Errorf("Catalog: %v", cat)
	}
	cat, err = e.svc.Catalog(ctx, strings.ToLower(regName), registry.Page{Last: "app", N: 2})
	must(t, err)
	if !slices.Equal(cat, []string{"b", "b/one"}) {
		t.Errorf("Catalog page: %v", cat)
	}
}

func TestDeleteManifest(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	m := e.pushImage("app", "v1", content(1))
	_, raw, err := e.readManifest("app", "v1")
	must(t, err)
	_, err = e.svc.PutManifest(ctx, regName, "app", "v2", registry.MediaTypeOCIManifest, raw)
	must(t, err)

	// By tag: only the tag goes.
	must(t, e.svc.DeleteManifest(ctx, regName, "app", "v1"))
	mustReason(t, e.svc.DeleteManifest(ctx, regName, "app", "v1"), "MANIFEST_UNKNOWN", "delete tag again")
	if _, _, err := e.readManifest("app", m.Digest.String()); err != nil {
		t.Errorf("manifest after untag: %v", err)
	}
	// By digest: the manifest and its other tags.
	must(t, e.svc.DeleteManifest(ctx, regName, "app", m.Digest.String()))
	_, _, err = e.readManifest("app", "v2")
	mustReason(t, err, "MANIFEST_UNKNOWN", "tag of a deleted manifest")
	mustReason(t, e.svc.DeleteManifest(ctx, regName, "app", m.Digest.String()), "MANIFEST_UNKNOWN", "delete digest again")
	mustReason(t, e.svc.DeleteManifest(ctx, regName, "nope", m.Digest.String()), "NAME_UNKNOWN", "delete in unknown repository")
	// Its layers stay linked.
	if _, err := e.svc.StatBlob(ctx, regName, "app", digestOf(content(1))); err != nil {
		t.Errorf("layer after manifest delete: %v", err)
	}
}

func TestAttributes(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	m := e.pushImage("app", "v1", content(1))
	_, raw, err := e.readManifest("app", "v1")
	must(t, err)
	other := e.image("app", "arm64", content(2))
	off, on := ptr(false), ptr(true)

	// A write-disabled repository takes no pushes and loses nothing.
	_, err = e.svc.UpdateRepository(ctx, regName, "app", registry.AttributesPatch{WriteEnabled: off})
	must(t, err)
	denied := func(err error, what string) { t.Helper(); mustReason(t, err, "DENIED", what) }
	_, err = e.svc.PutManifest(ctx, regName, "app", "v2", registry.MediaTypeOCIManifest, raw)
	denied(err, "push to a locked repository")
	_, err = e.svc.StartUpload(ctx, regName, "app")
	denied(err, "upload to a locked repository")
	_, err = e.svc.PutBlob(ctx, regName, "app", digestOf(content(3)), -1, bytes.NewReader(content(3)))
	denied(err, "blob to a locked repository")
	_, err = e.svc.MountBlob(ctx, regName, "app", "", digestOf(content(1)))
	denied(err, "mount to a locked repository")
	denied(e.svc.DeleteManifest(ctx, regName, "app", m.Digest.String()), "delete in a locked repository")
	denied(e.svc.DeleteTag(ctx, regName, "app", "v1"), "untag in a locked repository")
	denied(e.svc.DeleteBlob(ctx, regName, "app", digestOf(content(1))), "blob delete in a locked repository")
	_, _, err = e.svc.DeleteRepository(ctx, regName, "app")
	denied(err, "delete a locked repository")
	if _, _, err := e.readManifest("app", "v1"); err != nil {
		t.Errorf("pull from a write-locked repository: %v", err)
	}
	_, err = e.svc.UpdateRepository(ctx, regName, "app", registry.AttributesPatch{WriteEnabled: on})
	must(t, err)

	// A locked tag is not moved or deleted; others are.
	_, err = e.svc.UpdateTag(ctx, regName, "app", "v1", registry.AttributesPatch{WriteEnabled: off})
	must(t, err)
	_, err = e.svc.PutManifest(ctx, regName, "app", "v1", registry.MediaTypeOCIManifest, other)
	denied(err, "move a locked tag")
	_, err = e.svc.PutManifest(ctx, regName, "app", "v1", registry.MediaTypeOCIManifest, raw)
	must(t, err) // same target: nothing moves
	denied(e.svc.DeleteTag(ctx, regName, "app", "v1"), "delete a locked tag")
	denied(e.svc.DeleteManifest(ctx, regName, "app", m.Digest.String()), "delete the manifest of a locked tag")
	_, err = e.svc.UpdateTag(ctx, regName, "app", "v1", registry.AttributesPatch{WriteEnabled: on, DeleteEnabled: off})
	must(t, err)
	denied(e.svc.DeleteTag(ctx, regName, "app", "v1"), "delete a delete-disabled tag")
	_, err = e.svc.UpdateTag(ctx, regName, "app", "v1", registry.AttributesPatch{DeleteEnabled: on})
	must(t, err)

	// A delete-disabled manifest is not deleted.
	_, err = e.svc.UpdateManifest(ctx, regName, "app", m.Digest, registry.AttributesPatch{DeleteEnabled: off})
	must(t, err)
	denied(e.svc.DeleteManifest(ctx, regName, "app", m.Digest.String()), "delete a delete-disabled manifest")
	_, _, err = e.svc.DeleteRepository(ctx, regName, "app")
	denied(err, "delete a repository holding a delete-disabled manifest")
	must(t, e.svc.DeleteTag(ctx, regName, "app", "v1")) // untagging is still allowed

	// Read-disabled: no pull.
	_, err = e.svc.UpdateManifest(ctx, regName, "app", m.Digest, registry.AttributesPatch{ReadEnabled: off, DeleteEnabled: on})
	must(t, err)
	_, _, err = e.readManifest("app", m.Digest.String())
	denied(err, "pull a read-disabled manifest")
	_, err = e.svc.UpdateManifest(ctx, regName, "app", m.Digest, registry.AttributesPatch{ReadEnabled: on})
	must(t, err)
	_, err = e.svc.UpdateRepository(ctx, regName, "app", registry.AttributesPatch{ReadEnabled: off})
	must(t, err)
	_, _, err = e.readManifest("app", m.Digest.String())
	denied(err, "pull from a read-disabled repository")
	_, err = e.svc.UpdateRepository(ctx, regName, "app", registry.AttributesPatch{ReadEnabled: on})
	must(t, err)

	// List-disabled tags are left out of listings, pages stay full.
	for i := range 6 {
		_, err := e.svc.PutManifest(ctx, regName, "app", fmt.Sprintf("t%d", i), registry.MediaTypeOCIManifest, raw)
		must(t, err)
	}
	for _, tag := range []string{"t0", "t2", "t3"} {
		_, err := e.svc.UpdateTag(ctx, regName, "app", tag, registry.AttributesPatch{ListEnabled: off})
		must(t, err)
	}
	page, err := e.svc.Tags(ctx, regName, "app", registry.Page{N: 2})
	must(t, err)
	if got := tagNames(page); !slices.Equal(got, []string{"t1", "t4"}) {
		t.Errorf("first page of listed tags: %v", got)
	}
	page, err = e.svc.Tags(ctx, regName, "app", registry.Page{N: 2, Last: "t4"})
	must(t, err)
	if got := tagNames(page); !slices.Equal(got, []string{"t5"}) {
		t.Errorf("second page of listed tags: %v", got)
	}
	tg, err := e.svc.Tag(ctx, regName, "app", "t0")
	must(t, err)
	if tg.Attributes.ListEnabled || !tg.Attributes.ReadEnabled {
		t.Errorf("Tag attributes: %+v", tg.Attributes)
	}
	_, err = e.svc.Tag(ctx, regName, "app", "nope")
	mustReason(t, err, "MANIFEST_UNKNOWN", "unknown tag")
	_, err = e.svc.UpdateTag(ctx, regName, "nope", "t0", registry.AttributesPatch{})
	mustReason(t, err, "NAME_UNKNOWN", "tag of an unknown repository")
}

func TestACRProperties(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	m1 := e.pushImage("app", "v1", content(1))
	e.advance(time.Second)
	m2 := e.pushImage("app", "v2", content(2))
	e.advance(time.Second)
	m3 := e.pushImage("app", "", content(3))
	_, raw, _ := e.readManifest("app", "v1")
	_, err := e.svc.PutManifest(ctx, regName, "app", "latest", registry.MediaTypeOCIManifest, raw)
	must(t, err)

	info, err := e.svc.Repository(ctx, regName, "app")
	must(t, err)
	if info.ManifestCount != 3 || info.TagCount != 3 || info.Name != "app" || info.Registry != "myregistry" {
		t.Errorf("Repository: %+v", info)
	}
	_, err = e.svc.Repository(ctx, regName, "nope")
	mustReason(t, err, "NAME_UNKNOWN", "unknown repository")

	for _, tc := range []struct {
		orderby string
		p       registry.Page
		want    []digest.Digest
	}{
		{"", registry.Page{}, sorted(m1.Digest, m2.Digest, m3.Digest)},
		{"timeasc", registry.Page{}, []digest.Digest{m1.Digest, m2.Digest, m3.Digest}},
		{"timedesc", registry.Page{}, []digest.Digest{m3.Digest, m2.Digest, m1.Digest}},
		{"timedesc", registry.Page{N: 1, Last: string(m3.Digest)}, []digest.Digest{m2.Digest}},
		{"timeasc", registry.Page{N: 2}, []digest.Digest{m1.Digest, m2.Digest}},
	} {
		got, err := e.svc.ManifestList(ctx, regName, "app", tc.p, tc.orderby)
		must(t, err)
		var ds []digest.Digest
		for _, mi := range got {
			ds = append(ds, mi.Digest)
		}
		if !slices.Equal(ds, tc.want) {
			t.Errorf("ManifestList(%q, %+v) = %v, want %v", tc.orderby, tc.p, ds, tc.want)
		}
	}
	list, err := e.svc.ManifestList(ctx, regName, "app", registry.Page{}, "timeasc")
	must(t, err)
	if !slices.Equal(list[0].Tags, []string{"latest", "v1"}) || len(list[2].Tags) != 0 || list[2].Tags == nil {
		t.Errorf("ManifestList tags: %v / %v", list[0].Tags, list[2].Tags)
	}
	mi, err := e.svc.Manifest(ctx, regName, "app", m1.Digest)
	must(t, err)
	if !slices.Equal(mi.Tags, []string{"latest", "v1"}) || mi.Architecture != "amd64" {
		t.Errorf("Manifest: %+v", mi)
	}

	ms, tags, err := e.svc.DeleteRepository(ctx, regName, "app")
	must(t, err)
	if !slices.Equal(ms, sorted(m1.Digest, m2.Digest, m3.Digest)) || !slices.Equal(tags, []string{"latest", "v1", "v2"}) {
		t.Errorf("DeleteRepository: %v %v", ms, tags)
	}
	_, _, err = e.svc.DeleteRepository(ctx, regName, "app")
	mustReason(t, err, "NAME_UNKNOWN", "delete repository again")
	cat, err := e.svc.Catalog(ctx, regName, registry.Page{})
	must(t, err)
	if len(cat) != 0 {
		t.Errorf("catalog after delete: %v", cat)
	}
}
