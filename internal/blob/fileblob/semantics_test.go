package fileblob

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// TestCommitTimeAndDedupe: CreatedAt is the commit time (not the last
// write), and a duplicate commit or Put keeps the first file untouched.
func TestCommitTimeAndDedupe(t *testing.T) {
	s, root := newStore(t)
	ctx := t.Context()
	b := []byte("stamped at commit")
	d := sha256Of(b)
	u := mustUpload(t, s, "old-writes", true)
	writeAll(t, u, b)
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(filepath.Join(root, "uploads/old-writes/data"), long, long); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	info, err := mustUpload(t, s, "old-writes", false).Commit(ctx, d, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if info.CreatedAt.Before(before.Add(-time.Second)) {
		t.Fatalf("CreatedAt = %v, want the commit time (about %v)", info.CreatedAt, before)
	}
	path := filepath.Join(root, "blobs/sha256", d.Encoded()[:2], d.Encoded())
	first, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !first.ModTime().Equal(info.CreatedAt) {
		t.Fatalf("mtime %v, CreatedAt %v", first.ModTime(), info.CreatedAt)
	}

	u = mustUpload(t, s, "dup", true)
	writeAll(t, u, b)
	if _, err := u.Commit(ctx, d, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, d, -1, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(first, after) || !after.ModTime().Equal(first.ModTime()) {
		t.Fatal("a duplicate commit replaced the stored file")
	}
}

// TestCloseSemantics: Close is idempotent and a no-op after Commit or
// Cancel; resuming and closing without writing leaves the state file alone.
func TestCloseSemantics(t *testing.T) {
	s, root := newStore(t)
	ctx := t.Context()
	u := mustUpload(t, s, "c", true)
	writeAll(t, u, []byte("x"))
	for i := range 2 {
		if err := u.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if _, err := u.Write([]byte("y")); !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Fatalf("Write after Close = %v", err)
	}
	if err := u.Cancel(ctx); !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Fatalf("Cancel after Close = %v", err)
	}

	statePath := filepath.Join(root, "uploads/c/state")
	before, err := os.Stat(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := mustUpload(t, s, "c", false).Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Fatal("a Close without writes rewrote the state")
	}

	u = mustUpload(t, s, "c", false)
	if _, err := u.Commit(ctx, sha256Of([]byte("x")), 1); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatalf("Close after Commit: %v", err)
	}
	u = mustUpload(t, s, "d", true)
	if err := u.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatalf("Close after Cancel: %v", err)
	}
}

// TestCommitKeepsSessionOnBadDigest: a malformed or unsupported digest is
// the caller's mistake, not the content's: the session stays usable.
func TestCommitKeepsSessionOnBadDigest(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	u := mustUpload(t, s, "keep", true)
	writeAll(t, u, []byte("abc"))
	_, err := u.Commit(ctx, "sha256:nothex", 3)
	wantErr(t, "malformed", err, blob.ErrDigestMismatch)
	_, err = u.Commit(ctx, digest.Digest("sha384:"+strings.Repeat("0", 96)), 3)
	wantErr(t, "unsupported", err, blob.ErrUnsupported)
	if _, err := u.Commit(ctx, sha256Of([]byte("abc")), 3); err != nil {
		t.Fatal(err)
	}
}

// TestPutStopsAtDeclaredSize: a sender that sends more than it declared
// is stopped at once, not read to the end.
func TestPutStopsAtDeclaredSize(t *testing.T) {
	s, _ := newStore(t)
	r := &countingReader{}
	_, err := s.Put(t.Context(), sha256Of([]byte("0123456789")), 10, r)
	wantErr(t, "Put", err, blob.ErrSizeMismatch)
	if r.n > bufSize {
		t.Fatalf("read %d bytes of an endless stream for a 10-byte blob", r.n)
	}
}

// countingReader is an endless stream of zeros that counts what was read.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	clear(p)
	r.n += int64(len(p))
	return len(p), nil
}
