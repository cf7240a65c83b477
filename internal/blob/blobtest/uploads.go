package blobtest

import (
	"bytes"
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

// testUploadAccessors: ID, Size and StartedAt describe the session, and
// survive Close and resume.
func testUploadAccessors(t *testing.T, s blob.Store) {
	const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
	before := time.Now()
	u := create(t, s, id)
	after := time.Now()
	if u.ID() != id || u.Size() != 0 {
		t.Fatalf("new upload: ID() = %q, Size() = %d", u.ID(), u.Size())
	}
	started := u.StartedAt()
	within(t, "StartedAt", started, before, after)
	write(t, u, []byte("hello"))
	if u.Size() != 5 {
		t.Fatalf("Size() after 5 bytes = %d", u.Size())
	}
	must(t, u.Close(), "Close")
	u = resume(t, s, id)
	if u.ID() != id || u.Size() != 5 {
		t.Fatalf("resumed upload: ID() = %q, Size() = %d", u.ID(), u.Size())
	}
	if d := u.StartedAt().Sub(started).Abs(); d > time.Second {
		t.Fatalf("resumed StartedAt = %v, created at %v", u.StartedAt(), started)
	}
	must(t, u.Cancel(t.Context()), "Cancel")
}

// testUploadChunkedResume: an upload written in many chunks of odd sizes,
// closed and resumed between every one (and written both with Write and
// through io.Copy), commits to the right blob.
func testUploadChunkedResume(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const id = "chunked"
	b := random(3<<20 + 4321)
	sizes := []int{1, 7, 0, 4096, 65535, 1 << 20, 100000, 3, 1<<20 + 1}
	var chunks [][]byte
	rest := b
	for _, n := range sizes {
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	chunks = append(chunks, rest)

	u := create(t, s, id)
	var written int64
	for i, c := range chunks {
		if i > 0 {
			u = resume(t, s, id)
		}
		if u.Size() != written {
			t.Fatalf("chunk %d: resumed at %d, want %d", i, u.Size(), written)
		}
		switch i % 3 {
		case 0:
			write(t, u, c)
		case 1:
			n, err := io.Copy(u, onlyReader{bytes.NewReader(c)})
			must(t, err, "io.Copy")
			if n != int64(len(c)) {
				t.Fatalf("io.Copy wrote %d of %d", n, len(c))
			}
		case 2:
			n, err := io.Copy(u, iotest.HalfReader(bytes.NewReader(c)))
			must(t, err, "io.Copy of half reads")
			if n != int64(len(c)) {
				t.Fatalf("io.Copy wrote %d of %d", n, len(c))
			}
		}
		written += int64(len(c))
		if _, ok := uploads(t, s)[id]; !ok {
			t.Fatalf("chunk %d: WalkUploads does not list %s", i, id)
		}
		must(t, u.Close(), "Close")
	}
	u = resume(t, s, id)
	info, err := u.Commit(ctx, sha256Of(b), int64(len(b)))
	must(t, err, "Commit")
	if info.Digest != sha256Of(b) || info.Size != int64(len(b)) {
		t.Fatalf("Commit = %+v", info)
	}
	wantContent(t, s, info.Digest, b)
	wantBlobs(t, s, info)
	wantNoUpload(t, s, id)
}

// testUploadCommitUnknownSize: size -1 skips the size check.
func testUploadCommitUnknownSize(t *testing.T, s blob.Store) {
	b := random(12345)
	u := upload(t, s, "unknown-size", b)
	info, err := u.Commit(t.Context(), sha256Of(b), -1)
	must(t, err, "Commit")
	if info.Size != int64(len(b)) {
		t.Fatalf("Commit = %+v", info)
	}
	wantContent(t, s, info.Digest, b)
}

// testUploadCommitMismatch: a commit that does not match discards the
// session and stores nothing.
func testUploadCommitMismatch(t *testing.T, s blob.Store) {
	b := random(50000)
	for _, tc := range []struct {
		name    string
		d       digest.Digest
		size    int64
		want    *errdefs.Error
		resumed bool // Close and resume before the commit
	}{
		{"wrong digest", sha256Of(b[1:]), int64(len(b)), blob.ErrDigestMismatch, false},
		{"wrong digest after resume", sha256Of(b[1:]), -1, blob.ErrDigestMismatch, true},
		{"wrong sha512", sha512Of(b[1:]), int64(len(b)), blob.ErrDigestMismatch, true},
		{"size too small", sha256Of(b), int64(len(b)) - 1, blob.ErrSizeMismatch, false},
		{"size too large", sha256Of(b), int64(len(b)) + 1, blob.ErrSizeMismatch, true},
		{"size zero", sha256Of(b), 0, blob.ErrSizeMismatch, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const id = "mismatch"
			u := create(t, s, id)
			write(t, u, b)
			if tc.resumed {
				must(t, u.Close(), "Close")
				u = resume(t, s, id)
			}
			_, err := u.Commit(t.Context(), tc.d, tc.size)
			wantErr(t, "Commit", err, tc.want)
			wantNoUpload(t, s, id)
			wantNoBlob(t, s, tc.d)
			wantNoBlob(t, s, sha256Of(b))
			_ = u.Close()
			wantBlobs(t, s)
		})
	}
}

// testUploadReaderError: a failing source leaves the session consistent:
// what Size reports is what a resume finds.
func testUploadReaderError(t *testing.T, s blob.Store) {
	const id = "reader-error"
	b := random(3 << 20)
	u := create(t, s, id)
	n, err := io.Copy(u, &failingReader{b: b[:2<<20], err: errBoom})
	if !errors.Is(err, errBoom) {
		t.Fatalf("io.Copy = %v, want %v in the chain", err, errBoom)
	}
	if u.Size() != n {
		t.Fatalf("Size() = %d after io.Copy wrote %d", u.Size(), n)
	}
	must(t, u.Close(), "Close")
	u = resume(t, s, id)
	if u.Size() != n {
		t.Fatalf("resumed at %d, want %d", u.Size(), n)
	}
	write(t, u, b[n:])
	info, err := u.Commit(t.Context(), sha256Of(b), int64(len(b)))
	must(t, err, "Commit")
	wantContent(t, s, info.Digest, b)
}

// testUploadResumeMissing: resuming or deleting a session that never
// existed is ErrUploadNotFound.
func testUploadResumeMissing(t *testing.T, s blob.Store) {
	wantNoUpload(t, s, "never-created")
	wantErr(t, "DeleteUpload", s.DeleteUpload(t.Context(), "never-created"), blob.ErrUploadNotFound)
}

// testUploadCreateExisting: creating a session that exists is
// AlreadyExists, whether it is open or closed, and leaves it intact.
func testUploadCreateExisting(t *testing.T, s blob.Store) {
	const id = "existing"
	u := create(t, s, id)
	write(t, u, []byte("abc"))
	_, err := s.Upload(t.Context(), id, true)
	wantKind(t, "create while open", err, errdefs.AlreadyExists)
	must(t, u.Close(), "Close")
	_, err = s.Upload(t.Context(), id, true)
	wantKind(t, "create while closed", err, errdefs.AlreadyExists)
	u = resume(t, s, id)
	if u.Size() != 3 {
		t.Fatalf("existing session resumed at %d, want 3", u.Size())
	}
	write(t, u, []byte("def"))
	info, err := u.Commit(t.Context(), sha256Of([]byte("abcdef")), 6)
	must(t, err, "Commit")
	wantContent(t, s, info.Digest, []byte("abcdef"))
}

// Session ids no store accepts: they must never become paths.
var invalidIDs = []string{
	"", ".", "..", "../x", "../../etc", "a/b", "/abs", `a\b`, "a/../b", "a b", "a\x00b", "ä", "id\n",
	strings.Repeat("a", 200),
}

// testUploadInvalidIDs: an invalid id is ErrUploadNotFound for create,
// resume and delete, and creates nothing.
func testUploadInvalidIDs(t *testing.T, s blob.Store) {
	ctx := t.Context()
	for _, id := range invalidIDs {
		for _, create := range []bool{true, false} {
			u, err := s.Upload(ctx, id, create)
			if err == nil {
				_ = u.Cancel(ctx)
			}
			wantErr(t, "Upload("+strings.ToValidUTF8(id, "?")+")", err, blob.ErrUploadNotFound)
		}
		wantErr(t, "DeleteUpload", s.DeleteUpload(ctx, id), blob.ErrUploadNotFound)
	}
	noUploads(t, s)
	wantBlobs(t, s)
}

// testUploadCancel: Cancel discards a fresh or a resumed session.
func testUploadCancel(t *testing.T, s blob.Store) {
	ctx := t.Context()
	u := create(t, s, "fresh")
	write(t, u, []byte("data"))
	must(t, u.Cancel(ctx), "Cancel fresh")
	wantNoUpload(t, s, "fresh")

	u = upload(t, s, "resumed", []byte("data"))
	write(t, u, []byte("more"))
	must(t, u.Cancel(ctx), "Cancel resumed")
	wantNoUpload(t, s, "resumed")
	wantErr(t, "DeleteUpload after Cancel", s.DeleteUpload(ctx, "resumed"), blob.ErrUploadNotFound)

	// The id is free again.
	u = create(t, s, "resumed")
	must(t, u.Cancel(ctx), "Cancel recreated")
	wantBlobs(t, s)
}

// testUploadUseAfterEnd: a committed or cancelled session takes no more
// writes and no second commit.
func testUploadUseAfterEnd(t *testing.T, s blob.Store) {
	ctx := t.Context()
	b := []byte("committed")
	u := create(t, s, "committed")
	write(t, u, b)
	info, err := u.Commit(ctx, sha256Of(b), int64(len(b)))
	must(t, err, "Commit")
	if _, err := u.Write([]byte("x")); err == nil {
		t.Fatal("Write after Commit succeeded")
	}
	if _, err := u.Commit(ctx, sha256Of(b), int64(len(b))); err == nil {
		t.Fatal("second Commit succeeded")
	}
	wantNoUpload(t, s, "committed")

	u = create(t, s, "cancelled")
	must(t, u.Cancel(ctx), "Cancel")
	if _, err := u.Write([]byte("x")); err == nil {
		t.Fatal("Write after Cancel succeeded")
	}
	if _, err := u.Commit(ctx, sha256Of(nil), 0); err == nil {
		t.Fatal("Commit after Cancel succeeded")
	}
	wantNoUpload(t, s, "cancelled")
	wantBlobs(t, s, info)
}

// testDeleteUpload: DeleteUpload discards a closed session once.
func testDeleteUpload(t *testing.T, s blob.Store) {
	ctx := t.Context()
	u := upload(t, s, "to-delete", []byte("data"))
	must(t, u.Close(), "Close")
	keep := upload(t, s, "to-keep", []byte("kept"))
	must(t, keep.Close(), "Close")
	must(t, s.DeleteUpload(ctx, "to-delete"), "DeleteUpload")
	wantNoUpload(t, s, "to-delete")
	wantErr(t, "DeleteUpload again", s.DeleteUpload(ctx, "to-delete"), blob.ErrUploadNotFound)
	keep = resume(t, s, "to-keep")
	if keep.Size() != 4 {
		t.Fatalf("other session resumed at %d, want 4", keep.Size())
	}
	must(t, keep.Cancel(ctx), "Cancel")
}

// testWalkUploads: WalkUploads reports every session, open or closed, with
// its last write time, and stops at fn's error.
func testWalkUploads(t *testing.T, s blob.Store) {
	ctx := t.Context()
	ids := []string{"a", "b-2", "C_3", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}
	before := time.Now()
	var open blob.Upload
	contents := map[string][]byte{}
	for i, id := range ids {
		u := create(t, s, id)
		contents[id] = random(i*100 + 1)
		write(t, u, contents[id])
		if i == len(ids)-1 {
			open = u // still open: it exists all the same
			continue
		}
		must(t, u.Close(), "Close")
	}
	after := time.Now()
	got := uploads(t, s)
	if len(got) != len(ids) {
		t.Fatalf("WalkUploads = %v, want %v", got, ids)
	}
	for _, id := range ids {
		mod, ok := got[id]
		if !ok {
			t.Fatalf("WalkUploads = %v, missing %s", got, id)
		}
		within(t, "modified of "+id, mod, before, after)
	}

	calls := 0
	err := s.WalkUploads(ctx, func(string, time.Time) error {
		calls++
		return errBoom
	})
	if !errors.Is(err, errBoom) || calls != 1 {
		t.Fatalf("WalkUploads with a failing fn = %v after %d calls, want %v after 1", err, calls, errBoom)
	}

	// Every way of ending a session removes it from the walk.
	must(t, open.Cancel(ctx), "Cancel")
	must(t, s.DeleteUpload(ctx, "a"), "DeleteUpload")
	u := resume(t, s, "b-2")
	_, err = u.Commit(ctx, sha256Of([]byte("not it")), -1)
	wantErr(t, "Commit mismatch", err, blob.ErrDigestMismatch)
	u = resume(t, s, "C_3")
	info, err := u.Commit(ctx, sha256Of(contents["C_3"]), -1)
	must(t, err, "Commit")
	wantBlobs(t, s, info)
	noUploads(t, s)
}
