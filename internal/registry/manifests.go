package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// maxConfigRead bounds the config blob read for ACR's architecture and os
// attributes.
const maxConfigRead = 1 << 20

// reference is a parsed manifest reference: a tag or a digest.
type reference struct {
	tag    string
	digest digest.Digest
}

func parseReference(ref string) (reference, error) {
	if IsDigestReference(ref) {
		d, err := ParseDigest(ref)
		return reference{digest: d}, err
	}
	return reference{tag: ref}, ValidateTag(ref)
}

func (r reference) String() string {
	if r.tag != "" {
		return r.tag
	}
	return string(r.digest)
}

func repositoryUnknown(repo string) error {
	return ErrNameUnknown.WithMessage("repository %q is not found", repo).WithTarget(repo)
}

func manifestUnknown(ref reference) error {
	if ref.tag != "" {
		return ErrManifestUnknown.WithMessage("manifest tagged by %q is not found", ref.tag).WithTarget(ref.tag)
	}
	return ErrManifestUnknown.WithMessage("manifest %s is not found", ref.digest).WithTarget(string(ref.digest))
}

// notFound builds the 404 for a missing tag or manifest: NAME_UNKNOWN when
// the whole repository is missing, MANIFEST_UNKNOWN otherwise.
func (s *Service) notFound(ctx context.Context, reg, repo string, ref reference) error {
	switch _, err := s.store.GetRepository(ctx, reg, repo); {
	case errdefs.IsKind(err, errdefs.NotFound):
		return repositoryUnknown(repo)
	case err != nil:
		return err
	}
	return manifestUnknown(ref)
}

// resolve finds the manifest a reference names, and the tag when it is one.
func (s *Service) resolve(ctx context.Context, reg, repo string, ref reference) (Manifest, *Tag, error) {
	var tag *Tag
	d := ref.digest
	if ref.tag != "" {
		t, err := s.store.GetTag(ctx, reg, repo, ref.tag)
		if errdefs.IsKind(err, errdefs.NotFound) {
			return Manifest{}, nil, s.notFound(ctx, reg, repo, ref)
		}
		if err != nil {
			return Manifest{}, nil, err
		}
		tag, d = &t, t.Digest
	}
	m, err := s.store.GetManifest(ctx, reg, repo, d)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Manifest{}, nil, s.notFound(ctx, reg, repo, ref)
	}
	return m, tag, err
}

// ManifestResolver is an optional Store extension for the hottest read of
// the data plane, a manifest GET: ResolveManifest reads, in one query, the
// manifest a tag (when tag is not "") or a digest names in a repository,
// with the attributes of the tag and of the repository. It fails with
// NotFound when the tag, the manifest or the repository is missing;
// GetManifest then asks again the long way, to tell which one it was.
type ManifestResolver interface {
	ResolveManifest(ctx context.Context, registry, repo, tag string, d digest.Digest) (ResolvedManifest, error)
}

// ResolvedManifest is a ManifestResolver's answer.
type ResolvedManifest struct {
	Manifest Manifest
	// TagAttributes is nil when the manifest was resolved by digest.
	TagAttributes *Attributes
	// RepositoryAttributes are the repository's.
	RepositoryAttributes Attributes
}

// GetManifest resolves ref (a tag or a digest) and opens the manifest's
// bytes. Every call reads the tag, manifest and repository rows from the
// store (one query when the store is a ManifestResolver), so a tag moved,
// a manifest deleted or an attribute changed — by any server sharing the
// store — is seen by the next GET; only the bytes, immutable under their
// digest, may come from memory.
func (s *Service) GetManifest(ctx context.Context, reg, repo, ref string) (Manifest, blob.Reader, error) {
	if err := ValidateRepository(repo); err != nil {
		return Manifest{}, nil, err
	}
	r, err := parseReference(ref)
	if err != nil {
		return Manifest{}, nil, err
	}
	m, err := s.resolveReadable(ctx, reg, repo, r)
	if err != nil {
		return Manifest{}, nil, err
	}
	return s.openResolved(ctx, reg, repo, r, m)
}

