package oci

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestBlobGet(t *testing.T) {
	e := newEnv(t)
	data := []byte("0123456789abcdefghij")
	d := e.pushBlob("a", data)
	etag := `"` + d.String() + `"`
	tests := []struct {
		name, method string
		hdr          []string
		status       int
		body         string
		headers      []string
	}{
		{"get", "GET", nil, 200, string(data), []string{"Content-Length", "20", "Docker-Content-Digest", d.String(), "Etag", etag,
			"Content-Type", "application/octet-stream", "Accept-Ranges", "bytes"}},
		{"head", "HEAD", nil, 200, "", []string{"Content-Length", "20", "Docker-Content-Digest", d.String(), "Etag", etag,
			"Content-Type", "application/octet-stream", "Accept-Ranges", "bytes"}},
		{"range", "GET", []string{"Range", "bytes=5-9"}, 206, "56789", []string{"Content-Length", "5", "Content-Range", "bytes 5-9/20", "Docker-Content-Digest", d.String()}},
		{"open range", "GET", []string{"Range", "bytes=15-"}, 206, "fghij", []string{"Content-Range", "bytes 15-19/20"}},
		{"suffix range", "GET", []string{"Range", "bytes=-3"}, 206, "hij", []string{"Content-Range", "bytes 17-19/20"}},
		{"range past the end", "GET", []string{"Range", "bytes=15-100"}, 206, "fghij", []string{"Content-Range", "bytes 15-19/20"}},
		{"inverted range", "GET", []string{"Range", "bytes=9-5"}, 416, "", nil},
		{"range beyond", "GET", []string{"Range", "bytes=50-60"}, 416, "", nil},
		{"not modified", "GET", []string{"If-None-Match", etag}, 304, "", []string{"Etag", etag}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(tt.method, "/v2/a/blobs/"+d.String(), authPull, nil, tt.hdr...)
			wantStatus(t, rec, tt.status)
			if tt.status < 300 && rec.Body.String() != tt.body {
				t.Errorf("body %q, want %q", rec.Body.String(), tt.body)
			}
			wantHeaders(t, rec, tt.headers...)
		})
	}
}

func TestBlobErrors(t *testing.T) {
	e := newEnv(t)
	d := e.pushBlob("a", []byte("x"))
	other := digest.FromString("other")
	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown blob", "GET", "/v2/a/blobs/" + other.String(), 404, "BLOB_UNKNOWN"},
		{"unknown blob head", "HEAD", "/v2/a/blobs/" + other.String(), 404, ""},
		{"not linked to this repository", "GET", "/v2/b/blobs/" + d.String(), 404, "BLOB_UNKNOWN"},
		{"malformed digest", "GET", "/v2/a/blobs/sha256:zz", 400, "DIGEST_INVALID"},
		{"unsupported algorithm", "GET", "/v2/a/blobs/md5:" + strings.Repeat("a", 32), 400, "DIGEST_INVALID"},
		{"delete unknown", "DELETE", "/v2/a/blobs/" + other.String(), 404, "BLOB_UNKNOWN"},
		{"delete malformed", "DELETE", "/v2/a/blobs/nope", 400, "DIGEST_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(tt.method, tt.path, authAll, nil)
			if tt.code == "" {
				wantStatus(t, rec, tt.status)
				if rec.Body.Len() != 0 {
					t.Error("HEAD with a body")
				}
				return
			}
			wantError(t, rec, tt.status, tt.code)
		})
	}
}

func TestBlobDelete(t *testing.T) {
	e := newEnv(t)
	d := e.pushBlob("a", []byte("x"))
	rec := e.do("DELETE", "/v2/a/blobs/"+d.String(), authAll, nil)
	wantStatus(t, rec, http.StatusAccepted)
	wantHeaders(t, rec, "Content-Length", "0")
	wantStatus(t, e.do("HEAD", "/v2/a/blobs/"+d.String(), authAll, nil), http.StatusNotFound)
}

func TestMonolithicUpload(t *testing.T) {
	e := newEnv(t)
	data := make([]byte, 100<<10)
	_, _ = rand.Read(data)
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		t.Run(string(alg), func(t *testing.T) {
			d := alg.FromBytes(data)
			rec := e.do("POST", "/v2/a/b/blobs/uploads/?digest="+d.String(), authAll, bytes.NewReader(data))
			wantStatus(t, rec, http.StatusCreated)
			wantHeaders(t, rec, "Location", "/v2/a/b/blobs/"+d.String(), "Docker-Content-Digest", d.String(), "Content-Length", "0")
			rec = e.do("GET", "/v2/a/b/blobs/"+d.String(), authAll, nil)
			wantStatus(t, rec, http.StatusOK)
			if !bytes.Equal(rec.Body.Bytes(), data) {
				t.Error("content differs")
			}
		})
	}
	t.Run("empty blob", func(t *testing.T) {
		d := digest.FromBytes(nil)
		wantStatus(t, e.do("POST", "/v2/a/blobs/uploads/?digest="+d.String(), authAll, bytes.NewReader(nil)), http.StatusCreated)
		rec := e.do("GET", "/v2/a/blobs/"+d.String(), authAll, nil)
		wantStatus(t, rec, http.StatusOK)
		wantHeaders(t, rec, "Content-Length", "0")
	})
	t.Run("wrong digest", func(t *testing.T) {
		d := digest.FromString("something else")
		wantError(t, e.do("POST", "/v2/a/blobs/uploads/?digest="+d.String(), authAll, bytes.NewReader(data)), 400, "DIGEST_INVALID")
	})
	t.Run("malformed digest", func(t *testing.T) {
		wantError(t, e.do("POST", "/v2/a/blobs/uploads/?digest=sha256:nope", authAll, bytes.NewReader(data)), 400, "DIGEST_INVALID")
	})
	t.Run("streamed body of unknown length", func(t *testing.T) {
		d := digest.FromBytes(data[:1000])
		rec := e.do("POST", "/v2/s/blobs/uploads/?digest="+d.String(), authAll, onlyReader{bytes.NewReader(data[:1000])})
		wantStatus(t, rec, http.StatusCreated)
		if got := e.regs.blobs[d]; !bytes.Equal(got, data[:1000]) {
			t.Error("content differs")
		}
	})
}

