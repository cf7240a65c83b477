package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// testPutStatOpen: Put returns the Info that Stat and Walk report, and
// Open reads the bytes back, with a known or an unknown size.
func testPutStatOpen(t *testing.T, s blob.Store) {
	ctx := t.Context()
	plain := func(r io.Reader) io.Reader { return onlyReader{r} }
	for _, tc := range []struct {
		name    string
		n       int
		unknown bool                      // Put with size -1
		reader  func(io.Reader) io.Reader // how the content arrives
	}{
		{"small", 1, false, plain},
		{"odd size", 100*1024 + 7, false, plain},
		{"beyond copy buffers", 3<<20 + 17, false, plain},
		{"unknown size", 70*1024 + 3, true, plain},
		{"one byte per read", 10*1024 + 1, false, iotest.OneByteReader},
		{"data with EOF", 64*1024 + 5, true, iotest.DataErrReader},
		{"half reads", 2<<20 + 3, false, iotest.HalfReader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := random(tc.n)
			d := sha256Of(b)
			size := int64(len(b))
			if tc.unknown {
				size = -1
			}
			before := time.Now()
			info, err := s.Put(ctx, d, size, tc.reader(bytes.NewReader(b)))
			must(t, err, "Put")
			after := time.Now()
			if info.Digest != d || info.Size != int64(len(b)) {
				t.Fatalf("Put = %+v, want digest %s size %d", info, d, len(b))
			}
			within(t, "CreatedAt", info.CreatedAt, before, after)
			st, err := s.Stat(ctx, d)
			must(t, err, "Stat")
			if st.Digest != d || st.Size != info.Size || !st.CreatedAt.Equal(info.CreatedAt) {
				t.Fatalf("Stat = %+v, Put returned %+v", st, info)
			}
			wantContent(t, s, d, b)
		})
	}
}

// testSeekAndRangeRead: the Reader seeks from start, current and end, as
// Range requests need.
func testSeekAndRangeRead(t *testing.T, s blob.Store) {
	b := random(256*1024 + 5)
	d := put(t, s, b).Digest
	r, err := s.Open(t.Context(), d)
	must(t, err, "Open")
	closeReader(t, r)
	if r.Size() != int64(len(b)) {
		t.Fatalf("Size() = %d, want %d", r.Size(), len(b))
	}
	n := int64(len(b))
	steps := []struct {
		name   string
		offset int64
		whence int
		want   int64 // position after the seek
		read   int
	}{
		{"start", 0, io.SeekStart, 0, 10},
		{"middle", 1000, io.SeekStart, 1000, 4096},
		{"forward from current", 100, io.SeekCurrent, 1000 + 4096 + 100, 1},
		{"back from current", -50, io.SeekCurrent, 1000 + 4096 + 100 + 1 - 50, 77},
		{"from end", -100, io.SeekEnd, n - 100, 100},
		{"last byte", n - 1, io.SeekStart, n - 1, 1},
		{"start again", 0, io.SeekStart, 0, len(b)},
	}
	for _, st := range steps {
		pos, err := r.Seek(st.offset, st.whence)
		must(t, err, "Seek "+st.name)
		if pos != st.want {
			t.Fatalf("Seek %s = %d, want %d", st.name, pos, st.want)
		}
		got := make([]byte, st.read)
		_, err = io.ReadFull(r, got)
		must(t, err, "read after seek "+st.name)
		if !bytes.Equal(got, b[pos:pos+int64(st.read)]) {
			t.Fatalf("read after seek %s: wrong bytes", st.name)
		}
	}
	if m, err := r.Read(make([]byte, 1)); m != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("read at the end = %d, %v; want 0, EOF", m, err)
	}
}

