package fileblob

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// Stat describes a committed blob; blob.ErrNotFound if there is none.
func (s *Store) Stat(ctx context.Context, d digest.Digest) (blob.Info, error) {
	alg, hex, err := parseDigest(d)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctxErr(ctx); err != nil {
		return blob.Info{}, err
	}
	return s.stat(d, blobPath(alg, hex))
}

// stat describes the blob d at name.
func (s *Store) stat(d digest.Digest, name string) (blob.Info, error) {
	fi, err := s.root.Lstat(name)
	if err != nil {
		if isNotExist(err) {
			return blob.Info{}, blob.ErrNotFound.WithCause(err)
		}
		return blob.Info{}, errdefs.Internalf(err, "fileblob: stat %s", d)
	}
	if !fi.Mode().IsRegular() {
		return blob.Info{}, blob.ErrNotFound.WithCause(errors.New(name + " is not a regular file"))
	}
	return infoOf(d, fi), nil
}

// infoOf builds a blob's Info from its file: CreatedAt is the mtime that
// commit set.
func infoOf(d digest.Digest, fi fs.FileInfo) blob.Info {
	return blob.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime().UTC()}
}

// Open opens a committed blob for reading; blob.ErrNotFound if there is
// none. The reader keeps working if the blob is deleted meanwhile.
func (s *Store) Open(ctx context.Context, d digest.Digest) (blob.Reader, error) {
	alg, hex, err := parseDigest(d)
	if err != nil {
		return nil, err
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	f, err := s.root.Open(blobPath(alg, hex))
	if err != nil {
		if isNotExist(err) {
			return nil, blob.ErrNotFound.WithCause(err)
		}
		return nil, errdefs.Internalf(err, "fileblob: open %s", d)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, errdefs.Internalf(err, "fileblob: stat %s", d)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, blob.ErrNotFound.WithCause(errors.New(d.String() + " is not a regular file"))
	}
	return &reader{f: f, size: fi.Size()}, nil
}

// reader is a committed blob opened for reading.
type reader struct {
	f    *os.File
	size int64
}

func (r *reader) Read(p []byte) (int, error)                   { return r.f.Read(p) }
func (r *reader) ReadAt(p []byte, off int64) (int, error)      { return r.f.ReadAt(p, off) }
func (r *reader) Seek(offset int64, whence int) (int64, error) { return r.f.Seek(offset, whence) }
func (r *reader) Close() error                                 { return r.f.Close() }

// Size is the blob's length in bytes.
func (r *reader) Size() int64 { return r.size }

// WriteTo lets io.Copy use the file's own fast path (sendfile/splice where
// the destination allows it).
func (r *reader) WriteTo(w io.Writer) (int64, error) { return r.f.WriteTo(w) }

// Delete removes a committed blob; blob.ErrNotFound if there is none.
// Readers that have it open keep reading it.
func (s *Store) Delete(ctx context.Context, d digest.Digest) error {
	alg, hex, err := parseDigest(d)
	if err != nil {
		return err
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	name := blobPath(alg, hex)
	if _, err := s.stat(d, name); err != nil {
		return err
	}
	if err := s.root.Remove(name); err != nil {
		if isNotExist(err) {
			return blob.ErrNotFound.WithCause(err)
		}
		return errdefs.Internalf(err, "fileblob: delete %s", d)
	}
	return nil
}

// Walk calls fn for every committed blob, in no particular order. Files
// that are not at a blob's path (strays) are skipped. An error from fn
// stops the walk and is returned as is.
func (s *Store) Walk(ctx context.Context, fn func(blob.Info) error) error {
	var fnErr error
	err := fs.WalkDir(s.root.FS(), blobsDir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p != blobsDir && isNotExist(err) {
				return nil // removed while we walked
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		parts := strings.Split(p, "/") // fs.FS paths always use '/'
		if e.IsDir() {
			if len(parts) > 3 {
				return fs.SkipDir // deeper than blobs/<alg>/<xx>: not ours
			}
			return nil
		}
		d, ok := blobDigest(parts)
		if !ok || !e.Type().IsRegular() {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			if isNotExist(err) {
				return nil
			}
			return err
		}
		if err := fn(infoOf(d, fi)); err != nil {
			fnErr = err
			return fs.SkipAll
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		if ce := ctx.Err(); ce != nil && errors.Is(err, ce) {
			return errdefs.As(err)
		}
		return errdefs.Internalf(err, "fileblob: walk blobs")
	}
	return nil
}

// blobDigest parses blobs/<alg>/<xx>/<hex> back into a digest.
func blobDigest(parts []string) (digest.Digest, bool) {
	if len(parts) != 4 || parts[0] != blobsDir {
		return "", false
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(parts[1]), parts[3])
	_, hex, err := parseDigest(d)
	if err != nil || hex[:2] != parts[2] {
		return "", false
	}
	return d, true
}
