package client

// Image copies into a registry (what `az acr import` does on the server in
// Azure, done here by the client): push every blob and manifest of a
// source (acrdata_source.go; every platform of an index) into a repository
// of the target registry, blob by blob in manifest order so progress is
// reported in a stable order. Built on go-containerregistry.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// CopyTarget is a repository of a registry to copy into.
type CopyTarget struct {
	// LoginServer and Repository name the target; Transport reaches it
	// (RegistryTransport) and Auth is an access token with
	// repository:<Repository>:pull,push.
	LoginServer string
	Repository  string
	Transport   http.RoundTripper
	Auth        RegistryAuth
	UserAgent   string
	// Tags to point at the copied manifest; none copies it by digest only
	// (az acr import --repository).
	Tags []string
	// Force moves tags that point at another manifest; without it such a
	// tag fails the copy before anything is written.
	Force bool
}

// CopyEventKind says what a CopyEvent reports.
type CopyEventKind int

// The kinds of CopyEvent.
const (
	// CopyBlobProgress: Done of Size bytes of a blob have been sent.
	CopyBlobProgress CopyEventKind = iota
	// CopyBlobDone: a blob was uploaded.
	CopyBlobDone
	// CopyBlobExists: the registry already had the blob.
	CopyBlobExists
	// CopyBlobForeign: a non-distributable layer that is not copied.
	CopyBlobForeign
	// CopyManifestDone: a manifest was written (Ref is its tag or digest).
	CopyManifestDone
)

// CopyEvent reports progress of a copy.
type CopyEvent struct {
	Kind CopyEventKind
	// Object is "blob" (a layer), "config" or "manifest".
	Object string
	Digest string
	Size   int64
	Done   int64
	// Platform is os/arch[/variant] of an index's image, if known.
	Platform string
	// Ref is repository:tag or repository@digest for a manifest.
	Ref string
}

// target is a CopyTarget parsed and ready to write to.
type target struct {
	repo   name.Repository
	tags   []name.Tag
	digest string // of the source
	opts   []remote.Option
}

func newTarget(ctx context.Context, src *ImageSource, dst CopyTarget) (*target, error) {
	repo, err := name.NewRepository(dst.LoginServer + "/" + dst.Repository)
	if err != nil {
		return nil, &errdefs.Error{Kind: errdefs.InvalidArgument, Message: fmt.Sprintf("Invalid target repository '%s': %v", dst.Repository, err)}
	}
	t := &target{repo: repo, opts: []remote.Option{remote.WithContext(ctx), remote.WithTransport(dst.Transport),
		remote.WithAuth(dst.Auth.authenticator()), remote.WithUserAgent(dst.UserAgent)}}
	for _, s := range dst.Tags {
		tag, err := name.NewTag(repo.Name() + ":" + s)
		if err != nil {
			return nil, &errdefs.Error{Kind: errdefs.InvalidArgument, Message: fmt.Sprintf("Invalid target tag '%s:%s': %v", dst.Repository, s, err)}
		}
		t.tags = append(t.tags, tag)
	}
	if t.digest, err = src.Digest(); err != nil {
		return nil, err
	}
	return t, nil
}

// CheckTargetTags fails, before anything is written, when a tag of dst
// exists and points at another manifest than src (unless dst.Force), so
// a copy into several repositories can be validated as a whole first.
func CheckTargetTags(ctx context.Context, src *ImageSource, dst CopyTarget) error {
	t, err := newTarget(ctx, src, dst)
	if err != nil || dst.Force {
		return err
	}
	return t.checkTags()
}

// CopyImage copies src into dst (checking its tags first, as
// CheckTargetTags). progress (may be nil) is never called concurrently,
// but byte counts come from the goroutines that send request bodies.
func CopyImage(ctx context.Context, src *ImageSource, dst CopyTarget, progress func(CopyEvent)) error {
	if progress == nil {
		progress = func(CopyEvent) {}
	}
	t, err := newTarget(ctx, src, dst)
	if err != nil {
		return err
	}
	if !dst.Force {
		if err := t.checkTags(); err != nil {
			return err
		}
	}
	pusher, err := remote.NewPusher(t.opts...)
	if err != nil {
		return registryPushError("Cannot write to "+t.repo.Name(), err)
	}
	c := &copier{ctx: ctx, repo: t.repo, pusher: pusher, emit: progress, done: map[v1.Hash]bool{}}
	var top remote.Taggable = src.image
	if src.index != nil {
		top = src.index
		err = c.index(src.index)
	} else {
		err = c.image(src.image, "")
	}
	if err != nil {
		return err
	}
	refs := []name.Reference{t.repo.Digest(t.digest)}
	if len(t.tags) > 0 {
		refs = refs[:0]
		for _, tag := range t.tags {
			refs = append(refs, tag)
		}
	}
	for _, ref := range refs {
		if err := c.putManifest(ref, top, ""); err != nil {
			return err
		}
	}
	return nil
}

