package oci

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"
)

// startUpload opens a session in repo and returns its Location.
func (e *testEnv) startUpload(repo string) string {
	e.t.Helper()
	rec := e.do("POST", "/v2/"+repo+"/blobs/uploads/", authAll, nil)
	wantStatus(e.t, rec, http.StatusAccepted)
	return rec.Header().Get("Location")
}

func TestStartUpload(t *testing.T) {
	e := newEnv(t)
	rec := e.do("POST", "/v2/a/b/blobs/uploads/", authAll, nil)
	wantStatus(t, rec, http.StatusAccepted)
	wantHeaders(t, rec, "Location", "/v2/a/b/blobs/uploads/upload-1", "Docker-Upload-Uuid", "upload-1", "Range", "0-0", "Content-Length", "0")
	// Without the trailing slash, and with the Azure SDK's escaped name.
	rec = e.do("POST", "/v2/a%2Fb/blobs/uploads", authAll, nil)
	wantStatus(t, rec, http.StatusAccepted)
	wantHeaders(t, rec, "Location", "/v2/a/b/blobs/uploads/upload-2")
}

func TestChunkedUpload(t *testing.T) {
	e := newEnv(t)
	data := []byte("abcdefghij")
	d := digest.FromBytes(data)
	loc := e.startUpload("a")

	rec := e.do("PATCH", loc, authAll, bytes.NewReader(data[:4]), "Content-Range", "0-3", "Content-Type", "application/octet-stream")
	wantStatus(t, rec, http.StatusAccepted)
	wantHeaders(t, rec, "Location", loc, "Range", "0-3", "Docker-Upload-Uuid", "upload-1", "Content-Length", "0")

	// Out of order: 416, and the upload is where it was.
	rec = e.do("PATCH", loc, authAll, bytes.NewReader(data[6:8]), "Content-Range", "6-7")
	wantError(t, rec, http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID")
	rec = e.do("GET", loc, authAll, nil)
	wantStatus(t, rec, http.StatusNoContent)
	wantHeaders(t, rec, "Location", loc, "Range", "0-3", "Docker-Upload-Uuid", "upload-1")

	// A streamed chunk (no Content-Range) appends.
	rec = e.do("PATCH", loc, authAll, bytes.NewReader(data[4:6]))
	wantStatus(t, rec, http.StatusAccepted)
	wantHeaders(t, rec, "Range", "0-5")

	// The last chunk rides on the closing PUT.
	rec = e.do("PUT", loc+"?digest="+d.String(), authAll, bytes.NewReader(data[6:]), "Content-Range", "6-9")
	wantStatus(t, rec, http.StatusCreated)
	wantHeaders(t, rec, "Location", "/v2/a/blobs/"+d.String(), "Docker-Content-Digest", d.String(), "Content-Length", "0")
	if !bytes.Equal(e.regs.blobs[d], data) {
		t.Errorf("stored %q", e.regs.blobs[d])
	}
	// The session is gone.
	wantError(t, e.do("GET", loc, authAll, nil), http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
}

func TestStreamedUpload(t *testing.T) {
	e := newEnv(t)
	data := []byte("streamed content")
	d := digest.FromBytes(data)
	loc := e.startUpload("a")
	rec := e.do("PATCH", loc, authAll, onlyReader{bytes.NewReader(data)})
	wantStatus(t, rec, http.StatusAccepted)
	wantHeaders(t, rec, "Range", "0-15")
	rec = e.do("PUT", loc+"?digest="+d.String(), authAll, nil)
	wantStatus(t, rec, http.StatusCreated)
}

func TestUploadErrors(t *testing.T) {
	data := []byte("abcdefghij")
	d := digest.FromBytes(data)
	tests := []struct {
		name, method, query string
		body                io.Reader
		hdr                 []string
		status              int
		code                string
	}{
		{"put without digest", "PUT", "", nil, nil, 400, "DIGEST_INVALID"},
		{"put with a malformed digest", "PUT", "?digest=sha256:x", nil, nil, 400, "DIGEST_INVALID"},
		{"put with the wrong digest", "PUT", "?digest=" + digest.FromString("x").String(), bytes.NewReader(data), nil, 400, "DIGEST_INVALID"},
		{"range not where the upload stands", "PATCH", "", bytes.NewReader(data[:2]), []string{"Content-Range", "2-3"}, 416, "BLOB_UPLOAD_INVALID"},
		{"malformed range", "PATCH", "", bytes.NewReader(data[:2]), []string{"Content-Range", "zero-one"}, 416, "BLOB_UPLOAD_INVALID"},
		{"inverted range", "PATCH", "", bytes.NewReader(data[:2]), []string{"Content-Range", "1-0"}, 416, "BLOB_UPLOAD_INVALID"},
		{"range longer than the body", "PATCH", "", bytes.NewReader(data[:2]), []string{"Content-Range", "0-4"}, 416, "BLOB_UPLOAD_INVALID"},
		{"range shorter than an unsized body", "PATCH", "", onlyReader{bytes.NewReader(data[:4])}, []string{"Content-Range", "0-1"}, 416, "BLOB_UPLOAD_INVALID"},
		{"range longer than an unsized body", "PATCH", "", onlyReader{bytes.NewReader(data[:2])}, []string{"Content-Range", "0-4"}, 416, "BLOB_UPLOAD_INVALID"},
		{"final chunk out of order", "PUT", "?digest=" + d.String(), bytes.NewReader(data[2:]), []string{"Content-Range", "2-9"}, 416, "BLOB_UPLOAD_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			loc := e.startUpload("a")
			wantError(t, e.do(tt.method, loc+tt.query, authAll, tt.body, tt.hdr...), tt.status, tt.code)
		})
	}
	t.Run("unknown and foreign sessions", func(t *testing.T) {
		e := newEnv(t)
		loc := e.startUpload("a")
		for _, p := range []string{"/v2/a/blobs/uploads/nope", "/v2/b/blobs/uploads/upload-1", "/v2/a/blobs/uploads/a%22b", "/v2/a/blobs/uploads/" + strings.Repeat("x", 200)} {
			for _, m := range []string{"GET", "PATCH", "PUT", "DELETE"} {
				rec := e.do(m, p+"?digest="+d.String(), authAll, nil)
				wantError(t, rec, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
			}
		}
		wantStatus(t, e.do("GET", loc, authAll, nil), http.StatusNoContent)
	})
}

func TestCancelUpload(t *testing.T) {
	e := newEnv(t)
	loc := e.startUpload("a")
	rec := e.do("DELETE", loc, authAll, nil)
	wantStatus(t, rec, http.StatusNoContent)
	wantError(t, e.do("GET", loc, authAll, nil), http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
	wantError(t, e.do("DELETE", loc, authAll, nil), http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
}

func TestMount(t *testing.T) {
	e := newEnv(t)
	d := e.pushBlob("src", []byte("layer"))
	missing := digest.FromString("missing")
	tests := []struct {
		name, query, auth string
		status            int
		location          string
	}{
		{"from a repository", "?mount=" + d.String() + "&from=src", authAll, 201, "/v2/dst/blobs/" + d.String()},
		{"from any repository", "?mount=" + d.String(), authAll, 201, "/v2/dst2/blobs/" + d.String()},
		{"missing blob falls back to an upload", "?mount=" + missing.String() + "&from=src", authAll, 202, "/v2/dst3/blobs/uploads/upload-1"},
		{"blob not in from falls back", "?mount=" + d.String() + "&from=other", authAll, 202, "/v2/dst4/blobs/uploads/upload-2"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := []string{"dst", "dst2", "dst3", "dst4"}[i]
			rec := e.do("POST", "/v2/"+repo+"/blobs/uploads/"+tt.query, tt.auth, nil)
			wantStatus(t, rec, tt.status)
			wantHeaders(t, rec, "Location", tt.location)
			if tt.status == 201 {
				wantHeaders(t, rec, "Docker-Content-Digest", d.String())
				wantStatus(t, e.do("HEAD", "/v2/"+repo+"/blobs/"+d.String(), authAll, nil), http.StatusOK)
			}
		})
	}
	t.Run("malformed from", func(t *testing.T) {
		wantError(t, e.do("POST", "/v2/dst/blobs/uploads/?mount="+d.String()+"&from=Bad", authAll, nil), 400, "NAME_INVALID")
	})
	t.Run("malformed mount", func(t *testing.T) {
		wantError(t, e.do("POST", "/v2/dst/blobs/uploads/?mount=sha256:x&from=src", authAll, nil), 400, "DIGEST_INVALID")
	})
	t.Run("no pull on the source is challenged", func(t *testing.T) {
		rec := e.do("POST", "/v2/a/blobs/uploads/?mount="+d.String()+"&from=src", authRepoA, nil)
		wantStatus(t, rec, http.StatusUnauthorized)
		wantHeaders(t, rec, "Www-Authenticate", realm+`,scope="repository:a:pull,push repository:src:pull",error="insufficient_scope"`)
	})
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in         string
		start, end int64
		ok         bool
	}{
		{"0-0", 0, 0, true},
		{"0-1023", 0, 1023, true},
		{"1024-2047", 1024, 2047, true},
		{"bytes 5-9/*", 5, 9, true},
		{"bytes=5-9", 5, 9, true},
		{"5-9/100", 5, 9, true},
		{"", 0, 0, false},
		{"5", 0, 0, false},
		{"9-5", 0, 0, false},
		{"-1-5", 0, 0, false},
		{"a-b", 0, 0, false},
		{"0-99999999999999999999", 0, 0, false},
	}
	for _, tt := range tests {
		start, end, ok := parseContentRange(tt.in)
		if ok != tt.ok || ok && (start != tt.start || end != tt.end) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", tt.in, start, end, ok)
		}
	}
}

func TestExactReader(t *testing.T) {
	tests := []struct {
		name string
		body string
		n    int64
		want string
		err  error
	}{
		{"exact", "abcd", 4, "abcd", nil},
		{"short", "ab", 4, "ab", errChunkLength},
		{"long", "abcdef", 4, "abcd", errChunkLength},
		{"empty", "", 0, "", nil},
		{"one byte at a time", "abcd", 4, "abcd", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.body)
			if tt.name == "one byte at a time" {
				r = iotest.OneByteReader(r)
			}
			got, err := io.ReadAll(&exactReader{r: r, left: tt.n})
			if string(got) != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}
