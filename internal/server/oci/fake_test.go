package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
)

// This file holds the fakes the tests run the handler on: a registry
// backed by maps with the data-plane rules that matter to the surface,
// and an authenticator that grants from a table of credentials.

const (
	testHost        = "myreg.azurecr.localhost:8443"
	testLoginServer = "myreg.azurecr.localhost:8443"
)

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

// callLog records the calls the handler makes, in order.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

func (l *callLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func (l *callLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

type fakeManifest struct {
	m    registry.Manifest
	body []byte
}

type fakeRepo struct {
	createdAt time.Time
	attrs     registry.Attributes
	links     map[digest.Digest]bool
	manifests map[digest.Digest]*fakeManifest
	tags      map[string]registry.Tag
}

type fakeUpload struct {
	repo string
	buf  bytes.Buffer
	at   time.Time
}

// fakeRegistries is one registry, "myreg", in memory.
type fakeRegistries struct {
	mu      sync.Mutex
	log     *callLog
	reg     registry.Registry
	blobs   map[digest.Digest][]byte
	repos   map[string]*fakeRepo
	uploads map[string]*fakeUpload
	nextID  int
	fail    map[string]error // method → forced error
}

func newFakeRegistries(log *callLog) *fakeRegistries {
	return &fakeRegistries{
		log:     log,
		reg:     registry.Registry{Name: "myreg", LoginServer: testLoginServer},
		blobs:   map[digest.Digest][]byte{},
		repos:   map[string]*fakeRepo{},
		uploads: map[string]*fakeUpload{},
		fail:    map[string]error{},
	}
}

// enter logs a call and returns its forced error, if any.
func (f *fakeRegistries) enter(name string) error {
	f.log.add(name)
	return f.fail[name]
}

func (f *fakeRegistries) repo(name string, create bool) *fakeRepo {
	r := f.repos[name]
	if r == nil && create {
		r = &fakeRepo{createdAt: testTime, attrs: registry.DefaultAttributes, links: map[digest.Digest]bool{},
			manifests: map[digest.Digest]*fakeManifest{}, tags: map[string]registry.Tag{}}
		f.repos[name] = r
	}
	return r
}

func (f *fakeRegistries) ByLoginServer(_ context.Context, host string) (registry.Registry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ByLoginServer"); err != nil {
		return registry.Registry{}, err
	}
	if !strings.EqualFold(host, f.reg.LoginServer) {
		return registry.Registry{}, registry.ErrRegistryNotFound
	}
	return f.reg, nil
}

func (f *fakeRegistries) linked(repo string, d digest.Digest) bool {
	r := f.repo(repo, false)
	return r != nil && r.links[d]
}

func (f *fakeRegistries) StatBlob(_ context.Context, _, repo string, d digest.Digest) (blob.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StatBlob"); err != nil {
		return blob.Info{}, err
	}
	if !f.linked(repo, d) {
		return blob.Info{}, registry.ErrBlobUnknown
	}
	return blob.Info{Digest: d, Size: int64(len(f.blobs[d])), CreatedAt: testTime}, nil
}

// bytesReader is a blob.Reader over bytes.
type bytesReader struct{ *bytes.Reader }

func (bytesReader) Close() error { return nil }

func (f *fakeRegistries) OpenBlob(_ context.Context, _, repo string, d digest.Digest) (blob.Reader, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("OpenBlob"); err != nil {
		return nil, err
	}
	if !f.linked(repo, d) {
		return nil, registry.ErrBlobUnknown
	}
	return bytesReader{bytes.NewReader(f.blobs[d])}, nil
}

func (f *fakeRegistries) DeleteBlob(_ context.Context, _, repo string, d digest.Digest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteBlob"); err != nil {
		return err
	}
	if !f.linked(repo, d) {
		return registry.ErrBlobUnknown
	}
	delete(f.repos[repo].links, d)
	return nil
}

func (f *fakeRegistries) MountBlob(_ context.Context, _, repo, from string, d digest.Digest) (blob.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("MountBlob:" + from); err != nil {
		return blob.Info{}, err
	}
	ok := false
	if from != "" {
		ok = f.linked(from, d)
	} else {
		for name := range f.repos {
			ok = ok || f.linked(name, d)
		}
	}
	if !ok {
		return blob.Info{}, registry.ErrBlobUnknown
	}
	f.repo(repo, true).links[d] = true
	return blob.Info{Digest: d, Size: int64(len(f.blobs[d]))}, nil
}