// RegistryManifestResolver is an optional Store extension: in one query,
// ResolveRegistryManifest reads a registry by name (NotFound when there is
// none) and what ResolveManifest reads in it; found is false when the tag,
// the manifest or the repository is missing.
type RegistryManifestResolver interface {
	ResolveRegistryManifest(ctx context.Context, registry, repo, tag string, d digest.Digest) (reg Registry, m ResolvedManifest, found bool, err error)
}

// ManifestLookup is a manifest GET begun by LookupManifest: the request's
// names and, when the store read them with the registry, the manifest's
// rows. Nothing in it is checked or revealed until GetLookedUpManifest.
type ManifestLookup struct {
	reg, repo, ref string
	res            *ResolvedManifest
}

// LookupManifest is the first half of a manifest GET on a login server:
// it returns the registry host names, as ByLoginServer does, for the caller
// to authorize the request against, and reads the rows GetLookedUpManifest
// will check in the same store query when the store allows (the query is
// most of a GET's cost). Only the registry's errors are returned here.
func (s *Service) LookupManifest(ctx context.Context, host, repo, ref string) (Registry, ManifestLookup, error) {
	l := ManifestLookup{repo: repo, ref: ref}
	name := registryNameFromHost(host, s.domain)
	rr, ok := s.store.(RegistryManifestResolver)
	r, refErr := parseReference(ref)
	if !ok || !ValidRegistryName(name) || ValidateRepository(repo) != nil || refErr != nil {
		reg, err := s.ByLoginServer(ctx, host)
		l.reg = reg.Name
		return reg, l, err
	}
	reg, res, found, err := rr.ResolveRegistryManifest(ctx, name, repo, r.tag, r.digest)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Registry{}, l, ErrRegistryNotFound.WithMessage("registry '%s' not found", name).WithTarget(name)
	}
	if err != nil {
		return Registry{}, l, err
	}
	l.reg = reg.Name
	if found {
		l.res = &res
	}
	return reg, l, nil
}

// GetLookedUpManifest finishes a manifest GET begun by LookupManifest,
// with GetManifest's checks and answers; it reads the store again only
// when something was missing (to tell what).
func (s *Service) GetLookedUpManifest(ctx context.Context, l ManifestLookup) (Manifest, blob.Reader, error) {
	if l.res == nil {
		return s.GetManifest(ctx, l.reg, l.repo, l.ref)
	}
	r, err := parseReference(l.ref)
	if err != nil {
		return Manifest{}, nil, err
	}
	m, err := checkResolved(*l.res, l.repo, r)
	if err != nil {
		return Manifest{}, nil, err
	}
	return s.openResolved(ctx, l.reg, l.repo, r, m)
}

// checkResolved checks that a resolved manifest, its tag (when ref is
// one) and its repository may be read.
func checkResolved(res ResolvedManifest, repo string, r reference) (Manifest, error) {
	if err := readable("manifest "+string(res.Manifest.Digest), res.Manifest.Attributes); err != nil {
		return Manifest{}, err
	}
	if res.TagAttributes != nil {
		if err := readable("tag "+r.tag, *res.TagAttributes); err != nil {
			return Manifest{}, err
		}
	}
	if err := readable("repository "+repo, res.RepositoryAttributes); err != nil {
		return Manifest{}, err
	}
	return res.Manifest, nil
}

