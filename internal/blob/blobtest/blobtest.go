// Package blobtest is the conformance suite every blob.Store backend
// passes. A backend's test calls Run with a factory for fresh, empty
// stores:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { … })
//	}
//
// The suite checks the contracts documented in package blob. Errors are
// matched exactly: the outermost *errdefs.Error must have the Kind and
// Reason of the expected prototype (errors.Is would also accept a match
// deep in the cause chain, such as an Internal error caused by a NotFound).
// Because blob's prototypes carry no Reason, prototypes of one Kind
// (ErrNotFound and ErrUploadNotFound; ErrDigestMismatch, ErrSizeMismatch and
// ErrUnsupported) cannot be told apart by errors.Is; the suite checks
// exactly what they carry.
//
// Every subtest runs on a fresh store and ends with no upload sessions
// left (WalkUploads reports none).
package blobtest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// Factory returns a new, empty store; it registers cleanup with t.Cleanup.
type Factory func(t *testing.T) blob.Store

type conformanceTest struct {
	name string
	fn   func(t *testing.T, s blob.Store)
}

var tests = []conformanceTest{
	{"PutStatOpen", testPutStatOpen},
	{"SeekAndRangeRead", testSeekAndRangeRead},
	{"PutDigestMismatch", testPutDigestMismatch},
	{"PutSizeMismatch", testPutSizeMismatch},
	{"PutExistingVerifies", testPutExistingVerifies},
	{"PutReaderError", testPutReaderError},
	{"PutContextCancelled", testPutContextCancelled},
	{"SHA512", testSHA512},
	{"SHA512Large", testSHA512Large},
	{"EmptyBlob", testEmptyBlob},
	{"UnsupportedAlgorithm", testUnsupportedAlgorithm},
	{"MalformedDigest", testMalformedDigest},
	{"Delete", testDelete},
	{"Walk", testWalk},
	{"UploadAccessors", testUploadAccessors},
	{"UploadChunkedResume", testUploadChunkedResume},
	{"UploadCommitUnknownSize", testUploadCommitUnknownSize},
	{"UploadCommitMismatch", testUploadCommitMismatch},
	{"UploadReaderError", testUploadReaderError},
	{"UploadResumeMissing", testUploadResumeMissing},
	{"UploadCreateExisting", testUploadCreateExisting},
	{"UploadInvalidIDs", testUploadInvalidIDs},
	{"UploadCancel", testUploadCancel},
	{"UploadUseAfterEnd", testUploadUseAfterEnd},
	{"DeleteUpload", testDeleteUpload},
	{"WalkUploads", testWalkUploads},
	{"Dedupe", testDedupe},
	{"ConcurrentCommitsSameDigest", testConcurrentCommitsSameDigest},
	{"ConcurrentPutsSameDigest", testConcurrentPutsSameDigest},
	{"ConcurrentDistinctPuts", testConcurrentDistinctPuts},
	{"ConcurrentPutDeleteOpen", testConcurrentPutDeleteOpen},
	{"ReadWhileDeleted", testReadWhileDeleted},
}

// Run runs every conformance test as a named subtest, each on a fresh
// store, and checks afterwards that no upload session was left behind.
func Run(t *testing.T, newStore Factory) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			tc.fn(t, s)
			if !t.Failed() {
				noUploads(t, s)
			}
		})
	}
}

// clockSlack is how far a stored time may lie outside the interval of the
// call that set it: file systems keep coarse clocks.
const clockSlack = 2 * time.Second

// ---- errors

// isProto reports whether the outermost *errdefs.Error in err has proto's
// Kind and Reason.
func isProto(err error, proto *errdefs.Error) bool {
	e, ok := errors.AsType[*errdefs.Error](err)
	return ok && e.Kind == proto.Kind && e.Reason == proto.Reason
}

// wantErr fails unless the outermost *errdefs.Error in err has proto's
// Kind and Reason.
func wantErr(t *testing.T, what string, err error, proto *errdefs.Error) {
	t.Helper()
	if !isProto(err, proto) {
		t.Fatalf("%s: got error %v, want %q (%v)", what, err, proto.Message, proto.Kind)
	}
}

// wantKind fails unless the outermost *errdefs.Error in err has kind k.
func wantKind(t *testing.T, what string, err error, k errdefs.Kind) {
	t.Helper()
	if !errdefs.IsKind(err, k) {
		t.Fatalf("%s: got error %v, want kind %v", what, err, k)
	}
}

// closeReader closes r when the test ends, failing it if Close does.
func closeReader(t *testing.T, r io.Closer) {
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close reader: %v", err)
		}
	})
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ---- content and digests

// random returns n random bytes.
func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return b
}

func sha256Of(b []byte) digest.Digest {
	sum := sha256.Sum256(b)
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum[:]))
}

func sha512Of(b []byte) digest.Digest {
	sum := sha512.Sum512(b)
	return digest.NewDigestFromEncoded(digest.SHA512, hex.EncodeToString(sum[:]))
}

