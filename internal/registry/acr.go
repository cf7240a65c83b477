package registry

import (
	"cmp"
	"context"
	"slices"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// This file is ACR's own data-plane API (/acr/v1): repository, tag and
// manifest properties, their changeable attributes, and deletes.

// RepositoryInfo is a repository with its counts.
type RepositoryInfo struct {
	Repository
	ManifestCount, TagCount int
}

// ManifestInfo is a manifest with the names of its tags.
type ManifestInfo struct {
	Manifest
	Tags []string
}

// repository returns a repository or ErrNameUnknown.
func (s *Service) repository(ctx context.Context, reg, repo string) (Repository, error) {
	r, err := s.store.GetRepository(ctx, reg, repo)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Repository{}, repositoryUnknown(repo)
	}
	return r, err
}

// Repository returns a repository's properties.
func (s *Service) Repository(ctx context.Context, reg, repo string) (RepositoryInfo, error) {
	if err := ValidateRepository(repo); err != nil {
		return RepositoryInfo{}, err
	}
	r, err := s.repository(ctx, reg, repo)
	if err != nil {
		return RepositoryInfo{}, err
	}
	return s.repositoryInfo(ctx, r)
}

func (s *Service) repositoryInfo(ctx context.Context, r Repository) (RepositoryInfo, error) {
	ms, err := s.store.Manifests(ctx, r.Registry, r.Name, Page{})
	if err != nil {
		return RepositoryInfo{}, err
	}
	ts, err := s.store.Tags(ctx, r.Registry, r.Name, Page{})
	if err != nil {
		return RepositoryInfo{}, err
	}
	return RepositoryInfo{Repository: r, ManifestCount: len(ms), TagCount: len(ts)}, nil
}

// UpdateRepository changes a repository's attributes.
func (s *Service) UpdateRepository(ctx context.Context, reg, repo string, p AttributesPatch) (RepositoryInfo, error) {
	if err := ValidateRepository(repo); err != nil {
		return RepositoryInfo{}, err
	}
	now := s.clock()
	r, err := s.store.UpdateRepository(ctx, reg, repo, func(r *Repository) error {
		p.apply(&r.Attributes)
		r.UpdatedAt = now
		return nil
	})
	if errdefs.IsKind(err, errdefs.NotFound) {
		return RepositoryInfo{}, repositoryUnknown(repo)
	}
	if err != nil {
		return RepositoryInfo{}, err
	}
	return s.repositoryInfo(ctx, r)
}

// DeleteRepository deletes a repository with its manifests, tags and blob
// links, and reports what it deleted. Nothing is deleted when the
// repository or anything in it is locked.
func (s *Service) DeleteRepository(ctx context.Context, reg, repo string) ([]digest.Digest, []string, error) {
	if err := ValidateRepository(repo); err != nil {
		return nil, nil, err
	}
	r, err := s.repository(ctx, reg, repo)
	if err != nil {
		return nil, nil, err
	}
	if err := writable("repository "+repo, r.Attributes, true); err != nil {
		return nil, nil, err
	}
	ms, err := s.store.Manifests(ctx, reg, repo, Page{})
	if err != nil {
		return nil, nil, err
	}
	for _, m := range ms {
		if err := writable("manifest "+string(m.Digest), m.Attributes, true); err != nil {
			return nil, nil, err
		}
	}
	ts, err := s.store.Tags(ctx, reg, repo, Page{})
	if err != nil {
		return nil, nil, err
	}
	for _, t := range ts {
		if err := writable("tag "+t.Name, t.Attributes, true); err != nil {
			return nil, nil, err
		}
	}
	manifests, tags, err := s.store.DeleteRepository(ctx, reg, repo)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return nil, nil, repositoryUnknown(repo)
	}
	if err != nil {
		return nil, nil, err
	}
	s.log.InfoContext(ctx, "repository deleted", "registry", reg, "repository", repo, "manifests", len(manifests), "tags", len(tags))
	return manifests, tags, nil
}

// tag returns a tag, or ErrNameUnknown / ErrManifestUnknown.
func (s *Service) tag(ctx context.Context, reg, repo, name string) (Tag, error) {
	if err := ValidateRepository(repo); err != nil {
		return Tag{}, err
	}
	if err := ValidateTag(name); err != nil {
		return Tag{}, err
	}
	t, err := s.store.GetTag(ctx, reg, repo, name)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Tag{}, s.notFound(ctx, reg, repo, reference{tag: name})
	}
	return t, err
}

// Tag returns a tag's properties.
func (s *Service) Tag(ctx context.Context, reg, repo, tag string) (Tag, error) {
	return s.tag(ctx, reg, repo, tag)
}

// UpdateTag changes a tag's attributes.
func (s *Service) UpdateTag(ctx context.Context, reg, repo, tag string, p AttributesPatch) (Tag, error) {
	if _, err := s.tag(ctx, reg, repo, tag); err != nil {
		return Tag{}, err
	}
	now := s.clock()
	t, err := s.store.UpdateTag(ctx, reg, repo, tag, func(t *Tag) error {
		p.apply(&t.Attributes)
		t.UpdatedAt = now
		return nil
	})
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Tag{}, manifestUnknown(reference{tag: tag})
	}
	return t, err
}

