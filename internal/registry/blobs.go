package registry

import (
	"context"
	"errors"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// blobRef validates a repository name and a digest.
func blobRef(repo string, d digest.Digest) error {
	if err := ValidateRepository(repo); err != nil {
		return err
	}
	_, err := ParseDigest(string(d))
	return err
}

func blobUnknown(d digest.Digest) error {
	return ErrBlobUnknown.WithMessage("blob %s is unknown to the repository", d).WithTarget(string(d))
}

// StatBlob describes a blob linked to the repository; ErrBlobUnknown
// otherwise, whatever other repositories hold.
func (s *Service) StatBlob(ctx context.Context, reg, repo string, d digest.Digest) (blob.Info, error) {
	if err := blobRef(repo, d); err != nil {
		return blob.Info{}, err
	}
	if _, err := s.linked(ctx, reg, repo, d); err != nil {
		return blob.Info{}, err
	}
	info, err := s.blobs.Stat(ctx, d)
	if isBlobErr(err, blob.ErrNotFound) {
		return blob.Info{}, s.lostBlob(ctx, reg, repo, d)
	}
	return info, err
}

// OpenBlob opens a blob linked to the repository.
func (s *Service) OpenBlob(ctx context.Context, reg, repo string, d digest.Digest) (blob.Reader, error) {
	if err := blobRef(repo, d); err != nil {
		return nil, err
	}
	if _, err := s.linked(ctx, reg, repo, d); err != nil {
		return nil, err
	}
	rd, err := s.blobs.Open(ctx, d)
	if isBlobErr(err, blob.ErrNotFound) {
		return nil, s.lostBlob(ctx, reg, repo, d)
	}
	return rd, err
}

// linked returns the size of a blob linked to the repository.
func (s *Service) linked(ctx context.Context, reg, repo string, d digest.Digest) (int64, error) {
	size, err := s.store.BlobLink(ctx, reg, repo, d)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return 0, blobUnknown(d)
	}
	return size, err
}

// lostBlob reports a link whose bytes are gone (a bug, or a blob store
// damaged by hand).
func (s *Service) lostBlob(ctx context.Context, reg, repo string, d digest.Digest) error {
	s.log.ErrorContext(ctx, "linked blob missing from the blob store", "registry", reg, "repository", repo, "digest", d.String())
	return blobUnknown(d)
}

// DeleteBlob unlinks a blob from the repository; the bytes go when nothing
// references them any more (garbage collection).
func (s *Service) DeleteBlob(ctx context.Context, reg, repo string, d digest.Digest) error {
	if err := blobRef(repo, d); err != nil {
		return err
	}
	if err := s.checkRepoWrite(ctx, reg, repo, true); err != nil {
		return err
	}
	err := s.store.UnlinkBlob(ctx, reg, repo, d)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return blobUnknown(d)
	}
	return err
}

// MountBlob links a blob already in the registry into repo: from names the
// source repository; "" means any repository of the same registry (RBAC is
// registry-wide, so this leaks nothing). Blobs of other registries are
// never mounted. ErrBlobUnknown when it cannot mount: the caller then
// starts an upload.
func (s *Service) MountBlob(ctx context.Context, reg, repo, from string, d digest.Digest) (blob.Info, error) {
	if err := blobRef(repo, d); err != nil {
		return blob.Info{}, err
	}
	if from != "" && ValidateRepository(from) != nil {
		return blob.Info{}, blobUnknown(d)
	}
	if err := s.checkRepoWrite(ctx, reg, repo, false); err != nil {
		return blob.Info{}, err
	}
	unlock, err := s.digests.lock(ctx, d.String())
	if err != nil {
		return blob.Info{}, err
	}
	defer unlock()
	var size int64
	switch {
	case from != "":
		size, err = s.store.BlobLink(ctx, reg, from, d)
	default:
		size, err = s.anyLink(ctx, reg, d)
	}
	if errdefs.IsKind(err, errdefs.NotFound) {
		return blob.Info{}, blobUnknown(d)
	}
	if err != nil {
		return blob.Info{}, err
	}
	info, err := s.blobs.Stat(ctx, d)
	if isBlobErr(err, blob.ErrNotFound) {
		return blob.Info{}, blobUnknown(d)
	}
	if err != nil {
		return blob.Info{}, err
	}
	if info.Size != size {
		return blob.Info{}, errdefs.Internalf(nil, "registry: blob %s is %d bytes, linked as %d", d, info.Size, size)
	}
	if err := s.link(ctx, reg, repo, d, size); err != nil {
		return blob.Info{}, err
	}
	return info, nil
}

