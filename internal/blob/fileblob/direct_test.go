package fileblob

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"
)

// The blob writer and reader move whole aligned chunks with O_DIRECT and
// everything else through the page cache. These tests cross every
// boundary that matters — chunk ends, unaligned session ends, resumption
// in the middle of a block, reads from unaligned offsets — with direct I/O
// available (whatever the test's file system allows) and with it off.

// bothModes runs fn with a store that uses direct I/O where the file
// system allows, and with one that never does.
func bothModes(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("direct", func(t *testing.T) {
		s, _ := newStore(t)
		fn(t, s)
	})
	t.Run("page-cache", func(t *testing.T) {
		s, _ := newStore(t)
		s.noDirect.Store(true)
		fn(t, s)
	})
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// TestUploadAcrossChunksAndResumes writes a blob of several chunks in
// pieces of awkward sizes, closing and resuming the session at unaligned
// offsets on the way, and checks what is committed.
func TestUploadAcrossChunksAndResumes(t *testing.T) {
	bothModes(t, func(t *testing.T, s *Store) {
		data := randomBytes(t, 3*bufSize+12345)
		cuts := []int{0, 1, blockSize - 1, blockSize + 7, bufSize - 3, bufSize + 1, 2*bufSize + blockSize, 3 * bufSize, len(data)}
		u := mustUpload(t, s, "multi", true)
		for i := 1; i < len(cuts); i++ {
			piece := data[cuts[i-1]:cuts[i]]
			if i%2 == 0 {
				writeAll(t, u, piece)
			} else if _, err := io.Copy(u, iotest.HalfReader(bytes.NewReader(piece))); err != nil {
				t.Fatal(err) // ReadFrom, with short reads
			}
			if u.Size() != int64(cuts[i]) {
				t.Fatalf("size %d after piece %d, want %d", u.Size(), i, cuts[i])
			}
			if err := u.Close(); err != nil {
				t.Fatal(err)
			}
			u = mustUpload(t, s, "multi", false)
			if u.Size() != int64(cuts[i]) {
				t.Fatalf("resumed at %d, want %d", u.Size(), cuts[i])
			}
		}
		info, err := u.Commit(t.Context(), sha256Of(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		checkBlob(t, s, info.Digest, data)
	})
}

// TestUploadSHA512 commits a multi-chunk upload under sha512, which reads
// the data back at commit.
func TestUploadSHA512(t *testing.T) {
	bothModes(t, func(t *testing.T, s *Store) {
		data := randomBytes(t, 2*bufSize+5)
		u := mustUpload(t, s, "sha512", true)
		if _, err := io.Copy(u, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		info, err := u.Commit(t.Context(), digest.SHA512.FromBytes(data), -1)
		if err != nil {
			t.Fatal(err)
		}
		checkBlob(t, s, info.Digest, data)
	})
}

// TestPutLarge stores multi-chunk blobs in one Put: sizes at, just below
// and just above chunk and block boundaries.
func TestPutLarge(t *testing.T) {
	bothModes(t, func(t *testing.T, s *Store) {
		for _, n := range []int{bufSize - 1, bufSize, bufSize + 1, 2*bufSize + blockSize, 2*bufSize + blockSize + 1} {
			data := randomBytes(t, n)
			d := sha256Of(data)
			if _, err := s.Put(t.Context(), d, int64(n), iotest.HalfReader(bytes.NewReader(data))); err != nil {
				t.Fatalf("Put %d bytes: %v", n, err)
			}
			checkBlob(t, s, d, data)
		}
	})
}

// checkBlob reads the blob back every way a registry does: Read, WriteTo
// from the start (io.Copy), and WriteTo after a Seek to unaligned and
// aligned offsets, including the very end.
func checkBlob(t *testing.T, s *Store, d digest.Digest, want []byte) {
	t.Helper()
	r, err := s.Open(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if rd := r.(*reader); len(want) >= directReadMin && !s.noDirect.Load() && rd.direct == nil {
		t.Error("a large blob was not opened for direct reads, though the file system allows them")
	}
	got, err := io.ReadAll(readerOnly{r})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Read: %d bytes, %v; want %d bytes", len(got), err, len(want))
	}
	size := int64(len(want))
	for _, off := range []int64{0, 1, blockSize - 1, blockSize, bufSize + 3, size - 1, size} {
		if off < 0 || off > size {
			continue
		}
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		n, err := io.Copy(&b, r) // WriteTo
		if err != nil || n != size-off || !bytes.Equal(b.Bytes(), want[off:]) {
			t.Fatalf("WriteTo from %d: %d bytes, %v; want %d bytes", off, n, err, size-off)
		}
		if pos, _ := r.Seek(0, io.SeekCurrent); pos != size {
			t.Fatalf("position after WriteTo from %d: %d, want %d", off, pos, size)
		}
	}
}

// failingWriter takes limit bytes, then fails.
type failingWriter struct{ limit int }

var errWriter = errors.New("the client went away")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		n := w.limit
		w.limit = 0
		return n, errWriter
	}
	w.limit -= len(p)
	return len(p), nil
}

// TestWriteToStopsOnWriterError: a failing destination stops the copy
// (and its read-ahead) with the writer's error and the count it took.
func TestWriteToStopsOnWriterError(t *testing.T) {
	bothModes(t, func(t *testing.T, s *Store) {
		data := randomBytes(t, 4*bufSize)
		d := sha256Of(data)
		if _, err := s.Put(t.Context(), d, -1, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		r, err := s.Open(t.Context(), d)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		n, err := io.Copy(&failingWriter{limit: bufSize + 100}, r)
		if !errors.Is(err, errWriter) || n != bufSize+100 {
			t.Fatalf("got %d, %v; want %d, %v", n, err, bufSize+100, errWriter)
		}
	})
}

// TestFailedChunkWriteIsNotRecorded: once writing the data fails, Close
// must not save a state that covers bytes the file may not hold; the
// session resumes where it was last closed.
func TestFailedChunkWriteIsNotRecorded(t *testing.T) {
	s, _ := newStore(t)
	first := randomBytes(t, 100)
	u := mustUpload(t, s, "broken", true)
	writeAll(t, u, first)
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	u = mustUpload(t, s, "broken", false)
	up := u.(*upload)
	_ = up.f.Close() // every write to the data file now fails
	up.w.release()
	up.w.direct = nil
	if _, err := u.Write(randomBytes(t, 2*bufSize)); err == nil {
		t.Fatal("write to a closed file succeeded")
	}
	if err := u.Close(); err == nil || !strings.Contains(err.Error(), "upload") {
		t.Fatalf("Close after a failed write: %v", err)
	}
	u = mustUpload(t, s, "broken", false)
	if u.Size() != int64(len(first)) {
		t.Fatalf("resumed at %d, want %d", u.Size(), len(first))
	}
	_ = u.Cancel(t.Context())
}