// onlyReader hides everything but Read, so the request's length is unknown.
type onlyReader struct{ r *bytes.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestLargeBlobStreams(t *testing.T) {
	// 8 MiB through PUT and GET: the handler passes bodies through.
	e := newEnv(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 512<<10)
	d := digest.FromBytes(data)
	rec := e.do("POST", "/v2/big/blobs/uploads/", authAll, nil)
	wantStatus(t, rec, http.StatusAccepted)
	loc := rec.Header().Get("Location")
	rec = e.do("PUT", loc+"?digest="+d.String(), authAll, bytes.NewReader(data))
	wantStatus(t, rec, http.StatusCreated)
	rec = e.do("GET", "/v2/big/blobs/"+d.String(), authAll, nil)
	wantStatus(t, rec, http.StatusOK)
	wantHeaders(t, rec, "Content-Length", strconv.Itoa(len(data)))
	if !bytes.Equal(rec.Body.Bytes(), data) {
		t.Error("content differs")
	}
}

// fakeRedirector is a blob store's presigned URLs: a fixed host, the
// digest in the path.
type fakeRedirector struct {
	on    bool
	calls int
}

func (f *fakeRedirector) RedirectURL(_ context.Context, d digest.Digest) (*url.URL, bool, error) {
	f.calls++
	if !f.on {
		return nil, false, nil
	}
	return &url.URL{Scheme: "https", Host: "bucket.s3.example", Path: "/blobs/" + d.Encoded(), RawQuery: "X-Amz-Signature=x"}, true, nil
}

// TestBlobRedirect: with a redirecting blob store, a blob GET the caller
// may make is a 307 to the store's URL; HEAD, unlinked and unknown blobs,
// manifests and a store with redirects off are answered by the registry.
func TestBlobRedirect(t *testing.T) {
	e := newEnv(t)
	rd := &fakeRedirector{on: true}
	e.h = New(Config{Registries: e.regs, Auth: e.auth, Redirect: rd})
	data := []byte("0123456789")
	d := e.pushBlob("a", data)
	location := "https://bucket.s3.example/blobs/" + d.Encoded() + "?X-Amz-Signature=x"

	rec := e.do("GET", "/v2/a/blobs/"+d.String(), authPull, nil)
	wantStatus(t, rec, http.StatusTemporaryRedirect)
	wantHeaders(t, rec, "Location", location, "Docker-Content-Digest", d.String(), "Content-Length", "0", "Cache-Control", "no-store")
	if rec.Body.Len() != 0 {
		t.Errorf("redirect body %q", rec.Body.String())
	}
	// A range is the store's to serve: the redirect is the same.
	rec = e.do("GET", "/v2/a/blobs/"+d.String(), authPull, nil, "Range", "bytes=2-4")
	wantStatus(t, rec, http.StatusTemporaryRedirect)
	wantHeaders(t, rec, "Location", location)

	// HEAD answers itself.
	rec = e.do("HEAD", "/v2/a/blobs/"+d.String(), authPull, nil)
	wantStatus(t, rec, http.StatusOK)
	wantHeaders(t, rec, "Content-Length", "10", "Docker-Content-Digest", d.String(), "Location", "")

	// A blob of another repository, or none at all, is a 404, never a URL.
	for _, path := range []string{"/v2/b/blobs/" + d.String(), "/v2/a/blobs/" + digest.FromString("other").String()} {
		rec = e.do("GET", path, authAll, nil)
		wantError(t, rec, http.StatusNotFound, "BLOB_UNKNOWN")
		wantHeaders(t, rec, "Location", "")
	}
	// Without access, a 401 before the store is asked.
	calls := rd.calls
	rec = e.do("GET", "/v2/a/blobs/"+d.String(), "", nil)
	wantStatus(t, rec, http.StatusUnauthorized)
	wantHeaders(t, rec, "Location", "")
	if rd.calls != calls {
		t.Error("the store signed a URL for an unauthenticated request")
	}

	// Manifests are never redirected.
	body, md := e.pushImage("a", "v1", "")
	rec = e.do("GET", "/v2/a/manifests/"+md.String(), authPull, nil, "Accept", mediaTypeOCIManifest)
	wantStatus(t, rec, http.StatusOK)
	if !bytes.Equal(rec.Body.Bytes(), body) {
		t.Errorf("manifest body %q", rec.Body.String())
	}

	// Redirects off: the bytes.
	rd.on = false
	rec = e.do("GET", "/v2/a/blobs/"+d.String(), authPull, nil)
	wantStatus(t, rec, http.StatusOK)
	if !bytes.Equal(rec.Body.Bytes(), data) {
		t.Errorf("body %q", rec.Body.String())
	}
}
