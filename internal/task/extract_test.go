package task

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestExtractReplacements: later entries of the same name replace
// earlier ones without writing through them, and modes lose their
// set-id bits.
func TestExtractReplacements(t *testing.T) {
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(victim, []byte("original"), 0o644))
	data := archive(t,
		// A symlink out, then a file of the same name: the file replaces
		// the link, the target is untouched.
		tarEntry{hdr: tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: victim}},
		file("l", "replaced"),
		// A file, a hard link to it, then the link's name as a new file:
		// the first file keeps its content.
		file("f", "first"),
		tarEntry{hdr: tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "f"}},
		file("h", "second"),
		// A file, then a symlink of the same name.
		file("s", "x"),
		tarEntry{hdr: tar.Header{Name: "s", Typeflag: tar.TypeSymlink, Linkname: victim}},
		tarEntry{hdr: tar.Header{Name: "suid", Typeflag: tar.TypeReg, Mode: 0o6755}},
	)
	dir := t.TempDir()
	if err := extractContext(bytes.NewReader(data), dir, defaultExtractLimits); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "original" {
		t.Errorf("the target outside changed: %q", b)
	}
	for name, want := range map[string]string{"l": "replaced", "f": "first", "h": "second"} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || string(b) != want {
			t.Errorf("%s: %v %v %q, want a file %q", name, fi, err, b, want)
		}
	}
	if target, err := os.Readlink(filepath.Join(dir, "s")); err != nil || target != victim {
		t.Errorf("s: %q %v", target, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "suid")); err != nil || fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
		t.Errorf("suid: %v %v", fi, err)
	}
}
