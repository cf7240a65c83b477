package fileblob

import (
	"errors"
	"hash"
	"io"
	"os"
	"sync"
	"unsafe"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// Blob data goes around the page cache. A layer is written once, by a push,
// and then read by pulls at network speed; caching it buys little and costs
// a page-cache page per 4 KiB written, which evicts what is worth caching
// (the metadata database, manifests) and, on virtual machines whose freed
// memory goes back to the host, costs a fault per page: writing 512 MiB
// through the page cache took 1.4 s of CPU on the 2-core benchmark VM,
// against 0.07 s with O_DIRECT. So full chunks of a blob being written go
// to the disk with O_DIRECT from an aligned buffer, and reads of large
// blobs (reader.WriteTo) use O_DIRECT as well. Only the unaligned tail of
// a write goes through the page cache. Where the file system refuses
// O_DIRECT the same code writes through the page cache, starting writeback
// behind itself.
const (
	// blockSize is the alignment direct I/O needs of file offsets,
	// lengths and buffer addresses (4 KiB covers every logical block size
	// in use).
	blockSize = 4096
	// writebackEvery is how many bytes written through the page cache make
	// the writer ask the kernel to start writing them out. Without it a
	// blob's dirty pages sit in memory until the commit's fsync, which
	// then waits for all of them.
	writebackEvery = 8 << 20
)

// chunkPool holds bufSize-byte buffers aligned to blockSize.
var chunkPool = sync.Pool{New: func() any {
	b := make([]byte, bufSize+blockSize)
	skip := (blockSize - int(uintptr(unsafe.Pointer(&b[0]))%blockSize)) % blockSize
	b = b[skip : skip+bufSize : skip+bufSize]
	return &b
}}

func getChunk() *[]byte  { return chunkPool.Get().(*[]byte) }
func putChunk(b *[]byte) { chunkPool.Put(b) }

// blobWriter appends to a file that becomes a blob (an upload's data, or
// Put's temporary file). Bytes collect in an aligned chunk buffer that
// mirrors the file from base. A full chunk is written with one direct
// write, in the background while the next chunk fills (double buffering:
// receiving and hashing overlap with the disk); sync writes out what the
// buffer holds, its unaligned tail through the page cache. One goroutine
// uses it at a time.
type blobWriter struct {
	f      *os.File // the file, opened normally: tails, reads, fsync
	direct *os.File // the same file opened with O_DIRECT, or nil
	buf    *[]byte  // the chunk buffer, nil until needed
	n      int      // (*buf)[:n] holds the file's bytes at [base, base+n)
	base   int64    // a multiple of blockSize
	synced int64    // the file holds every byte below this offset, once inflight is done
	// inflight, when not nil, delivers the outcome of the background
	// write of spare.
	inflight chan chunkResult
	spare    *[]byte
	// flushed is where writeback was last started (page-cache writes).
	flushed int64
	// err is the first write failure. It sticks: the buffered bytes may
	// not all be in the file, so nothing may record them as written.
	err error
}

// chunkResult is the outcome of a background chunk write.
type chunkResult struct {
	err      error
	noDirect bool // the direct write was refused and the chunk went through the page cache
}

// newBlobWriter returns a writer appending to f, whose first end bytes
// are its content so far. direct is f opened with O_DIRECT (nil for
// none); the writer owns it. The partial block at end, if any, is read
// back into the buffer so that direct writes stay aligned.
func newBlobWriter(f, direct *os.File, end int64) (*blobWriter, error) {
	w := &blobWriter{f: f, direct: direct, base: end &^ (blockSize - 1), synced: end, flushed: end}
	if head := int(end - w.base); head > 0 {
		w.buf = getChunk()
		if _, err := f.ReadAt((*w.buf)[:head], w.base); err != nil {
			w.release()
			return nil, err
		}
		w.n = head
	}
	return w, nil
}

// size is the offset the next byte goes to.
func (w *blobWriter) size() int64 { return w.base + int64(w.n) }

// space returns the free part of the chunk buffer, writing the buffer out
// first when it is full.
func (w *blobWriter) space() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	if w.buf == nil {
		w.buf = getChunk()
	}
	if w.n == len(*w.buf) {
		if err := w.writeChunk(); err != nil {
			return nil, err
		}
	}
	return (*w.buf)[w.n:], nil
}

// writeChunk writes out the full buffer and starts the next one: in the
// background when writing directly, so that the caller fills the next
// chunk meanwhile.
func (w *blobWriter) writeChunk() error {
	if err := w.wait(); err != nil {
		return err
	}
	if w.err != nil {
		return w.err
	}
	p, off := (*w.buf)[:w.n], w.base
	if w.direct != nil {
		ch := make(chan chunkResult, 1)
		f, direct := w.f, w.direct
		go func() { ch <- writeChunkAt(f, direct, p, off) }()
		w.inflight = ch
		w.buf, w.spare = w.spare, w.buf
		if w.buf == nil {
			w.buf = getChunk()
		}
	} else if err := w.writeBuffered(p, off); err != nil {
		w.err = err
		return err
	}
	w.base += int64(w.n)
	w.n = 0
	w.synced = w.base
	return nil
}

