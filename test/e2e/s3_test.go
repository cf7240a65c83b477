package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net"
	"net/http"
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

// TestRegistryOnS3Redirect runs the server on a bucket with ?redirect=true:
// a layer GET is a 307 to a presigned URL on the object store, which
// serves the bytes and ranges of them without credentials, and a pull
// with go-containerregistry, which follows redirects, gets the image.
func TestRegistryOnS3Redirect(t *testing.T) {
	blobs, _ := s3Blobs(t)
	// go-containerregistry refuses to follow a redirect to a private IP
	// address (its SSRF guard) but follows one to a host name, as a real
	// bucket has: name the loopback object store by one.
	u, err := url.Parse(blobs)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	endpoint, err := url.Parse(q.Get("endpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(endpoint.Hostname()); ip != nil && ip.IsLoopback() {
		endpoint.Host = net.JoinHostPort("localhost", endpoint.Port())
	}
	q.Set("endpoint", endpoint.String())
	q.Set("redirect", "true")
	u.RawQuery = q.Encode()
	t.Setenv("CERULEAN_BLOBS", u.String())
	e := newRegistryEnv(t)
	id, ls := e.createRegistry(t, "s3redir")
	pusher := e.newPrincipal(t, "s3-redirect-pusher", "acrpush", id)

	img, err := random.Image(1<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(ls + "/samples/redirect:v1")
	if err != nil {
		t.Fatal(err)
	}
	tr := objectStoreTransport(e, endpoint.Host)
	opts := []remote.Option{remote.WithAuth(pusher.basic()), remote.WithTransport(tr), remote.WithContext(t.Context())}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatalf("push: %v\n%s", err, e.log)
	}

	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	rc, _ := layers[0].Compressed()
	want, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}

	get := func(t *testing.T, u string, header ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		noFollow := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
	blobURL := "https://" + ls + "/v2/samples/redirect/blobs/" + ld.String()
	resp := get(t, blobURL, "Authorization", basicAuth(pusher.appID, pusher.password))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusTemporaryRedirect || loc == nil || loc.Host != endpoint.Host {
		t.Fatalf("GET %s: %s, Location %q; want 307 to %s", blobURL, resp.Status, resp.Header.Get("Location"), endpoint.Host)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != ld.String() {
		t.Errorf("Docker-Content-Digest = %q", got)
	}
	// Without credentials the registry answers 401, not a URL.
	if resp := get(t, blobURL); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" {
		t.Errorf("anonymous GET: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	// The presigned URL serves the blob, and a range of it, by itself.
	for _, tt := range []struct {
		rng    string
		status int
		body   []byte
	}{{"", http.StatusOK, want}, {"bytes=10-19", http.StatusPartialContent, want[10:20]}} {
		var hdr []string
		if tt.rng != "" {
			hdr = []string{"Range", tt.rng}
		}
		resp := get(t, loc.String(), hdr...)
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tt.status || !bytes.Equal(body, tt.body) {
			t.Errorf("GET presigned URL (Range %q): %s, %d bytes; want %d, %d bytes", tt.rng, resp.Status, len(body), tt.status, len(tt.body))
		}
	}

	pullAll(t, ref, img, opts)
}

// objectStoreTransport is the registry env's transport, except that
// connections to the object store (objects, host:port) go where they say.
func objectStoreTransport(e *registryEnv, objects string) *http.Transport {
	tr := e.transport.Clone()
	toServer := e.transport.DialContext
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == objects {
			return d.DialContext(ctx, network, addr)
		}
		return toServer(ctx, network, addr)
	}
	return tr
}

// basicAuth is an Authorization header value with Basic credentials.
func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}
