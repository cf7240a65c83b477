package s3blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"hash"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// smallPut is the largest Put kept in memory until it verifies and then
// written straight to its final key; larger ones stream to tmp/ first.
const smallPut = minPart

// Put writes a whole blob. Nothing unverified is ever published under
// blobs/: a small blob is verified in memory, then written; a large one is
// streamed to tmp/ while hashed, then copied into place server-side. A blob
// that exists already is verified against r and kept.
func (s *Store) Put(ctx context.Context, d digest.Digest, size int64, r io.Reader) (blob.Info, error) {
	alg, hexd, err := parseDigest(d)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctxErr(ctx); err != nil {
		return blob.Info{}, err
	}
	key := s.blobKey(alg, hexd)
	hr := &hashingReader{ctx: ctx, r: r, h: hashes[alg](), limit: size}
	if info, err := s.stat(ctx, d, key); err == nil {
		if size >= 0 && size != info.Size {
			return blob.Info{}, blob.SizeMismatch(info.Size, size, "")
		}
		if _, err := io.Copy(io.Discard, hr); err != nil {
			return blob.Info{}, hr.fail(err)
		}
		if err := hr.verify(d); err != nil {
			return blob.Info{}, err
		}
		return info, nil
	} else if !errdefs.IsKind(err, errdefs.NotFound) {
		return blob.Info{}, err
	}

	// Read up to one byte more than smallPut: all of a small blob.
	var small bytes.Buffer
	if size >= 0 {
		small.Grow(int(min(size, smallPut) + 1))
	}
	if _, err := small.ReadFrom(io.LimitReader(hr, smallPut+1)); err != nil {
		return blob.Info{}, hr.fail(err)
	}
	buf := small.Bytes()
	if len(buf) <= smallPut {
		if err := hr.verify(d); err != nil {
			return blob.Info{}, err
		}
		if _, err := s.c.PutObject(ctx, s.bucket, key, bytes.NewReader(buf), int64(len(buf)), "", "",
			minio.PutObjectOptions{}); err != nil {
			return blob.Info{}, s3Err(ctx, err, "put %s", d)
		}
		return s.written(ctx, d, key, int64(len(buf)))
	}

	tmp := s.tmpKey()
	defer func() { _ = s.c.RemoveObject(context.WithoutCancel(ctx), s.bucket, tmp, minio.RemoveObjectOptions{}) }()
	body := io.MultiReader(bytes.NewReader(buf), hr)
	if _, err := s.c.Client.PutObject(ctx, s.bucket, tmp, body, size, minio.PutObjectOptions{PartSize: basePart}); err != nil {
		return blob.Info{}, hr.fail(s3Err(ctx, err, "put %s", d))
	}
	// With a declared size the client stops there: anything more is a
	// size mismatch.
	if _, err := io.Copy(io.Discard, hr); err != nil {
		return blob.Info{}, hr.fail(err)
	}
	if err := hr.verify(d); err != nil {
		return blob.Info{}, err
	}
	if err := s.copy(ctx, tmp, key, hr.n); err != nil {
		return blob.Info{}, s3Err(ctx, err, "commit %s", d)
	}
	return s.written(ctx, d, key, hr.n)
}

func (s *Store) tmpKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return s.prefix + tmpDir + hex.EncodeToString(b[:])
}

// hashingReader hashes and counts what it reads, refuses to read past
// limit (when ≥ 0), honours ctx, and remembers the first error it returned
// so that Put reports it rather than what the S3 client made of it.
type hashingReader struct {
	ctx   context.Context
	r     io.Reader
	h     hash.Hash
	n     int64
	limit int64
	err   error
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	if hr.err != nil {
		return 0, hr.err
	}
	if err := ctxErr(hr.ctx); err != nil {
		hr.err = err
		return 0, err
	}
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	hr.n += int64(n)
	switch {
	case hr.limit >= 0 && hr.n > hr.limit:
		hr.err = blob.SizeMismatch(hr.n, hr.limit, "at least ")
		return n, hr.err
	case err == io.EOF && hr.limit >= 0 && hr.n < hr.limit:
		hr.err = blob.SizeMismatch(hr.n, hr.limit, "")
		return n, hr.err
	case err != nil && err != io.EOF:
		hr.err = readErr(err)
		return n, hr.err
	}
	return n, err
}

// fail prefers the reader's own error to err.
func (hr *hashingReader) fail(err error) error {
	if hr.err != nil {
		return hr.err
	}
	return err
}

// verify compares what was read with the declared size and d.
func (hr *hashingReader) verify(d digest.Digest) error {
	if hr.limit >= 0 && hr.n != hr.limit {
		return blob.SizeMismatch(hr.n, hr.limit, "")
	}
	return blob.VerifySum(d, hr.h.Sum(nil))
}

// readErr wraps a failure of the content's reader, keeping it in the chain.
func readErr(err error) error {
	if _, ok := errors.AsType[*errdefs.Error](err); ok {
		return err
	}
	return errdefs.Internalf(err, "s3blob: read content")
}
