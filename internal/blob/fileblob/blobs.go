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
	rd := &reader{f: f, size: fi.Size()}
	if rd.size >= directReadMin {
		rd.direct = s.openDirect(blobPath(alg, hex), false)
	}
	return rd, nil
}

// directReadMin is the size from which a blob's WriteTo reads it around
// the page cache (see writeback.go); smaller blobs (configs, manifests,
// small layers) are read through it.
const directReadMin = bufSize

// reader is a committed blob opened for reading.
type reader struct {
	f      *os.File
	direct *os.File // the same blob opened with O_DIRECT, or nil
	size   int64
}

func (r *reader) Read(p []byte) (int, error)                   { return r.f.Read(p) }
func (r *reader) ReadAt(p []byte, off int64) (int, error)      { return r.f.ReadAt(p, off) }
func (r *reader) Seek(offset int64, whence int) (int64, error) { return r.f.Seek(offset, whence) }

func (r *reader) Close() error {
	if r.direct != nil {
		_ = r.direct.Close()
	}
	return r.f.Close()
}

// Size is the blob's length in bytes.
func (r *reader) Size() int64 { return r.size }

// WriteTo writes the rest of the blob to w in 1 MiB chunks: io.Copy uses
// it. A large blob is read with O_DIRECT (see writeback.go), one chunk
// ahead of w.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	pos, err := r.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	if r.direct != nil {
		n, err := r.writeDirect(w, pos)
		if !errors.Is(err, errNoDirect) {
			if _, serr := r.f.Seek(pos+n, io.SeekStart); err == nil {
				err = serr
			}
			return n, err
		}
		_ = r.direct.Close()
		r.direct = nil
	}
	bp := getChunk()
	defer putChunk(bp)
	return io.CopyBuffer(writerOnly{w}, readerOnly{r.f}, *bp)
}

// errNoDirect reports that the file system refused the first direct read.
var errNoDirect = errors.New("fileblob: direct read refused")

// readChunk is a piece of a blob read ahead by writeDirect.
type readChunk struct {
	buf  *[]byte
	data []byte // the part of *buf to write
	err  error
}

// writeDirect copies the blob from pos to w. A goroutine reads it with
// aligned direct reads into two chunk buffers, so that the disk reads the
// next chunk while w takes the current one.
func (r *reader) writeDirect(w io.Writer, pos int64) (int64, error) {
	free := make(chan *[]byte, 2)
	free <- getChunk()
	free <- getChunk()
	chunks := make(chan readChunk, 1)
	done := make(chan struct{})
	go r.readAhead(pos, free, chunks, done)

	var n int64
	var err error
	for c := range chunks {
		if c.err != nil {
			err = c.err
			break
		}
		k, werr := w.Write(c.data)
		n += int64(k)
		free <- c.buf
		if werr != nil {
			err = werr
			break
		}
	}
	close(done)
	for c := range chunks { // until readAhead returns
		if c.buf != nil {
			putChunk(c.buf)
		}
	}
	for len(free) > 0 {
		putChunk(<-free)
	}
	return n, err
}

// readAhead reads the blob from pos into buffers taken from free and sends
// them on chunks (an error ends the stream, errNoDirect when the first read
// is refused), until the end of the blob or done; it closes chunks.
func (r *reader) readAhead(pos int64, free chan *[]byte, chunks chan<- readChunk, done <-chan struct{}) {
	defer close(chunks)
	send := func(c readChunk) bool {
		select {
		case chunks <- c:
			return true
		case <-done:
			if c.buf != nil {
				free <- c.buf
			}
			return false
		}
	}
	off := pos &^ (blockSize - 1)
	skip := int(pos - off)
	for off < r.size {
		select {
		case <-done:
			return
		default:
		}
		var bp *[]byte
		select {
		case bp = <-free:
		case <-done:
			return
		}
		buf := *bp
		want := min(int64(len(buf)), (r.size-off+blockSize-1)&^(blockSize-1))
		m, err := preadDirect(r.direct, buf[:want], off)
		switch {
		case err != nil && off == pos&^(blockSize-1) && (isEINVAL(err) || errors.Is(err, errNoDirect)):
			err = errNoDirect
		case err == nil && m == 0:
			err = io.ErrUnexpectedEOF // the file shrank: not a committed blob
		case err == nil && m&(blockSize-1) != 0 && off+int64(m) < r.size:
			err = io.ErrUnexpectedEOF // a short read inside the blob
		}
		if err != nil {
			free <- bp
			send(readChunk{err: err})
			return
		}
		m = int(min(int64(m), r.size-off))
		if !send(readChunk{buf: bp, data: buf[min(skip, m):m]}) {
			return
		}
		skip = 0
		off += int64(m)
	}
}

// writerOnly and readerOnly hide ReadFrom and WriteTo, so that
// io.CopyBuffer uses the buffer it is given.
type writerOnly struct{ io.Writer }

type readerOnly struct{ io.Reader }

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
