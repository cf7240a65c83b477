package oci

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// ociName is the distribution spec's repository name grammar, written out
// independently of validName so that the fuzzer checks one against the
// other.
var ociName = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)

// FuzzParseRoute: the data-plane path parser never panics, fails only
// with its two errors, accepts only names of the spec's grammar, and what
// it accepts formats back into a path that parses to the same route.
func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{
		"/v2/", "/v2", "/v2/_catalog", "/v2/hello/manifests/latest", "/v2/a/b/c/manifests/sha256:abc",
		"/v2/a%2Fb/manifests/v1", "/v2/a/blobs/sha256%3Aabc", "/v2/a/blobs/uploads/", "/v2/a/blobs/uploads",
		"/v2/a/b/blobs/uploads/u-1?_state=x", "/v2/a/tags/list", "/v2/a/referrers/sha256:abc",
		"/v2/a/blobs/uploads/blobs/sha256:x", "/v2/tags/tags/list", "/acr/v1/_catalog", "/acr/v1/a%2Fb/_tags",
		"/acr/v1/a/b/_tags/v1", "/acr/v1/a/_manifests", "/acr/v1/a/_manifests/sha256:abc", "/v2/a//b/manifests/x",
		"/v2/a%zz/manifests/x", "/v2/../manifests/x", "/v2/a__b--c.d/manifests/%2e%2e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		rt, err := parseRoute(path)
		if err != nil {
			if !errors.Is(err, errRouteUnknown) && !errors.Is(err, errNameInvalid) {
				t.Fatalf("parseRoute(%q): unexpected error %v", path, err)
			}
			return
		}
		if rt.kind < routeBase || rt.kind >= routeKinds {
			t.Fatalf("parseRoute(%q): kind %d", path, rt.kind)
		}
		switch rt.kind {
		case routeBase, routeCatalog, routeACRCatalog:
			if rt.name != "" || rt.ref != "" {
				t.Fatalf("parseRoute(%q) = %+v: a name or ref on a registry-wide route", path, rt)
			}
			return
		}
		if !ociName.MatchString(rt.name) || len(rt.name) > maxNameLength {
			t.Fatalf("parseRoute(%q) accepted name %q", path, rt.name)
		}
		again := formatRoute(rt)
		if len(again) > maxPath {
			return
		}
		rt2, err := parseRoute(again)
		if err != nil || rt2 != rt {
			t.Fatalf("parseRoute(%q) = %+v, formatted %q, parsed again %+v, %v", path, rt, again, rt2, err)
		}
	})
}

// formatRoute is the path of a route, with the reference percent-encoded
// byte by byte so that it never reads as a route word ("uploads", "list").
func formatRoute(rt route) string {
	const hex = "0123456789ABCDEF"
	ref := make([]byte, 0, 3*len(rt.ref))
	for i := 0; i < len(rt.ref); i++ {
		ref = append(ref, '%', hex[rt.ref[i]>>4], hex[rt.ref[i]&15])
	}
	n, r := rt.name, string(ref)
	switch rt.kind {
	case routeBlob:
		return "/v2/" + n + "/blobs/" + r
	case routeUploads:
		return "/v2/" + n + "/blobs/uploads/"
	case routeUpload:
		return "/v2/" + n + "/blobs/uploads/" + r
	case routeManifest:
		return "/v2/" + n + "/manifests/" + r
	case routeTagList:
		return "/v2/" + n + "/tags/list"
	case routeReferrers:
		return "/v2/" + n + "/referrers/" + r
	case routeACRRepository:
		return "/acr/v1/" + n
	case routeACRTags:
		return "/acr/v1/" + n + "/_tags"
	case routeACRTag:
		return "/acr/v1/" + n + "/_tags/" + r
	case routeACRManifests:
		return "/acr/v1/" + n + "/_manifests"
	case routeACRManifest:
		return "/acr/v1/" + n + "/_manifests/" + r
	}
	panic(fmt.Sprintf("formatRoute: kind %d", rt.kind))
}

