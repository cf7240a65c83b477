package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// Open opens a committed blob. The reader streams one ranged GET from its
// position; a Seek that moves it closes the stream and the next Read opens
// another, so Range requests fetch only what they serve.
func (s *Store) Open(ctx context.Context, d digest.Digest) (blob.Reader, error) {
	alg, hex, err := parseDigest(d)
	if err != nil {
		return nil, err
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	key := s.blobKey(alg, hex)
	info, err := s.stat(ctx, d, key)
	if err != nil {
		return nil, err
	}
	return &reader{ctx: ctx, s: s, d: d, keys: [2]string{key, s.deletedKey(alg, hex)}, size: info.Size}, nil
}

type reader struct {
	ctx  context.Context
	s    *Store
	d    digest.Digest
	keys [2]string // the blob, then where Delete keeps it for its readers
	size int64
	pos  int64
	body io.ReadCloser // nil until the next Read
	// retried is set once a broken stream was reopened; a second break
	// in a row fails the read.
	retried bool
}

func (r *reader) Size() int64 { return r.size }

func (r *reader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.body == nil {
		if err := r.get(); err != nil {
			return 0, err
		}
	}
	n, err := r.body.Read(p)
	if n > 0 {
		r.retried = false
	}
	r.pos += int64(n)
	if err == io.EOF && r.pos < r.size {
		err = io.ErrUnexpectedEOF
	}
	switch {
	case err != nil && err != io.EOF && r.ctx.Err() == nil && !r.retried:
		// A stream cut short (the object deleted under it, a dropped
		// connection): the next Read asks again from where it stopped.
		r.closeBody()
		r.retried = true
		return n, nil
	case err == io.EOF:
		r.closeBody()
		if n > 0 {
			return n, nil
		}
		return 0, io.EOF
	case err != nil:
		r.closeBody()
		return n, s3Err(r.ctx, err, "read %s", r.d)
	}
	return n, nil
}

// get opens a ranged GET from pos to the end, falling back to the copy a
// Delete keeps when the blob itself is gone.
func (r *reader) get() error {
	var opts minio.GetObjectOptions
	if err := opts.SetRange(r.pos, r.size-1); err != nil {
		return errdefs.Internalf(err, "s3blob: read %s", r.d)
	}
	var err error
	for _, key := range r.keys {
		var body io.ReadCloser
		var oi minio.ObjectInfo
		body, oi, _, err = r.s.c.GetObject(r.ctx, r.s.bucket, key, opts)
		if err == nil && oi.Size != r.size-r.pos {
			// A range of some other object: content-addressed keys make
			// this a corrupt store, not a race.
			_ = body.Close()
			err = fmt.Errorf("%s: range from %d is %d bytes, want %d", key, r.pos, oi.Size, r.size-r.pos)
		}
		if err == nil {
			r.body = body
			return nil
		}
		if !isNotFound(err) {
			break
		}
	}
	if isNotFound(err) {
		return blob.ErrNotFound.WithCause(err)
	}
	return s3Err(r.ctx, err, "read %s", r.d)
}

func (r *reader) closeBody() {
	if r.body != nil {
		_ = r.body.Close()
		r.body = nil
	}
}

var errNegativeSeek = errors.New("s3blob: seek to a negative position")

func (r *reader) Seek(offset int64, whence int) (int64, error) {
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = r.pos + offset
	case io.SeekEnd:
		pos = r.size + offset
	default:
		return r.pos, fmt.Errorf("s3blob: seek: invalid whence %d", whence)
	}
	if pos < 0 {
		return r.pos, errNegativeSeek
	}
	if pos != r.pos {
		r.closeBody()
		r.pos = pos
	}
	return pos, nil
}

func (r *reader) Close() error {
	r.closeBody()
	return nil
}