// resolveReadable finds the manifest ref names and checks that it, the tag
// (when ref is one) and the repository may be read.
func (s *Service) resolveReadable(ctx context.Context, reg, repo string, r reference) (Manifest, error) {
	if mr, ok := s.store.(ManifestResolver); ok {
		res, err := mr.ResolveManifest(ctx, reg, repo, r.tag, r.digest)
		switch {
		case err == nil:
			return checkResolved(res, repo, r)
		case !errdefs.IsKind(err, errdefs.NotFound):
			return Manifest{}, err
		}
		// Something is missing: the long way below names what.
	}
	m, tag, err := s.resolve(ctx, reg, repo, r)
	if err != nil {
		return Manifest{}, err
	}
	if err := readable("manifest "+string(m.Digest), m.Attributes); err != nil {
		return Manifest{}, err
	}
	if tag != nil {
		if err := readable("tag "+tag.Name, tag.Attributes); err != nil {
			return Manifest{}, err
		}
	}
	rp, err := s.store.GetRepository(ctx, reg, repo)
	if err != nil {
		return Manifest{}, err
	}
	if err := readable("repository "+repo, rp.Attributes); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// openResolved opens the bytes of m, which ref resolved to.
func (s *Service) openResolved(ctx context.Context, reg, repo string, r reference, m Manifest) (Manifest, blob.Reader, error) {
	rd, err := s.openManifest(ctx, m)
	if isBlobErr(err, blob.ErrNotFound) {
		s.log.ErrorContext(ctx, "manifest missing from the blob store", "registry", reg, "repository", repo, "digest", m.Digest.String())
		return Manifest{}, nil, manifestUnknown(r)
	}
	if err != nil {
		return Manifest{}, nil, err
	}
	return m, rd, nil
}

// openManifest opens m's bytes, from memory when they were read before.
// Small manifests are read whole and verified against their digest before
// they are remembered.
func (s *Service) openManifest(ctx context.Context, m Manifest) (blob.Reader, error) {
	if b, ok := s.manifests.get(m.Digest); ok && int64(len(b)) == m.Size {
		return memBlob{bytes.NewReader(b)}, nil
	}
	rd, err := s.blobs.Open(ctx, m.Digest)
	if err != nil || m.Size > maxCachedManifest || m.Size < 0 {
		return rd, err
	}
	defer func() { _ = rd.Close() }()
	b := make([]byte, m.Size)
	if _, err := io.ReadFull(rd, b); err != nil {
		return nil, errdefs.Internalf(err, "registry: read manifest %s", m.Digest)
	}
	if m.Digest.Validate() == nil && m.Digest.Algorithm().FromBytes(b) == m.Digest {
		s.manifests.put(m.Digest, b)
	} else {
		s.log.ErrorContext(ctx, "manifest bytes do not match their digest", "digest", m.Digest.String())
	}
	return memBlob{bytes.NewReader(b)}, nil
}

// PutManifest validates a manifest and stores it under its digest, and
// points the tag at it when ref is a tag (ref is a tag or the body's
// digest). Validation: size ≤ 4 MiB, JSON, the media type against
// contentType, the schema, every referenced blob linked to the repository
// with the descriptor's size, every child manifest in the repository, and a
// digest reference equal to the body's digest in that digest's algorithm.
func (s *Service) PutManifest(ctx context.Context, reg, repo, ref, contentType string, body []byte) (Manifest, error) {
	if err := ValidateRepository(repo); err != nil {
		return Manifest{}, err
	}
	r, err := parseReference(ref)
	if err != nil {
		return Manifest{}, err
	}
	pm, err := parseManifest(contentType, body)
	if err != nil {
		return Manifest{}, err
	}
	alg := digest.Canonical
	if r.digest != "" {
		alg = r.digest.Algorithm()
	}
	d := alg.FromBytes(body)
	if r.digest != "" && d != r.digest {
		return Manifest{}, ErrDigestInvalid.WithMessage("the manifest's digest is %s, not %s", d, r.digest).WithTarget(ref)
	}
	if err := s.checkRepoWrite(ctx, reg, repo, false); err != nil {
		return Manifest{}, err
	}
	if r.tag != "" {
		t, err := s.store.GetTag(ctx, reg, repo, r.tag)
		switch {
		case err == nil && t.Digest != d:
			if err := writable("tag "+t.Name, t.Attributes, false); err != nil {
				return Manifest{}, err
			}
		case err != nil && !errdefs.IsKind(err, errdefs.NotFound):
			return Manifest{}, err
		}
	}
	if err := s.checkReferences(ctx, reg, repo, pm); err != nil {
		return Manifest{}, err
	}
	now := s.clock()
	m := Manifest{
		Registry: strings.ToLower(reg), Repository: repo, Digest: d,
		MediaType: pm.mediaType, ArtifactType: pm.artifactType, ConfigMediaType: pm.configMediaType,
		Size: int64(len(body)), Subject: pm.subject, Annotations: pm.annotations,
		Attributes: DefaultAttributes, CreatedAt: now, UpdatedAt: now,
	}
	for _, b := range pm.blobs {
		m.Blobs = append(m.Blobs, b.digest)
	}
	for _, c := range pm.children {
		m.Manifests = append(m.Manifests, c.digest)
	}
	if pm.config != nil {
		m.Architecture, m.OS = s.configPlatform(ctx, *pm.config)
	}

	stored, err := s.storeManifest(ctx, m, r.tag, body)
	if err != nil {
		return Manifest{}, err
	}
	s.adoptPlatforms(ctx, reg, repo, pm.children)
	return stored, nil
}

// checkReferences checks what a manifest points at: blobs linked to the
// repository and child manifests in it, each with the descriptor's size.
// The store checks presence again inside its transaction.
func (s *Service) checkReferences(ctx context.Context, reg, repo string, pm parsedManifest) error {
	for _, b := range pm.blobs {
		size, err := s.store.BlobLink(ctx, reg, repo, b.digest)
		switch {
		case errdefs.IsKind(err, errdefs.NotFound):
			return ErrManifestBlobUnknown.WithMessage("blob %s is unknown to the repository", b.digest).WithTarget(string(b.digest))
		case err != nil:
			return err
		case size != b.size:
			return ErrManifestBlobUnknown.WithMessage("blob %s is %d bytes, the manifest says %d", b.digest, size, b.size).WithTarget(string(b.digest))
		}
	}
	for _, c := range pm.children {
		cm, err := s.store.GetManifest(ctx, reg, repo, c.digest)
		switch {
		case errdefs.IsKind(err, errdefs.NotFound):
			return ErrManifestBlobUnknown.WithMessage("manifest %s is unknown to the repository", c.digest).WithTarget(string(c.digest))
		case err != nil:
			return err
		case cm.Size != c.size:
			return ErrManifestBlobUnknown.WithMessage("manifest %s is %d bytes, the index says %d", c.digest, cm.Size, c.size).WithTarget(string(c.digest))
		}
	}
	return nil
}

// storeManifest writes the manifest's bytes to the blob store and its
// record to the Store, holding the digest's lock so that garbage
// collection cannot delete the bytes in between.
func (s *Service) storeManifest(ctx context.Context, m Manifest, tag string, body []byte) (Manifest, error) {
	unlock, err := s.digests.lock(ctx, m.Digest.String())
	if err != nil {
		return Manifest{}, err
	}
	defer unlock()
	if _, err := s.blobs.Put(ctx, m.Digest, m.Size, bytes.NewReader(body)); err != nil {
		return Manifest{}, commitError(err, m.Digest)
	}
	stored, err := s.store.PutManifest(ctx, m, tag)
	switch {
	case errdefs.IsKind(err, errdefs.FailedPrecondition):
		// A link or child went away since checkReferences looked.
		return Manifest{}, ErrManifestBlobUnknown.WithMessage("%s", errdefs.As(err).Message)
	case errdefs.IsKind(err, errdefs.NotFound):
		return Manifest{}, ErrNameUnknown.WithMessage("registry %q not found", m.Registry)
	}
	return stored, err
}

// configPlatform reads architecture and os from an image config blob, best
// effort: only for the known config types, and only when the config is
// small.
func (s *Service) configPlatform(ctx context.Context, c descriptor) (arch, os string) {
	if c.mediaType != mediaTypeOCIConfig && c.mediaType != mediaTypeDockerConfig || c.size > maxConfigRead {
		return "", ""
	}
	rd, err := s.blobs.Open(ctx, c.digest)
	if err != nil {
		return "", ""
	}
	defer func() { _ = rd.Close() }()
	b, err := io.ReadAll(io.LimitReader(rd, maxConfigRead))
	if err != nil {
		return "", ""
	}
	var p wirePlatform
	if json.Unmarshal(b, &p) != nil {
		return "", ""
	}
	return p.Architecture, p.OS
}

// adoptPlatforms gives an index's children without a known platform the
// one the index declares for them, best effort.
func (s *Service) adoptPlatforms(ctx context.Context, reg, repo string, children []descriptor) {
	for _, c := range children {
		if c.architecture == "" && c.os == "" {
			continue
		}
		_, err := s.store.UpdateManifest(ctx, reg, repo, c.digest, func(m *Manifest) error {
			if m.Architecture == "" && m.OS == "" {
				m.Architecture, m.OS = c.architecture, c.os
			}
			return nil
		})
		if err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
			s.log.WarnContext(ctx, "child manifest platform not recorded", "digest", c.digest.String(), "error", err)
		}
	}
}