// testPutDigestMismatch: content that does not match the digest is refused
// and stored under no name.
func testPutDigestMismatch(t *testing.T, s blob.Store) {
	for _, tc := range []struct {
		name string
		b    []byte
		d    digest.Digest
	}{
		{"sha256", []byte("hello"), sha256Of([]byte("hellO"))},
		{"sha512", []byte("hello"), sha512Of([]byte("hellO"))},
		{"large", random(2<<20 + 1), sha256Of([]byte("other"))},
		{"empty content", nil, sha256Of([]byte("x"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Put(t.Context(), tc.d, int64(len(tc.b)), bytes.NewReader(tc.b))
			wantErr(t, "Put", err, blob.ErrDigestMismatch)
			wantNoBlob(t, s, tc.d)
			wantNoBlob(t, s, sha256Of(tc.b))
			wantBlobs(t, s)
		})
	}
}

// testPutSizeMismatch: a size that does not match the content is refused,
// even when the digest does.
func testPutSizeMismatch(t *testing.T, s blob.Store) {
	b := random(64*1024 + 1)
	d := sha256Of(b)
	for _, tc := range []struct {
		name string
		size int64
	}{
		{"one short", int64(len(b)) - 1},
		{"one over", int64(len(b)) + 1},
		{"zero", 0},
		{"far over", 1 << 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Put(t.Context(), d, tc.size, bytes.NewReader(b))
			wantErr(t, "Put", err, blob.ErrSizeMismatch)
			wantNoBlob(t, s, d)
			wantBlobs(t, s)
		})
	}
}

// testPutExistingVerifies: putting a digest that exists still verifies the
// bytes, and never disturbs the stored copy or its CreatedAt.
func testPutExistingVerifies(t *testing.T, s blob.Store) {
	ctx := t.Context()
	b := random(100 * 1024)
	first := put(t, s, b)
	d := first.Digest
	wrong := bytes.Clone(b)
	wrong[len(wrong)/2] ^= 1

	_, err := s.Put(ctx, d, int64(len(b)), bytes.NewReader(wrong))
	wantErr(t, "Put of wrong bytes under an existing digest", err, blob.ErrDigestMismatch)
	_, err = s.Put(ctx, d, int64(len(b))-1, bytes.NewReader(b[1:]))
	wantErr(t, "Put of a wrong size under an existing digest", err, blob.ErrSizeMismatch)
	_, err = s.Put(ctx, d, int64(len(b))+1, bytes.NewReader(b))
	wantErr(t, "Put of a wrong declared size under an existing digest", err, blob.ErrSizeMismatch)
	wantContent(t, s, d, b)

	again, err := s.Put(ctx, d, int64(len(b)), bytes.NewReader(b))
	must(t, err, "Put again")
	if again.Size != first.Size || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("Put again = %+v, first Put = %+v: CreatedAt is when it was first committed", again, first)
	}
	wantBlobs(t, s, first)
	wantContent(t, s, d, b)
}

var errBoom = errors.New("boom")

// failingReader yields its bytes, then fails.
type failingReader struct {
	b   []byte
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, r.err
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// testPutReaderError: a failing reader fails Put with its error in the
// chain, and nothing is stored.
func testPutReaderError(t *testing.T, s blob.Store) {
	b := random(300 * 1024)
	for _, tc := range []struct {
		name string
		size int64
		err  error
	}{
		{"known size", int64(len(b)), errBoom},
		{"unknown size", -1, errBoom},
		{"unexpected EOF", int64(len(b)), io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Put(t.Context(), sha256Of(b), tc.size, &failingReader{b: b[:len(b)/2], err: tc.err})
			if !errors.Is(err, tc.err) {
				t.Fatalf("Put = %v, want %v in the chain", err, tc.err)
			}
			wantNoBlob(t, s, sha256Of(b))
			wantBlobs(t, s)
		})
	}
}

// cancellingReader cancels its context after the first read.
type cancellingReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.cancel()
	return n, err
}

