package runnertest

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cerulean/cerulean/internal/containergroup"
)

// IndexHTML is what the image's httpd serves at /.
const IndexHTML = "hello from cerulean\n"

var udpEcho struct {
	once sync.Once
	path string
	err  error
}

// BusyboxImage makes a one-layer image from the host's static busybox
// (Debian: busybox-static): /bin with every applet, /etc/passwd and group,
// /www/index.html, and /bin/udpecho when the Go toolchain can build it.
// It skips the test when busybox is missing, unless
// CERULEAN_E2E_REQUIRE=1.
func BusyboxImage(t testing.TB) containergroup.Image {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err == nil {
		if out, ferr := exec.Command("file", "-L", bb).Output(); ferr == nil && !strings.Contains(string(out), "statically linked") {
			err = os.ErrNotExist
		}
	}
	if err != nil {
		if os.Getenv("CERULEAN_E2E_REQUIRE") == "1" {
			t.Fatalf("a static busybox is required (apt-get install busybox-static): %v", err)
		}
		t.Skipf("no static busybox (apt-get install busybox-static): %v", err)
	}
	layer := filepath.Join(t.TempDir(), "layer")
	for _, d := range []string{"bin", "etc", "www", "tmp", "root"} {
		must(t, os.MkdirAll(filepath.Join(layer, d), 0o755))
	}
	must(t, os.Chmod(filepath.Join(layer, "tmp"), 0o1777))
	copyFile(t, bb, filepath.Join(layer, "bin", "busybox"), 0o755)
	list, err := exec.Command(bb, "--list").Output()
	must(t, err)
	for _, app := range strings.Fields(string(list)) {
		if app != "busybox" && !strings.Contains(app, "/") {
			_ = os.Symlink("busybox", filepath.Join(layer, "bin", app))
		}
	}
	must(t, os.WriteFile(filepath.Join(layer, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000::/:/bin/sh\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(layer, "etc", "group"), []byte("root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:2000:app\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(layer, "www", "index.html"), []byte(IndexHTML), 0o644))

	udpEcho.once.Do(func() {
		dir, err := os.MkdirTemp("", "cerulean-udpecho-")
		if err != nil {
			udpEcho.err = err
			return
		}
		udpEcho.path = filepath.Join(dir, "udpecho")
		cmd := exec.Command("go", "build", "-o", udpEcho.path, "github.com/cerulean/cerulean/internal/runner/runnertest/udpecho")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			udpEcho.err = err
			udpEcho.path = string(out)
		}
	})
	if udpEcho.err == nil {
		copyFile(t, udpEcho.path, filepath.Join(layer, "bin", "udpecho"), 0o755)
	}
	return containergroup.Image{
		Digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		Config: containergroup.ImageConfig{Cmd: []string{"sh"}, Env: []string{"PATH=/bin", "IMAGE_ONLY=1", "OVERRIDDEN=image"}},
		Layers: []string{layer},
	}
}

func hasUDPEcho(img containergroup.Image) bool {
	_, err := os.Stat(filepath.Join(img.Layers[0], "bin", "udpecho"))
	return err == nil
}

func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	must(t, err)
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	must(t, err)
	_, err = io.Copy(out, in)
	must(t, err)
	must(t, out.Close())
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
