package client

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/cerulean/cerulean/internal/errdefs"
)

const copyToken = "push-token"

// ociRegistry is go-containerregistry's in-memory registry behind the
// data-plane test server, with ACR's challenge on /v2/ and a bearer token
// required on everything else.
func ociRegistry(t *testing.T) *dataPlane {
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	return newDataPlane(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+copyToken {
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://`+r.Host+`/oauth2/token",service="`+r.Host+`"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		reg.ServeHTTP(w, r)
	})
}

// testImage is a one-layer image whose layer holds one file.
func testImage(t *testing.T, content, arch string) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(content))})
	_, _ = tw.Write([]byte(content))
	_ = tw.Close()
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture = "linux", arch
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// testIndex is a two-platform index.
func testIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		adds = append(adds, mutate.IndexAddendum{Add: testImage(t, "hello from "+arch, arch),
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return mutate.AppendManifests(empty.Index, adds...)
}

func TestCopyImageFromLayout(t *testing.T) {
	ctx := context.Background()
	dp := ociRegistry(t)
	r := dp.registry(t, "myreg.example.com")
	idx := testIndex(t)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameAnnotation: "v1"})); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(testImage(t, "other", "amd64"), layout.WithAnnotations(map[string]string{refNameAnnotation: "other"})); err != nil {
		t.Fatal(err)
	}

	if _, err := OpenLayoutSource(dir, ""); err == nil || !strings.Contains(err.Error(), "holds 2 images") {
		t.Errorf("ambiguous layout: %v", err)
	}
	if _, err := OpenLayoutSource(dir, "v2"); err == nil || !strings.Contains(err.Error(), "no image tagged 'v2'") {
		t.Errorf("missing tag: %v", err)
	}
	if _, err := OpenLayoutSource(t.TempDir(), ""); err == nil {
		t.Error("a directory without oci-layout was accepted")
	}
	src, err := OpenLayoutSource(dir, "v1")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := idx.Digest()
	if d, _ := src.Digest(); d != want.String() || !src.IsIndex() {
		t.Fatalf("source digest %s, want %s", d, want)
	}

	var events []CopyEvent
	target := CopyTarget{LoginServer: "myreg.example.com", Repository: "team/hello", Transport: r.Transport(),
		Auth: RegistryAuth{Token: copyToken}, Tags: []string{"v1", "latest"}}
	if err := CopyImage(ctx, src, target, func(e CopyEvent) { events = append(events, e) }); err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, e := range events {
		switch e.Kind {
		case CopyBlobDone:
			summary = append(summary, "done "+e.Object+" "+e.Platform)
		case CopyBlobExists:
			summary = append(summary, "exists "+e.Object)
		case CopyManifestDone:
			summary = append(summary, "manifest "+e.Ref[:strings.IndexAny(e.Ref, "@:")]+" "+e.Platform)
		}
	}
	wantSummary := []string{
		"done blob linux/amd64", "done config linux/amd64", "manifest team/hello linux/amd64",
		"done blob linux/arm64", "done config linux/arm64", "manifest team/hello linux/arm64",
		"manifest team/hello ", "manifest team/hello ",
	}
	if strings.Join(summary, "\n") != strings.Join(wantSummary, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(summary, "\n"), strings.Join(wantSummary, "\n"))
	}
	if last := events[len(events)-1]; last.Ref != "team/hello:latest" || last.Digest != want.String() {
		t.Errorf("last event %+v", last)
	}

	// The copy is readable through the same transport, every platform.
	opts := []remote.Option{remote.WithTransport(r.Transport()), remote.WithAuth(RegistryAuth{Token: copyToken}.authenticator())}
	for _, tag := range []string{"v1", "latest"} {
		ref, _ := name.ParseReference("myreg.example.com/team/hello:" + tag)
		d, err := remote.Get(ref, opts...)
		if err != nil || d.Digest != want {
			t.Fatalf("%s: %v %v", tag, d, err)
		}
	}
	im, _ := idx.IndexManifest()
	for _, m := range im.Manifests {
		ref, _ := name.ParseReference("myreg.example.com/team/hello@" + m.Digest.String())
		if _, err := remote.Get(ref, opts...); err != nil {
			t.Errorf("child %s: %v", m.Digest, err)
		}
	}

	// Again: every blob is there already.
	events = nil
	if err := CopyImage(ctx, src, target, func(e CopyEvent) { events = append(events, e) }); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Kind == CopyBlobDone || e.Kind == CopyBlobProgress {
			t.Errorf("blob uploaded again: %+v", e)
		}
	}

	// A tag on another manifest needs --force.
	other, err := OpenLayoutSource(dir, "other")
	if err != nil {
		t.Fatal(err)
	}
	err = CopyImage(ctx, other, target, nil)
	if e, ok := errors.AsType[*errdefs.Error](err); !ok || e.Kind != errdefs.AlreadyExists || e.Message != "Tag team/hello:v1 already exists in target registry." {
		t.Fatalf("conflict: %v", err)
	}
	target.Force = true
	if err := CopyImage(ctx, other, target, nil); err != nil {
		t.Fatal(err)
	}
	od, _ := other.Digest()
	if d, err := remote.Head(name.MustParseReference("myreg.example.com/team/hello:v1"), opts...); err != nil || d.Digest.String() != od {
		t.Errorf("forced tag: %v %v", d, err)
	}

	// Without the token the registry refuses, and the error says so.
	target.Auth = RegistryAuth{}
	err = CopyImage(ctx, src, CopyTarget{LoginServer: "myreg.example.com", Repository: "x", Transport: r.Transport(), Tags: []string{"v1"}}, nil)
	if e, ok := errors.AsType[*errdefs.Error](err); !ok || e.Kind != errdefs.Unauthenticated {
		t.Errorf("anonymous push: %v", err)
	}
}