// FuzzContentRange: an upload chunk's Content-Range is accepted only as
// 0 ≤ start ≤ end with a length that fits an int64, and the body a chunk
// hands on holds exactly that many bytes or fails.
func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"0-3", "6-9", "bytes 0-3/10", "bytes=0-3/*", " 5-5 ", "0-", "-1-3", "3-1", "a-b", "",
		"0-9223372036854775806", "0-9223372036854775807", "1-9223372036854775807", "bytes=9223372036854775807-9223372036854775807"} {
		f.Add(s, int64(-1), 4)
		f.Add(s, int64(4), 4)
	}
	f.Fuzz(func(t *testing.T, cr string, contentLength int64, bodyLen int) {
		start, end, ok := parseContentRange(cr)
		if ok && (start < 0 || end < start || end-start+1 <= 0) {
			t.Fatalf("parseContentRange(%q) = %d, %d: not a range of positive length", cr, start, end)
		}
		bodyLen = min(max(bodyLen, 0), 1<<10)
		body := bytes.Repeat([]byte{'x'}, bodyLen)
		r := httptest.NewRequest(http.MethodPatch, "https://"+testHost+"/v2/a/blobs/uploads/u", bytes.NewReader(body))
		r.Header.Set("Content-Range", cr)
		r.ContentLength = max(contentLength, -1)
		at, rd, err := chunk(r)
		if err != nil {
			if !errors.Is(err, errRangeInvalid) {
				t.Fatalf("chunk(%q): unexpected error %v", cr, err)
			}
			return
		}
		got, rerr := io.ReadAll(rd)
		if cr == "" || r.ContentLength >= 0 {
			return // the body as it came: its length is the server's business
		}
		if at != start {
			t.Fatalf("chunk(%q) starts at %d, want %d", cr, at, start)
		}
		want := end - start + 1
		if rerr == nil && int64(len(got)) != want || rerr != nil && !errors.Is(rerr, errChunkLength) {
			t.Fatalf("chunk(%q) over %d bytes: read %d, %v; want %d bytes or errChunkLength", cr, bodyLen, len(got), rerr, want)
		}
	})
}

// FuzzBlobRange: a blob GET with any Range (and If-Range) header answers
// the whole blob, parts of it that lie inside it with Content-Range headers
// that say where, or 416; never anything else, never a panic.
func FuzzBlobRange(f *testing.F) {
	for _, s := range []string{"bytes=5-9", "bytes=15-", "bytes=-3", "bytes=15-100", "bytes=9-5", "bytes=50-60",
		"bytes=0-0,2-3", "bytes=0-1,1-2,19-", "bytes=-0", "bytes=0-", "bytes 0-3", "items=0-3", "bytes=,", "bytes=-99999999999999999999"} {
		f.Add(s, "", false)
		f.Add(s, "", true)
	}
	f.Add("bytes=0-3", `"sha256:0000"`, false)
	log := &callLog{}
	regs := newFakeRegistries(log)
	h := New(Config{Registries: regs, Auth: &fakeAuth{log: log}})
	blobs := map[bool][]byte{false: []byte("0123456789abcdefghij"), true: {}}
	for _, data := range blobs {
		push := httptest.NewRequest(http.MethodPost, "https://"+testHost+"/v2/a/blobs/uploads/?digest="+digest.FromBytes(data).String(), bytes.NewReader(data))
		push.Header.Set("Authorization", authAll)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, push)
		if rec.Code != http.StatusCreated {
			f.Fatalf("push: %d %s", rec.Code, rec.Body)
		}
	}
	f.Fuzz(func(t *testing.T, rng, ifRange string, empty bool) {
		log.reset()
		data := blobs[empty]
		req := httptest.NewRequest(http.MethodGet, "https://"+testHost+"/v2/a/blobs/"+digest.FromBytes(data).String(), nil)
		req.Header.Set("Authorization", authPull)
		req.Header["Range"] = []string{rng}
		if ifRange != "" {
			req.Header["If-Range"] = []string{ifRange}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			if !bytes.Equal(rec.Body.Bytes(), data) {
				t.Fatalf("Range %q: 200 with body %q", rng, rec.Body)
			}
		case http.StatusRequestedRangeNotSatisfiable:
			if cr := rec.Header().Get("Content-Range"); cr != "" && cr != fmt.Sprintf("bytes */%d", len(data)) {
				t.Fatalf("Range %q: 416 with Content-Range %q", rng, cr)
			}
		case http.StatusPartialContent:
			mt, params, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
			if mt != "multipart/byteranges" {
				checkPart(t, rng, rec.Header().Get("Content-Range"), rec.Body.Bytes(), data)
				return
			}
			mr := multipart.NewReader(rec.Body, params["boundary"])
			parts := 0
			for {
				p, err := mr.NextPart()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Range %q: multipart body: %v", rng, err)
				}
				body, err := io.ReadAll(p)
				if err != nil {
					t.Fatalf("Range %q: multipart body: %v", rng, err)
				}
				checkPart(t, rng, p.Header.Get("Content-Range"), body, data)
				parts++
			}
			if parts == 0 {
				t.Fatalf("Range %q: 206 multipart without parts", rng)
			}
		default:
			t.Fatalf("Range %q, If-Range %q: status %d", rng, ifRange, rec.Code)
		}
	})
}