// testPutContextCancelled: Put honours its context while streaming, and a
// cancelled Put stores nothing.
func testPutContextCancelled(t *testing.T, s blob.Store) {
	b := random(8 << 20)
	d := sha256Of(b)
	ctx, cancel := context.WithCancel(t.Context())
	_, err := s.Put(ctx, d, int64(len(b)), &cancellingReader{r: bytes.NewReader(b), cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v, want context.Canceled in the chain", err)
	}
	_, err = s.Put(ctx, d, int64(len(b)), bytes.NewReader(b))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a context cancelled before = %v, want context.Canceled in the chain", err)
	}
	wantNoBlob(t, s, d)
	wantBlobs(t, s)
}

// testSHA512: sha512 digests work for Put and for uploads, and a blob's
// sha256 and sha512 names are separate blobs.
func testSHA512(t *testing.T, s blob.Store) {
	ctx := t.Context()
	b := random(1<<20 + 333)
	d := sha512Of(b)
	info, err := s.Put(ctx, d, int64(len(b)), bytes.NewReader(b))
	must(t, err, "Put sha512")
	if info.Digest != d || info.Size != int64(len(b)) {
		t.Fatalf("Put = %+v", info)
	}
	wantContent(t, s, d, b)
	wantNoBlob(t, s, sha256Of(b))

	c := random(2<<20 + 9)
	dc := sha512Of(c)
	u := create(t, s, "sha512-upload")
	for i, chunk := range [][]byte{c[:1000], c[1000 : 1<<20], c[1<<20:]} {
		if i > 0 {
			u = resume(t, s, "sha512-upload")
		}
		write(t, u, chunk)
		must(t, u.Close(), "Close")
	}
	u = resume(t, s, "sha512-upload")
	cinfo, err := u.Commit(ctx, dc, int64(len(c)))
	must(t, err, "Commit sha512")
	if cinfo.Digest != dc || cinfo.Size != int64(len(c)) {
		t.Fatalf("Commit = %+v", cinfo)
	}
	wantContent(t, s, dc, c)

	// Same bytes, other algorithm: a second blob.
	both := put(t, s, b)
	wantBlobs(t, s, info, cinfo, both)
	wantNoUpload(t, s, "sha512-upload")
}

// testSHA512Large: a sha512 upload far larger than any backend's chunk or
// part, streamed the way a registry streams a request body (io.Copy from a
// plain reader), across a Close and resume. The right digest commits the
// content; a wrong one stores nothing and ends the session; a commit of
// content that exists already returns the stored blob.
func testSHA512Large(t *testing.T, s blob.Store) {
	ctx := t.Context()
	b := random(17<<20 + 4321)
	d := sha512Of(b)
	stream := func(id string, c []byte) blob.Upload {
		t.Helper()
		u := create(t, s, id)
		half := len(c) / 2
		n, err := io.Copy(u, struct{ io.Reader }{bytes.NewReader(c[:half])})
		must(t, err, "io.Copy")
		must(t, u.Close(), "Close")
		u = resume(t, s, id)
		m, err := io.Copy(u, struct{ io.Reader }{bytes.NewReader(c[half:])})
		must(t, err, "io.Copy after resume")
		if n+m != int64(len(c)) || u.Size() != int64(len(c)) {
			t.Fatalf("copied %d bytes, size %d; want %d", n+m, u.Size(), len(c))
		}
		return u
	}

	u := stream("sha512-wrong", b)
	_, err := u.Commit(ctx, sha512Of(b[1:]), int64(len(b)))
	wantErr(t, "Commit with a wrong sha512", err, blob.ErrDigestMismatch)
	wantNoBlob(t, s, sha512Of(b[1:]))
	wantNoBlob(t, s, d)
	wantNoUpload(t, s, "sha512-wrong")

	u = stream("sha512-large", b)
	info, err := u.Commit(ctx, d, int64(len(b)))
	must(t, err, "Commit sha512")
	if info.Digest != d || info.Size != int64(len(b)) {
		t.Fatalf("Commit = %+v", info)
	}
	wantContent(t, s, d, b)
	wantNoUpload(t, s, "sha512-large")

	u = stream("sha512-again", b)
	again, err := u.Commit(ctx, d, -1)
	must(t, err, "Commit sha512 of a blob that exists")
	if again.Digest != d || again.Size != info.Size {
		t.Fatalf("second Commit = %+v, want %+v", again, info)
	}
	wantContent(t, s, d, b)
	wantNoUpload(t, s, "sha512-again")
}

