// Package image resolves, pulls and unpacks container images for the
// container-instances backend (containergroup.Images): through each
// registry's own token flow with a group's credentials, into a shared,
// content-addressed cache of unpacked layers that overlayfs stacks into
// root filesystems.
//
// Layout under Config.Dir:
//
//	layers/sha256/<diffID hex>/   an unpacked layer, published by rename, never written again
//	layers/blobs/<diffID hex>.json  the compressed blobs seen to inflate to that diffID
//	layers/tmp/                   layers being unpacked (emptied on start)
//	images/sha256/<hex>.json      a pulled image: its config, layers and the repositories it was pulled from
//	trash/                        pruned layers on their way out (emptied on start)
//
// The cache is shared by every caller, so a cached layer or image is only
// handed to a caller who showed it may pull it: a diffID is public
// knowledge (any config names them), so a config claiming one proves
// nothing. A cached layer is reused for a manifest's layer descriptor only
// if that blob digest was itself seen to inflate to the diffID (else the
// blob is fetched and verified like an uncached one), and only once the
// registry answered a HEAD of that blob in the caller's repository with
// the caller's token. A cached image is reused only for a repository it
// was pulled from (where Resolve has just fetched its manifest with the
// caller's credentials); from any other repository it is pulled again,
// which costs a manifest, a config and a HEAD per layer.
package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cerulean/cerulean/internal/atomicfile"
	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/jsonstrict"
)

// Config configures a Cache.
type Config struct {
	// Dir holds the cache; it is created if missing.
	Dir string
	// Transport reaches registries. The app's maps its own registry
	// login servers to its listener and trusts the local CA besides the
	// system roots. Nil: http.DefaultTransport.
	Transport http.RoundTripper
	Logger    *slog.Logger
	// Parallel is how many layers are fetched and unpacked at once
	// (default 4).
	Parallel int
	// MaxLayerBytes and MaxLayerEntries bound one layer's uncompressed
	// size and entry count (defaults 8 GiB and 1 Mi entries).
	MaxLayerBytes   int64
	MaxLayerEntries int
}

// Cache implements containergroup.Images.
type Cache struct {
	dir       string
	transport http.RoundTripper
	log       *slog.Logger
	parallel  int
	lim       limits
	slots     chan struct{} // bounds concurrent layer pulls across all Pulls

	mu      sync.Mutex
	images  map[string]int        // image digests being pulled: Prune keeps them
	layers  map[string]int        // diffIDs being pulled: Prune keeps them
	flights map[flightKey]*flight // the one fetch in progress of a blob for a diffID

	// files serialises the read-modify-write of image records and blob
	// lists; readers need no lock (atomicfile replaces them whole).
	files sync.Mutex
}

// flightKey names a fetch by blob as well as diffID: a blob that fails to
// inflate to the diffID its config claims must fail only the pull that
// named it, not others waiting for the same diffID from a genuine blob.
type flightKey struct{ diffID, blob string }

var _ containergroup.Images = (*Cache)(nil)

type flight struct {
	done chan struct{}
	err  error
}

// record is what images/sha256/<hex>.json holds.
type record struct {
	Digest  string                     `json:"digest"`
	Config  containergroup.ImageConfig `json:"config"`
	DiffIDs []string                   `json:"diffIDs"`
	// Blobs are the layers' compressed digests, in DiffIDs' order.
	Blobs []string `json:"blobs"`
	// Repositories (registry/name) the image was pulled from, each layer
	// fetched or authorized there. Records written before this field
	// existed have none, so they are pulled again: they may hold layers
	// their puller was never authorized for.
	Repositories []string `json:"repositories"`
}

// blobList is what layers/blobs/<diffID hex>.json holds.
type blobList struct {
	DiffID string   `json:"diffID"`
	Blobs  []string `json:"blobs"`
}

