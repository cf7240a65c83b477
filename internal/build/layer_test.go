package build

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/task"
)

// TestWriteLayerWhiteoutsAndReproducibility makes an upper dir as
// overlayfs leaves it (a 0/0 char device, an opaque directory) and checks
// the OCI form and that the bytes depend on the tree only.
func TestWriteLayerWhiteoutsAndReproducibility(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod and trusted.* xattrs need root")
	}
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "etc/opaque"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "etc/opaque/new"), []byte("n"), 0o640))
	must(t, unix.Mknod(filepath.Join(dir, "etc/gone"), unix.S_IFCHR, 0))
	if err := unix.Setxattr(filepath.Join(dir, "etc/opaque"), opaqueXattr, []byte("y"), 0); err != nil {
		t.Skipf("trusted xattrs unsupported here: %v", err)
	}
	must(t, os.Symlink("opaque/new", filepath.Join(dir, "etc/link")))
	must(t, os.Link(filepath.Join(dir, "etc/opaque/new"), filepath.Join(dir, "hard")))
	must(t, os.Chown(filepath.Join(dir, "etc/opaque/new"), 1000, 50))

	var a, b bytes.Buffer
	la, err := writeLayer(dir, &a, time.Unix(0, 0))
	must(t, err)
	// Touching every file changes nothing: mtimes are clamped.
	later := time.Now().Add(time.Hour)
	must(t, os.Chtimes(filepath.Join(dir, "etc/opaque/new"), later, later))
	lb, err := writeLayer(dir, &b, time.Unix(0, 0))
	must(t, err)
	if la != lb || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("two writes of one tree differ: %+v %+v", la, lb)
	}
	raw := a.Bytes()
	if raw[3]&0x08 != 0 || !bytes.Equal(raw[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("gzip header carries a name or mtime: % x", raw[:10])
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	must(t, err)
	tr := tar.NewReader(zr)
	var names []string
	hdrs := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		names = append(names, h.Name)
		hdrs[h.Name] = h
		if !h.ModTime.Equal(time.Unix(0, 0)) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() || h.Uname != "" {
			t.Errorf("%s: times %v/%v/%v uname %q", h.Name, h.ModTime, h.AccessTime, h.ChangeTime, h.Uname)
		}
		if len(h.PAXRecords) > 0 {
			t.Errorf("%s has PAX records %v", h.Name, h.PAXRecords)
		}
	}
	want := []string{"etc/", "etc/.wh.gone", "etc/link", "etc/opaque/", "etc/opaque/.wh..wh..opq", "etc/opaque/new", "hard"}
	if !slices.Equal(names, want) {
		t.Fatalf("entries %v, want %v", names, want)
	}
	if h := hdrs["etc/opaque/new"]; h.Uid != 1000 || h.Gid != 50 || h.Mode != 0o640 {
		t.Errorf("new: %d:%d %o", h.Uid, h.Gid, h.Mode)
	}
	if h := hdrs["hard"]; h.Typeflag != tar.TypeLink || h.Linkname != "etc/opaque/new" {
		t.Errorf("hard link: %+v", h)
	}
	if h := hdrs["etc/link"]; h.Typeflag != tar.TypeSymlink || h.Linkname != "opaque/new" {
		t.Errorf("symlink: %+v", h)
	}
}