// writeChunkAt writes an aligned chunk with O_DIRECT, or through the page
// cache when the file system refuses (EINVAL: an alignment it does not
// support).
func writeChunkAt(f, direct *os.File, p []byte, off int64) chunkResult {
	_, err := direct.WriteAt(p, off)
	if err == nil || !isEINVAL(err) {
		return chunkResult{err: err}
	}
	_, err = f.WriteAt(p, off)
	return chunkResult{err: err, noDirect: true}
}

// wait waits for the background write, if any, and returns the writer's
// error; a refused direct write turns direct I/O off for the rest of the
// file.
func (w *blobWriter) wait() error {
	if w.inflight != nil {
		r := <-w.inflight
		w.inflight = nil
		if r.noDirect && w.direct != nil {
			_ = w.direct.Close()
			w.direct = nil
		}
		if r.err != nil && w.err == nil {
			w.err = r.err
		}
	}
	return w.err
}

// writeBuffered writes p at off through the page cache, starting
// writeback every writebackEvery bytes so that the fsync at commit only
// waits for the tail.
func (w *blobWriter) writeBuffered(p []byte, off int64) error {
	if _, err := w.f.WriteAt(p, off); err != nil {
		return err
	}
	if end := off + int64(len(p)); end-w.flushed >= writebackEvery {
		startWriteback(w.f, w.flushed, end-w.flushed)
		w.flushed = end
	}
	return nil
}

// Write appends p.
func (w *blobWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		free, err := w.space()
		if err != nil {
			return written, err
		}
		m := copy(free, p)
		w.n += m
		written += m
		p = p[m:]
	}
	return written, nil
}

// readFrom appends what r yields, reading it straight into the chunk
// buffer and adding each read to h while it is still in the CPU's cache;
// before each read it calls check with the count so far (nil: no check).
// It returns at r's io.EOF (as nil), or with r's error wrapped in
// errReader.
func (w *blobWriter) readFrom(r io.Reader, h hash.Hash, check func(n int64) error) (int64, error) {
	var n int64
	for {
		if check != nil {
			if err := check(n); err != nil {
				return n, err
			}
		}
		free, err := w.space()
		if err != nil {
			return n, errdefs.Internalf(err, "fileblob: write")
		}
		m, rerr := r.Read(free)
		if m > 0 {
			h.Write(free[:m])
			w.n += m
			n += int64(m)
		}
		if errors.Is(rerr, io.EOF) {
			if check != nil {
				return n, check(n)
			}
			return n, nil
		}
		if rerr != nil {
			return n, errReader{rerr}
		}
	}
}

// errReader marks a failure of the reader readFrom copies from.
type errReader struct{ err error }

func (e errReader) Error() string { return e.err.Error() }
func (e errReader) Unwrap() error { return e.err }

// sync writes out whatever the file does not hold yet: it waits for the
// background write, then writes the buffer's aligned part directly and
// the rest through the page cache. It does not fsync.
func (w *blobWriter) sync() error {
	if err := w.wait(); err != nil {
		return err
	}
	end := w.size()
	if w.synced >= end {
		return nil
	}
	if err := w.writeTail(); err != nil {
		w.err = err
		return err
	}
	w.synced = end
	return nil
}

// writeTail writes the buffer: its aligned part directly, the rest
// through the page cache.
func (w *blobWriter) writeTail() error {
	full := w.n &^ (blockSize - 1)
	if from := int(w.synced - w.base); full > from {
		if w.direct != nil {
			r := writeChunkAt(w.f, w.direct, (*w.buf)[:full], w.base)
			if r.noDirect {
				_ = w.direct.Close()
				w.direct = nil
			}
			if r.err != nil {
				return r.err
			}
		} else if err := w.writeBuffered((*w.buf)[:full], w.base); err != nil {
			return err
		}
	}
	if w.n > full {
		if _, err := w.f.WriteAt((*w.buf)[full:w.n], w.base+int64(full)); err != nil {
			return err
		}
	}
	return nil
}

// release waits for the background write, returns the buffers and closes
// the direct handle; f is the caller's.
func (w *blobWriter) release() {
	_ = w.wait()
	for _, b := range []**[]byte{&w.buf, &w.spare} {
		if *b != nil {
			putChunk(*b)
			*b = nil
		}
	}
	if w.direct != nil {
		_ = w.direct.Close()
		w.direct = nil
	}
}
