package build

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/cerulean/cerulean/internal/image"
	"github.com/cerulean/cerulean/internal/task"
)

// Attacks by a Dockerfile author or a build context, and what must hold.

// TestSecretBuildArgNotInHistory: a secret build arg expanded into ENV,
// LABEL or WORKDIR does not reach the image's history (the config is the
// author's explicit choice) nor the log.
func TestSecretBuildArgNotInHistory(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	df := "ARG BASE\nFROM $BASE\nARG TOKEN\nENV T=$TOKEN\nLABEL l=$TOKEN\nWORKDIR /w-$TOKEN\nRUN true\n"
	res, logs, err := r.build(t, t.TempDir(), df, func(q *task.BuildRequest) {
		q.Args = append(q.Args, task.BuildArg{Name: "TOKEN", Value: "tok-very-secret", Secret: true})
	})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, logs)
	}
	cf, err := r.pull(t, r.host+"/app@"+res.Images[0].Digest).ConfigFile()
	must(t, err)
	for _, h := range cf.History {
		if strings.Contains(h.CreatedBy, "tok-very-secret") {
			t.Errorf("history leaks the secret: %q", h.CreatedBy)
		}
	}
	if strings.Contains(logs, "tok-very-secret") {
		t.Errorf("the log leaks the secret:\n%s", logs)
	}
}

// TestRunCannotForgeWhiteouts: a RUN that creates a file named like an
// OCI whiteout would make the pushed layer delete what the builder's own
// later steps still see; it fails clearly instead.
func TestRunCannotForgeWhiteouts(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	for _, script := range []string{"touch /.wh.etc", "touch /etc/.wh..wh..opq"} {
		_, logs, err := r.build(t, t.TempDir(), "ARG BASE\nFROM $BASE\nRUN "+script+"\n", func(q *task.BuildRequest) { q.Push = false })
		if err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("RUN %s: %v, want an error naming the reserved name\n%s", script, err, logs)
		}
	}
}

// TestImageSymlinksNeverFollowedOnHost: the layer directories are host
// directories; a symlink in an image (to a host path) is resolved inside
// the image when COPY --from reads through it and when COPY or ADD
// writes through it.
func TestImageSymlinksNeverFollowedOnHost(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.push(t, "base:v1", busybox(t))
	host := t.TempDir()
	must(t, os.WriteFile(filepath.Join(host, "secret"), []byte("host secret"), 0o644))
	var arch bytes.Buffer
	tw := tar.NewWriter(&arch)
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "up", Linkname: host}))
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "up/planted", Size: 1, Mode: 0o644}))
	_, _ = tw.Write([]byte("x"))
	must(t, tw.Close())

	cases := map[string]struct {
		dockerfile string
		files      map[string]string
	}{
		"copy --from through an absolute symlink": {
			"ARG BASE\nFROM $BASE AS s\nRUN ln -s " + host + "/secret /leak && ln -s " + host + " /dir\n" +
				"FROM scratch\nCOPY --from=s /leak /a\nCOPY --from=s /dir/secret /b\n", nil,
		},
		"copy into an absolute symlink": {
			"ARG BASE\nFROM $BASE\nRUN ln -s " + host + " /into\nCOPY f /into/planted\nCOPY f /into/\n",
			map[string]string{"f": "x"},
		},
		"add an archive writing through its own symlink": {
			"FROM scratch\nADD a.tar /x/\n", map[string]string{"a.tar": arch.String()},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctxDir := writeContext(t, tc.files)
			_, logs, _ := r.build(t, ctxDir, tc.dockerfile, func(q *task.BuildRequest) { q.Push = false })
			if strings.Contains(logs, "host secret") {
				t.Errorf("the build read the host's file:\n%s", logs)
			}
			if _, err := os.Lstat(filepath.Join(host, "planted")); err == nil {
				t.Fatalf("the build wrote into the host directory\n%s", logs)
			}
			if data, _ := os.ReadFile(filepath.Join(host, "secret")); string(data) != "host secret" {
				t.Fatalf("the host file changed")
			}
		})
	}
}

