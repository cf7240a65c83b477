package build

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/image"
	"github.com/cerulean/cerulean/internal/task"
)

// chrootExecutor is the test's task.Executor: the layers stacked with a
// real overlayfs mount, the process run chrooted into it (in a network
// namespace of its own unless Network), its changes left in Upper. It
// has none of internal/runner's isolation: tests run trusted commands.
type chrootExecutor struct {
	calls atomic.Int32
}

func (e *chrootExecutor) Execute(ctx context.Context, req task.ExecRequest) (int, error) {
	e.calls.Add(1)
	work, err := os.MkdirTemp("", "exec-")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(work) }()
	merged, wd, empty := filepath.Join(work, "merged"), filepath.Join(work, "work"), filepath.Join(work, "empty")
	for _, d := range []string{merged, wd, empty} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return 0, err
		}
	}
	var lowers []string
	for i := len(req.Layers) - 1; i >= 0; i-- {
		lowers = append(lowers, req.Layers[i])
	}
	if len(lowers) == 0 {
		lowers = []string{empty}
	}
	opts := "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + req.Upper + ",workdir=" + wd + ",index=off"
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return 0, err
	}
	defer func() { _ = unix.Unmount(merged, unix.MNT_DETACH) }()
	if req.WorkingDir != "" {
		if err := os.MkdirAll(filepath.Join(merged, req.WorkingDir), 0o755); err != nil {
			return 0, err
		}
	}
	prog := req.Args[0]
	if !strings.HasPrefix(prog, "/") {
		for _, e := range req.Env {
			if p, ok := strings.CutPrefix(e, "PATH="); ok {
				for _, d := range strings.Split(p, ":") {
					if _, err := os.Lstat(filepath.Join(merged, d, prog)); err == nil {
						prog = path.Join(d, prog)
						break
					}
				}
			}
		}
	}
	cmd := exec.CommandContext(ctx, prog)
	cmd.Path, cmd.Args, cmd.Env, cmd.Dir = prog, req.Args, req.Env, req.WorkingDir
	cmd.Stdout, cmd.Stderr = req.Stdout, req.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: merged}
	if !req.Network {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET
	}
	if req.User != "" {
		u, g, _ := strings.Cut(req.User, ":")
		uid, err := strconv.Atoi(u)
		if err != nil {
			return 0, errors.New("the test executor takes numeric users only")
		}
		gid, _ := strconv.Atoi(g)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	err = cmd.Run()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode(), nil
	}
	return 0, err
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (overlayfs, chroot, chown)")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs /bin/busybox (busybox-static)")
	}
}

// testRegistry is an in-process TLS registry (go-containerregistry's)
// with an image cache and a builder pointed at it.
type testRegistry struct {
	host  string
	rt    http.RoundTripper
	exec  *chrootExecutor
	b     *Builder
	cache *image.Cache
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	r := &testRegistry{host: strings.TrimPrefix(srv.URL, "https://"), rt: srv.Client().Transport, exec: &chrootExecutor{}}
	dir := t.TempDir()
	var err error
	if r.cache, err = image.New(image.Config{Dir: filepath.Join(dir, "images"), Transport: r.rt}); err != nil {
		t.Fatal(err)
	}
	if r.b, err = New(Config{Dir: filepath.Join(dir, "build"), Transport: r.rt, Images: r.cache, Executor: r.exec}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *testRegistry) push(t *testing.T, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(r.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithTransport(r.rt)); err != nil {
		t.Fatal(err)
	}
	return ref.Name()
}

func (r *testRegistry) pull(t *testing.T, ref string) v1.Image {
	t.Helper()
	rf, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(rf, remote.WithTransport(r.rt))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// busybox is a one-layer linux/amd64 image holding the host's static
// busybox and the links a shell script needs.
func busybox(t *testing.T) v1.Image {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin/", "etc/", "tmp/", "dev/", "home/", "home/app/"} {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755}))
	}
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb))}))
	_, err = tw.Write(bb)
	must(t, err)
	for _, l := range []string{"sh", "echo", "cat", "ls", "rm", "mkdir", "touch", "id", "env", "true", "false", "stat", "sleep", "tr"} {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + l, Linkname: "busybox", Mode: 0o777}))
	}
	for _, f := range []struct{ name, data string }{
		{"etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"},
		{"etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:\n"},
	} {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data))}))
		_, err = tw.Write([]byte(f.data))
		must(t, err)
	}
	must(t, tw.Close())
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	must(t, err)
	img, err := mutate.AppendLayers(empty.Image, layer)
	must(t, err)
	cf, err := img.ConfigFile()
	must(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Env = []string{"PATH=/bin", "FROM_BASE=yes"}
	img, err = mutate.ConfigFile(img, cf)
	must(t, err)
	return img
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeContext writes files (name → content; a name ending in "/" is a
// directory) into a new context directory.
func writeContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for n, c := range files {
		p := filepath.Join(dir, n)
		if strings.HasSuffix(n, "/") {
			must(t, os.MkdirAll(p, 0o755))
			continue
		}
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(c), 0o644))
	}
	return dir
}

// syncBuffer is a log writer tests read after the build.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// layerFiles reads a layer's tar: name → header (and content in Linkname
// for regular files, for the tests' convenience).
func layerFiles(t *testing.T, l v1.Layer) map[string]*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	must(t, err)
	defer func() { _ = rc.Close() }()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		must(t, err)
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			must(t, err)
			h.Linkname = string(data)
		}
		out[h.Name] = h
	}
}

// imageFiles merges an image's layers (whiteouts applied) into name →
// header.
func imageFiles(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	ls, err := img.Layers()
	must(t, err)
	out := map[string]*tar.Header{}
	for _, l := range ls {
		for n, h := range layerFiles(t, l) {
			dir, base := path.Split(strings.TrimSuffix(n, "/"))
			if base == opaqueWhiteout {
				for k := range out {
					if strings.HasPrefix(k, dir) && k != dir {
						delete(out, k)
					}
				}
				continue
			}
			if w, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
				delete(out, dir+w)
				delete(out, dir+w+"/")
				continue
			}
			out[n] = h
		}
	}
	return out
}

func writeFileMode(dir, name, content string, mode os.FileMode) error {
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), mode)
}