// anyLink finds a link to the blob in any repository of the registry.
func (s *Service) anyLink(ctx context.Context, reg string, d digest.Digest) (int64, error) {
	if f, ok := s.store.(LinkFinder); ok {
		return f.FindBlobLink(ctx, reg, d)
	}
	const page = 500
	p := Page{N: page}
	for {
		repos, err := s.store.Repositories(ctx, reg, p)
		if err != nil {
			return 0, err
		}
		for _, r := range repos {
			size, err := s.store.BlobLink(ctx, reg, r, d)
			if !errdefs.IsKind(err, errdefs.NotFound) {
				return size, err
			}
		}
		if len(repos) < page {
			return 0, blobUnknown(d)
		}
		p.Last = repos[len(repos)-1]
	}
}

// link records a committed blob in a repository.
func (s *Service) link(ctx context.Context, reg, repo string, d digest.Digest, size int64) error {
	err := s.store.LinkBlob(ctx, reg, repo, d, size)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return ErrNameUnknown.WithMessage("registry %q not found", reg)
	}
	return err
}

// isBlobErr reports whether err is the blob store error proto: the
// outermost *errdefs.Error has the prototype's kind and reason (errors.Is
// would also match a prototype buried in another error's cause chain).
func isBlobErr(err error, proto *errdefs.Error) bool {
	e, ok := errors.AsType[*errdefs.Error](err)
	return ok && e.Kind == proto.Kind && e.Reason == proto.Reason
}

// commitError maps a blob store verification failure to the OCI error.
// Any other InvalidArgument from the store is a digest it rejects.
func commitError(err error, d digest.Digest) error {
	switch {
	case isBlobErr(err, blob.ErrSizeMismatch):
		return ErrSizeInvalid.WithMessage("the content does not match the given length").WithTarget(string(d))
	case isBlobErr(err, blob.ErrUnsupported):
		return ErrDigestInvalid.WithMessage("unsupported digest algorithm %s", d.Algorithm()).WithTarget(string(d))
	case errdefs.IsKind(err, errdefs.InvalidArgument):
		return ErrDigestInvalid.WithMessage("the content does not match digest %s", d).WithTarget(string(d))
	}
	return err
}

// PutBlob stores a whole blob in one request (POST ?digest=… with a body,
// or PUT on a fresh session), verifying digest and size (size < 0: not
// given) while streaming, and links it to the repository.
func (s *Service) PutBlob(ctx context.Context, reg, repo string, d digest.Digest, size int64, r io.Reader) (blob.Info, error) {
	if err := blobRef(repo, d); err != nil {
		return blob.Info{}, err
	}
	if err := s.checkRepoWrite(ctx, reg, repo, false); err != nil {
		return blob.Info{}, err
	}
	unlock, err := s.digests.lock(ctx, d.String())
	if err != nil {
		return blob.Info{}, err
	}
	defer unlock()
	cr := &readErr{r: r}
	info, err := s.blobs.Put(ctx, d, size, cr)
	if err != nil {
		if cr.err != nil {
			return blob.Info{}, ErrBlobUploadInvalid.WithMessage("reading the blob failed").WithCause(cr.err)
		}
		return blob.Info{}, commitError(err, d)
	}
	if err := s.link(ctx, reg, repo, d, info.Size); err != nil {
		return blob.Info{}, err
	}
	return info, nil
}
