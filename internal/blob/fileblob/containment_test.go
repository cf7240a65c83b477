package fileblob

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/blob"
)

// TestInvalidIDsStayInside: ids that look like paths create nothing,
// inside the root or next to it.
func TestInvalidIDsStayInside(t *testing.T) {
	s, root := newStore(t)
	for _, id := range []string{"../x", "../../x", "a/b", "/tmp/x", "..", ".", "", strings.Repeat("a", 200), "x/../../y"} {
		for _, create := range []bool{true, false} {
			_, err := s.Upload(t.Context(), id, create)
			wantErr(t, "Upload "+id, err, blob.ErrUploadNotFound)
		}
		wantErr(t, "DeleteUpload "+id, s.DeleteUpload(t.Context(), id), blob.ErrUploadNotFound)
	}
	if got := listTree(t, filepath.Dir(root)); strings.Join(got, ",") != "data,data/blobs,data/blobs/sha256,data/blobs/sha512,data/tmp,data/uploads" {
		t.Fatalf("tree after invalid ids: %v", got)
	}
}

// TestPlantedSymlinksStayInside: symbolic links planted in the tree never
// lead a read, write or delete outside the root.
func TestPlantedSymlinksStayInside(t *testing.T) {
	s, root := newStore(t)
	ctx := t.Context()
	outside := t.TempDir()
	secret := []byte("outside the root")
	d := sha256Of(secret)
	enc := d.Encoded()
	// A fake session and a fake blob, outside.
	for name, content := range map[string][]byte{"state": []byte(`{"version":1}`), "data": secret, enc: secret} {
		if err := os.WriteFile(filepath.Join(outside, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(root, "uploads/evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "blobs/sha256", enc[:2])); err != nil {
		t.Fatal(err)
	}

	_, err := s.Upload(ctx, "evil", false)
	wantErr(t, "resume through a symlink", err, blob.ErrUploadNotFound)
	wantErr(t, "DeleteUpload through a symlink", s.DeleteUpload(ctx, "evil"), blob.ErrUploadNotFound)
	if err := s.WalkUploads(ctx, func(id string, _ time.Time) error {
		t.Errorf("WalkUploads reported %s", id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, d); err == nil {
		t.Fatal("Stat followed a symlink out of the root")
	}
	if r, err := s.Open(ctx, d); err == nil {
		_ = r.Close()
		t.Fatal("Open followed a symlink out of the root")
	}
	if err := s.Delete(ctx, d); err == nil {
		t.Fatal("Delete followed a symlink out of the root")
	}
	if _, err := s.Put(ctx, d, int64(len(secret)), bytes.NewReader(secret)); err == nil {
		t.Fatal("Put wrote through a symlink out of the root")
	}
	if err := s.Walk(ctx, func(i blob.Info) error {
		t.Errorf("Walk reported %s", i.Digest)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"data", enc, "state"}
	slices.Sort(want)
	if got := listTree(t, outside); !slices.Equal(got, want) {
		t.Fatalf("outside dir changed: %v, want %v", got, want)
	}
	for _, name := range []string{"data", enc} {
		if b, err := os.ReadFile(filepath.Join(outside, name)); err != nil || !bytes.Equal(b, secret) {
			t.Fatalf("outside %s changed: %q, %v", name, b, err)
		}
	}
}

// TestWalkSkipsStrays: files that are not at a blob's path, and session
// entries that are not sessions, are not reported.
func TestWalkSkipsStrays(t *testing.T) {
	s, root := newStore(t)
	b := []byte("real")
	real, err := s.Put(t.Context(), sha256Of(b), 4, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	enc := sha256Of([]byte("stray")).Encoded()
	for _, p := range []string{
		"blobs/stray",
		"blobs/sha256/stray",
		"blobs/sha256/" + enc[:2] + "/not-hex",
		"blobs/sha256/ff/" + enc, // wrong fan-out directory
		"blobs/sha256/" + enc[:2] + "/" + enc + ".tmp",
		"blobs/sha256/" + enc[:2] + "/deeper/" + enc,
		"blobs/md5/" + enc[:2] + "/" + enc,
		"blobs/sha512/" + enc[:2] + "/" + enc, // a sha256-length name under sha512
		"uploads/stray-file",
		"uploads/bad.name/data",
	} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("stray"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var got []blob.Info
	if err := s.Walk(t.Context(), func(i blob.Info) error { got = append(got, i); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Digest != real.Digest {
		t.Fatalf("Walk = %+v, want only %s", got, real.Digest)
	}
	if err := s.WalkUploads(t.Context(), func(id string, _ time.Time) error {
		t.Errorf("WalkUploads reported %q", id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
