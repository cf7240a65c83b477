package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/cerulean/cerulean/internal/containergroup"
)

// stackLayers are three layers that exercise every entry kind, in the
// three stream formats: gzip at the bottom, zstd, then uncompressed.
func stackLayers(t testing.TB) []v1.Layer {
	base := layerTar(t,
		dir("etc"), file("etc/os-release", "ID=test\n"),
		dir("bin"), withOwner(entry{name: "bin/app", typ: tar.TypeReg, body: "#!/bin/sh\n", mode: 0o4755}, 1000, 1000),
		dir("usr"), dir("usr/lib"), file("usr/lib/x", "x"), symlink("lib", "usr/lib"),
		hardlink("bin/app2", "bin/app"),
		withPAX(file("bin/ping", "ping"), "SCHILY.xattr.security.capability", "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
	)
	middle := layerTar(t, dir("d"), file("d/x", "x"), file("d/y", "y"), file("keep", "keep"), file("gone", "gone"))
	top := layerTar(t, file(".wh.gone", ""), dir("d"), file("d/.wh..wh..opq", ""), file("d/z", "z"))
	return []v1.Layer{gzipLayer(t, base), zstdLayer(t, middle), plainLayer(top)}
}

func TestPull(t *testing.T) {
	reg := newTestRegistry(t)
	img := testImage(t, "linux/amd64", stackLayers(t)...)
	reg.push(t, "app:v1", img, nil)
	reg.setFront(tokenFront(reg.host, map[string]string{"puller": secret}))
	cr := cred(reg.host, "puller", secret)

	dir := t.TempDir()
	c, err := New(Config{Dir: dir, Transport: reg.transport()})
	if err != nil {
		t.Fatal(err)
	}
	ri, err := c.Resolve(t.Context(), reg.host+"/app:v1", cr)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Pull(t.Context(), ri, cr)
	if err != nil {
		t.Fatal(err)
	}
	want := containergroup.ImageConfig{Entrypoint: []string{"/bin/app"}, Cmd: []string{"--serve"}, Env: []string{"PATH=/bin", "A=b"},
		WorkingDir: "/srv", User: "1000:1000", StopSignal: "SIGINT"}
	if got.Digest != ri.Digest || !equalConfig(got.Config, want) || len(got.Layers) != 3 {
		t.Fatalf("Pull = %+v", got)
	}
	checkStack(t, got.Layers)

	// Cached: the same answer without a registry, also after a restart.
	reg.srv.Close()
	again, err := c.Pull(t.Context(), ri, cr)
	if err != nil || !slices.Equal(again.Layers, got.Layers) || again.Digest != got.Digest {
		t.Fatalf("cached Pull = %+v, %v", again, err)
	}
	c2, err := New(Config{Dir: dir, Transport: reg.transport()})
	if err != nil {
		t.Fatal(err)
	}
	again, err = c2.Pull(t.Context(), ri, cr)
	if err != nil || !slices.Equal(again.Layers, got.Layers) || !equalConfig(again.Config, want) {
		t.Fatalf("Pull after a restart = %+v, %v", again, err)
	}
}

func equalConfig(a, b containergroup.ImageConfig) bool {
	return slices.Equal(a.Entrypoint, b.Entrypoint) && slices.Equal(a.Cmd, b.Cmd) && slices.Equal(a.Env, b.Env) &&
		a.WorkingDir == b.WorkingDir && a.User == b.User && a.StopSignal == b.StopSignal
}

// checkStack checks the unpacked stackLayers.
func checkStack(t *testing.T, layers []string) {
	t.Helper()
	base, middle, top := layers[0], layers[1], layers[2]
	mustContent(t, filepath.Join(base, "etc/os-release"), "ID=test\n")
	mustLink(t, filepath.Join(base, "lib"), "usr/lib")
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(base, "bin/app"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o4755 || st.Uid != 1000 || st.Gid != 1000 || st.Nlink != 2 {
		t.Errorf("bin/app: mode %o uid %d gid %d nlink %d", st.Mode&0o7777, st.Uid, st.Gid, st.Nlink)
	}
	if mt := time.Unix(st.Mtim.Unix()); !mt.Equal(time.Unix(1600000000, 0)) {
		t.Errorf("bin/app mtime %v", mt)
	}
	if n, err := unix.Lgetxattr(filepath.Join(base, "bin/ping"), "security.capability", make([]byte, 64)); err != nil || n != 20 {
		t.Errorf("bin/ping capability: %d, %v", n, err)
	}
	if fi, err := os.Stat(base); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("layer root: %v, %v", fi, err)
	}
	mustContent(t, filepath.Join(middle, "d/x"), "x")
	mustWhiteout(t, filepath.Join(top, "gone"))
	buf := make([]byte, 4)
	if n, err := unix.Lgetxattr(filepath.Join(top, "d"), opaqueXattr, buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("d is not opaque: %q, %v", buf[:n], err)
	}
	if _, err := os.Lstat(filepath.Join(top, "d/.wh..wh..opq")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the opaque marker itself was unpacked: %v", err)
	}
}

func TestPullSharesLayers(t *testing.T) {
	reg := newTestRegistry(t)
	shared := gzipLayer(t, layerTar(t, file("shared", "base")))
	a := testImage(t, "linux/amd64", shared, plainLayer(layerTar(t, file("a", "a"))))
	b := testImage(t, "linux/amd64", shared, plainLayer(layerTar(t, file("b", "b"))))
	reg.push(t, "a:v1", a, nil)
	reg.push(t, "b:v1", b, nil)
	sharedDigest, _ := shared.Digest()
	// Hold the shared blob until both pulls wait for it, so that they
	// really are concurrent.
	var asked sync.WaitGroup
	asked.Add(1)
	var once sync.Once
	reg.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, sharedDigest.String()) && r.Method == http.MethodGet {
			once.Do(asked.Done)
			time.Sleep(50 * time.Millisecond)
		}
		return true
	})

	c := newCache(t, reg.transport())
	var wg sync.WaitGroup
	imgs := make([]containergroup.Image, 2)
	for i, repo := range []string{"a", "b"} {
		wg.Go(func() {
			ri, err := c.Resolve(t.Context(), reg.host+"/"+repo+":v1", nil)
			if err != nil {
				t.Error(err)
				return
			}
			if imgs[i], err = c.Pull(t.Context(), ri, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if n := reg.getCount("/v2/a/blobs/"+sharedDigest.String()) + reg.getCount("/v2/b/blobs/"+sharedDigest.String()); n != 1 {
		t.Errorf("the shared layer was fetched %d times", n)
	}
	if imgs[0].Layers[0] != imgs[1].Layers[0] {
		t.Errorf("layers %s and %s", imgs[0].Layers[0], imgs[1].Layers[0])
	}
	mustContent(t, filepath.Join(imgs[1].Layers[1], "b"), "b")
}

func TestPullRefusesBadLayers(t *testing.T) {
	good := layerTar(t, file("f", "good"))
	cases := []struct {
		name  string
		layer v1.Layer
		fault func(digest v1.Hash) frontFunc
		want  string
	}{
		{
			name:  "blob does not match its digest",
			layer: plainLayer(good),
			fault: func(d v1.Hash) frontFunc {
				return func(w http.ResponseWriter, r *http.Request) bool {
					if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, d.String()) {
						// "good" becomes "gooe": a valid tar that only
						// the digest can tell from the original.
						w.Write(bytes.Replace(good, []byte("good"), []byte("gooe"), 1))
						return false
					}
					return true
				}
			},
			want: "verifying",
		},
		{
			name:  "config lies about the diffID",
			layer: &blobLayer{data: gzipped(t, good), diffID: diffIDOf([]byte("something else")), mt: "application/vnd.oci.image.layer.v1.tar+gzip"},
			want:  "does not match its diffID",
		},
		{
			name:  "layer escapes",
			layer: gzipLayer(t, layerTar(t, file("../../../etc/cron.d/x", "pwned"))),
			want:  "path leaves the layer",
		},
		{
			name:  "truncated gzip",
			layer: &blobLayer{data: gzipped(t, good)[:40], diffID: diffIDOf(good), mt: "application/vnd.oci.image.layer.v1.tar+gzip"},
			want:  "EOF",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := newTestRegistry(t)
			reg.push(t, "app:v1", testImage(t, "linux/amd64", tc.layer), nil)
			if tc.fault != nil {
				d, _ := tc.layer.Digest()
				reg.setFault(tc.fault(d))
			}
			c := newCache(t, reg.transport())
			ri, err := c.Resolve(t.Context(), reg.host+"/app:v1", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Pull(t.Context(), ri, nil)
			ie, ok := errors.AsType[*containergroup.ImageError](err)
			if !ok || ie.Check != containergroup.CheckRegistry || !strings.Contains(ie.Message, tc.want) {
				t.Fatalf("Pull error %v, want a RegistryError about %q", err, tc.want)
			}
			for _, d := range []string{c.layersDir(), c.tmpDir(), c.imagesDir()} {
				if left, _ := os.ReadDir(d); len(left) != 0 {
					t.Errorf("%s holds %v", d, left)
				}
			}
		})
	}
}

func TestPullChecksAccess(t *testing.T) {
	reg := newTestRegistry(t)
	reg.push(t, "app:v1", testImage(t, "linux/amd64", stackLayers(t)...), nil)
	c := newCache(t, reg.transport())
	ri, err := c.Resolve(t.Context(), reg.host+"/app:v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.setFront(tokenFront(reg.host, map[string]string{"puller": secret}))
	_, err = c.Pull(t.Context(), ri, cred(reg.host, "puller", "wrong"))
	if ie, ok := errors.AsType[*containergroup.ImageError](err); !ok || ie.Check != containergroup.CheckUnauthorized {
		t.Fatalf("Pull with a wrong password: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Pull(ctx, ri, cred(reg.host, "puller", secret)); !errors.Is(err, context.Canceled) {
		t.Errorf("Pull with a cancelled context: %v", err)
	}
}

func TestPrune(t *testing.T) {
	reg := newTestRegistry(t)
	shared := gzipLayer(t, layerTar(t, file("shared", "base")))
	onlyA := plainLayer(layerTar(t, file("a", "a")))
	onlyB := plainLayer(layerTar(t, file("b", "b")))
	reg.push(t, "a:v1", testImage(t, "linux/amd64", shared, onlyA), nil)
	reg.push(t, "b:v1", testImage(t, "linux/amd64", shared, onlyB), nil)
	c := newCache(t, reg.transport())
	pull := func(repo string) containergroup.Image {
		ri, err := c.Resolve(t.Context(), reg.host+"/"+repo+":v1", nil)
		if err != nil {
			t.Fatal(err)
		}
		img, err := c.Pull(t.Context(), ri, nil)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	a, b := pull("a"), pull("b")
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }

	if err := c.Prune(t.Context(), []string{a.Digest}); err != nil {
		t.Fatal(err)
	}
	if !exists(a.Layers[0]) || !exists(a.Layers[1]) || exists(b.Layers[1]) || exists(c.recordPath(b.Digest)) || !exists(c.recordPath(a.Digest)) {
		t.Errorf("after Prune(a): a %v %v, b %v, records a %v b %v",
			exists(a.Layers[0]), exists(a.Layers[1]), exists(b.Layers[1]), exists(c.recordPath(a.Digest)), exists(c.recordPath(b.Digest)))
	}
	if err := c.Prune(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{c.layersDir(), c.blobsDir(), c.imagesDir(), c.trashDir()} {
		if left, _ := os.ReadDir(d); len(left) != 0 {
			t.Errorf("%s holds %v after Prune(nil)", d, left)
		}
	}
	// A pruned image pulls again.
	if again := pull("b"); !exists(again.Layers[1]) {
		t.Error("b was not pulled again")
	}
}

// rawConfigImage serves a config's bytes as given, so that a test can push
// one that go-containerregistry would never write.
type rawConfigImage struct {
	v1.Image
	raw []byte
}

func (r rawConfigImage) RawConfigFile() ([]byte, error) { return r.raw, nil }

func (r rawConfigImage) ConfigName() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(r.raw))
	return h, err
}

func (r rawConfigImage) Manifest() (*v1.Manifest, error) {
	m, err := r.Image.Manifest()
	if err != nil {
		return nil, err
	}
	m = m.DeepCopy()
	m.Config.Digest, _ = r.ConfigName()
	m.Config.Size = int64(len(r.raw))
	return m, nil
}

func (r rawConfigImage) RawManifest() ([]byte, error) {
	m, err := r.Manifest()
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

func (r rawConfigImage) Digest() (v1.Hash, error) {
	b, err := r.RawManifest()
	if err != nil {
		return v1.Hash{}, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(b))
	return h, err
}

// TestPullRefusesAmbiguousConfig: a config naming a member twice is refused
// before anything is unpacked, since another parser could read the other
// entrypoint.
func TestPullRefusesAmbiguousConfig(t *testing.T) {
	reg := newTestRegistry(t)
	base := testImage(t, "linux/amd64", plainLayer(layerTar(t, file("f", "x"))))
	raw, err := base.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	dup := bytes.Replace(raw, []byte(`"config":{`), []byte(`"config":{"Entrypoint":["/bin/evil"],"Entrypoint":["/bin/app"],`), 1)
	if bytes.Equal(dup, raw) {
		t.Fatalf("test config has no config object: %s", raw)
	}
	reg.push(t, "app:v1", rawConfigImage{Image: base, raw: dup}, nil)
	c := newCache(t, reg.transport())
	ri, err := c.Resolve(t.Context(), reg.host+"/app:v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Pull(t.Context(), ri, nil)
	ie, ok := errors.AsType[*containergroup.ImageError](err)
	if !ok || ie.Check != containergroup.CheckRegistry || !strings.Contains(ie.Message, "Entrypoint") {
		t.Fatalf("Pull error %v, want a RegistryError naming the duplicate member", err)
	}
	if left, _ := os.ReadDir(c.layersDir()); len(left) != 0 {
		t.Errorf("layers unpacked for a refused image: %v", left)
	}
}
