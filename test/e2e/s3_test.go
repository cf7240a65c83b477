package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Blobs returns CERULEAN_TEST_S3 (scripts/seaweedfs.sh prints it) with a
// fresh prefix for this test, and removes everything under that prefix
// when the test ends. Without the variable the test is skipped, unless
// CERULEAN_E2E_REQUIRE=1.
func s3Blobs(t *testing.T) (blobsURL string, objects func() []string) {
	t.Helper()
	raw := os.Getenv("CERULEAN_TEST_S3")
	if raw == "" {
		requireOrSkip(t, "CERULEAN_TEST_S3 is not set; see scripts/seaweedfs.sh")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := strings.TrimPrefix(strings.Trim(u.Path, "/")+"/e2e-"+hex.EncodeToString(b[:]), "/")
	u.Path = "/" + prefix
	endpoint, _ := url.Parse(u.Query().Get("endpoint"))
	c, err := minio.New(endpoint.Host, &minio.Options{
		Creds: credentials.NewEnvAWS(), Secure: endpoint.Scheme == "https",
		Region: u.Query().Get("region"), BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	objects = func() []string {
		var keys []string
		for oi := range c.ListObjects(context.Background(), u.Host, minio.ListObjectsOptions{Prefix: prefix + "/", Recursive: true}) {
			if oi.Err != nil {
				t.Fatalf("list the test bucket: %v", oi.Err)
			}
			keys = append(keys, strings.TrimPrefix(oi.Key, prefix+"/"))
		}
		return keys
	}
	t.Cleanup(func() {
		for _, k := range objects() {
			_ = c.RemoveObject(context.Background(), u.Host, prefix+"/"+k, minio.RemoveObjectOptions{})
		}
	})
	return u.String(), objects
}

// TestRegistryOnS3 runs the server with its blobs in an S3 bucket
// (CERULEAN_BLOBS): an image pushed and pulled with go-containerregistry
// lands in the bucket, not the data dir, and pulls again after a restart.
func TestRegistryOnS3(t *testing.T) {
	blobs, objects := s3Blobs(t)
	t.Setenv("CERULEAN_BLOBS", blobs) // the server inherits the environment
	e := newRegistryEnv(t)
	id, ls := e.createRegistry(t, "s3reg")
	pusher := e.newPrincipal(t, "s3-pusher", "acrpush", id)

	// Layers beyond one S3 part go through multipart uploads.
	img, err := random.Image(9<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(ls + "/samples/s3:v1")
	if err != nil {
		t.Fatal(err)
	}
	opts := func(e *registryEnv) []remote.Option {
		return []remote.Option{remote.WithAuth(pusher.basic()), remote.WithTransport(e.transport), remote.WithContext(t.Context())}
	}
	if err := remote.Write(ref, img, opts(e)...); err != nil {
		t.Fatalf("push: %v\n%s", err, e.log)
	}
	pullAll(t, ref, img, opts(e))

	layers, _ := img.Layers()
	stored := map[string]bool{}
	for _, k := range objects() {
		stored[k] = true
	}
	for _, l := range layers {
		d, _ := l.Digest()
		if !stored["blobs/sha256/"+d.Hex] {
			t.Fatalf("layer %s is not in the bucket; objects: %v", d, objects())
		}
	}
	if _, err := os.Stat(filepath.Join(e.dataDir, "blobs")); err == nil {
		t.Fatal("the server made a blobs directory in its data dir")
	}

	e.stop(t)
	s2 := startServer(t, e.dataDir, e.addr)
	s2.env = e.env
	pullAll(t, ref, img, opts(&registryEnv{server: s2, transport: loopbackTransport(t, s2)}))
}

// pullAll pulls ref and reads every layer, checking the image digest (and,
// through go-containerregistry, each layer's).
func pullAll(t *testing.T, ref name.Reference, want v1.Image, opts []remote.Option) {
	t.Helper()
	got, err := remote.Image(ref, opts...)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	gd, _ := got.Digest()
	wd, _ := want.Digest()
	if gd != wd {
		t.Fatalf("pulled %s, pushed %s", gd, wd)
	}
	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("read layer: %v", err)
		}
		if err := rc.Close(); err != nil { // verifies the digest
			t.Fatalf("layer: %v", err)
		}
	}
}
