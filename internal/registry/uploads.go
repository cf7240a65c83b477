package registry

import (
	"context"
	"encoding/hex"
	"io"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// UploadState is an upload session as the OCI API reports it.
type UploadState struct {
	ID        string
	Offset    int64 // bytes received so far
	StartedAt time.Time
}

// StartUpload opens an upload session for the repository.
func (s *Service) StartUpload(ctx context.Context, reg, repo string) (UploadState, error) {
	if err := ValidateRepository(repo); err != nil {
		return UploadState{}, err
	}
	if err := s.checkRepoWrite(ctx, reg, repo, false); err != nil {
		return UploadState{}, err
	}
	id, err := s.newUploadID()
	if err != nil {
		return UploadState{}, err
	}
	bu, err := s.blobs.Upload(ctx, id, true)
	if err != nil {
		return UploadState{}, err
	}
	if err := bu.Close(); err != nil {
		_ = s.blobs.DeleteUpload(ctx, id)
		return UploadState{}, err
	}
	now := s.clock()
	u := Upload{ID: id, Registry: reg, Repository: repo, StartedAt: now, UpdatedAt: now}
	if err := s.store.CreateUpload(ctx, u); err != nil {
		_ = s.blobs.DeleteUpload(ctx, id)
		if errdefs.IsKind(err, errdefs.NotFound) {
			return UploadState{}, ErrNameUnknown.WithMessage("registry %q not found", reg)
		}
		return UploadState{}, err
	}
	return UploadState{ID: id, StartedAt: now}, nil
}

// newUploadID returns 32 random hex characters (128 bits): unguessable, and
// safe in URLs and file names.
func (s *Service) newUploadID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", errdefs.Internalf(err, "registry: generate upload id")
	}
	return hex.EncodeToString(b[:]), nil
}

func uploadUnknown(id string) error {
	return ErrBlobUploadUnknown.WithMessage("upload %q is unknown to the repository", truncate(id)).WithTarget(truncate(id))
}

// session holds an upload's lock and its open blob.Upload.
type session struct {
	row    Upload
	up     blob.Upload
	unlock func()
}

// open locks the upload id, checks that the session belongs to the
// repository and opens its bytes. The caller must call close, or rely on
// Commit or Cancel having ended the blob session and then call unlock.
func (s *Service) open(ctx context.Context, reg, repo, id string) (*session, error) {
	if err := ValidateRepository(repo); err != nil {
		return nil, err
	}
	unlock, err := s.uploads.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	row, err := s.store.GetUpload(ctx, reg, repo, id)
	if err != nil {
		unlock()
		if errdefs.IsKind(err, errdefs.NotFound) {
			return nil, uploadUnknown(id)
		}
		return nil, err
	}
	up, err := s.blobs.Upload(ctx, id, false)
	if err != nil {
		unlock()
		if isBlobErr(err, blob.ErrUploadNotFound) {
			_ = s.store.DeleteUpload(ctx, id) // its bytes are gone: so is the session
			return nil, uploadUnknown(id)
		}
		return nil, err
	}
	return &session{row: row, up: up, unlock: unlock}, nil
}

// close saves the session's hash state and releases its lock.
func (sn *session) close() error {
	err := sn.up.Close()
	sn.unlock()
	return err
}

func (sn *session) state() UploadState {
	return UploadState{ID: sn.row.ID, Offset: sn.up.Size(), StartedAt: sn.row.StartedAt}
}

// appendChunk writes r at start (-1: wherever the session is).
func (s *Service) appendChunk(ctx context.Context, sn *session, start int64, r io.Reader) error {
	if start >= 0 && start != sn.up.Size() {
		return ErrRangeInvalid.WithMessage("the chunk starts at %d, the upload is at %d", start, sn.up.Size())
	}
	if r == nil {
		return nil
	}
	cr := &readErr{r: r}
	_, err := io.Copy(sn.up, cr)
	if err == nil {
		return s.store.TouchUpload(ctx, sn.row.ID, s.clock())
	}
	_ = s.store.TouchUpload(ctx, sn.row.ID, s.clock())
	if cr.err != nil {
		return ErrBlobUploadInvalid.WithMessage("reading the chunk failed").WithCause(cr.err)
	}
	return errdefs.Internalf(err, "registry: write upload %s", sn.row.ID)
}

// readErr remembers an error of the reader, to tell a client that went
// away from a failing disk.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// WriteUpload appends r to the session; start is the Content-Range start
// (-1 when the request had none: streamed). A start that is not the
// current offset is ErrRangeInvalid, and nothing is written.
func (s *Service) WriteUpload(ctx context.Context, reg, repo, id string, start int64, r io.Reader) (UploadState, error) {
	sn, err := s.open(ctx, reg, repo, id)
	if err != nil {
		return UploadState{}, err
	}
	werr := s.appendChunk(ctx, sn, start, r)
	st := sn.state()
	if err := sn.close(); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return st, werr
	}
	return st, nil
}

// UploadStatus reports how much of the session has been received.
func (s *Service) UploadStatus(ctx context.Context, reg, repo, id string) (UploadState, error) {
	sn, err := s.open(ctx, reg, repo, id)
	if err != nil {
		return UploadState{}, err
	}
	st := sn.state()
	return st, sn.close()
}

// CompleteUpload appends the final chunk r (may be nil or empty; start as
// in WriteUpload), verifies the content against d, commits it and links it
// to the repository. The session ends whatever the outcome of the
// verification.
func (s *Service) CompleteUpload(ctx context.Context, reg, repo, id string, start int64, r io.Reader, d digest.Digest) (blob.Info, error) {
	if err := blobRef(repo, d); err != nil {
		return blob.Info{}, err
	}
	sn, err := s.open(ctx, reg, repo, id)
	if err != nil {
		return blob.Info{}, err
	}
	if err := s.appendChunk(ctx, sn, start, r); err != nil {
		_ = sn.close()
		return blob.Info{}, err
	}
	defer sn.unlock()
	unlock, err := s.digests.lock(ctx, d.String())
	if err != nil {
		_ = sn.up.Close()
		return blob.Info{}, err
	}
	defer unlock()
	info, err := sn.up.Commit(ctx, d, -1)
	if err != nil {
		// Commit ends the session on a mismatch; end it in any case.
		_ = s.blobs.DeleteUpload(ctx, id)
		_ = s.store.DeleteUpload(ctx, id)
		return blob.Info{}, commitError(err, d)
	}
	if err := s.store.DeleteUpload(ctx, id); err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
		s.log.WarnContext(ctx, "upload session row not deleted", "upload", id, "error", err)
	}
	if err := s.link(ctx, reg, repo, d, info.Size); err != nil {
		return blob.Info{}, err
	}
	return info, nil
}

// CancelUpload discards an upload session.
func (s *Service) CancelUpload(ctx context.Context, reg, repo, id string) error {
	sn, err := s.open(ctx, reg, repo, id)
	if err != nil {
		return err
	}
	defer sn.unlock()
	if err := sn.up.Cancel(ctx); err != nil && !isBlobErr(err, blob.ErrUploadNotFound) {
		return err
	}
	if err := s.store.DeleteUpload(ctx, id); err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
		return err
	}
	return nil
}