// New opens (creating) the cache in cfg.Dir and removes what an
// interrupted run left half done.
func New(cfg Config) (*Cache, error) {
	if cfg.Dir == "" {
		return nil, errors.New("image: no cache directory")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	c := &Cache{
		dir:       dir,
		transport: cfg.Transport,
		log:       cfg.Logger,
		parallel:  cfg.Parallel,
		lim:       limits{maxBytes: cfg.MaxLayerBytes, maxEntries: cfg.MaxLayerEntries},
		images:    map[string]int{},
		layers:    map[string]int{},
		flights:   map[flightKey]*flight{},
	}
	if c.transport == nil {
		c.transport = http.DefaultTransport
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.parallel <= 0 {
		c.parallel = 4
	}
	if c.lim.maxBytes <= 0 {
		c.lim.maxBytes = defaultMaxLayerBytes
	}
	if c.lim.maxEntries <= 0 {
		c.lim.maxEntries = defaultMaxLayerEntries
	}
	c.slots = make(chan struct{}, c.parallel)
	for _, d := range []string{c.tmpDir(), c.trashDir()} {
		if err := os.RemoveAll(d); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{c.layersDir(), c.blobsDir(), c.tmpDir(), c.imagesDir(), c.trashDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Cache) layersDir() string { return filepath.Join(c.dir, "layers", "sha256") }
func (c *Cache) blobsDir() string  { return filepath.Join(c.dir, "layers", "blobs") }
func (c *Cache) tmpDir() string    { return filepath.Join(c.dir, "layers", "tmp") }
func (c *Cache) imagesDir() string { return filepath.Join(c.dir, "images", "sha256") }
func (c *Cache) trashDir() string  { return filepath.Join(c.dir, "trash") }

func (c *Cache) layerDir(diffID string) string {
	return filepath.Join(c.layersDir(), strings.TrimPrefix(diffID, "sha256:"))
}

func (c *Cache) blobsPath(diffID string) string {
	return filepath.Join(c.blobsDir(), strings.TrimPrefix(diffID, "sha256:")+".json")
}

func (c *Cache) recordPath(digest string) string {
	return filepath.Join(c.imagesDir(), strings.TrimPrefix(digest, "sha256:")+".json")
}

// Resolve implements containergroup.Images.
func (c *Cache) Resolve(ctx context.Context, ref string, cred *containergroup.Credential) (containergroup.ResolvedImage, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return containergroup.ResolvedImage{}, &containergroup.ImageError{
			Check: containergroup.CheckReference, Message: fmt.Sprintf("'%s' is not a valid image reference", ref), Cause: err,
		}
	}
	s, err := c.connect(ctx, r.Context(), cred)
	if err != nil {
		return containergroup.ResolvedImage{}, err
	}
	desc, err := remote.Get(r, s.options(ctx, 1)...)
	if err != nil {
		return containergroup.ResolvedImage{}, s.fail(stageManifest, err)
	}
	var (
		img    v1.Image
		digest = desc.Digest
	)
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return containergroup.ResolvedImage{}, s.fail(stageManifest, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return containergroup.ResolvedImage{}, s.fail(stageManifest, err)
		}
		child, ok := pickPlatform(im.Manifests)
		if !ok {
			return containergroup.ResolvedImage{}, &containergroup.ImageError{
				Check:   containergroup.CheckPlatform,
				Message: fmt.Sprintf("the image '%s' has no linux/amd64 variant (it has %s)", ref, platforms(im.Manifests)),
			}
		}
		digest = child.Digest
		if img, err = idx.Image(child.Digest); err != nil {
			return containergroup.ResolvedImage{}, s.fail(stageManifest, err)
		}
		if _, err := img.Manifest(); err != nil {
			return containergroup.ResolvedImage{}, s.fail(stageManifest, err)
		}
	case desc.MediaType.IsImage():
		if img, err = desc.Image(); err != nil {
			return containergroup.ResolvedImage{}, s.fail(stageManifest, err)
		}
	default:
		return containergroup.ResolvedImage{}, &containergroup.ImageError{
			Check:   containergroup.CheckRegistry,
			Message: fmt.Sprintf("'%s' is not a container image (media type %s)", ref, desc.MediaType),
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return containergroup.ResolvedImage{}, s.fail(stageBlob, err)
	}
	if cfg.OS != "" && (cfg.OS != "linux" || cfg.Architecture != "amd64") {
		return containergroup.ResolvedImage{}, &containergroup.ImageError{
			Check:   containergroup.CheckPlatform,
			Message: fmt.Sprintf("the image '%s' is for %s/%s, not linux/amd64", ref, cfg.OS, cfg.Architecture),
		}
	}
	return containergroup.ResolvedImage{
		Ref:       ref,
		Digest:    digest.String(),
		DigestRef: r.Context().Name() + "@" + digest.String(),
	}, nil
}

func pickPlatform(ms []v1.Descriptor) (v1.Descriptor, bool) {
	for _, m := range ms {
		if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == "amd64" &&
			(m.MediaType == "" || m.MediaType.IsImage()) {
			return m, true
		}
	}
	return v1.Descriptor{}, false
}

func platforms(ms []v1.Descriptor) string {
	var ps []string
	for _, m := range ms {
		if m.Platform != nil && m.Platform.OS != "unknown" {
			ps = append(ps, m.Platform.String())
		}
	}
	if len(ps) == 0 {
		return "none"
	}
	return strings.Join(ps, ", ")
}

// Pull implements containergroup.Images. ri must come from Resolve with
// the same cred: an image whose record and layers are all cached, and
// that was pulled from ri's repository before, is returned without
// touching the network, on the strength of Resolve having fetched its
// manifest there with cred.
func (c *Cache) Pull(ctx context.Context, ri containergroup.ResolvedImage, cred *containergroup.Credential) (containergroup.Image, error) {
	digest, err := v1.NewHash(ri.Digest)
	if err != nil {
		return containergroup.Image{}, &containergroup.ImageError{
			Check: containergroup.CheckReference, Message: fmt.Sprintf("'%s' is not an image digest", ri.Digest), Cause: err,
		}
	}
	ref, err := name.NewDigest(ri.DigestRef)
	if err != nil || ref.DigestStr() != digest.String() {
		return containergroup.Image{}, &containergroup.ImageError{
			Check: containergroup.CheckReference, Message: fmt.Sprintf("'%s' is not a reference to %s", ri.DigestRef, digest), Cause: err,
		}
	}
	repoName := ref.Context().Name()
	c.pin(c.images, digest.String(), 1)
	defer c.pin(c.images, digest.String(), -1)
	if rec, ok := c.cached(digest.String()); ok && slices.Contains(rec.Repositories, repoName) {
		return c.image(rec), nil
	}

	// One failed layer fails the image and stops the others; the
	// requests carry ctx, so cancelling it also cuts their reads.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := c.connect(ctx, ref.Context(), cred)
	if err != nil {
		return containergroup.Image{}, err
	}
	img, err := remote.Image(ref, s.options(ctx, c.parallel)...)
	if err != nil {
		return containergroup.Image{}, s.fail(stageManifest, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return containergroup.Image{}, s.fail(stageManifest, err)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return containergroup.Image{}, s.fail(stageBlob, err)
	}
	// The runtime reads the config: a member named twice would let another
	// parser see an entrypoint or environment this one never checked.
	if err := jsonstrict.Check(raw, jsonstrict.Exact); err != nil {
		return containergroup.Image{}, &containergroup.ImageError{
			Check:   containergroup.CheckRegistry,
			Message: fmt.Sprintf("the config of image %s is ambiguous: %v", ref, err),
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return containergroup.Image{}, s.fail(stageBlob, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return containergroup.Image{}, &containergroup.ImageError{
			Check:   containergroup.CheckRegistry,
			Message: fmt.Sprintf("the image %s lists %d layers but its config %d diffIDs", ref, len(m.Layers), len(cfg.RootFS.DiffIDs)),
		}
	}
	rec := record{Digest: digest.String(), Config: imageConfig(cfg), Repositories: []string{repoName}}
	for i, d := range cfg.RootFS.DiffIDs {
		rec.DiffIDs = append(rec.DiffIDs, d.String())
		rec.Blobs = append(rec.Blobs, m.Layers[i].Digest.String())
		c.pin(c.layers, d.String(), 1)
		defer c.pin(c.layers, d.String(), -1)
	}

	errs := make(chan error, len(m.Layers))
	for i, l := range m.Layers {
		diffID := cfg.RootFS.DiffIDs[i]
		go func() {
			err := c.layerOnce(ctx, diffID, l.Digest,
				func() error { return c.fetchLayer(ctx, s, img, l, diffID) },
				func() error { return s.headBlob(ctx, l.Digest) })
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var first error
	for range m.Layers {
		if err := <-errs; err != nil && (first == nil || errors.Is(first, context.Canceled)) {
			first = err
		}
	}
	if first != nil {
		return containergroup.Image{}, first
	}
	if err := c.writeRecord(rec); err != nil {
		return containergroup.Image{}, err
	}
	c.log.InfoContext(ctx, "image pulled", "image", ri.DigestRef, "layers", len(rec.DiffIDs))
	return c.image(rec), nil
}

func imageConfig(cfg *v1.ConfigFile) containergroup.ImageConfig {
	return containergroup.ImageConfig{
		Entrypoint: cfg.Config.Entrypoint,
		Cmd:        cfg.Config.Cmd,
		Env:        cfg.Config.Env,
		WorkingDir: cfg.Config.WorkingDir,
		User:       cfg.Config.User,
		StopSignal: cfg.Config.StopSignal,
	}
}

func (c *Cache) image(rec record) containergroup.Image {
	img := containergroup.Image{Digest: rec.Digest, Config: rec.Config}
	for _, d := range rec.DiffIDs {
		img.Layers = append(img.Layers, c.layerDir(d))
	}
	return img
}

// writeRecord stores rec, keeping the repositories an earlier record of
// the same image names.
func (c *Cache) writeRecord(rec record) error {
	c.files.Lock()
	defer c.files.Unlock()
	if old, ok := c.cached(rec.Digest); ok && slices.Equal(old.DiffIDs, rec.DiffIDs) && slices.Equal(old.Blobs, rec.Blobs) {
		for _, r := range old.Repositories {
			if !slices.Contains(rec.Repositories, r) {
				rec.Repositories = append(rec.Repositories, r)
			}
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(c.recordPath(rec.Digest), data, 0o600)
}

// cached returns the record of digest if it and all its layers are here.
func (c *Cache) cached(digest string) (record, bool) {
	data, err := os.ReadFile(c.recordPath(digest))
	if err != nil {
		return record{}, false
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil || rec.Digest != digest ||
		len(rec.Blobs) != len(rec.DiffIDs) || len(rec.Repositories) == 0 {
		return record{}, false
	}
	for _, d := range rec.DiffIDs {
		if !c.hasLayer(d) {
			return record{}, false
		}
	}
	return rec, true
}

func (c *Cache) hasLayer(diffID string) bool {
	fi, err := os.Lstat(c.layerDir(diffID))
	return err == nil && fi.IsDir()
}

// knownBlob reports whether blob was seen to inflate to diffID.
func (c *Cache) knownBlob(diffID, blob string) bool {
	return slices.Contains(c.blobs(diffID), blob)
}

func (c *Cache) blobs(diffID string) []string {
	data, err := os.ReadFile(c.blobsPath(diffID))
	if err != nil {
		return nil
	}
	var bl blobList
	if err := json.Unmarshal(data, &bl); err != nil || bl.DiffID != diffID {
		return nil
	}
	return bl.Blobs
}

// recordBlob notes that blob inflated to diffID. The note is true whether
// or not the layer directory exists, so a crash between unpacking and
// noting only costs a verification on the next pull.
func (c *Cache) recordBlob(diffID, blob string) error {
	c.files.Lock()
	defer c.files.Unlock()
	bl := blobList{DiffID: diffID, Blobs: c.blobs(diffID)}
	if slices.Contains(bl.Blobs, blob) {
		return nil
	}
	bl.Blobs = append(bl.Blobs, blob)
	data, err := json.Marshal(bl)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(c.blobsPath(diffID), data, 0o600)
}

// Hold keeps the pulled image digest and its layers from Prune until the
// returned release is called: a build stacks an image's layers for longer
// than its Pull lasts.
func (c *Cache) Hold(digest string) (release func()) {
	c.pin(c.images, digest, 1)
	return sync.OnceFunc(func() { c.pin(c.images, digest, -1) })
}

// pin counts a use of key in m (images or layers) that Prune must respect.
func (c *Cache) pin(m map[string]int, key string, delta int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m[key] += delta; m[key] <= 0 {
		delete(m, key)
	}
}

// layerOnce makes layer diffID, named by the manifest as blob, available
// to the caller. If the layer is cached and blob is known to inflate to
// it, the caller only has to show that it may pull blob (authorize);
// otherwise fetch downloads and verifies blob (unpacking it unless the
// layer is cached already), which is proof enough. Concurrent callers for
// the same blob and diffID wait for one fetch, then authorize themselves.
func (c *Cache) layerOnce(ctx context.Context, diffID, blob v1.Hash, fetch, authorize func() error) error {
	key := flightKey{diffID: diffID.String(), blob: blob.String()}
	alone := false
	for {
		c.mu.Lock()
		if c.hasLayer(key.diffID) && c.knownBlob(key.diffID, key.blob) {
			c.mu.Unlock()
			return authorize()
		}
		f, ok := c.flights[key]
		if !ok || alone {
			if ok {
				// Another caller's fetch failed, maybe for reasons of
				// its own (its credentials, its connection): this one
				// runs alongside rather than inherit its error.
				c.mu.Unlock()
				return fetch()
			}
			f = &flight{done: make(chan struct{})}
			c.flights[key] = f
			c.mu.Unlock()
			f.err = fetch()
			c.mu.Lock()
			delete(c.flights, key)
			c.mu.Unlock()
			close(f.done)
			return f.err
		}
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if f.err != nil {
			alone = true
		}
	}
}

// Prune implements containergroup.Images. Images being pulled and their
// layers are kept too.
func (c *Cache) Prune(ctx context.Context, keep []string) error {
	c.mu.Lock()
	doomed, err := c.pruneLocked(keep)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if len(doomed) > 0 {
		c.log.InfoContext(ctx, "image cache pruned", "layers", len(doomed))
	}
	// The slow part runs unlocked: the layers are already out of sight.
	return os.RemoveAll(c.trashDir())
}

func (c *Cache) pruneLocked(keep []string) ([]string, error) {
	entries, err := os.ReadDir(c.imagesDir())
	if err != nil {
		return nil, err
	}
	live := map[string]bool{}
	for d := range c.layers {
		live[d] = true
	}
	for k := range c.flights {
		live[k.diffID] = true
	}
	for _, e := range entries {
		hex, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		digest := "sha256:" + hex
		if slices.Contains(keep, digest) || c.images[digest] > 0 {
			data, err := os.ReadFile(filepath.Join(c.imagesDir(), e.Name()))
			var rec record
			if err == nil && json.Unmarshal(data, &rec) == nil {
				for _, d := range rec.DiffIDs {
					live[d] = true
				}
				continue
			}
		}
		if err := os.Remove(filepath.Join(c.imagesDir(), e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	layers, err := os.ReadDir(c.layersDir())
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.trashDir(), 0o700); err != nil {
		return nil, err
	}
	var doomed []string
	for _, l := range layers {
		if live["sha256:"+l.Name()] {
			continue
		}
		trash, err := os.MkdirTemp(c.trashDir(), l.Name()+".")
		if err != nil {
			return doomed, err
		}
		if err := os.Rename(filepath.Join(c.layersDir(), l.Name()), filepath.Join(trash, "layer")); err != nil {
			return doomed, err
		}
		doomed = append(doomed, l.Name())
	}
	// Blob lists go with their layers, and any a crash left without one.
	lists, err := os.ReadDir(c.blobsDir())
	if err != nil {
		return doomed, err
	}
	for _, e := range lists {
		hex, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(hex, ".") || live["sha256:"+hex] || c.hasLayer("sha256:"+hex) {
			continue
		}
		if err := os.Remove(filepath.Join(c.blobsDir(), e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return doomed, err
		}
	}
	return doomed, nil
}