func (f *fakeRegistries) StartUpload(_ context.Context, _, repo string) (registry.UploadState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("StartUpload"); err != nil {
		return registry.UploadState{}, err
	}
	f.nextID++
	id := "upload-" + strconv.Itoa(f.nextID)
	f.uploads[id] = &fakeUpload{repo: repo, at: testTime}
	return registry.UploadState{ID: id, StartedAt: testTime}, nil
}

func (f *fakeRegistries) upload(repo, id string) (*fakeUpload, error) {
	u := f.uploads[id]
	if u == nil || u.repo != repo {
		return nil, registry.ErrBlobUploadUnknown
	}
	return u, nil
}

func (f *fakeRegistries) write(u *fakeUpload, start int64, r io.Reader) error {
	if start >= 0 && start != int64(u.buf.Len()) {
		return registry.ErrRangeInvalid
	}
	_, err := io.Copy(&u.buf, r)
	return err
}

func (f *fakeRegistries) WriteUpload(_ context.Context, _, repo, id string, start int64, r io.Reader) (registry.UploadState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("WriteUpload"); err != nil {
		return registry.UploadState{}, err
	}
	u, err := f.upload(repo, id)
	if err != nil {
		return registry.UploadState{}, err
	}
	if err := f.write(u, start, r); err != nil {
		return registry.UploadState{}, err
	}
	return registry.UploadState{ID: id, Offset: int64(u.buf.Len()), StartedAt: u.at}, nil
}

func (f *fakeRegistries) UploadStatus(_ context.Context, _, repo, id string) (registry.UploadState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("UploadStatus"); err != nil {
		return registry.UploadState{}, err
	}
	u, err := f.upload(repo, id)
	if err != nil {
		return registry.UploadState{}, err
	}
	return registry.UploadState{ID: id, Offset: int64(u.buf.Len()), StartedAt: u.at}, nil
}

func (f *fakeRegistries) commit(repo string, d digest.Digest, data []byte) (blob.Info, error) {
	if d.Algorithm().FromBytes(data) != d {
		return blob.Info{}, registry.ErrDigestInvalid
	}
	f.blobs[d] = data
	f.repo(repo, true).links[d] = true
	return blob.Info{Digest: d, Size: int64(len(data)), CreatedAt: testTime}, nil
}

func (f *fakeRegistries) CompleteUpload(_ context.Context, _, repo, id string, start int64, r io.Reader, d digest.Digest) (blob.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CompleteUpload"); err != nil {
		return blob.Info{}, err
	}
	u, err := f.upload(repo, id)
	if err != nil {
		return blob.Info{}, err
	}
	if err := f.write(u, start, r); err != nil {
		return blob.Info{}, err
	}
	delete(f.uploads, id)
	return f.commit(repo, d, u.buf.Bytes())
}

func (f *fakeRegistries) CancelUpload(_ context.Context, _, repo, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CancelUpload"); err != nil {
		return err
	}
	if _, err := f.upload(repo, id); err != nil {
		return err
	}
	delete(f.uploads, id)
	return nil
}

func (f *fakeRegistries) PutBlob(_ context.Context, _, repo string, d digest.Digest, size int64, r io.Reader) (blob.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("PutBlob"); err != nil {
		return blob.Info{}, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return blob.Info{}, err
	}
	if size >= 0 && int64(len(data)) != size {
		return blob.Info{}, registry.ErrSizeInvalid
	}
	return f.commit(repo, d, data)
}

// resolve finds a manifest by tag or digest.
func (f *fakeRegistries) resolve(repo, ref string) (*fakeRepo, *fakeManifest, error) {
	r := f.repo(repo, false)
	if r == nil {
		return nil, nil, registry.ErrNameUnknown.WithMessage("repository %q is not found", repo)
	}
	d := digest.Digest(ref)
	if !strings.Contains(ref, ":") {
		t, ok := r.tags[ref]
		if !ok {
			return r, nil, registry.ErrManifestUnknown.WithMessage("manifest tagged by %q is not found", ref)
		}
		d = t.Digest
	}
	m := r.manifests[d]
	if m == nil {
		return r, nil, registry.ErrManifestUnknown
	}
	return r, m, nil
}

func (f *fakeRegistries) GetManifest(_ context.Context, _, repo, ref string) (registry.Manifest, blob.Reader, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetManifest"); err != nil {
		return registry.Manifest{}, nil, err
	}
	_, m, err := f.resolve(repo, ref)
	if err != nil {
		return registry.Manifest{}, nil, err
	}
	return m.m, bytesReader{bytes.NewReader(m.body)}, nil
}