// TestForgedDiffIDsGetNoCachedLayers: an image whose config claims the
// diffIDs of another (private) image's layers, already unpacked on this
// server, with layers of its own, must not give its builder the private
// layers' files (nor their RUN results from the layer cache): the
// builder checks that the layers it is given are what the caller's
// registry serves.
func TestForgedDiffIDsGetNoCachedLayers(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	priv, err := mutate.AppendLayers(busybox(t), tarLayer(t, map[string]string{"secret": "private data"}))
	must(t, err)
	r.push(t, "private:v1", priv)
	// The private image's owner builds: its layers are in the caches now.
	_, logs, err := r.build(t, t.TempDir(), "ARG BASE\nFROM $BASE\nRUN cat /secret > /copy\n", func(q *task.BuildRequest) {
		q.Args = []task.BuildArg{{Name: "BASE", Value: r.host + "/private:v1"}}
		q.Push = false
	})
	if err != nil {
		t.Fatalf("owner's build: %v\n%s", err, logs)
	}
	pcf, err := priv.ConfigFile()
	must(t, err)

	// The attacker knows the diffIDs, not the content.
	fake, err := mutate.AppendLayers(empty.Image,
		tarLayer(t, map[string]string{"junk1": "1"}), tarLayer(t, map[string]string{"junk2": "2"}))
	must(t, err)
	fcf, err := fake.ConfigFile()
	must(t, err)
	fcf = fcf.DeepCopy()
	fcf.OS, fcf.Architecture = "linux", "amd64"
	fcf.RootFS.DiffIDs = pcf.RootFS.DiffIDs
	fake, err = mutate.ConfigFile(fake, fcf)
	must(t, err)
	r.push(t, "attacker/fake:v1", fake)

	var out syncBuffer
	err = r.b.RunCommand(context.Background(), task.CommandRequest{
		Image: r.host + "/attacker/fake:v1", Args: []string{"/bin/cat", "/secret"}, Log: &out,
	})
	if err == nil || strings.Contains(out.String(), "private") || !strings.Contains(err.Error(), "diffID") {
		t.Errorf("quick run of the forged image: %v, log %q; want an error naming the diffID", err, out.String())
	}
	for name, df := range map[string]string{
		"copy --from": "FROM scratch\nCOPY --from=" + r.host + "/attacker/fake:v1 /secret /s\n",
		"from + run":  "FROM " + r.host + "/attacker/fake:v1\nRUN cat /secret > /copy\n",
	} {
		t.Run(name, func(t *testing.T) {
			res, logs, err := r.build(t, t.TempDir(), df, func(q *task.BuildRequest) { q.Args = nil })
			if err == nil {
				files := imageFiles(t, r.pull(t, r.host+"/app@"+res.Images[0].Digest))
				t.Fatalf("the forged image was built on the private layers: %v\n%s", keys(files), logs)
			}
			if !strings.Contains(err.Error(), "diffID") {
				t.Errorf("error %v, want one naming the layer that does not match its diffID", err)
			}
		})
	}
}

// tarLayer is a layer of regular files.
func tarLayer(t *testing.T, files map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, c := range files {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(c))}))
		_, err := tw.Write([]byte(c))
		must(t, err)
	}
	must(t, tw.Close())
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	must(t, err)
	return l
}

// TestDockerfileSymlinkOut: a Dockerfile that is a symlink out of the
// context is not read.
func TestDockerfileSymlinkOut(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	host := filepath.Join(t.TempDir(), "Dockerfile")
	must(t, os.WriteFile(host, []byte("FROM scratch\nLABEL from=host\n"), 0o644))
	for _, target := range []string{host, "../../../../../../../../" + host} {
		ctxDir := t.TempDir()
		must(t, os.Symlink(target, filepath.Join(ctxDir, "Dockerfile.link")))
		_, logs, err := r.build(t, ctxDir, "FROM scratch\n", func(q *task.BuildRequest) { q.Dockerfile = "Dockerfile.link"; q.Push = false })
		if err == nil || strings.Contains(logs, "from=host") || strings.Contains(err.Error(), host) {
			t.Errorf("Dockerfile -> %s: %v\n%s", target, err, logs)
		}
	}
}

// TestExpansionBomb: ENV A=$A$A doubles A each line; a few dozen lines
// would exhaust the server's memory. Expansions have a budget.
func TestExpansionBomb(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	for name, line := range map[string]string{
		"env": "ENV A=$A$A",
		"arg": "ARG A=$A$A",
	} {
		df := "FROM scratch\nENV A=0123456789abcdef\n" + strings.Repeat(line+"\n", 22)
		if name == "expose" {
			df = "FROM scratch\n" + strings.Repeat(line+"\n", 100)
		}
		_, logs, err := r.build(t, t.TempDir(), df, func(q *task.BuildRequest) { q.Push = false })
		if err == nil || !strings.Contains(err.Error(), "expansions exceed") {
			t.Errorf("%s: %v, want an error about the expansions' size\n%.2000s", name, err, logs)
		}
	}
}

