// Package fileblob is the local-filesystem blob.Store.
//
// Layout under the root directory (created 0700; every directory below is
// 0700 and every file 0600, because the data dir is private to the server):
//
//	blobs/<alg>/<hex[:2]>/<hex>   committed blobs, immutable
//	uploads/<id>/data             the bytes of an upload session so far
//	uploads/<id>/state            JSON: offset, started_at, sha256 hash state
//	tmp/                          Put's in-flight files; sessions being removed
//
// Every name is resolved through an os.Root, so neither a client-chosen name
// (digests and session ids are validated strictly as well) nor a symbolic
// link planted in the tree reaches outside the root.
//
// Durability and atomicity: a blob only ever appears by renaming a complete,
// fsynced file into place, followed by an fsync of its directory, so readers
// and a crash see the whole blob or none. An open Reader keeps reading its
// inode when the blob is deleted or replaced. A blob's mtime is set when it
// is committed and is its Info.CreatedAt; committing content that exists
// already keeps the existing file and its time.
//
// Upload sessions stream into their data file while a sha256 runs over the
// bytes; Close fsyncs the data and then writes the state file atomically.
// The state is the truth: a data file longer than the state's offset (a
// crash between the two) is truncated on resume, a shorter one means the
// session is corrupt, which is reported as blob.ErrUploadNotFound and the
// session removed.
//
// Blob data goes around the page cache where the file system allows it:
// writes in aligned 1 MiB chunks with O_DIRECT (in the background, double
// buffered), reads of large blobs with O_DIRECT (read ahead); writeback.go
// explains why.
package fileblob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// The top-level directories under the root.
const (
	blobsDir   = "blobs"
	uploadsDir = "uploads"
	tmpDir     = "tmp"
)

const (
	dirPerm  = 0o700
	filePerm = 0o600
	// staleTmp is how old an entry of tmp/ must be before New removes it:
	// far longer than any Put, so a second Store on the same root (tests)
	// never loses an in-flight file.
	staleTmp = time.Hour
	// bufSize is the chunk that blob data is written and read in: large
	// requests are what keep the disk streaming.
	bufSize = 1 << 20
)

// hashes are the supported digest algorithms.
var hashes = map[digest.Algorithm]func() hash.Hash{
	digest.SHA256: sha256.New,
	digest.SHA512: sha512.New,
}

// Store is a blob.Store on the local filesystem. Its methods are safe for
// concurrent use; Close releases it.
type Store struct {
	root *os.Root
	// noDirect is set once the file system has refused O_DIRECT.
	noDirect atomic.Bool
}

var _ blob.Store = (*Store)(nil)

// New opens the store at root, creating root (0700) and its layout when
// missing, and removes entries of tmp/ left behind by a crash.
func New(root string) (*Store, error) {
	if err := os.MkdirAll(root, dirPerm); err != nil {
		return nil, errdefs.Internalf(err, "fileblob: create %s", root)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, errdefs.Internalf(err, "fileblob: open %s", root)
	}
	s := &Store{root: r}
	dirs := []string{blobsDir, uploadsDir, tmpDir}
	for alg := range hashes {
		dirs = append(dirs, filepath.Join(blobsDir, alg.String()))
	}
	for _, d := range dirs {
		if err := r.Mkdir(d, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
			_ = r.Close()
			return nil, errdefs.Internalf(err, "fileblob: create %s", d)
		}
	}
	s.syncDir(".")
	s.syncDir(blobsDir)
	s.removeStaleTmp(time.Now().Add(-staleTmp))
	return s, nil
}

// Close releases the store's root directory handle. Open readers and
// uploads stay usable until they are closed.
func (s *Store) Close() error {
	if err := s.root.Close(); err != nil {
		return errdefs.Internalf(err, "fileblob: close")
	}
	return nil
}

// removeStaleTmp deletes what a crash left in tmp/: entries older than before.
func (s *Store) removeStaleTmp(before time.Time) {
	entries, err := fs.ReadDir(s.root.FS(), tmpDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(before) {
			_ = s.root.RemoveAll(filepath.Join(tmpDir, e.Name()))
		}
	}
}

// syncDir fsyncs a directory so the entries just renamed into or created in
// it are durable. Failure is ignored: some file systems cannot sync a
// directory, and the file data itself is already synced.
func (s *Store) syncDir(name string) {
	d, err := s.root.Open(name)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// openDirect opens name again with O_DIRECT (for writing when write is
// set, else for reading), or returns nil when the platform or the file
// system does not support it; callers then use their ordinary handle.
func (s *Store) openDirect(name string, write bool) *os.File {
	if oDirect == 0 || s.noDirect.Load() {
		return nil
	}
	flag := os.O_RDONLY
	if write {
		flag = os.O_WRONLY
	}
	f, err := s.root.OpenFile(name, flag|oDirect, 0)
	if err != nil {
		if isEINVAL(err) {
			s.noDirect.Store(true)
		}
		return nil
	}
	return f
}

// tmpName returns a fresh, unguessable name under tmp/.
func tmpName(prefix string) string {
	return filepath.Join(tmpDir, prefix+rand.Text())
}

// parseDigest checks that d is well formed and of a supported algorithm.
// A malformed digest is ErrDigestMismatch (the OCI DIGEST_INVALID error
// covers both), an unknown algorithm ErrUnsupported.
func parseDigest(d digest.Digest) (alg digest.Algorithm, hex string, err error) {
	if err := d.Validate(); err != nil {
		if errors.Is(err, digest.ErrDigestUnsupported) {
			return "", "", blob.ErrUnsupported.WithCause(err)
		}
		return "", "", blob.ErrDigestMismatch.WithMessage("the digest is malformed").WithCause(err)
	}
	if _, ok := hashes[d.Algorithm()]; !ok {
		return "", "", blob.ErrUnsupported.WithCause(fmt.Errorf("algorithm %s", d.Algorithm()))
	}
	return d.Algorithm(), d.Encoded(), nil
}

// blobPath is where a committed blob lives, relative to the root.
func blobPath(alg digest.Algorithm, hex string) string {
	return filepath.Join(prefixDir(alg, hex), hex)
}

// prefixDir is the fan-out directory of a blob.
func prefixDir(alg digest.Algorithm, hex string) string {
	return filepath.Join(blobsDir, alg.String(), hex[:2])
}

// ctxErr reports a cancelled or expired context as an *errdefs.Error that
// still matches context.Canceled / context.DeadlineExceeded with errors.Is.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return errdefs.As(err)
	}
	return nil
}

// errNotDir is what the OS reports when a path goes through a file.
var errNotDir error = syscall.ENOTDIR

// isNotExist reports a missing file, or a path component that is not a
// directory (a stray file where the layout expects a directory).
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir)
}