// testEmptyBlob: the empty blob works through Put and through uploads.
func testEmptyBlob(t *testing.T, s blob.Store) {
	ctx := t.Context()
	for _, d := range []digest.Digest{sha256Of(nil), sha512Of(nil)} {
		t.Run(d.Algorithm().String(), func(t *testing.T) {
			for _, size := range []int64{0, -1} {
				info, err := s.Put(ctx, d, size, bytes.NewReader(nil))
				must(t, err, "Put empty")
				if info.Digest != d || info.Size != 0 {
					t.Fatalf("Put empty = %+v", info)
				}
			}
			wantContent(t, s, d, []byte{})
			must(t, s.Delete(ctx, d), "Delete")

			// An upload committed without a single write.
			u := create(t, s, "empty-"+d.Algorithm().String())
			info, err := u.Commit(ctx, d, 0)
			must(t, err, "Commit empty")
			if info.Size != 0 {
				t.Fatalf("Commit empty = %+v", info)
			}
			wantContent(t, s, d, []byte{})
			must(t, s.Delete(ctx, d), "Delete")

			// Closed and resumed, then committed.
			u = create(t, s, "empty2-"+d.Algorithm().String())
			must(t, u.Close(), "Close")
			u = resume(t, s, "empty2-"+d.Algorithm().String())
			if u.Size() != 0 {
				t.Fatalf("resumed empty upload Size() = %d", u.Size())
			}
			_, err = u.Commit(ctx, d, -1)
			must(t, err, "Commit empty after resume")
			wantContent(t, s, d, []byte{})
		})
	}
}

// A well-formed digest of an algorithm the store does not support.
var unsupportedDigests = []digest.Digest{
	digest.Digest("sha384:" + strings.Repeat("ab", 48)),
	digest.Digest("md5:" + strings.Repeat("ab", 16)),
	digest.Digest("blake3:" + strings.Repeat("ab", 32)),
}

// testUnsupportedAlgorithm: every operation refuses an unsupported
// algorithm with ErrUnsupported.
func testUnsupportedAlgorithm(t *testing.T, s blob.Store) {
	ctx := t.Context()
	for _, d := range unsupportedDigests {
		t.Run(d.Algorithm().String(), func(t *testing.T) {
			_, err := s.Put(ctx, d, 5, strings.NewReader("hello"))
			wantErr(t, "Put", err, blob.ErrUnsupported)
			_, err = s.Stat(ctx, d)
			wantErr(t, "Stat", err, blob.ErrUnsupported)
			_, err = s.Open(ctx, d)
			wantErr(t, "Open", err, blob.ErrUnsupported)
			wantErr(t, "Delete", s.Delete(ctx, d), blob.ErrUnsupported)

			u := create(t, s, "unsupported")
			write(t, u, []byte("hello"))
			_, err = u.Commit(ctx, d, 5)
			wantErr(t, "Commit", err, blob.ErrUnsupported)
			// Whether the session survives is the backend's choice; drop it.
			_ = u.Cancel(ctx)
			_ = u.Close()
			_ = s.DeleteUpload(ctx, "unsupported")
			wantBlobs(t, s)
		})
	}
}