// TestContextEscapes: symlinks pointing out of the context and ".."
// sources never read outside it.
func TestContextEscapes(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("outside"), 0o644))
	cases := map[string]string{
		"symlink out":     "FROM scratch\nCOPY link /x\n",
		"dir symlink out": "FROM scratch\nCOPY dirlink/secret /x\n",
	}
	for name, df := range cases {
		t.Run(name, func(t *testing.T) {
			ctxDir := t.TempDir()
			must(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(ctxDir, "link")))
			must(t, os.Symlink(outside, filepath.Join(ctxDir, "dirlink")))
			_, logs, err := r.build(t, ctxDir, df, func(q *task.BuildRequest) { q.Push = false })
			if err == nil {
				t.Fatalf("copied from outside the context:\n%s", logs)
			}
			if strings.Contains(err.Error(), outside) {
				t.Errorf("the error names a host path: %v", err)
			}
		})
	}
	// ".." is taken relative to the context root, as BuildKit does: it
	// names the context's own file, never the parent's.
	ctxDir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(filepath.Dir(ctxDir), "parentfile"), []byte("p"), 0o644))
	_, _, err := r.build(t, ctxDir, "FROM scratch\nCOPY ../parentfile /x\n", func(q *task.BuildRequest) { q.Push = false })
	if err == nil || !strings.Contains(err.Error(), "not found in build context") {
		t.Fatalf("COPY ../parentfile: %v", err)
	}
	// A symlink inside a copied directory is copied as a symlink.
	ctxDir = writeContext(t, map[string]string{"d/f": "f"})
	must(t, os.Symlink("/etc/shadow", filepath.Join(ctxDir, "d/l")))
	must(t, unix.Mkfifo(filepath.Join(ctxDir, "d/fifo"), 0o644))
	res, logs, err := r.build(t, ctxDir, "FROM scratch\nCOPY d /d\n", nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	files := imageFiles(t, r.pull(t, r.host+"/app@"+res.Images[0].Digest))
	if h := files["d/l"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "/etc/shadow" {
		t.Errorf("d/l = %+v", h)
	}
	if files["d/fifo"] != nil || !strings.Contains(logs, "1 device, FIFO or socket entries skipped") {
		t.Errorf("the FIFO was not skipped: %v\n%s", keys(files), logs)
	}
}

func tarGz(t *testing.T, entries ...*tar.Header) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range entries {
		body := h.Linkname
		if h.Typeflag == tar.TypeReg {
			h.Size, h.Linkname = int64(len(body)), ""
		}
		must(t, tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write([]byte(body))
			must(t, err)
		}
	}
	must(t, tw.Close())
	must(t, zw.Close())
	return buf.Bytes()
}

func TestAddArchiveAndGlobs(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	ctxDir := writeContext(t, map[string]string{"a.txt": "a", "b.txt": "b", "c.md": "c"})
	must(t, os.WriteFile(filepath.Join(ctxDir, "app.tar.gz"), tarGz(t,
		&tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "app/run", Typeflag: tar.TypeReg, Mode: 0o755, Uid: 7, Linkname: "#!/bin/sh\n"},
		&tar.Header{Name: "app/alias", Typeflag: tar.TypeLink, Linkname: "app/run"},
	), 0o644))
	df := "ARG BASE\nFROM $BASE\nADD app.tar.gz /opt/\nCOPY *.txt /texts/\nADD c.md /docs/c.md\nRUN test -x /opt/app/run && test -e /opt/app/alias && ls /bin/sh\n"
	res, logs, err := r.build(t, ctxDir, df, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	files := imageFiles(t, r.pull(t, r.host+"/app@"+res.Images[0].Digest))
	if h := files["opt/app/run"]; h == nil || h.Uid != 7 || h.Mode != 0o755 {
		t.Errorf("opt/app/run = %+v", h)
	}
	for _, n := range []string{"texts/a.txt", "texts/b.txt", "docs/c.md"} {
		if files[n] == nil {
			t.Errorf("missing %s: %v", n, keys(files))
		}
	}
	if files["texts/c.md"] != nil {
		t.Error("the glob matched c.md")
	}

	// An archive climbing out of its destination is refused.
	must(t, os.WriteFile(filepath.Join(ctxDir, "evil.tar.gz"), tarGz(t,
		&tar.Header{Name: "../../escape", Typeflag: tar.TypeReg, Mode: 0o644, Linkname: "x"},
	), 0o644))
	_, _, err = r.build(t, ctxDir, "FROM scratch\nADD evil.tar.gz /x/\n", nil)
	if err == nil || !strings.Contains(err.Error(), "leaves the destination") {
		t.Fatalf("evil archive: %v", err)
	}
}

func TestRunCommand(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	ref := r.push(t, "base:v1", busybox(t))
	var logs syncBuffer
	err := r.b.RunCommand(context.Background(), task.CommandRequest{
		Image: ref, Args: []string{"sh", "-c", "echo hello $FROM_BASE $X"}, Env: []string{"X=there"}, Log: &logs,
	})
	if err != nil || logs.String() != "hello yes there\n" {
		t.Fatalf("err %v, log %q", err, logs.String())
	}
	err = r.b.RunCommand(context.Background(), task.CommandRequest{Image: ref, Args: []string{"sh", "-c", "exit 4"}, Log: &logs})
	if err == nil || !strings.Contains(err.Error(), "exited with code 4") {
		t.Fatalf("exit 4: %v", err)
	}
}