// manifestJSON is what the fake reads from a manifest.
type manifestJSON struct {
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType"`
	Config       *struct {
		MediaType string        `json:"mediaType"`
		Digest    digest.Digest `json:"digest"`
	} `json:"config"`
	Layers []struct {
		Digest digest.Digest `json:"digest"`
	} `json:"layers"`
	Manifests []struct {
		Digest digest.Digest `json:"digest"`
	} `json:"manifests"`
	Subject *struct {
		Digest digest.Digest `json:"digest"`
	} `json:"subject"`
	Annotations map[string]string `json:"annotations"`
}

func (f *fakeRegistries) PutManifest(_ context.Context, reg, repo, ref, contentType string, body []byte) (registry.Manifest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("PutManifest:" + contentType); err != nil {
		return registry.Manifest{}, err
	}
	var mj manifestJSON
	if err := json.Unmarshal(body, &mj); err != nil {
		return registry.Manifest{}, registry.ErrManifestInvalid
	}
	if mj.MediaType != "" && contentType != "" && mj.MediaType != contentType {
		return registry.Manifest{}, registry.ErrManifestInvalid
	}
	alg := digest.Canonical
	tag := ref
	if strings.Contains(ref, ":") {
		alg = digest.Digest(ref).Algorithm()
		tag = ""
	}
	d := alg.FromBytes(body)
	if tag == "" && d.String() != ref {
		return registry.Manifest{}, registry.ErrDigestInvalid
	}
	r := f.repo(repo, true)
	m := registry.Manifest{Registry: reg, Repository: repo, Digest: d, MediaType: contentType, Size: int64(len(body)),
		ArtifactType: mj.ArtifactType, Annotations: mj.Annotations, Attributes: registry.DefaultAttributes,
		CreatedAt: testTime, UpdatedAt: testTime}
	if m.MediaType == "" {
		m.MediaType = mj.MediaType
	}
	if mj.Config != nil {
		m.ConfigMediaType = mj.Config.MediaType
		if m.ArtifactType == "" {
			m.ArtifactType = mj.Config.MediaType
		}
		m.Blobs = append(m.Blobs, mj.Config.Digest)
	}
	for _, l := range mj.Layers {
		m.Blobs = append(m.Blobs, l.Digest)
	}
	for _, c := range mj.Manifests {
		m.Manifests = append(m.Manifests, c.Digest)
	}
	if mj.Subject != nil {
		m.Subject = mj.Subject.Digest
	}
	for _, b := range m.Blobs {
		if !r.links[b] {
			return registry.Manifest{}, registry.ErrManifestBlobUnknown
		}
	}
	r.manifests[d] = &fakeManifest{m: m, body: body}
	if tag != "" {
		r.tags[tag] = registry.Tag{Registry: reg, Repository: repo, Name: tag, Digest: d, Attributes: registry.DefaultAttributes, CreatedAt: testTime, UpdatedAt: testTime}
	}
	return m, nil
}

func (f *fakeRegistries) DeleteManifest(_ context.Context, _, repo, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteManifest"); err != nil {
		return err
	}
	r, m, err := f.resolve(repo, ref)
	if err != nil {
		return err
	}
	if !strings.Contains(ref, ":") {
		delete(r.tags, ref)
		return nil
	}
	delete(r.manifests, m.m.Digest)
	for name, t := range r.tags {
		if t.Digest == m.m.Digest {
			delete(r.tags, name)
		}
	}
	return nil
}

func pageOf[T any](items []T, key func(T) string, p registry.Page) []T {
	var out []T
	for _, it := range items {
		if key(it) > p.Last && (p.N <= 0 || len(out) < p.N) {
			out = append(out, it)
		}
	}
	return out
}

func (f *fakeRegistries) sortedTags(r *fakeRepo) []registry.Tag {
	tags := make([]registry.Tag, 0, len(r.tags))
	for _, t := range r.tags {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	return tags
}

func (f *fakeRegistries) Tags(_ context.Context, _, repo string, p registry.Page) ([]registry.Tag, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Tags:" + strconv.Itoa(p.N)); err != nil {
		return nil, err
	}
	r := f.repo(repo, false)
	if r == nil {
		return nil, registry.ErrNameUnknown.WithMessage("repository %q is not found", repo)
	}
	return pageOf(f.sortedTags(r), func(t registry.Tag) string { return t.Name }, p), nil
}

func (f *fakeRegistries) Catalog(_ context.Context, _ string, p registry.Page) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Catalog:" + strconv.Itoa(p.N)); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(f.repos))
	for n := range f.repos {
		names = append(names, n)
	}
	sort.Strings(names)
	return pageOf(names, func(s string) string { return s }, p), nil
}

