package fileblob

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// errUploadClosed is returned by an upload used after Close, Commit or
// Cancel.
var errUploadClosed = errdefs.New(errdefs.FailedPrecondition, "", "the upload session is closed")

// upload is an open session. It is used by one goroutine at a time (the
// blob.Store contract); f is nil once it is closed, committed or cancelled.
type upload struct {
	s         *Store
	id, dir   string
	f         *os.File // uploads/<id>/data
	w         *blobWriter
	h         resumableHash
	startedAt time.Time
	dirty     bool // state on disk is behind
	created   bool // the session directory is new: fsync uploads/ on Close
}

var _ io.ReaderFrom = (*upload)(nil)

func (u *upload) ID() string           { return u.id }
func (u *upload) Size() int64          { return u.w.size() }
func (u *upload) StartedAt() time.Time { return u.startedAt }

// Write appends p to the data and the running hash.
func (u *upload) Write(p []byte) (int, error) {
	if u.f == nil {
		return 0, errUploadClosed
	}
	n, err := u.w.Write(p)
	if n > 0 {
		u.h.Write(p[:n])
		u.dirty = true
	}
	if err != nil {
		return n, errdefs.Internalf(err, "fileblob: write upload %s", u.id)
	}
	return n, nil
}

// ReadFrom appends everything r yields, reading it straight into the
// writer's chunk buffer (1 MiB writes however small r's reads are); io.Copy
// uses it.
func (u *upload) ReadFrom(r io.Reader) (int64, error) {
	if u.f == nil {
		return 0, errUploadClosed
	}
	n, err := u.w.readFrom(r, u.h, nil)
	if n > 0 {
		u.dirty = true
	}
	if re, ok := errors.AsType[errReader](err); ok {
		return n, readErr(re.err)
	}
	if err != nil {
		return n, errdefs.Internalf(err, "fileblob: write upload %s", u.id)
	}
	return n, nil
}

// Close fsyncs the data, saves the offset and hash state, and releases the
// session for resumption. Closing again, or after Commit or Cancel, is a
// no-op.
func (u *upload) Close() error {
	if u.f == nil {
		return nil
	}
	f := u.f
	u.f = nil
	defer u.w.release()
	if u.dirty {
		if err := u.w.sync(); err != nil {
			_ = f.Close()
			return errdefs.Internalf(err, "fileblob: write upload %s", u.id)
		}
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return errdefs.Internalf(err, "fileblob: sync upload %s", u.id)
		}
		if err := u.s.writeState(u.dir, state{Offset: u.w.size(), StartedAt: u.startedAt}, u.h); err != nil {
			_ = f.Close()
			return err
		}
		if u.created {
			u.s.syncDir(uploadsDir)
		}
	}
	if err := f.Close(); err != nil {
		return errdefs.Internalf(err, "fileblob: close upload %s", u.id)
	}
	return nil
}

// Commit verifies the content against size (when ≥ 0) and d and moves it
// into the store, ending the session. sha256 comes from the running hash;
// sha512 is computed by reading the data once. A mismatch discards the
// session; a malformed or unsupported digest, a cancelled ctx or an I/O
// failure leaves it open, for the caller to Close or Cancel.
func (u *upload) Commit(ctx context.Context, d digest.Digest, size int64) (blob.Info, error) {
	if u.f == nil {
		return blob.Info{}, errUploadClosed
	}
	alg, _, err := parseDigest(d)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctxErr(ctx); err != nil {
		return blob.Info{}, err
	}
	if size >= 0 && size != u.Size() {
		_ = u.discard()
		return blob.Info{}, blob.SizeMismatch(u.Size(), size, "")
	}
	if err := u.w.sync(); err != nil {
		return blob.Info{}, errdefs.Internalf(err, "fileblob: write upload %s", u.id)
	}
	var sum []byte
	if alg == digest.SHA256 {
		sum = u.h.Sum(nil)
	} else {
		h := hashes[alg]()
		if _, err := hashReader(ctx, h, io.NewSectionReader(u.f, 0, u.Size()), -1); err != nil {
			return blob.Info{}, err
		}
		sum = h.Sum(nil)
	}
	if err := blob.VerifySum(d, sum); err != nil {
		_ = u.discard()
		return blob.Info{}, err
	}
	info, err := u.s.commitFile(u.f, filepath.Join(u.dir, dataFile), d)
	if err != nil {
		return blob.Info{}, err
	}
	_ = u.discard() // the data has moved (or was a duplicate): drop the rest
	return info, nil
}

// Cancel discards the session.
func (u *upload) Cancel(ctx context.Context) error {
	if u.f == nil {
		return errUploadClosed
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return u.discard()
}

// discard closes the handle and removes the session.
func (u *upload) discard() error {
	u.w.release()
	_ = u.f.Close()
	u.f = nil
	return u.s.removeSession(u.id)
}
