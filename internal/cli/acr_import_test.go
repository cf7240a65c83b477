package cli

import (
	"archive/tar"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cerulean/cerulean/internal/client"
)

// helloLayoutDir is the OCI image layout the acr_data transcript imports:
// "v1" is a linux/amd64 + linux/arm64 index, "v2" a single linux/amd64
// image; every layer is an uncompressed tar holding hello.txt, so the
// bytes (and digests) depend on nothing but this code.
const helloLayoutDir = "testdata/acr_data/hello-layout"

func fixtureImage(t *testing.T, content, arch string) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
		t.Fatal(err)
	}
	_, _ = tw.Write([]byte(content))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON),
		static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Cmd = []string{"cat", "/hello.txt"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func writeHelloLayout(t *testing.T, dir string) {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		adds = append(adds, mutate.IndexAddendum{Add: fixtureImage(t, "Hello from Cerulean ("+arch+")\n", arch),
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(fixtureImage(t, "Hello again\n", "amd64"), layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v2"})); err != nil {
		t.Fatal(err)
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestACRDataLayoutFixture rebuilds the committed layout and compares it
// byte for byte (-update rewrites it).
func TestACRDataLayoutFixture(t *testing.T) {
	dir := t.TempDir()
	writeHelloLayout(t, dir)
	if *update {
		if err := os.RemoveAll(helloLayoutDir); err != nil {
			t.Fatal(err)
		}
		for rel, data := range readTree(t, dir) {
			p := filepath.Join(helloLayoutDir, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, want := readTree(t, dir), readTree(t, helloLayoutDir)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs from what writeHelloLayout builds (run with -update)", helloLayoutDir)
	}
}

// TestACRImportArchive imports a docker-archive tarball and checks the
// target token's scope.
func TestACRImportArchive(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun("login", "-o", "none")
	e.mustRun("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	e.mustRun("acr", "create", "-g", "rg", "-n", "myregistry", "--sku", "Basic", "-o", "none")
	path := filepath.Join(t.TempDir(), "hello.tar")
	img := fixtureImage(t, "archived\n", "amd64")
	tag, _ := name.NewTag("hello:v1")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	before := len(e.dataPlane().requestLog())
	out, errs, code := e.run("acr", "import", "-n", "myregistry", "--source", "docker-archive:"+path+":hello:v1", "-t", "archived:v1")
	if code != 0 || out != "" {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	if !strings.Contains(errs, "Writing manifest archived:v1\n") || !strings.Contains(errs, "Copying config sha256:") {
		t.Errorf("progress:\n%s", errs)
	}
	var tokenScopes []string
	for _, r := range e.dataPlane().requestLog()[before:] {
		if strings.HasPrefix(r, "POST /oauth2/token") {
			tokenScopes = append(tokenScopes, r)
		}
	}
	if len(tokenScopes) != 1 {
		t.Errorf("token requests %v", tokenScopes)
	}
	out = e.mustRun("acr", "repository", "show-tags", "-n", "myregistry", "--repository", "archived", "-o", "tsv")
	if out != "v1\n" {
		t.Errorf("tags %q", out)
	}
	// Without a target, a local source is refused; so are source credentials.
	if _, errs, code := e.run("acr", "import", "-n", "myregistry", "--source", "docker-archive:"+path); code != 1 || !strings.Contains(errs, "--image") {
		t.Errorf("no target: %d %s", code, errs)
	}
	if _, errs, code := e.run("acr", "import", "-n", "myregistry", "--source", "docker-archive:"+path, "-t", "x:y", "-u", "a", "-p", "b"); code != 1 || !strings.Contains(errs, "apply to registry sources") {
		t.Errorf("credentials for a local source: %d %s", code, errs)
	}
	// --only-show-errors silences the progress.
	if _, errs, code := e.run("acr", "import", "-n", "myregistry", "--source", "docker-archive:"+path, "-t", "quiet:v1", "--only-show-errors"); code != 0 || errs != "" {
		t.Errorf("quiet import: %d %q", code, errs)
	}
}

func TestImportTargets(t *testing.T) {
	got, err := importTargets([]string{"hello:v1", "team/hello", "hello:latest", "localhost:5000/x:y"}, []string{"untagged", "hello"})
	if err != nil {
		t.Fatal(err)
	}
	want := []importTarget{
		{repository: "hello", tags: []string{"v1", "latest"}},
		{repository: "team/hello", tags: []string{"latest"}},
		{repository: "localhost:5000/x", tags: []string{"y"}},
		{repository: "untagged"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets %+v, want %+v", got, want)
	}
	for _, bad := range []string{"hello:", ":v1", "hello@sha256:abc"} {
		if _, err := importTargets([]string{bad}, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLocalSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in              string
		kind, path, ref string
		ok              bool
	}{
		{"oci-layout:/a/b:v1", sourceOCILayout, "/a/b", "v1", true},
		{"oci-layout:/a/b", sourceOCILayout, "/a/b", "", true},
		{"docker-archive:/x.tar:hello:v1", sourceDockerArchive, "/x.tar", "hello:v1", true},
		{dir, sourceOCILayout, dir, "", true},
		{"docker.io/library/hello-world:latest", "", "", "", false},
		{t.TempDir(), "", "", "", false},
	}
	for _, tc := range tests {
		kind, path, ref, ok := localSource(tc.in)
		if kind != tc.kind || path != tc.path || ref != tc.ref || ok != tc.ok {
			t.Errorf("localSource(%q) = %q %q %q %v", tc.in, kind, path, ref, ok)
		}
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 12900000: "12.3 MiB", 5 << 30: "5.0 GiB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %s, want %s", n, got, want)
		}
	}
	if got := shortDigest("sha256:0123456789abcdef"); got != "sha256:0123456789ab" {
		t.Errorf("shortDigest %s", got)
	}
}

func TestImportProgress(t *testing.T) {
	now := fakeTime
	var b strings.Builder
	p := &importProgress{w: &b, tty: true, now: func() time.Time { return now }}
	blob := client.CopyEvent{Object: "blob", Digest: "sha256:0123456789abcdef", Size: 3 << 20}
	for _, done := range []int64{1 << 20, 2 << 20} {
		ev := blob
		ev.Kind, ev.Done = client.CopyBlobProgress, done
		p.event(ev)
		now = now.Add(time.Second)
	}
	ev := blob
	ev.Kind, ev.Done = client.CopyBlobDone, blob.Size
	p.event(ev)
	p.event(client.CopyEvent{Kind: client.CopyManifestDone, Ref: "hello:v1"})
	want := "\r\033[KCopying blob sha256:0123456789ab 1.0 MiB / 3.0 MiB" +
		"\r\033[KCopying blob sha256:0123456789ab 2.0 MiB / 3.0 MiB" +
		"\r\033[KCopying blob sha256:0123456789ab done 3.0 MiB\n" +
		"Writing manifest hello:v1\n"
	if b.String() != want {
		t.Errorf("tty progress %q, want %q", b.String(), want)
	}
	// Not a terminal: final lines only; quiet: nothing.
	b.Reset()
	p = &importProgress{w: &b, now: func() time.Time { return now }}
	ev.Kind = client.CopyBlobProgress
	p.event(ev)
	if b.String() != "" {
		t.Errorf("progress without a terminal: %q", b.String())
	}
	p = &importProgress{w: &b, quiet: true, now: func() time.Time { return now }}
	p.event(client.CopyEvent{Kind: client.CopyManifestDone, Ref: "hello:v1"})
	if b.String() != "" {
		t.Errorf("quiet progress: %q", b.String())
	}
}

// TestACRImportChecksEveryTargetFirst: a tag conflict in any target
// repository fails the import before anything is written.
func TestACRImportChecksEveryTargetFirst(t *testing.T) {
	e := newACRDataEnv(t)
	e.mustRun("acr", "import", "-n", acrDataRegistry, "--source", "oci-layout:"+helloLayoutDir+":v2", "-t", "a:v1", "--only-show-errors")
	_, errs, code := e.run("acr", "import", "-n", acrDataRegistry, "--source", "oci-layout:"+helloLayoutDir+":v1", "-t", "b:v1", "-t", "a:v1")
	if code != 1 || errs != "ERROR: Tag a:v1 already exists in target registry.\n" {
		t.Fatalf("conflict: %d %q", code, errs)
	}
	if out := e.mustRun("acr", "repository", "list", "-n", acrDataRegistry, "-o", "tsv"); out != "a\n" {
		t.Errorf("repositories after a refused import: %q", out)
	}
}

// TestACRImportUnreachableSource: the error names the source and says why
// once (the message already holds the cause).
func TestACRImportUnreachableSource(t *testing.T) {
	e := newACRDataEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, errs, code := e.run("acr", "import", "-n", acrDataRegistry, "--source", addr+"/x:1", "-t", "x:1")
	want := "ERROR: Cannot read the source image '" + addr + "/x:1': "
	if code != 1 || !strings.HasPrefix(errs, want) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if n := strings.Count(errs, `Get "https://`+addr+`/v2/"`); n != 1 {
		t.Fatalf("the cause is said %d times: %q", n, errs)
	}
}
