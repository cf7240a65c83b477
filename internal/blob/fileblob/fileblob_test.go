package fileblob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/blob/blobtest"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// newStore opens a store in a fresh directory and returns it with its root.
func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

// TestConformance runs the suite every backend passes, and checks after
// each subtest that nothing was left in tmp/ and no session holds a
// half-written state file.
func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, dir := newStore(t)
		t.Cleanup(func() {
			if t.Failed() {
				return
			}
			if left := listTree(t, filepath.Join(dir, tmpDir)); len(left) != 0 {
				t.Errorf("left in tmp/: %v", left)
			}
			for _, p := range listTree(t, filepath.Join(dir, uploadsDir)) {
				if strings.HasSuffix(p, ".tmp") {
					t.Errorf("temporary state file left: %s", p)
				}
			}
		})
		return s
	})
}

// listTree returns every path under dir, relative to it, '/'-separated.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sha256Of(b []byte) digest.Digest {
	sum := sha256.Sum256(b)
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum[:]))
}

func mustUpload(t *testing.T, s *Store, id string, create bool) blob.Upload {
	t.Helper()
	u, err := s.Upload(t.Context(), id, create)
	if err != nil {
		t.Fatalf("Upload(%q, %v): %v", id, create, err)
	}
	return u
}

func writeAll(t *testing.T, u blob.Upload, b []byte) {
	t.Helper()
	if _, err := u.Write(b); err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err error, proto *errdefs.Error) {
	t.Helper()
	e, ok := errors.AsType[*errdefs.Error](err)
	if !ok || e.Kind != proto.Kind || e.Reason != proto.Reason {
		t.Fatalf("%s: got %v, want %q", what, err, proto.Message)
	}
}

// TestLayoutAndModes: the documented layout, directories 0700 and files
// 0600, nothing else.
func TestLayoutAndModes(t *testing.T) {
	s, dir := newStore(t)
	b := []byte("layout")
	d := sha256Of(b)
	if _, err := s.Put(t.Context(), d, int64(len(b)), bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	u := mustUpload(t, s, "session", true)
	writeAll(t, u, []byte("partial"))
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	enc := d.Encoded()
	want := map[string]os.FileMode{
		".":                                   fs.ModeDir | 0o700,
		"blobs":                               fs.ModeDir | 0o700,
		"blobs/sha256":                        fs.ModeDir | 0o700,
		"blobs/sha512":                        fs.ModeDir | 0o700,
		"blobs/sha256/" + enc[:2]:             fs.ModeDir | 0o700,
		"blobs/sha256/" + enc[:2] + "/" + enc: 0o600,
		"uploads":                             fs.ModeDir | 0o700,
		"uploads/session":                     fs.ModeDir | 0o700,
		"uploads/session/data":                0o600,
		"uploads/session/state":               0o600,
		"tmp":                                 fs.ModeDir | 0o700,
	}
	got := map[string]os.FileMode{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = fi.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, m := range want {
		if got[p] != m {
			t.Errorf("%s: mode %v, want %v", p, got[p], m)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected %s", p)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "uploads/session/state"))
	if err != nil {
		t.Fatal(err)
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil || st.Version != 1 || st.Offset != 7 || len(st.SHA256) == 0 {
		t.Fatalf("state file %s: %+v, %v", raw, st, err)
	}
}

// TestReopen: a new Store on the same root sees the blobs and sessions of
// the old one, and New removes stale files from tmp/ but not fresh ones.
func TestReopen(t *testing.T) {
	s, root := newStore(t)
	ctx := t.Context()
	b := []byte("persistent")
	info, err := s.Put(ctx, sha256Of(b), -1, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	u := mustUpload(t, s, "pending", true)
	writeAll(t, u, []byte("half"))
	started := u.StartedAt()
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(root, "tmp/put-stale"), filepath.Join(root, "tmp/put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("left by a crash"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTmp)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}

	s2, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.Stat(ctx, info.Digest)
	if err != nil || got != info {
		t.Fatalf("Stat after reopen = %+v, %v; want %+v", got, err, info)
	}
	u = mustUpload(t, s2, "pending", false)
	if u.Size() != 4 || !u.StartedAt().Equal(started) {
		t.Fatalf("resumed after reopen: Size %d, StartedAt %v; want 4, %v", u.Size(), u.StartedAt(), started)
	}
	if err := u.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stale tmp file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("fresh tmp file removed: %v", err)
	}
}
