package oci

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestManifestPutGet(t *testing.T) {
	e := newEnv(t)
	cfg := e.pushBlob("a", []byte("{}"))
	body := testManifest(cfg, 2, "")
	d := digest.FromBytes(body)

	rec := e.do("PUT", "/v2/a/manifests/v1", authAll, bytes.NewReader(body), "Content-Type", mediaTypeOCIManifest+"; charset=utf-8")
	wantStatus(t, rec, http.StatusCreated)
	wantHeaders(t, rec, "Location", "/v2/a/manifests/"+d.String(), "Docker-Content-Digest", d.String(), "Content-Length", "0", "Oci-Subject", "")
	if calls := e.log.list(); calls[len(calls)-1] != "PutManifest:"+mediaTypeOCIManifest {
		t.Errorf("Content-Type parameters reached the registry: %v", calls)
	}

	for _, ref := range []string{"v1", d.String()} {
		for _, method := range []string{"GET", "HEAD"} {
			t.Run(method+" "+ref, func(t *testing.T) {
				rec := e.do(method, "/v2/a/manifests/"+ref, authPull, nil, "Accept", "application/vnd.oci.image.index.v1+json")
				wantStatus(t, rec, http.StatusOK)
				wantHeaders(t, rec, "Content-Type", mediaTypeOCIManifest, "Docker-Content-Digest", d.String(),
					"Etag", `"`+d.String()+`"`, "Content-Length", strconv.Itoa(len(body)))
				want := body
				if method == "HEAD" {
					want = nil
				}
				if !bytes.Equal(rec.Body.Bytes(), want) {
					t.Errorf("body %q", rec.Body.String())
				}
			})
		}
	}
	t.Run("not modified", func(t *testing.T) {
		rec := e.do("GET", "/v2/a/manifests/v1", authPull, nil, "If-None-Match", `"sha256:other", "`+d.String()+`"`)
		wantStatus(t, rec, http.StatusNotModified)
		wantHeaders(t, rec, "Docker-Content-Digest", d.String())
		if rec.Body.Len() != 0 {
			t.Error("304 with a body")
		}
	})
	t.Run("by digest", func(t *testing.T) {
		rec := e.do("PUT", "/v2/b/manifests/"+d.String(), authAll, bytes.NewReader(body), "Content-Type", mediaTypeOCIManifest)
		wantError(t, rec, http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN")
		e.pushBlob("b", []byte("{}"))
		rec = e.do("PUT", "/v2/b/manifests/"+d.String(), authAll, bytes.NewReader(body), "Content-Type", mediaTypeOCIManifest)
		wantStatus(t, rec, http.StatusCreated)
		wantHeaders(t, rec, "Location", "/v2/b/manifests/"+d.String())
	})
	t.Run("sha512", func(t *testing.T) {
		d512 := digest.SHA512.FromBytes(body)
		rec := e.do("PUT", "/v2/a/manifests/"+d512.String(), authAll, bytes.NewReader(body), "Content-Type", mediaTypeOCIManifest)
		wantStatus(t, rec, http.StatusCreated)
		wantHeaders(t, rec, "Docker-Content-Digest", d512.String())
		wantStatus(t, e.do("GET", "/v2/a/manifests/"+d512.String(), authAll, nil), http.StatusOK)
	})
}

func TestManifestSubject(t *testing.T) {
	e := newEnv(t)
	_, subject := e.pushImage("a", "v1", "")
	_, _ = e.pushImage("a", "sig", `,"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"`+subject.String()+`","size":1}`)
	cfg := e.pushBlob("a", []byte("{}"))
	body := testManifest(cfg, 2, `,"subject":{"mediaType":"x","digest":"`+subject.String()+`","size":1}`)
	rec := e.do("PUT", "/v2/a/manifests/sig2", authAll, bytes.NewReader(body), "Content-Type", mediaTypeOCIManifest)
	wantStatus(t, rec, http.StatusCreated)
	wantHeaders(t, rec, "Oci-Subject", subject.String())
}

func TestManifestErrors(t *testing.T) {
	e := newEnv(t)
	body, _ := e.pushImage("a", "v1", "")
	big := bytes.Repeat([]byte(" "), maxManifest+1)
	tests := []struct {
		name, method, path string
		body               io.Reader
		status             int
		code               string
	}{
		{"unknown tag", "GET", "/v2/a/manifests/v2", nil, 404, "MANIFEST_UNKNOWN"},
		{"unknown digest", "GET", "/v2/a/manifests/" + digest.FromString("x").String(), nil, 404, "MANIFEST_UNKNOWN"},
		{"unknown repository", "GET", "/v2/nothing/manifests/v1", nil, 404, "NAME_UNKNOWN"},
		{"malformed digest", "GET", "/v2/a/manifests/sha256:baddigeststring", nil, 400, "DIGEST_INVALID"},
		{"malformed tag", "GET", "/v2/a/manifests/.v1", nil, 400, "TAG_INVALID"},
		{"put malformed digest", "PUT", "/v2/a/manifests/sha256:baddigeststring", bytes.NewReader(body), 400, "DIGEST_INVALID"},
		{"put digest mismatch", "PUT", "/v2/a/manifests/" + digest.FromString("x").String(), bytes.NewReader(body), 400, "DIGEST_INVALID"},
		{"put malformed tag", "PUT", "/v2/a/manifests/-v1", bytes.NewReader(body), 400, "TAG_INVALID"},
		{"put not json", "PUT", "/v2/a/manifests/v3", strings.NewReader("not json"), 400, "MANIFEST_INVALID"},
		{"put too large", "PUT", "/v2/a/manifests/v3", bytes.NewReader(big), 413, "MANIFEST_INVALID"},
		{"put too large, length unknown", "PUT", "/v2/a/manifests/v3", onlyReader{bytes.NewReader(big)}, 413, "MANIFEST_INVALID"},
		{"delete unknown", "DELETE", "/v2/a/manifests/v9", nil, 404, "MANIFEST_UNKNOWN"},
		{"delete malformed", "DELETE", "/v2/a/manifests/sha256:x", nil, 400, "DIGEST_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(tt.method, tt.path, authAll, tt.body, "Content-Type", mediaTypeOCIManifest)
			wantError(t, rec, tt.status, tt.code)
		})
	}
	t.Run("exactly the limit is read in full", func(t *testing.T) {
		ok := bytes.Repeat([]byte(" "), maxManifest)
		rec := e.do("PUT", "/v2/a/manifests/v4", authAll, onlyReader{bytes.NewReader(ok)}, "Content-Type", mediaTypeOCIManifest)
		wantError(t, rec, http.StatusBadRequest, "MANIFEST_INVALID") // the fake's verdict on blanks, not 413
	})
}

