package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

// blobLayer is a layer given as its stored bytes and its diffID, so that
// tests control compression and can make a config lie about a diffID.
type blobLayer struct {
	data   []byte
	diffID v1.Hash
	mt     types.MediaType
}

func (l *blobLayer) Digest() (v1.Hash, error) {
	sum := sha256.Sum256(l.data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, nil
}
func (l *blobLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.data)), nil
}
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) { return nil, fmt.Errorf("not needed") }
func (l *blobLayer) Size() (int64, error)                 { return int64(len(l.data)), nil }
func (l *blobLayer) MediaType() (types.MediaType, error)  { return l.mt, nil }

func gzipLayer(t testing.TB, tarBytes []byte) v1.Layer {
	return &blobLayer{data: gzipped(t, tarBytes), diffID: diffIDOf(tarBytes), mt: types.OCILayer}
}

func zstdLayer(t testing.TB, tarBytes []byte) v1.Layer {
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &blobLayer{data: zw.EncodeAll(tarBytes, nil), diffID: diffIDOf(tarBytes), mt: types.OCILayerZStd}
}

func plainLayer(tarBytes []byte) v1.Layer {
	return &blobLayer{data: tarBytes, diffID: diffIDOf(tarBytes), mt: types.OCIUncompressedLayer}
}

// testImage builds an image of the layers for os/arch.
func testImage(t testing.TB, platform string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, _ = strings.Cut(platform, "/")
	cf.Config = v1.Config{Entrypoint: []string{"/bin/app"}, Cmd: []string{"--serve"}, Env: []string{"PATH=/bin", "A=b"},
		WorkingDir: "/srv", User: "1000:1000", StopSignal: "SIGINT"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// testRegistry is go-containerregistry's in-memory registry behind TLS on
// loopback, with an optional authentication front and request counting.
type testRegistry struct {
	srv  *httptest.Server
	host string
	// front and fault see each request first; false means they answered.
	front atomic.Pointer[frontFunc]
	fault atomic.Pointer[frontFunc]
	mu    sync.Mutex
	gets  map[string]int // GET paths served by the registry
}

type frontFunc func(w http.ResponseWriter, r *http.Request) bool

func (tr *testRegistry) setFront(f frontFunc) { tr.front.Store(&f) }
func (tr *testRegistry) setFault(f frontFunc) { tr.fault.Store(&f) }

func newTestRegistry(t testing.TB) *testRegistry {
	t.Helper()
	tr := &testRegistry{gets: map[string]int{}}
	reg := registry.New(registry.Logger(nopLogger()))
	tr.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, f := range []*frontFunc{tr.front.Load(), tr.fault.Load()} {
			if f != nil && !(*f)(w, r) {
				return
			}
		}
		if r.Method == http.MethodGet {
			tr.mu.Lock()
			tr.gets[r.URL.Path]++
			tr.mu.Unlock()
		}
		reg.ServeHTTP(w, r)
	}))
	tr.srv.Config.ErrorLog = nopLogger() // handshakes refused on purpose
	tr.srv.StartTLS()
	t.Cleanup(tr.srv.Close)
	tr.host = tr.srv.Listener.Addr().String()
	return tr
}

func (tr *testRegistry) transport() http.RoundTripper { return tr.srv.Client().Transport }

func (tr *testRegistry) getCount(path string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.gets[path]
}

// push writes img as repo:tag and returns its digest.
func (tr *testRegistry) push(t testing.TB, repoTag string, img v1.Image, auth authn.Authenticator) v1.Hash {
	t.Helper()
	ref, err := name.ParseReference(tr.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if auth == nil {
		auth = authn.Anonymous
	}
	if err := remote.Write(ref, img, remote.WithTransport(tr.transport()), remote.WithAuth(auth)); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (tr *testRegistry) pushIndex(t testing.TB, repoTag string, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	ref, err := name.ParseReference(tr.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithTransport(tr.transport())); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	return d
}

// basicFront makes the registry demand Basic credentials (Distribution's
// htpasswd mode).
func basicFront(user, pass string) frontFunc {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if u, p, ok := r.BasicAuth(); ok && u == user && p == pass {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		return false
	}
}

// tokenFront is a token flow like ACR's: /token exchanges Basic
// credentials for a bearer token; a known principal without pull gets a
// token that grants nothing (an empty grant, not an error), so the
// registry answers 401 to it; "forbidden" gets a token the registry
// answers 403 DENIED to.
func tokenFront(host string, users map[string]string) frontFunc {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/token" {
			u, p, ok := r.BasicAuth()
			if !ok {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
				return false
			}
			if users[u] != p {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`)
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"tok-%s"}`, u)
			return false
		}
		challenge := `Bearer realm="https://` + host + `/token",service="test"`
		switch r.Header.Get("Authorization") {
		case "Bearer tok-puller":
			return true
		case "Bearer tok-forbidden":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
			return false
		}
		if strings.Contains(r.URL.Path, "/manifests/") || strings.Contains(r.URL.Path, "/blobs/") {
			challenge += `,scope="repository:` + strings.Split(strings.TrimPrefix(r.URL.Path, "/v2/"), "/")[0] + `:pull"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return false
	}
}

func nopLogger() *log.Logger { return log.New(io.Discard, "", 0) }
