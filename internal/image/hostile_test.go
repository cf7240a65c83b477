package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sys/unix"
)

// entry is one tar entry of a test layer.
type entry struct {
	name     string
	typ      byte
	body     string
	link     string
	mode     int64
	uid, gid int
	size     int64 // when body is empty: that many zero bytes
	pax      map[string]string
	dev      [2]int64
}

func file(name, body string) entry {
	return entry{name: name, typ: tar.TypeReg, body: body, mode: 0o644}
}
func dir(name string) entry { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}
func hardlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeLink, link: target, mode: 0o644}
}
func device(name string, typ byte) entry {
	return entry{name: name, typ: typ, mode: 0o666, dev: [2]int64{1, 3}}
}
func withPAX(e entry, k, v string) entry    { e.pax = map[string]string{k: v}; return e }
func withOwner(e entry, uid, gid int) entry { e.uid, e.gid = uid, gid; return e }

// layerTar builds an uncompressed tar stream.
func layerTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		size := int64(len(e.body))
		if e.body == "" && e.size > 0 {
			size = e.size
		}
		if e.typ != tar.TypeReg {
			size = 0
		}
		hdr := &tar.Header{
			Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Size: size,
			Uid: e.uid, Gid: e.gid, ModTime: time.Unix(1600000000, 0), PAXRecords: e.pax,
			Devmajor: e.dev[0], Devminor: e.dev[1],
		}
		if e.pax != nil || e.uid > 1<<21 {
			hdr.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar header %q: %v", e.name, err)
		}
		if e.typ == tar.TypeReg {
			if e.body != "" {
				io.WriteString(tw, e.body)
			} else if e.size > 0 {
				io.CopyN(tw, zeros{}, e.size)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func gzipped(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func diffIDOf(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// fileState is what a snapshot records of one path: anything a write,
// chmod, chown, xattr change, link, rename, deletion or read changes.
type fileState struct {
	mode         uint32
	ino, nlink   uint64
	size         int64
	atime, mtime unix.Timespec
	ctime        unix.Timespec
	link         string
}

// snapshot records every path under root except skip.
func snapshot(t *testing.T, root, skip string) map[string]fileState {
	t.Helper()
	snap := map[string]fileState{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return filepath.SkipDir
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		fsn := fileState{mode: st.Mode, ino: st.Ino, nlink: st.Nlink, size: st.Size, atime: st.Atim, mtime: st.Mtim, ctime: st.Ctim}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			fsn.link, _ = os.Readlink(p)
		case unix.S_IFDIR:
			// The walk itself reads directories; only files' atimes
			// tell of reads by the code under test.
			fsn.atime = unix.Timespec{}
		}
		snap[p] = fsn
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// sandbox is a directory with sentinel files outside the cache. The
// sentinels' atime is older than their mtime, so that with relatime any
// read of them moves it.
type sandbox struct {
	root, outside, cacheDir string
	cache                   *Cache
	sums                    map[string]string
}

func newSandbox(t *testing.T, lim limits) *sandbox {
	t.Helper()
	root := t.TempDir()
	sb := &sandbox{root: root, outside: filepath.Join(root, "outside"), cacheDir: filepath.Join(root, "cache"), sums: map[string]string{}}
	for _, d := range []string{sb.outside, filepath.Join(sb.outside, "etc")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"passwd", "etc/shadow", "x"} {
		p := filepath.Join(sb.outside, f)
		content := "sentinel " + f + "\n"
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sb.sums[p] = content
		if err := os.Chtimes(p, time.Unix(946684800, 0), time.Unix(1577836800, 0)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(Config{Dir: sb.cacheDir, MaxLayerBytes: lim.maxBytes, MaxLayerEntries: lim.maxEntries})
	if err != nil {
		t.Fatal(err)
	}
	sb.cache = c
	return sb
}

// check fails the test if anything outside the cache changed between
// before and now, and confirms the sentinels' content at the very end.
func (sb *sandbox) check(t *testing.T, before map[string]fileState) {
	t.Helper()
	after := snapshot(t, sb.root, sb.cacheDir)
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			t.Errorf("%s was deleted", p)
		case a != b:
			t.Errorf("%s changed:\n before %+v\n after  %+v", p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared outside the cache", p)
		}
	}
	for p, want := range sb.sums {
		if got, err := os.ReadFile(p); err != nil || string(got) != want {
			t.Errorf("%s: content %q, %v", p, got, err)
		}
	}
}

// abs is the sandbox's outside directory as an absolute path without the
// leading slash, so that tests can aim "absolute" names and targets at it.
func (sb *sandbox) abs(rel string) string { return filepath.Join(sb.outside, rel) }

func TestHostileLayers(t *testing.T) {
	type layerFn func(sb *sandbox) []entry
	cases := []struct {
		name   string
		layers []layerFn // unpacked in order, each into its own layer dir
		lim    limits
		// refused: the last layer must be refused (and not published);
		// the ones before it must succeed.
		refused bool
		inLayer func(t *testing.T, sb *sandbox, dirs []string)
	}{
		{name: "dot-dot file", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file("../outside/passwd", "pwned")}
		}}},
		{name: "dot-dot deep", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{dir("a"), file("a/../../../outside/x", "pwned")}
		}}},
		{name: "dot-dot dir", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{dir("../outside/newdir")}
		}}},
		{name: "absolute path stays in the layer", layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file(sb.abs("passwd"), "in layer")}
		}}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			mustContent(t, filepath.Join(dirs[0], sb.abs("passwd")), "in layer")
		}},
		{name: "symlink to / then a file through it", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("evil", "/"), file("evil"+sb.abs("passwd"), "pwned")}
		}}},
		{name: "symlink to the outside dir then a file through it", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("evil", sb.outside), file("evil/new", "pwned")}
		}}},
		{name: "relative symlink climbing out then a dir through it", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("evil", "../../../outside"), dir("evil/newdir")}
		}}},
		{name: "symlink to an in-layer dir then a file through it", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{dir("real"), symlink("alias", "real"), file("alias/f", "x")}
		}}},
		{name: "symlink chain", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("a", "b"), symlink("b", sb.outside), file("a/new", "pwned")}
		}}},
		{name: "symlink planted in layer 1, written through in layer 2", layers: []layerFn{
			func(sb *sandbox) []entry { return []entry{symlink("evil", sb.outside)} },
			func(sb *sandbox) []entry { return []entry{file("evil/passwd", "layer 2"), file("evil/new", "layer 2")} },
		}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			mustLink(t, filepath.Join(dirs[0], "evil"), sb.outside)
			mustContent(t, filepath.Join(dirs[1], "evil/passwd"), "layer 2")
		}},
		{name: "symlink then a file of the same name replaces the link", layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("evil", sb.abs("passwd")), file("evil", "replaced")}
		}}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			mustContent(t, filepath.Join(dirs[0], "evil"), "replaced")
		}},
		{name: "symlink then a dir of the same name replaces the link", layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("evil", sb.outside), dir("evil"), file("evil/f", "in layer")}
		}}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			mustContent(t, filepath.Join(dirs[0], "evil/f"), "in layer")
		}},
		{name: "hard link to an absolute path outside", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{hardlink("h", sb.abs("passwd"))}
		}}},
		{name: "hard link to /etc/passwd", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{hardlink("h", "/etc/passwd")}
		}}},
		{name: "hard link climbing out", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{hardlink("h", "../outside/passwd")}
		}}},
		{name: "hard link through a symlinked parent", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("evil", sb.outside), hardlink("h", "evil/passwd")}
		}}},
		{name: "hard link into a symlinked parent", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file("f", "x"), symlink("evil", sb.outside), hardlink("evil/h", "f")}
		}}},
		{name: "hard link to a directory", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{dir("d"), hardlink("h", "d")}
		}}},
		{name: "hard link to an outside symlink, then written", layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("s", sb.abs("passwd")), hardlink("h", "s"), file("h", "replaced")}
		}}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			mustContent(t, filepath.Join(dirs[0], "h"), "replaced")
			mustLink(t, filepath.Join(dirs[0], "s"), sb.abs("passwd"))
		}},
		{name: "hard link to an in-layer file", layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file("a", "shared"), hardlink("b", "/a")}
		}}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			mustContent(t, filepath.Join(dirs[0], "b"), "shared")
			var a, b unix.Stat_t
			unix.Lstat(filepath.Join(dirs[0], "a"), &a)
			unix.Lstat(filepath.Join(dirs[0], "b"), &b)
			if a.Ino != b.Ino {
				t.Error("b is not a hard link of a")
			}
		}},
		{name: "device nodes and fifos are skipped", layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{device("null", tar.TypeChar), device("sda", tar.TypeBlock), device("fifo", tar.TypeFifo),
				device(sb.abs("dev"), tar.TypeChar)}
		}}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			for _, n := range []string{"null", "sda", "fifo", sb.abs("dev")} {
				if _, err := os.Lstat(filepath.Join(dirs[0], n)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: %v", n, err)
				}
			}
		}},
		{name: "device node climbing out", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{device("../outside/dev", tar.TypeBlock)}
		}}},
		{name: "whiteout climbing out", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file("../../.wh.x", "")}
		}}},
		{name: "whiteout of dot-dot", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file("a/.wh...", "")}
		}}},
		{name: "whiteout of dot", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file("a/.wh..", "")}
		}}},
		{name: "whiteout in a symlinked dir", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("evil", sb.outside), file("evil/.wh.passwd", "")}
		}}},
		{name: "whiteout through an absolute path stays in the layer", layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file(sb.abs(".wh.passwd"), "")}
		}}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			mustWhiteout(t, filepath.Join(dirs[0], sb.abs("passwd")))
		}},
		{name: "opaque marker in a symlinked dir", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("evil", sb.outside), file("evil/.wh..wh..opq", "")}
		}}},
		{name: "opaque marker climbing out", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file("../outside/.wh..wh..opq", "")}
		}}},
		{name: "opaque marker planted in layer 1's symlink, used in layer 2", layers: []layerFn{
			func(sb *sandbox) []entry { return []entry{symlink("evil", sb.outside)} },
			func(sb *sandbox) []entry { return []entry{file("evil/.wh..wh..opq", ""), file("evil/.wh.passwd", "")} },
		}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			mustWhiteout(t, filepath.Join(dirs[1], "evil/passwd"))
		}},
		{name: "trusted and security xattrs are dropped", layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{
				withPAX(dir("d"), "SCHILY.xattr.trusted.overlay.redirect", "/etc"),
				withPAX(file("f", "x"), "SCHILY.xattr.security.selinux", "system_u:object_r:etc_t:s0"),
				withPAX(file("g", "x"), "SCHILY.xattr.user.overlay.opaque", "y"),
				withPAX(file("h", "x"), "SCHILY.xattr.user.note", "kept"),
			}
		}}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			for _, c := range []struct{ path, attr string }{
				{"d", "trusted.overlay.redirect"}, {"f", "security.selinux"}, {"g", "user.overlay.opaque"},
			} {
				if _, err := unix.Lgetxattr(filepath.Join(dirs[0], c.path), c.attr, make([]byte, 64)); err == nil {
					t.Errorf("%s has xattr %s", c.path, c.attr)
				}
			}
			buf := make([]byte, 64)
			if n, err := unix.Lgetxattr(filepath.Join(dirs[0], "h"), "user.note", buf); err != nil || string(buf[:n]) != "kept" {
				t.Errorf("user.note = %q, %v", buf[:n], err)
			}
		}},
		{name: "very long name", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file(strings.Repeat("n", 300), "x")}
		}}},
		{name: "very deep path", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file(strings.Repeat("d/", 2100)+"f", "x")}
		}}},
		{name: "file then a path under it", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file("a", "x"), file("a/b", "y")}
		}}},
		{name: "duplicate entries: the last wins", layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{file("a", "1"), file("a", "2"), dir("b"), file("b/x", "x"), file("b", "file now"),
				file("c", "c"), dir("c"), file("c/y", "y"), dir("c")}
		}}, inLayer: func(t *testing.T, sb *sandbox, dirs []string) {
			mustContent(t, filepath.Join(dirs[0], "a"), "2")
			mustContent(t, filepath.Join(dirs[0], "b"), "file now")
			mustContent(t, filepath.Join(dirs[0], "c/y"), "y")
		}},
		{name: "the layer root as a symlink", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{symlink("./", sb.outside)}
		}}},
		{name: "owner beyond int32", refused: true, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{withOwner(file("f", "x"), 1<<32, 0)}
		}}},
		{name: "too many bytes", refused: true, lim: limits{maxBytes: 1 << 20, maxEntries: 100}, layers: []layerFn{func(sb *sandbox) []entry {
			return []entry{{name: "big", typ: tar.TypeReg, mode: 0o644, size: 2 << 20}}
		}}},
		{name: "too many entries", refused: true, lim: limits{maxBytes: 1 << 20, maxEntries: 10}, layers: []layerFn{func(sb *sandbox) []entry {
			var es []entry
			for i := range 11 {
				es = append(es, file(strings.Repeat("f", i+1), ""))
			}
			return es
		}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, tc.lim)
			before := snapshot(t, sb.root, sb.cacheDir)
			var dirs []string
			for i, fn := range tc.layers {
				b := layerTar(t, fn(sb)...)
				if i%2 == 1 {
					b = gzipped(t, b) // both stream kinds meet the corpus
				}
				id := diffIDOf(layerTar(t, fn(sb)...))
				err := sb.cache.unpackStream(id, bytes.NewReader(b))
				last := i == len(tc.layers)-1
				switch {
				case last && tc.refused:
					if !errors.Is(err, errUnsafeLayer) && err == nil {
						t.Fatalf("layer %d accepted", i)
					}
					t.Logf("refused: %v", err)
					if sb.cache.hasLayer(id.String()) {
						t.Errorf("refused layer %d was published", i)
					}
				case err != nil:
					t.Fatalf("layer %d: %v", i, err)
				}
				dirs = append(dirs, sb.cache.layerDir(id.String()))
			}
			if left, _ := os.ReadDir(sb.cache.tmpDir()); len(left) != 0 {
				t.Errorf("left in tmp: %v", left)
			}
			sb.check(t, before)
			if tc.inLayer != nil {
				tc.inLayer(t, sb, dirs)
			}
		})
	}
}

func mustContent(t *testing.T, p, want string) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("%s: not a regular file (%v, %v)", p, fi, err)
	}
	if got, _ := os.ReadFile(p); string(got) != want {
		t.Errorf("%s = %q, want %q", p, got, want)
	}
}

func mustLink(t *testing.T, p, want string) {
	t.Helper()
	if got, err := os.Readlink(p); err != nil || got != want {
		t.Errorf("%s -> %q (%v), want %q", p, got, err, want)
	}
}

func mustWhiteout(t *testing.T, p string) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("%s is not a 0/0 whiteout (mode %o, rdev %d)", p, st.Mode, st.Rdev)
	}
}