func (f *fakeRegistries) Referrers(_ context.Context, _, repo string, d digest.Digest, artifactType string) ([]registry.Manifest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Referrers"); err != nil {
		return nil, err
	}
	r := f.repo(repo, false)
	if r == nil {
		return nil, registry.ErrNameUnknown
	}
	var out []registry.Manifest
	for _, m := range r.manifests {
		if m.m.Subject == d && (artifactType == "" || m.m.ArtifactType == artifactType) {
			out = append(out, m.m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Digest < out[j].Digest })
	return out, nil
}

func (f *fakeRegistries) repoInfo(name string, r *fakeRepo) registry.RepositoryInfo {
	return registry.RepositoryInfo{
		Repository:    registry.Repository{Registry: "myreg", Name: name, Attributes: r.attrs, CreatedAt: r.createdAt, UpdatedAt: r.createdAt},
		ManifestCount: len(r.manifests), TagCount: len(r.tags),
	}
}

func (f *fakeRegistries) Repository(_ context.Context, _, repo string) (registry.RepositoryInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Repository"); err != nil {
		return registry.RepositoryInfo{}, err
	}
	r := f.repo(repo, false)
	if r == nil {
		return registry.RepositoryInfo{}, registry.ErrNameUnknown.WithMessage("repository %q is not found", repo)
	}
	return f.repoInfo(repo, r), nil
}

func applyPatch(a *registry.Attributes, p registry.AttributesPatch) {
	for _, x := range []struct {
		dst *bool
		src *bool
	}{{&a.DeleteEnabled, p.DeleteEnabled}, {&a.WriteEnabled, p.WriteEnabled}, {&a.ReadEnabled, p.ReadEnabled}, {&a.ListEnabled, p.ListEnabled}} {
		if x.src != nil {
			*x.dst = *x.src
		}
	}
}

func (f *fakeRegistries) UpdateRepository(_ context.Context, _, repo string, p registry.AttributesPatch) (registry.RepositoryInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("UpdateRepository"); err != nil {
		return registry.RepositoryInfo{}, err
	}
	r := f.repo(repo, false)
	if r == nil {
		return registry.RepositoryInfo{}, registry.ErrNameUnknown
	}
	applyPatch(&r.attrs, p)
	return f.repoInfo(repo, r), nil
}

func (f *fakeRegistries) DeleteRepository(_ context.Context, _, repo string) ([]digest.Digest, []string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteRepository"); err != nil {
		return nil, nil, err
	}
	r := f.repo(repo, false)
	if r == nil {
		return nil, nil, registry.ErrNameUnknown
	}
	var ds []digest.Digest
	for d := range r.manifests {
		ds = append(ds, d)
	}
	var tags []string
	for _, t := range f.sortedTags(r) {
		tags = append(tags, t.Name)
	}
	slices.Sort(ds)
	delete(f.repos, repo)
	return ds, tags, nil
}

func (f *fakeRegistries) Tag(_ context.Context, _, repo, tag string) (registry.Tag, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Tag"); err != nil {
		return registry.Tag{}, err
	}
	r := f.repo(repo, false)
	if r == nil {
		return registry.Tag{}, registry.ErrNameUnknown
	}
	t, ok := r.tags[tag]
	if !ok {
		return registry.Tag{}, registry.ErrManifestUnknown
	}
	return t, nil
}

func (f *fakeRegistries) UpdateTag(_ context.Context, _, repo, tag string, p registry.AttributesPatch) (registry.Tag, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("UpdateTag"); err != nil {
		return registry.Tag{}, err
	}
	r := f.repo(repo, false)
	if r == nil {
		return registry.Tag{}, registry.ErrNameUnknown
	}
	t, ok := r.tags[tag]
	if !ok {
		return registry.Tag{}, errdefs.New(errdefs.NotFound, "", "no tag")
	}
	applyPatch(&t.Attributes, p)
	r.tags[tag] = t
	return t, nil
}

func (f *fakeRegistries) DeleteTag(_ context.Context, _, repo, tag string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteTag"); err != nil {
		return err
	}
	r := f.repo(repo, false)
	if r == nil {
		return registry.ErrNameUnknown
	}
	if _, ok := r.tags[tag]; !ok {
		return registry.ErrManifestUnknown
	}
	delete(r.tags, tag)
	return nil
}

func (f *fakeRegistries) info(r *fakeRepo, m registry.Manifest) registry.ManifestInfo {
	mi := registry.ManifestInfo{Manifest: m}
	for _, t := range f.sortedTags(r) {
		if t.Digest == m.Digest {
			mi.Tags = append(mi.Tags, t.Name)
		}
	}
	return mi
}