// checkPart checks one part of a 206: "bytes a-b/size" inside the blob,
// and the body those bytes.
func checkPart(t *testing.T, rng, contentRange string, body, data []byte) {
	t.Helper()
	var a, b, n int64
	if _, err := fmt.Sscanf(contentRange, "bytes %d-%d/%d", &a, &b, &n); err != nil {
		t.Fatalf("Range %q: Content-Range %q: %v", rng, contentRange, err)
	}
	if n != int64(len(data)) || a < 0 || a > b || b >= n {
		t.Fatalf("Range %q: Content-Range %q outside the blob of %d bytes", rng, contentRange, len(data))
	}
	if !bytes.Equal(body, data[a:b+1]) {
		t.Fatalf("Range %q: Content-Range %q with body %q", rng, contentRange, body)
	}
}

// TestContentRangeLengthOverflow is a regression test: a chunk of unknown
// length (no Content-Length) with Content-Range 0-9223372036854775807,
// whose length overflows an int64, panicked in exactReader; it is 416.
func TestContentRangeLengthOverflow(t *testing.T) {
	e := newEnv(t)
	loc := e.startUpload("a")
	req := httptest.NewRequest(http.MethodPatch, "https://"+testHost+loc, io.NopCloser(strings.NewReader("abc")))
	req.ContentLength = -1
	req.Header.Set("Authorization", authAll)
	req.Header.Set("Content-Range", "0-9223372036854775807")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	wantError(t, rec, http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID")
}

// TestBlobRangeEmptySuffix is a regression test: suffix ranges that
// select no bytes (bytes=-0, or any suffix of an empty blob) got a 206
// whose Content-Range ends before it starts from http.ServeContent.
func TestBlobRangeEmptySuffix(t *testing.T) {
	e := newEnv(t)
	data := []byte("0123456789abcdefghij")
	d := e.pushBlob("a", data)
	empty := e.pushBlob("a", nil)
	tests := []struct {
		name   string
		d      digest.Digest
		rng    string
		status int
		cr     string
		body   string
	}{
		{"zero suffix", d, "bytes=-0", http.StatusRequestedRangeNotSatisfiable, "bytes */20", ""},
		{"zero suffixes", d, "bytes=-0, -00 ,", http.StatusRequestedRangeNotSatisfiable, "bytes */20", ""},
		{"zero suffix among others", d, "bytes=-0,2-3", http.StatusPartialContent, "bytes 2-3/20", "23"},
		{"suffix of an empty blob", empty, "bytes=-3", http.StatusOK, "", ""},
		{"zero suffix of an empty blob", empty, "bytes=-0", http.StatusOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(http.MethodGet, "/v2/a/blobs/"+tt.d.String(), authPull, nil, "Range", tt.rng)
			wantStatus(t, rec, tt.status)
			wantHeaders(t, rec, "Content-Range", tt.cr)
			if tt.status != http.StatusRequestedRangeNotSatisfiable && rec.Body.String() != tt.body {
				t.Errorf("body %q, want %q", rec.Body, tt.body)
			}
		})
	}
}

// TestParseRouteNULReference is a regression test: a reference that was a
// raw NUL byte matched the parser's in-band "no reference" marker, so
// /v2/<name>/manifests/\x00 routed to a manifest with an empty reference.
// It is a reference like any other now (the handlers check references),
// the same as its escaped form.
func TestParseRouteNULReference(t *testing.T) {
	for _, p := range []string{"/v2/a/manifests/", "/v2/a/blobs/", "/acr/v1/a/_tags/", "/v2/a/blobs/uploads/"} {
		raw, err1 := parseRoute(p + "\x00")
		escaped, err2 := parseRoute(p + "%00")
		if err1 != nil || err2 != nil || raw.ref != "\x00" || raw != escaped {
			t.Errorf("%s: raw NUL gives %+v, %v; escaped %+v, %v", p, raw, err1, escaped, err2)
		}
	}
}
