// Package blob declares Cerulean's content-addressed blob store: bytes
// named by their digest, written through resumable upload sessions whose
// hash state is kept across chunks so nothing is read back at commit. One
// copy of each blob serves every repository of every registry; which
// repository may see which blob is metadata, kept elsewhere.
//
// Backends live in sub-packages (fileblob: the local filesystem);
// blobtest is the conformance suite they all pass.
package blob

import (
	"context"
	"io"
	"net/url"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// The errors backends return. Their reasons are internal to the blob layer:
// callers translate them into their protocol's errors.
var (
	ErrNotFound       = errdefs.New(errdefs.NotFound, "BlobNotFound", "blob not found")
	ErrUploadNotFound = errdefs.New(errdefs.NotFound, "BlobUploadNotFound", "upload not found")
	ErrDigestMismatch = errdefs.New(errdefs.InvalidArgument, "BlobDigestMismatch", "the content does not match the digest")
	ErrSizeMismatch   = errdefs.New(errdefs.InvalidArgument, "BlobSizeMismatch", "the content does not match the size")
	ErrUnsupported    = errdefs.New(errdefs.InvalidArgument, "BlobDigestUnsupported", "unsupported digest algorithm")
)

// Info describes a committed blob.
type Info struct {
	Digest    digest.Digest
	Size      int64
	CreatedAt time.Time // when it was first committed (for GC's grace window)
}

// Reader reads a committed blob; it supports seeking (Range requests).
type Reader interface {
	io.ReadSeekCloser
	Size() int64
}

// Store is a blob backend. Every method is safe for concurrent use.
// Supported digest algorithms: sha256 and sha512.
type Store interface {
	// Stat describes a committed blob; ErrNotFound if there is none.
	Stat(ctx context.Context, d digest.Digest) (Info, error)
	// Open opens a committed blob for reading; ErrNotFound if there is none.
	Open(ctx context.Context, d digest.Digest) (Reader, error)
	// Put writes a whole blob from r and commits it under d, verifying the
	// digest (and size, when size ≥ 0) while streaming. Writing a blob that
	// exists already verifies r and keeps the existing copy.
	Put(ctx context.Context, d digest.Digest, size int64, r io.Reader) (Info, error)
	// Delete removes a committed blob; ErrNotFound if there is none.
	Delete(ctx context.Context, d digest.Digest) error
	// Walk calls fn for every committed blob, in no particular order.
	Walk(ctx context.Context, fn func(Info) error) error

	// Upload opens the upload session id for appending, creating it when
	// create is set (and failing with AlreadyExists if it exists), else
	// resuming it (ErrUploadNotFound if there is none). Only one writer may
	// hold a session at a time; callers serialize per id.
	Upload(ctx context.Context, id string, create bool) (Upload, error)
	// DeleteUpload discards an upload session; ErrUploadNotFound if none.
	DeleteUpload(ctx context.Context, id string) error
	// WalkUploads calls fn with each session's id and last write time.
	WalkUploads(ctx context.Context, fn func(id string, modified time.Time) error) error
}

// Redirector is implemented by backends that can send readers straight to
// the bytes (an object store's presigned URL), so a registry need not
// stream them itself. Callers check that the reader may see the blob
// first: a URL is a bearer credential for the blob until it expires.
type Redirector interface {
	// RedirectURL returns a short-lived URL that serves blob d to an
	// unauthenticated GET, with Range support; ok is false when the
	// backend is not configured to redirect. It need not check that d
	// exists.
	RedirectURL(ctx context.Context, d digest.Digest) (u *url.URL, ok bool, err error)
}

// Upload is an open upload session. Bytes written are appended and hashed
// as they arrive (sha256 always); the hash state is saved on Close, so a
// later Upload call resumes without reading the data again.
type Upload interface {
	io.Writer
	// ID is the session id.
	ID() string
	// Size is the number of bytes written so far.
	Size() int64
	// StartedAt is when the session was created.
	StartedAt() time.Time
	// Commit verifies that the content written matches d (and size, when
	// size ≥ 0), moves it into the store under d (fsync, then rename) and
	// ends the session. sha256 is verified from the running hash; other
	// algorithms are computed at commit. On a mismatch the session is
	// discarded and ErrDigestMismatch or ErrSizeMismatch returned.
	Commit(ctx context.Context, d digest.Digest, size int64) (Info, error)
	// Close saves the hash state and releases the session for resumption.
	Close() error
	// Cancel discards the session.
	Cancel(ctx context.Context) error
}