// checkTags fails when a tag exists and points at another manifest.
func (t *target) checkTags() error {
	for _, tag := range t.tags {
		desc, err := remote.Head(tag, t.opts...)
		var te *transport.Error
		switch {
		case errors.As(err, &te) && te.StatusCode == http.StatusNotFound:
			continue
		case err != nil:
			return registryPushError("Cannot read the target tag "+tag.String(), err)
		case desc.Digest.String() != t.digest:
			return &errdefs.Error{Kind: errdefs.AlreadyExists, Reason: "TagAlreadyExists",
				Message: fmt.Sprintf("Tag %s:%s already exists in target registry.", tag.RepositoryStr(), tag.TagStr())}
		}
	}
	return nil
}

type copier struct {
	ctx    context.Context
	repo   name.Repository
	pusher *remote.Pusher
	mu     sync.Mutex // serialises emit: uploads read bodies on transport goroutines
	emit   func(CopyEvent)
	done   map[v1.Hash]bool
}

func (c *copier) progress(ev CopyEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.emit(ev)
}

// index copies every manifest an index lists (images and nested indexes),
// children before the index itself.
func (c *copier) index(idx v1.ImageIndex) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return sourceError(c.repo.Name(), err)
	}
	for _, d := range im.Manifests {
		platform := ""
		if d.Platform != nil {
			platform = d.Platform.String()
		}
		var child remote.Taggable
		if d.MediaType.IsIndex() {
			ci, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return sourceError(d.Digest.String(), err)
			}
			if err := c.index(ci); err != nil {
				return err
			}
			child = ci
		} else {
			img, err := idx.Image(d.Digest)
			if err != nil {
				return sourceError(d.Digest.String(), err)
			}
			if err := c.image(img, platform); err != nil {
				return err
			}
			child = img
		}
		if err := c.putManifest(c.repo.Digest(d.Digest.String()), child, platform); err != nil {
			return err
		}
	}
	return nil
}

// image copies an image's layers, then its config.
func (c *copier) image(img v1.Image, platform string) error {
	layers, err := img.Layers()
	if err != nil {
		return sourceError(c.repo.Name(), err)
	}
	for _, l := range layers {
		if err := c.blob("blob", l, platform); err != nil {
			return err
		}
	}
	cfg, err := partial.ConfigLayer(img)
	if err != nil {
		return sourceError(c.repo.Name(), err)
	}
	return c.blob("config", cfg, platform)
}

// blob uploads one blob unless it was copied already in this run; the
// registry's own existence check skips blobs it holds.
func (c *copier) blob(object string, l v1.Layer, platform string) error {
	h, err := l.Digest()
	if err != nil {
		return sourceError(c.repo.Name(), err)
	}
	if c.done[h] {
		return nil
	}
	size, err := l.Size()
	if err != nil {
		return sourceError(c.repo.Name(), err)
	}
	ev := CopyEvent{Object: object, Digest: h.String(), Size: size, Platform: platform}
	mt, err := l.MediaType()
	if err != nil {
		return sourceError(c.repo.Name(), err)
	}
	if !mt.IsDistributable() {
		ev.Kind = CopyBlobForeign
		c.progress(ev)
		c.done[h] = true
		return nil
	}
	cl := &countingLayer{Layer: l, report: func(n int64) {
		p := ev
		p.Kind, p.Done = CopyBlobProgress, n
		c.progress(p)
	}}
	if err := c.pusher.Upload(c.ctx, c.repo, cl); err != nil {
		return registryPushError(fmt.Sprintf("Cannot copy %s %s", object, h), err)
	}
	ev.Kind, ev.Done = CopyBlobDone, size
	if !cl.opened {
		ev.Kind = CopyBlobExists
	}
	c.progress(ev)
	c.done[h] = true
	return nil
}

// putManifest writes a manifest under ref.
func (c *copier) putManifest(ref name.Reference, t remote.Taggable, platform string) error {
	if err := c.pusher.Put(c.ctx, ref, t); err != nil {
		return registryPushError("Cannot write the manifest "+ref.String(), err)
	}
	d, err := mediaDigest(t)
	if err != nil {
		return err
	}
	display := c.repo.RepositoryStr() + "@" + d
	if tag, ok := ref.(name.Tag); ok {
		display = c.repo.RepositoryStr() + ":" + tag.TagStr()
	}
	c.progress(CopyEvent{Kind: CopyManifestDone, Object: "manifest", Digest: d, Platform: platform, Ref: display})
	return nil
}

func mediaDigest(t remote.Taggable) (string, error) {
	raw, err := t.RawManifest()
	if err != nil {
		return "", sourceError("manifest", err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// countingLayer reports how many compressed bytes of a layer were read.
// It hides any other interface of the layer (cross-repository mount
// hints), so every blob is checked and, if missing, uploaded.
type countingLayer struct {
	v1.Layer
	report func(int64)
	opened bool
}

func (l *countingLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	l.opened = true
	return &countingReader{ReadCloser: rc, report: l.report}, nil
}

type countingReader struct {
	io.ReadCloser
	n      int64
	report func(int64)
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		r.n += int64(n)
		r.report(r.n)
	}
	return n, err
}