// testMalformedDigest: a malformed digest is an InvalidArgument everywhere
// and never names a blob.
func testMalformedDigest(t *testing.T, s blob.Store) {
	ctx := t.Context()
	good := sha256Of([]byte("hello")).Encoded()
	for _, d := range []digest.Digest{
		"",
		"sha256",
		"sha256:",
		":" + digest.Digest(good),
		"sha256:" + digest.Digest(good[:63]),
		"sha256:" + digest.Digest(strings.ToUpper(good)),
		"SHA256:" + digest.Digest(good),
		"sha256:../../" + digest.Digest(good[6:]),
		"sha256:" + digest.Digest(good) + "/x",
		"sha512:" + digest.Digest(good),
	} {
		t.Run(string(d), func(t *testing.T) {
			_, err := s.Put(ctx, d, 5, strings.NewReader("hello"))
			wantKind(t, "Put", err, errdefs.InvalidArgument)
			_, err = s.Stat(ctx, d)
			wantKind(t, "Stat", err, errdefs.InvalidArgument)
			_, err = s.Open(ctx, d)
			wantKind(t, "Open", err, errdefs.InvalidArgument)
			wantKind(t, "Delete", s.Delete(ctx, d), errdefs.InvalidArgument)
			u := create(t, s, "malformed")
			write(t, u, []byte("hello"))
			_, err = u.Commit(ctx, d, 5)
			wantKind(t, "Commit", err, errdefs.InvalidArgument)
			_ = u.Cancel(ctx)
			_ = u.Close()
			_ = s.DeleteUpload(ctx, "malformed")
			wantBlobs(t, s)
		})
	}
}

// testDelete: Delete removes exactly one blob; deleting again, or a blob
// that never was, is ErrNotFound; the digest can be stored again.
func testDelete(t *testing.T, s blob.Store) {
	ctx := t.Context()
	a, b := random(1000), random(2000)
	ia, ib := put(t, s, a), put(t, s, b)
	must(t, s.Delete(ctx, ia.Digest), "Delete")
	wantNoBlob(t, s, ia.Digest)
	_, err := s.Open(ctx, ia.Digest)
	wantErr(t, "Open deleted", err, blob.ErrNotFound)
	wantErr(t, "Delete again", s.Delete(ctx, ia.Digest), blob.ErrNotFound)
	wantErr(t, "Delete never stored", s.Delete(ctx, sha256Of([]byte("never"))), blob.ErrNotFound)
	_, err = s.Open(ctx, sha512Of([]byte("never")))
	wantErr(t, "Open never stored", err, blob.ErrNotFound)
	wantBlobs(t, s, ib)
	wantContent(t, s, ib.Digest, b)

	ia2 := put(t, s, a)
	wantContent(t, s, ia.Digest, a)
	wantBlobs(t, s, ia2, ib)
}

// testWalk: Walk reports exactly the committed blobs (not uploads, not
// failed puts), with their Info, and stops at fn's error.
func testWalk(t *testing.T, s blob.Store) {
	ctx := t.Context()
	if err := s.Walk(ctx, func(i blob.Info) error {
		t.Fatalf("Walk of an empty store reported %+v", i)
		return nil
	}); err != nil {
		t.Fatalf("Walk of an empty store: %v", err)
	}
	var want []blob.Info
	for i := range 6 {
		want = append(want, put(t, s, random(i*1000+1)))
	}
	c := random(5000)
	info, err := s.Put(ctx, sha512Of(c), int64(len(c)), bytes.NewReader(c))
	must(t, err, "Put sha512")
	want = append(want, info, put(t, s, nil))

	// Neither an uncommitted upload nor a refused Put is a blob.
	u := upload(t, s, "pending", random(100))
	must(t, u.Close(), "Close")
	_, err = s.Put(ctx, sha256Of([]byte("x")), 1, strings.NewReader("y"))
	wantErr(t, "Put mismatch", err, blob.ErrDigestMismatch)

	wantBlobs(t, s, want...)

	calls := 0
	err = s.Walk(ctx, func(blob.Info) error {
		calls++
		return errBoom
	})
	if !errors.Is(err, errBoom) || calls != 1 {
		t.Fatalf("Walk with a failing fn = %v after %d calls, want %v after 1", err, calls, errBoom)
	}
	must(t, s.DeleteUpload(ctx, "pending"), "DeleteUpload")
}
