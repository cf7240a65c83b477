package fileblob

import (
	"context"
	"errors"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// Put writes a whole blob from r and commits it under d, verifying size
// (when size ≥ 0) and digest while streaming into tmp/. More bytes than
// size fail at once, without reading the rest of r. When d exists already
// r is only hashed, never written: the existing file and its CreatedAt are
// kept.
func (s *Store) Put(ctx context.Context, d digest.Digest, size int64, r io.Reader) (blob.Info, error) {
	alg, hexd, err := parseDigest(d)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctxErr(ctx); err != nil {
		return blob.Info{}, err
	}
	h := hashes[alg]()
	target := blobPath(alg, hexd)

	if info, err := s.stat(d, target); err == nil {
		// Verify the caller's bytes, but keep the copy we have. A declared
		// size that differs from the stored blob's is wrong before any byte.
		if size >= 0 && size != info.Size {
			return blob.Info{}, blob.SizeMismatch(size, info.Size, "declared ")
		}
		n, err := hashReader(ctx, h, r, size)
		if err != nil {
			return blob.Info{}, err
		}
		if err := verify(d, h, n, size); err != nil {
			return blob.Info{}, err
		}
		return info, nil
	} else if !errdefs.IsKind(err, errdefs.NotFound) {
		return blob.Info{}, err
	}

	name := tmpName("put-")
	f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return blob.Info{}, errdefs.Internalf(err, "fileblob: create %s", name)
	}
	w, _ := newBlobWriter(f, s.openDirect(name, true), 0) // nothing to read back at 0
	defer func() {
		w.release()
		_ = f.Close()
		_ = s.root.Remove(name) // gone already after a successful commit
	}()
	n, err := w.readFrom(r, h, func(n int64) error {
		if size >= 0 && n > size {
			return blob.SizeMismatch(n, size, "at least ")
		}
		return ctxErr(ctx)
	})
	if re, ok := errors.AsType[errReader](err); ok {
		return blob.Info{}, readErr(re.err)
	}
	if err != nil {
		return blob.Info{}, err
	}
	if err := verify(d, h, n, size); err != nil {
		return blob.Info{}, err
	}
	if err := w.sync(); err != nil {
		return blob.Info{}, errdefs.Internalf(err, "fileblob: write %s", d)
	}
	return s.commitFile(f, name, d)
}

// hashReader reads r into h in chunks of up to bufSize, checking ctx
// between chunks. With size ≥ 0 it stops with ErrSizeMismatch as soon as r
// yields more than size bytes.
func hashReader(ctx context.Context, h hash.Hash, r io.Reader, size int64) (int64, error) {
	bp := getChunk()
	defer putChunk(bp)
	buf := *bp
	var n int64
	for {
		if err := ctxErr(ctx); err != nil {
			return n, err
		}
		m, rerr := fill(r, buf)
		if m > 0 {
			n += int64(m)
			if size >= 0 && n > size {
				return n, blob.SizeMismatch(n, size, "at least ")
			}
			h.Write(buf[:m])
		}
		if errors.Is(rerr, io.EOF) {
			return n, nil
		}
		if rerr != nil {
			return n, readErr(rerr)
		}
	}
}

// fill reads from r until buf is full or r fails (io.EOF included), so a
// body that arrives in TLS-record-sized pieces is still written to disk in
// large chunks.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readErr reports a failure of the caller's reader: an *errdefs.Error (a
// caller's own limit, say) passes through, anything else is Internal with
// the reader's error as its cause.
func readErr(err error) error {
	if _, ok := errors.AsType[*errdefs.Error](err); ok {
		return err
	}
	return errdefs.Internalf(err, "fileblob: read content")
}

// verify compares the bytes counted and hashed against size and d.
func verify(d digest.Digest, h hash.Hash, n, size int64) error {
	if size >= 0 && n != size {
		return blob.SizeMismatch(n, size, "")
	}
	return blob.VerifySum(d, h.Sum(nil))
}

// commitFile moves the complete, verified file f (at name) into the CAS as
// d. Unless d exists already (then f is left where it is for the caller to
// drop), it stamps the commit time as mtime, fsyncs f, renames it into
// place and fsyncs the directory. Two commits racing on one digest both
// succeed: the later rename replaces an identical file, and readers of the
// first keep their inode.
func (s *Store) commitFile(f *os.File, name string, d digest.Digest) (blob.Info, error) {
	alg, hexd := d.Algorithm(), d.Encoded()
	target := blobPath(alg, hexd)
	if info, err := s.stat(d, target); err == nil {
		return info, nil
	} else if !errdefs.IsKind(err, errdefs.NotFound) {
		return blob.Info{}, err
	}
	now := time.Now()
	if err := s.root.Chtimes(name, now, now); err != nil {
		return blob.Info{}, errdefs.Internalf(err, "fileblob: stamp %s", d)
	}
	if err := f.Sync(); err != nil {
		return blob.Info{}, errdefs.Internalf(err, "fileblob: sync %s", d)
	}
	parent := prefixDir(alg, hexd)
	switch err := s.root.Mkdir(parent, dirPerm); {
	case err == nil:
		s.syncDir(filepath.Join(blobsDir, alg.String()))
	case !errors.Is(err, fs.ErrExist):
		return blob.Info{}, errdefs.Internalf(err, "fileblob: create %s", parent)
	}
	if err := s.root.Rename(name, target); err != nil {
		return blob.Info{}, errdefs.Internalf(err, "fileblob: commit %s", d)
	}
	s.syncDir(parent)
	fi, err := f.Stat()
	if err != nil {
		return blob.Info{}, errdefs.Internalf(err, "fileblob: stat %s", d)
	}
	return infoOf(d, fi), nil
}