// DeleteManifest deletes by digest (the manifest and its tags) or by tag
// (the tag only).
func (s *Service) DeleteManifest(ctx context.Context, reg, repo, ref string) error {
	if err := ValidateRepository(repo); err != nil {
		return err
	}
	r, err := parseReference(ref)
	if err != nil {
		return err
	}
	if r.tag != "" {
		return s.DeleteTag(ctx, reg, repo, r.tag)
	}
	m, _, err := s.resolve(ctx, reg, repo, r)
	if err != nil {
		return err
	}
	if err := s.checkRepoWrite(ctx, reg, repo, true); err != nil {
		return err
	}
	if err := writable("manifest "+string(m.Digest), m.Attributes, true); err != nil {
		return err
	}
	tags, err := s.store.TagsOf(ctx, reg, repo, m.Digest)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if err := writable("tag "+t.Name, t.Attributes, true); err != nil {
			return err
		}
	}
	err = s.store.DeleteManifest(ctx, reg, repo, m.Digest)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return manifestUnknown(r)
	}
	return err
}

// Tags lists a repository's tags in lexical order (tags whose listEnabled
// is false are left out); ErrNameUnknown for an unknown repository.
func (s *Service) Tags(ctx context.Context, reg, repo string, p Page) ([]Tag, error) {
	if err := ValidateRepository(repo); err != nil {
		return nil, err
	}
	if _, err := s.repository(ctx, reg, repo); err != nil {
		return nil, err
	}
	return fill(p, func(p Page) ([]Tag, error) { return s.store.Tags(ctx, reg, repo, p) },
		func(t Tag) string { return t.Name }, func(t Tag) bool { return t.Attributes.ListEnabled })
}

