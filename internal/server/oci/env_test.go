package oci

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/api/oci"
)

// testEnv is the handler on fakes.
type testEnv struct {
	t    *testing.T
	log  *callLog
	regs *fakeRegistries
	auth *fakeAuth
	h    http.Handler
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	log := &callLog{}
	e := &testEnv{t: t, log: log, regs: newFakeRegistries(log), auth: &fakeAuth{log: log}}
	e.h = New(Config{Registries: e.regs, Auth: e.auth})
	return e
}

// do sends a request for path on the registry host. hdr are header
// name/value pairs. Every response must carry the distribution version.
func (e *testEnv) do(method, path, auth string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, "https://"+testHost+path, body)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if got := rec.Header().Get("Docker-Distribution-Api-Version"); got != "registry/2.0" {
		e.t.Errorf("%s %s: Docker-Distribution-Api-Version = %q", method, path, got)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		e.t.Errorf("%s %s: X-Content-Type-Options = %q", method, path, got)
	}
	return rec
}

// errorOf decodes an OCI error body and checks it has one entry.
func errorOf(t *testing.T, rec *httptest.ResponseRecorder) oci.Error {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("error Content-Type = %q", ct)
	}
	var body oci.ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	return body.Errors[0]
}

// wantError checks a response's status and OCI error code.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) oci.Error {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body.String())
	}
	e := errorOf(t, rec)
	if e.Code != code {
		t.Errorf("code %q, want %q (message %q)", e.Code, code, e.Message)
	}
	return e
}

// wantStatus checks a response's status.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body.String())
	}
}

// wantHeaders checks header values exactly.
func wantHeaders(t *testing.T, rec *httptest.ResponseRecorder, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if got := rec.Header().Get(kv[i]); got != kv[i+1] {
			t.Errorf("%s = %q, want %q", kv[i], got, kv[i+1])
		}
	}
}

// pushBlob uploads data to repo monolithically and returns its digest.
func (e *testEnv) pushBlob(repo string, data []byte) digest.Digest {
	e.t.Helper()
	d := digest.FromBytes(data)
	rec := e.do(http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+d.String(), authAll, bytes.NewReader(data))
	wantStatus(e.t, rec, http.StatusCreated)
	return d
}

// testManifest is an OCI image manifest over a config and layers.
func testManifest(config digest.Digest, configSize int, extra string, layers ...digest.Digest) []byte {
	var b strings.Builder
	b.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"`)
	b.WriteString(config.String())
	b.WriteString(`","size":`)
	b.WriteString(strconv.Itoa(configSize))
	b.WriteString(`},"layers":[`)
	for i, l := range layers {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"` + l.String() + `","size":1}`)
	}
	b.WriteString(`]` + extra + `}`)
	return []byte(b.String())
}

const mediaTypeOCIManifest = "application/vnd.oci.image.manifest.v1+json"

// pushImage pushes a config blob and a manifest tagged tag to repo and
// returns the manifest's bytes and digest.
func (e *testEnv) pushImage(repo, tag, extra string) ([]byte, digest.Digest) {
	e.t.Helper()
	cfg := e.pushBlob(repo, []byte("{}"))
	body := testManifest(cfg, 2, extra)
	rec := e.do(http.MethodPut, "/v2/"+repo+"/manifests/"+tag, authAll, bytes.NewReader(body), "Content-Type", mediaTypeOCIManifest)
	wantStatus(e.t, rec, http.StatusCreated)
	return body, digest.FromBytes(body)
}

// serve sends a request for a full URL (another host, say).
func serve(e *testEnv, method, url, auth string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func itoa(n int) string { return strconv.Itoa(n) }