// DeleteTag removes a tag (the manifest stays).
func (s *Service) DeleteTag(ctx context.Context, reg, repo, tag string) error {
	t, err := s.tag(ctx, reg, repo, tag)
	if err != nil {
		return err
	}
	if err := s.checkRepoWrite(ctx, reg, repo, true); err != nil {
		return err
	}
	if err := writable("tag "+t.Name, t.Attributes, true); err != nil {
		return err
	}
	err = s.store.DeleteTag(ctx, reg, repo, tag)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return manifestUnknown(reference{tag: tag})
	}
	return err
}

// ManifestList is ACR's _manifests listing: by digest (orderby ""), or by
// last update, newest first ("timedesc") or oldest first ("timeasc"); Last
// is a digest in that order.
func (s *Service) ManifestList(ctx context.Context, reg, repo string, p Page, orderby string) ([]ManifestInfo, error) {
	if err := ValidateRepository(repo); err != nil {
		return nil, err
	}
	if _, err := s.repository(ctx, reg, repo); err != nil {
		return nil, err
	}
	var ms []Manifest
	var err error
	switch orderby {
	case "timedesc", "timeasc":
		if ms, err = s.store.Manifests(ctx, reg, repo, Page{}); err != nil {
			return nil, err
		}
		slices.SortStableFunc(ms, func(a, b Manifest) int {
			c := a.UpdatedAt.Compare(b.UpdatedAt)
			if orderby == "timedesc" {
				c = -c
			}
			return cmp.Or(c, cmp.Compare(a.Digest, b.Digest))
		})
		ms = pageAfter(ms, p, func(m Manifest) string { return string(m.Digest) })
	default:
		if ms, err = s.store.Manifests(ctx, reg, repo, p); err != nil {
			return nil, err
		}
	}
	tags, err := s.store.Tags(ctx, reg, repo, Page{})
	if err != nil {
		return nil, err
	}
	byDigest := map[digest.Digest][]string{}
	for _, t := range tags {
		byDigest[t.Digest] = append(byDigest[t.Digest], t.Name)
	}
	out := make([]ManifestInfo, 0, len(ms))
	for _, m := range ms {
		out = append(out, ManifestInfo{Manifest: m, Tags: nonNil(byDigest[m.Digest])})
	}
	return out, nil
}

// pageAfter applies a page to an ordered list whose keys are unique: the
// entries after the one keyed p.Last (all when Last is "" or absent), at
// most p.N.
func pageAfter[T any](all []T, p Page, key func(T) string) []T {
	if p.Last != "" {
		for i, v := range all {
			if key(v) == p.Last {
				all = all[i+1:]
				break
			}
		}
	}
	if p.N > 0 && len(all) > p.N {
		all = all[:p.N]
	}
	return all
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// manifest returns a manifest by digest, or ErrNameUnknown /
// ErrManifestUnknown.
func (s *Service) manifest(ctx context.Context, reg, repo string, d digest.Digest) (Manifest, error) {
	if err := blobRef(repo, d); err != nil {
		return Manifest{}, err
	}
	m, _, err := s.resolve(ctx, reg, repo, reference{digest: d})
	return m, err
}

// Manifest returns a manifest's properties.
func (s *Service) Manifest(ctx context.Context, reg, repo string, d digest.Digest) (ManifestInfo, error) {
	m, err := s.manifest(ctx, reg, repo, d)
	if err != nil {
		return ManifestInfo{}, err
	}
	return s.manifestInfo(ctx, m)
}

func (s *Service) manifestInfo(ctx context.Context, m Manifest) (ManifestInfo, error) {
	tags, err := s.store.TagsOf(ctx, m.Registry, m.Repository, m.Digest)
	if err != nil {
		return ManifestInfo{}, err
	}
	names := make([]string, 0, len(tags))
	for _, t := range tags {
		names = append(names, t.Name)
	}
	return ManifestInfo{Manifest: m, Tags: names}, nil
}

// UpdateManifest changes a manifest's attributes.
func (s *Service) UpdateManifest(ctx context.Context, reg, repo string, d digest.Digest, p AttributesPatch) (ManifestInfo, error) {
	if _, err := s.manifest(ctx, reg, repo, d); err != nil {
		return ManifestInfo{}, err
	}
	now := s.clock()
	m, err := s.store.UpdateManifest(ctx, reg, repo, d, func(m *Manifest) error {
		p.apply(&m.Attributes)
		m.UpdatedAt = now
		return nil
	})
	if errdefs.IsKind(err, errdefs.NotFound) {
		return ManifestInfo{}, manifestUnknown(reference{digest: d})
	}
	if err != nil {
		return ManifestInfo{}, err
	}
	return s.manifestInfo(ctx, m)
}