func TestManifestDelete(t *testing.T) {
	e := newEnv(t)
	_, d := e.pushImage("a", "v1", "")
	rec := e.do("PUT", "/v2/a/manifests/v2", authAll, bytes.NewReader(e.regs.repos["a"].manifests[d].body), "Content-Type", mediaTypeOCIManifest)
	wantStatus(t, rec, http.StatusCreated)

	// By tag: the tag goes, the manifest stays.
	rec = e.do("DELETE", "/v2/a/manifests/v1", authAll, nil)
	wantStatus(t, rec, http.StatusAccepted)
	wantHeaders(t, rec, "Content-Length", "0")
	wantStatus(t, e.do("HEAD", "/v2/a/manifests/v1", authAll, nil), http.StatusNotFound)
	wantStatus(t, e.do("HEAD", "/v2/a/manifests/"+d.String(), authAll, nil), http.StatusOK)

	// By digest: the manifest and its remaining tags go.
	wantStatus(t, e.do("DELETE", "/v2/a/manifests/"+d.String(), authAll, nil), http.StatusAccepted)
	wantStatus(t, e.do("HEAD", "/v2/a/manifests/"+d.String(), authAll, nil), http.StatusNotFound)
	wantStatus(t, e.do("HEAD", "/v2/a/manifests/v2", authAll, nil), http.StatusNotFound)
}

func TestEtagMatches(t *testing.T) {
	etag := `"sha256:a"`
	for h, want := range map[string]bool{
		`"sha256:a"`: true, `W/"sha256:a"`: true, `*`: true, `"x", "sha256:a"`: true,
		`"sha256:b"`: false, `sha256:a`: false, ``: false,
	} {
		if got := etagMatches(h, etag); got != want {
			t.Errorf("etagMatches(%q) = %v", h, got)
		}
	}
}

func TestMediaType(t *testing.T) {
	for in, want := range map[string]string{
		"": "",
		"application/vnd.oci.image.index.v1+json": "application/vnd.oci.image.index.v1+json",
		"application/json; charset=utf-8":         "application/json",
		"Application/JSON":                        "application/json",
		"garbage;;":                               "garbage;;",
	} {
		if got := mediaType(in); got != want {
			t.Errorf("mediaType(%q) = %q, want %q", in, got, want)
		}
	}
}
