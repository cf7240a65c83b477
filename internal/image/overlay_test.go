package image

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOverlayStack mounts unpacked layers as overlayfs lower dirs, as the
// runner does, and checks that whiteouts and opaque directories hide the
// content of the layers below.
func TestOverlayStack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting overlayfs needs root")
	}
	c := newCache(t, nil)
	var dirs []string
	for _, l := range [][]entry{
		{dir("d"), file("d/x", "x"), file("d/y", "y"), file("keep", "keep"), file("gone", "gone"), dir("old"), file("old/f", "f")},
		{file(".wh.gone", ""), file(".wh.old", ""), dir("d"), file("d/.wh..wh..opq", ""), file("d/z", "z"), file("new", "new")},
	} {
		b := layerTar(t, l...)
		id := diffIDOf(b)
		if err := c.unpackStream(id, strings.NewReader(string(b))); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, c.layerDir(id.String()))
	}
	work := t.TempDir()
	upper, wd, target := filepath.Join(work, "upper"), filepath.Join(work, "work"), filepath.Join(work, "rootfs")
	for _, d := range []string{upper, wd, target} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// overlayfs lists lower dirs top first.
	opts := "lowerdir=" + dirs[1] + ":" + dirs[0] + ",upperdir=" + upper + ",workdir=" + wd + ",index=off"
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skipf("overlay mount not permitted here: %v", err)
		}
		t.Fatalf("mount: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })

	ls := func(d string) []string {
		es, err := os.ReadDir(filepath.Join(target, d))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	if got := ls("."); !slices.Equal(got, []string{"d", "keep", "new"}) {
		t.Errorf("/ = %v, want [d keep new]", got)
	}
	if got := ls("d"); !slices.Equal(got, []string{"z"}) {
		t.Errorf("/d = %v, want [z] (opaque)", got)
	}
	mustContent(t, filepath.Join(target, "keep"), "keep")

	// Writes land in the upper dir, never in the shared layers.
	if err := os.WriteFile(filepath.Join(target, "keep"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(target, "new")); err != nil {
		t.Fatal(err)
	}
	mustContent(t, filepath.Join(dirs[0], "keep"), "keep")
	mustContent(t, filepath.Join(dirs[1], "new"), "new")
	mustContent(t, filepath.Join(upper, "keep"), "changed")
}