func (f *fakeRegistries) ManifestList(_ context.Context, _, repo string, p registry.Page, orderby string) ([]registry.ManifestInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ManifestList:" + orderby); err != nil {
		return nil, err
	}
	r := f.repo(repo, false)
	if r == nil {
		return nil, registry.ErrNameUnknown
	}
	var all []registry.ManifestInfo
	for _, m := range r.manifests {
		all = append(all, f.info(r, m.m))
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Digest < all[j].Digest })
	return pageOf(all, func(m registry.ManifestInfo) string { return m.Digest.String() }, p), nil
}

func (f *fakeRegistries) Manifest(_ context.Context, _, repo string, d digest.Digest) (registry.ManifestInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Manifest"); err != nil {
		return registry.ManifestInfo{}, err
	}
	r, m, err := f.resolve(repo, d.String())
	if err != nil {
		return registry.ManifestInfo{}, err
	}
	return f.info(r, m.m), nil
}

func (f *fakeRegistries) UpdateManifest(_ context.Context, _, repo string, d digest.Digest, p registry.AttributesPatch) (registry.ManifestInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("UpdateManifest"); err != nil {
		return registry.ManifestInfo{}, err
	}
	r, m, err := f.resolve(repo, d.String())
	if err != nil {
		return registry.ManifestInfo{}, err
	}
	applyPatch(&m.m.Attributes, p)
	return f.info(r, m.m), nil
}

// grantFunc turns what a route wants into what a credential is granted.
type grantFunc func(want []acrtoken.Scope) []acrtoken.Scope

// grantAll grants everything asked.
func grantAll(want []acrtoken.Scope) []acrtoken.Scope { return want }

// grantOnly grants the asked actions among actions.
func grantOnly(actions ...string) grantFunc {
	return func(want []acrtoken.Scope) []acrtoken.Scope {
		var out []acrtoken.Scope
		for _, s := range want {
			g := acrtoken.Scope{Type: s.Type, Name: s.Name}
			for _, a := range s.Actions {
				if slices.Contains(actions, a) {
					g.Actions = append(g.Actions, a)
				}
			}
			out = append(out, g)
		}
		return out
	}
}

// grantRepos grants everything asked on the named repositories only.
func grantRepos(names ...string) grantFunc {
	return func(want []acrtoken.Scope) []acrtoken.Scope {
		var out []acrtoken.Scope
		for _, s := range want {
			if slices.Contains(names, s.Name) {
				out = append(out, s)
			}
		}
		return out
	}
}

// The credentials the fake authenticator knows.
const (
	authAll     = "Bearer all"
	authPull    = "Bearer pull"   // pull and metadata_read
	authEmpty   = "Bearer empty"  // a token with no access (docker login)
	authRepoA   = "Bearer only-a" // everything on repository "a"
	authBasic   = "Basic YWRtaW46c2VjcmV0"
	authBroken  = "Bearer broken" // Authenticate fails internally
	authRefused = "Bearer expired"
)

// fakeAuth grants from a table of Authorization header values; no header
// is the anonymous caller, granted anonymous.
type fakeAuth struct {
	log       *callLog
	anonymous grantFunc
	wants     [][]acrtoken.Scope
	mu        sync.Mutex
}

var grants = map[string]grantFunc{
	authAll:   grantAll,
	authBasic: grantAll,
	authPull:  grantOnly(actionPull, actionMetadataRead),
	authEmpty: func([]acrtoken.Scope) []acrtoken.Scope { return nil },
	authRepoA: grantRepos("a"),
}

func (a *fakeAuth) Authenticate(_ context.Context, r *http.Request, reg registry.Registry, want []acrtoken.Scope) (acrtoken.Grant, error) {
	a.log.add("Authenticate")
	a.mu.Lock()
	a.wants = append(a.wants, want)
	a.mu.Unlock()
	if reg.Name != "myreg" {
		return acrtoken.Grant{}, errdefs.New(errdefs.Internal, "", "wrong registry")
	}
	h := r.Header.Get("Authorization")
	switch h {
	case "":
		g := acrtoken.Grant{Anonymous: true}
		if a.anonymous != nil {
			g.Access = a.anonymous(want)
		}
		return g, nil
	case authBroken:
		return acrtoken.Grant{}, errdefs.Internalf(io.ErrUnexpectedEOF, "signing key")
	}
	fn, ok := grants[h]
	if !ok {
		return acrtoken.Grant{}, errdefs.New(errdefs.Unauthenticated, "TokenInvalid", "the token is invalid")
	}
	return acrtoken.Grant{Subject: "sp", Access: fn(want)}, nil
}

func (a *fakeAuth) lastWant() []acrtoken.Scope {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.wants) == 0 {
		return nil
	}
	return a.wants[len(a.wants)-1]
}
