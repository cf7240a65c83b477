package blobtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
)

// testDedupe: committing content that exists already, by upload or by
// Put, succeeds and keeps one blob with its first CreatedAt.
func testDedupe(t *testing.T, s blob.Store) {
	ctx := t.Context()
	b := random(200 * 1024)
	d := sha256Of(b)
	first, err := upload(t, s, "first", b).Commit(ctx, d, int64(len(b)))
	must(t, err, "first Commit")
	second, err := upload(t, s, "second", b).Commit(ctx, d, int64(len(b)))
	must(t, err, "second Commit")
	third, err := s.Put(ctx, d, int64(len(b)), bytes.NewReader(b))
	must(t, err, "Put")
	for _, got := range []blob.Info{second, third} {
		if got.Digest != d || got.Size != first.Size || !got.CreatedAt.Equal(first.CreatedAt) {
			t.Fatalf("duplicate commit = %+v, first = %+v", got, first)
		}
	}
	wantBlobs(t, s, first)
	wantContent(t, s, d, b)
	wantNoUpload(t, s, "first")
	wantNoUpload(t, s, "second")

	// And the other way round: Put first, then an upload.
	c := random(1000)
	pc := put(t, s, c)
	uc, err := upload(t, s, "after-put", c).Commit(ctx, pc.Digest, -1)
	must(t, err, "Commit after Put")
	if !uc.CreatedAt.Equal(pc.CreatedAt) {
		t.Fatalf("Commit after Put = %+v, Put = %+v", uc, pc)
	}
	wantBlobs(t, s, first, pc)
}

// run calls fn(i) for i in [0, n) concurrently, released together, and
// fails with every error they return.
func run(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// testConcurrentCommitsSameDigest: eight sessions with the same content
// commit at once; all succeed and one intact blob remains.
func testConcurrentCommitsSameDigest(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const n = 8
	b := random(1<<20 + 99)
	d := sha256Of(b)
	ups := make([]blob.Upload, n)
	for i := range n {
		ups[i] = upload(t, s, fmt.Sprintf("same-%d", i), b)
	}
	run(t, n, func(i int) error {
		info, err := ups[i].Commit(ctx, d, int64(len(b)))
		if err != nil {
			return err
		}
		if info.Digest != d || info.Size != int64(len(b)) {
			return fmt.Errorf("Commit = %+v", info)
		}
		return nil
	})
	if got := walk(t, s); len(got) != 1 || got[d].Size != int64(len(b)) {
		t.Fatalf("Walk after concurrent commits = %v", got)
	}
	wantContent(t, s, d, b)
}

// testConcurrentPutsSameDigest: eight Puts of the same content at once.
func testConcurrentPutsSameDigest(t *testing.T, s blob.Store) {
	ctx := t.Context()
	b := random(1<<20 + 7)
	d := sha256Of(b)
	run(t, 8, func(int) error {
		_, err := s.Put(ctx, d, int64(len(b)), bytes.NewReader(b))
		return err
	})
	if got := walk(t, s); len(got) != 1 {
		t.Fatalf("Walk after concurrent puts = %v", got)
	}
	wantContent(t, s, d, b)
}

// testConcurrentDistinctPuts: sixteen different blobs stored at once are
// all there afterwards.
func testConcurrentDistinctPuts(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const n = 16
	contents := make([][]byte, n)
	infos := make([]blob.Info, n)
	for i := range n {
		contents[i] = random(64*1024 + i)
	}
	run(t, n, func(i int) error {
		var err error
		infos[i], err = s.Put(ctx, sha256Of(contents[i]), int64(len(contents[i])), bytes.NewReader(contents[i]))
		return err
	})
	wantBlobs(t, s, infos...)
	for i, c := range contents {
		wantContent(t, s, infos[i].Digest, c)
	}
}

// testConcurrentPutDeleteOpen: while one goroutine puts a blob over and
// over and another deletes it, every successful Open reads the whole blob:
// a partial file is never visible.
func testConcurrentPutDeleteOpen(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const rounds = 100
	b := random(256*1024 + 1)
	d := sha256Of(b)
	run(t, 3, func(i int) error {
		for range rounds {
			switch i {
			case 0:
				if _, err := s.Put(ctx, d, int64(len(b)), bytes.NewReader(b)); err != nil {
					return err
				}
			case 1:
				if err := s.Delete(ctx, d); err != nil && !isProto(err, blob.ErrNotFound) {
					return err
				}
			case 2:
				if err := readIfPresent(ctx, s, d, b); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if info, err := s.Stat(ctx, d); err == nil {
		if info.Size != int64(len(b)) {
			t.Fatalf("Stat after the race = %+v", info)
		}
		wantContent(t, s, d, b)
	} else {
		wantErr(t, "Stat after the race", err, blob.ErrNotFound)
	}
}

// readIfPresent opens d and, if it exists, checks its whole content.
func readIfPresent(ctx context.Context, s blob.Store, d digest.Digest, want []byte) error {
	r, err := s.Open(ctx, d)
	if isProto(err, blob.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	got, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if r.Size() != int64(len(want)) || !bytes.Equal(got, want) {
		return fmt.Errorf("open blob: Size() %d, read %d bytes, want %d: a partial or wrong file was visible", r.Size(), len(got), len(want))
	}
	return nil
}

// testReadWhileDeleted: a reader opened before Delete reads the whole blob,
// seeking included.
func testReadWhileDeleted(t *testing.T, s blob.Store) {
	ctx := t.Context()
	b := random(512*1024 + 3)
	d := put(t, s, b).Digest
	r, err := s.Open(ctx, d)
	must(t, err, "Open")
	closeReader(t, r)
	half := make([]byte, len(b)/2)
	_, err = io.ReadFull(r, half)
	must(t, err, "read first half")
	must(t, s.Delete(ctx, d), "Delete")
	wantNoBlob(t, s, d)
	rest, err := io.ReadAll(r)
	must(t, err, "read the rest after Delete")
	if !bytes.Equal(append(half, rest...), b) {
		t.Fatal("content read across Delete differs")
	}
	_, err = r.Seek(0, io.SeekStart)
	must(t, err, "Seek after Delete")
	all, err := io.ReadAll(r)
	must(t, err, "read again after Delete")
	if !bytes.Equal(all, b) || r.Size() != int64(len(b)) {
		t.Fatal("content re-read after Delete differs")
	}
	wantBlobs(t, s)
}