// TestAddXzArchive: ADD unpacks a .tar.xz (decoded by xz as nobody).
func TestAddXzArchive(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("no xz")
	}
	r := newTestRegistry(t)
	var arch bytes.Buffer
	tw := tar.NewWriter(&arch)
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "in-xz", Size: 2, Mode: 0o644}))
	_, _ = tw.Write([]byte("ok"))
	must(t, tw.Close())
	cmd := exec.Command("xz", "--compress", "--stdout")
	cmd.Stdin = &arch
	xzData, err := cmd.Output()
	must(t, err)
	ctxDir := writeContext(t, map[string]string{"a.tar.xz": string(xzData)})
	res, logs, err := r.build(t, ctxDir, "FROM scratch\nADD a.tar.xz /x/\n", nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	files := imageFiles(t, r.pull(t, r.host+"/app@"+res.Images[0].Digest))
	if h := files["x/in-xz"]; h == nil || h.Linkname != "ok" {
		t.Errorf("files %v", keys(files))
	}
}

// TestSecretNotInErrors: a failed build's error (the run's status
// message) never holds a secret build arg's value.
func TestSecretNotInErrors(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	for _, df := range []string{
		"ARG TOKEN\nARG X=${UNSET:?$TOKEN}\nFROM scratch\n",
		"ARG TOKEN\nFROM ${UNSET:?$TOKEN}\n",
		"FROM scratch\nARG TOKEN\nENV X=${UNSET:?$TOKEN}\n",
	} {
		_, logs, err := r.build(t, t.TempDir(), df, func(q *task.BuildRequest) {
			q.Args = []task.BuildArg{{Name: "TOKEN", Value: "tok-very-secret", Secret: true}}
		})
		if err == nil || strings.Contains(err.Error(), "tok-very-secret") || strings.Contains(logs, "tok-very-secret") {
			t.Errorf("%q: error %v\n%s", df, err, logs)
		}
	}
}

// TestGlobExplosion: symlinks to "." make each "*" component of a COPY
// source match every link again: the candidates grow exponentially with
// the pattern's depth, and are bounded like the entries a COPY copies.
func TestGlobExplosion(t *testing.T) {
	needRoot(t)
	r := newTestRegistry(t)
	r.b.cfg.MaxCopyEntries = 1000
	ctxDir := t.TempDir()
	for i := range 8 {
		must(t, os.Symlink(".", filepath.Join(ctxDir, "l"+strconv.Itoa(i))))
	}
	_, logs, err := r.build(t, ctxDir, "FROM scratch\nCOPY */*/*/*/*/nothing* /\n", func(q *task.BuildRequest) { q.Push = false })
	if err == nil || !strings.Contains(err.Error(), "more than 1000") {
		t.Errorf("%v, want the pattern's candidates bounded\n%s", err, logs)
	}
}

// TestCacheNeedsPullRights: once A (who may pull private) built FROM
// it, B (who may not) building the same Dockerfile gets neither the
// image cache's layers nor the layer cache's RUN result: the base is
// resolved with B's own credentials every time.
func TestCacheNeedsPullRights(t *testing.T) {
	needRoot(t)
	users := map[string]string{"a": "pa", "b": "pb"}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		u, p, ok := q.BasicAuth()
		if !ok || users[u] != p || (strings.HasPrefix(q.URL.Path, "/v2/private/") && u != "a") {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "denied", http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, q)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	rt := srv.Client().Transport
	dir := t.TempDir()
	cache, err := image.New(image.Config{Dir: filepath.Join(dir, "images"), Transport: rt})
	must(t, err)
	b, err := New(Config{Dir: filepath.Join(dir, "build"), Transport: rt, Images: cache, Executor: &chrootExecutor{}})
	must(t, err)
	priv, err := mutate.AppendLayers(busybox(t), tarLayer(t, map[string]string{"secret": "private data"}))
	must(t, err)
	ref, err := name.ParseReference(host + "/private/base:v1")
	must(t, err)
	must(t, remote.Write(ref, priv, remote.WithTransport(rt), remote.WithAuth(&authn.Basic{Username: "a", Password: "pa"})))

	ctxDir := writeContext(t, map[string]string{"Dockerfile": "FROM " + ref.String() + "\nRUN cat /secret > /copy\n"})
	build := func(user string) (string, error) {
		var logs syncBuffer
		_, err := b.Build(context.Background(), task.BuildRequest{
			ContextDir: ctxDir, Dockerfile: "Dockerfile", Log: &logs,
			Auth: func(context.Context, string) (string, string, bool, error) { return user, users[user], true, nil },
		})
		return logs.String(), err
	}
	if logs, err := build("a"); err != nil {
		t.Fatalf("A's build: %v\n%s", err, logs)
	}
	logs, err := build("b")
	if err == nil || strings.Contains(logs, "Using cache") {
		t.Fatalf("B built on the private image: %v\n%s", err, logs)
	}
	if !strings.Contains(err.Error(), "FROM at line 1") {
		t.Errorf("B's build failed otherwise: %v\n%s", err, logs)
	}
}