func TestCopyImageFromArchiveAndRegistry(t *testing.T) {
	ctx := context.Background()
	dp := ociRegistry(t)
	r := dp.registry(t, "myreg.example.com")
	img := testImage(t, "archived", "amd64")
	path := filepath.Join(t.TempDir(), "hello.tar")
	if err := tarball.WriteToFile(path, name.MustParseReference("hello:v1"), img); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenArchiveSource(path, "hello:v2"); err == nil {
		t.Error("missing tag in the archive accepted")
	}
	src, err := OpenArchiveSource(path, "")
	if err != nil {
		t.Fatal(err)
	}
	auth := RegistryAuth{Token: copyToken}
	if err := CopyImage(ctx, src, CopyTarget{LoginServer: "myreg.example.com", Repository: "hello", Transport: r.Transport(),
		Auth: auth, Tags: []string{"v1"}}, nil); err != nil {
		t.Fatal(err)
	}
	want, _ := src.Digest()

	// Registry to registry, by digest only (--repository).
	remoteSrc, err := OpenRemoteSource(ctx, RemoteSource{Reference: "myreg.example.com/hello:v1", Transport: r.Transport(), Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := remoteSrc.Digest(); d != want || remoteSrc.IsIndex() {
		t.Fatalf("remote digest %s, want %s", d, want)
	}
	var refs []string
	if err := CopyImage(ctx, remoteSrc, CopyTarget{LoginServer: "myreg.example.com", Repository: "copy", Transport: r.Transport(), Auth: auth},
		func(e CopyEvent) {
			if e.Kind == CopyManifestDone {
				refs = append(refs, e.Ref)
			}
		}); err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0] != "copy@"+want {
		t.Errorf("manifests %v", refs)
	}
	if _, err := OpenRemoteSource(ctx, RemoteSource{Reference: "myreg.example.com/missing:v1", Transport: r.Transport(), Auth: auth}); err == nil {
		t.Error("a missing source opened")
	} else if e, ok := errors.AsType[*errdefs.Error](err); !ok || e.Kind != errdefs.NotFound {
		t.Errorf("missing source: %v", err)
	}
	if _, err := OpenRemoteSource(ctx, RemoteSource{Reference: "Not A Ref", Transport: r.Transport()}); err == nil {
		t.Error("a bad reference opened")
	}
}