// fill pages through fetch until p.N entries pass keep or the listing
// ends, so that filtering does not shorten pages (a short page means the
// end to clients).
func fill[T any](p Page, fetch func(Page) ([]T, error), key func(T) string, keep func(T) bool) ([]T, error) {
	out := []T{}
	for {
		batch, err := fetch(p)
		if err != nil {
			return nil, err
		}
		for _, v := range batch {
			if keep(v) {
				out = append(out, v)
				if p.N > 0 && len(out) == p.N {
					return out, nil
				}
			}
		}
		if p.N <= 0 || len(batch) < p.N {
			return out, nil
		}
		p.Last = key(batch[len(batch)-1])
	}
}

// Catalog lists the registry's repositories in lexical order.
func (s *Service) Catalog(ctx context.Context, reg string, p Page) ([]string, error) {
	return s.store.Repositories(ctx, reg, p)
}

// Referrers lists the repository's manifests whose subject is d, filtered
// by artifactType when not "". An unknown repository has none.
func (s *Service) Referrers(ctx context.Context, reg, repo string, d digest.Digest, artifactType string) ([]Manifest, error) {
	if err := blobRef(repo, d); err != nil {
		return nil, err
	}
	all, err := s.store.Referrers(ctx, reg, repo, d)
	if err != nil {
		return nil, err
	}
	out := make([]Manifest, 0, len(all))
	for _, m := range all {
		if artifactType == "" || m.ArtifactType == artifactType {
			out = append(out, m)
		}
	}
	return out, nil
}
