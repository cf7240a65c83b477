package oci

import (
	"bytes"
	"crypto/rand"
	"net/http"
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