// onlyReader hides every method of r but Read, so io.Copy takes the
// destination's ReadFrom or the plain loop.
type onlyReader struct{ io.Reader }

// ---- store helpers

func put(t *testing.T, s blob.Store, b []byte) blob.Info {
	t.Helper()
	d := sha256Of(b)
	info, err := s.Put(t.Context(), d, int64(len(b)), bytes.NewReader(b))
	must(t, err, "Put")
	if info.Digest != d || info.Size != int64(len(b)) {
		t.Fatalf("Put returned %+v, want digest %s size %d", info, d, len(b))
	}
	return info
}

// readAll reads blob d through Open and checks Size against the bytes read.
func readAll(t *testing.T, s blob.Store, d digest.Digest) []byte {
	t.Helper()
	r, err := s.Open(t.Context(), d)
	must(t, err, "Open "+d.String())
	b, err := io.ReadAll(r)
	must(t, err, "read "+d.String())
	must(t, r.Close(), "Close reader")
	if r.Size() != int64(len(b)) {
		t.Fatalf("Open(%s).Size() = %d, read %d bytes", d, r.Size(), len(b))
	}
	return b
}

func wantContent(t *testing.T, s blob.Store, d digest.Digest, want []byte) {
	t.Helper()
	if got := readAll(t, s, d); !bytes.Equal(got, want) {
		t.Fatalf("content of %s: got %d bytes, want %d (different bytes)", d, len(got), len(want))
	}
}

func wantNoBlob(t *testing.T, s blob.Store, d digest.Digest) {
	t.Helper()
	_, err := s.Stat(t.Context(), d)
	wantErr(t, "Stat "+d.String(), err, blob.ErrNotFound)
}

// walk returns every committed blob, failing on duplicates.
func walk(t *testing.T, s blob.Store) map[digest.Digest]blob.Info {
	t.Helper()
	got := map[digest.Digest]blob.Info{}
	must(t, s.Walk(t.Context(), func(i blob.Info) error {
		if _, dup := got[i.Digest]; dup {
			t.Errorf("Walk reported %s twice", i.Digest)
		}
		got[i.Digest] = i
		return nil
	}), "Walk")
	return got
}

// wantBlobs checks that Walk reports exactly want (digest, size, CreatedAt).
func wantBlobs(t *testing.T, s blob.Store, want ...blob.Info) {
	t.Helper()
	got := walk(t, s)
	if len(got) != len(want) {
		t.Fatalf("Walk reported %d blobs, want %d: %v", len(got), len(want), got)
	}
	for _, w := range want {
		g, ok := got[w.Digest]
		if !ok || g.Size != w.Size || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Fatalf("Walk reported %+v for %s, want %+v", g, w.Digest, w)
		}
	}
}

// uploads returns every session WalkUploads reports.
func uploads(t *testing.T, s blob.Store) map[string]time.Time {
	t.Helper()
	got := map[string]time.Time{}
	must(t, s.WalkUploads(t.Context(), func(id string, modified time.Time) error {
		if _, dup := got[id]; dup {
			t.Errorf("WalkUploads reported %s twice", id)
		}
		got[id] = modified
		return nil
	}), "WalkUploads")
	return got
}

func noUploads(t *testing.T, s blob.Store) {
	t.Helper()
	if got := uploads(t, s); len(got) != 0 {
		t.Fatalf("upload sessions left behind: %v", got)
	}
}

func wantNoUpload(t *testing.T, s blob.Store, id string) {
	t.Helper()
	u, err := s.Upload(t.Context(), id, false)
	if err == nil {
		_ = u.Close()
	}
	wantErr(t, "resume "+id, err, blob.ErrUploadNotFound)
}

func create(t *testing.T, s blob.Store, id string) blob.Upload {
	t.Helper()
	u, err := s.Upload(t.Context(), id, true)
	must(t, err, "create upload "+id)
	return u
}

func resume(t *testing.T, s blob.Store, id string) blob.Upload {
	t.Helper()
	u, err := s.Upload(t.Context(), id, false)
	must(t, err, "resume upload "+id)
	return u
}

func write(t *testing.T, u blob.Upload, b []byte) {
	t.Helper()
	n, err := u.Write(b)
	must(t, err, "Write")
	if n != len(b) {
		t.Fatalf("Write wrote %d of %d bytes", n, len(b))
	}
}

// upload writes b into a new session id in one Write, closes it and
// returns the session resumed.
func upload(t *testing.T, s blob.Store, id string, b []byte) blob.Upload {
	t.Helper()
	u := create(t, s, id)
	write(t, u, b)
	must(t, u.Close(), "Close")
	return resume(t, s, id)
}

// within fails unless got lies in [from-clockSlack, to+clockSlack].
func within(t *testing.T, what string, got, from, to time.Time) {
	t.Helper()
	if got.Before(from.Add(-clockSlack)) || got.After(to.Add(clockSlack)) {
		t.Fatalf("%s = %v, want between %v and %v", what, got, from, to)
	}
}
