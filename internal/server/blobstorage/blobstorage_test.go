package blobstorage_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/blob/fileblob"
	acr "github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/sealbox"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/blobstorage"
	"github.com/cerulean/cerulean/internal/server/servertest"
	"github.com/cerulean/cerulean/internal/task"
)

// gateBuilder's builds wait for release; its log lines fill several
// 4 KiB reads.
type gateBuilder struct{ release chan struct{} }

func (b gateBuilder) Build(ctx context.Context, req task.BuildRequest) (task.BuildResult, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
		return task.BuildResult{}, ctx.Err()
	}
	for i := range 300 {
		fmt.Fprintf(req.Log, "Step %d: a line of build output to make the log longer than a few reads\n", i)
	}
	return task.BuildResult{}, nil
}

func (gateBuilder) RunCommand(context.Context, task.CommandRequest) error { return nil }

type env struct {
	*servertest.Env
	tasks   *task.Service
	group   resourceid.ID
	builder gateBuilder
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{builder: gateBuilder{release: make(chan struct{})}}
	e.Env = servertest.New(t, servertest.Options{Handler: func(s *servertest.Env) http.Handler {
		box, err := sealbox.New(bytes.Repeat([]byte{1}, sealbox.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		regs := acr.NewService(acr.Config{Store: s.Store.Registry(), Sealer: box, Domain: "azurecr.test", Logger: s.Logger})
		blobs, err := fileblob.New(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		e.tasks = task.NewService(task.Config{
			Store: s.Store.Tasks(), Blobs: blobs, Registries: regs, Builder: e.builder, ServerID: "s1",
			WorkDir: t.TempDir(), SASKey: bytes.Repeat([]byte{9}, 32), Concurrency: 1, Logger: s.Logger,
		})
		ctx := context.Background()
		if _, _, err := s.Resources.PutGroup(ctx, s.Subscription.ID, "rg", resource.GroupInput{Location: "eastus"}); err != nil {
			t.Fatal(err)
		}
		e.group = resourceid.ForResourceGroup(s.Subscription.ID, "rg")
		if _, _, err := regs.Create(ctx, acr.CreateInput{Group: e.group, Name: "myreg", Location: "eastus", SKU: "Basic"}); err != nil {
			t.Fatal(err)
		}
		return server.Middleware(s.Logger, blobstorage.New(s.Logger, e.tasks))
	}})
	t.Cleanup(func() {
		select {
		case <-e.builder.release:
		default:
			close(e.builder.release)
		}
		e.tasks.Wait()
	})
	return e
}

// blobRequest is a request as the blob SDK (2018-11-09) sends it.
func (e *env) blobRequest(t *testing.T, method, pathAndSAS string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.URL+pathAndSAS, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-ms-version", "2018-11-09")
	req.Header.Set("x-ms-date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("x-ms-client-request-id", "3d5c6c1e-0000-4000-8000-000000000000")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return servertest.Do(t, e.H1, req)
}

func grantURL(g task.BlobGrant) string { return "/" + g.Container + "/" + g.Path + "?" + g.Query }

func contextTarGz(t *testing.T, pad int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	tw := tar.NewWriter(zw)
	body := "FROM scratch\n" + strings.Repeat("#", pad)
	for _, h := range []*tar.Header{
		{Name: "/", Typeflag: tar.TypeDir, Mode: 0o755, Format: tar.FormatPAX},
		{Name: "Dockerfile", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body)), Format: tar.FormatPAX},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = tw.Write([]byte(body))
	_ = tw.Close()
	_ = zw.Close()
	return buf.Bytes()
}

type storageError struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func expectError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	var se storageError
	if resp.StatusCode != status || resp.Header.Get("x-ms-error-code") != code {
		t.Fatalf("status %d code %q, want %d %s; body %s", resp.StatusCode, resp.Header.Get("x-ms-error-code"), status, code, body)
	}
	if len(body) > 0 {
		if err := xml.Unmarshal(body, &se); err != nil || se.Code != code || !strings.Contains(se.Message, "RequestId:") {
			t.Fatalf("error body %s: %v", body, err)
		}
	}
}

func TestPutBlobAndBlocks(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	g, err := e.tasks.SourceUploadURL(ctx, e.group, "myreg")
	if err != nil {
		t.Fatal(err)
	}
	data := contextTarGz(t, 10000)

	resp, body := e.blobRequest(t, http.MethodPut, grantURL(g), data, nil)
	expectError(t, resp, body, http.StatusBadRequest, "MissingRequiredHeader")
	resp, body = e.blobRequest(t, http.MethodHead, grantURL(g), nil, nil)
	expectError(t, resp, body, http.StatusNotFound, "BlobNotFound")

	// Put Blob, as az does below 64 MiB.
	resp, _ = e.blobRequest(t, http.MethodPut, grantURL(g), data, map[string]string{"x-ms-blob-type": "BlockBlob"})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("ETag") == "" {
		t.Fatalf("Put Blob: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := http.ParseTime(resp.Header.Get("Last-Modified")); err != nil {
		t.Fatalf("Last-Modified %q: %v", resp.Header.Get("Last-Modified"), err)
	}
	resp, _ = e.blobRequest(t, http.MethodHead, grantURL(g), nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Length") != strconv.Itoa(len(data)) || resp.Header.Get("x-ms-blob-type") != "BlockBlob" {
		t.Fatalf("HEAD: %d %v", resp.StatusCode, resp.Header)
	}

	// Put Block ×3 (ids as az makes them: base64 of a zero-padded offset,
	// URL-quoted), then Put Block List.
	g2, _ := e.tasks.SourceUploadURL(ctx, e.group, "myreg")
	var ids []string
	for i, off := 0, 0; off < len(data); i, off = i+1, off+4096 {
		id := base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%032d", off)))))
		ids = append(ids, id)
		end := min(off+4096, len(data))
		resp, body := e.blobRequest(t, http.MethodPut, grantURL(g2)+"&comp=block&blockid="+url.QueryEscape(id), data[off:end], nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("Put Block: %d %s", resp.StatusCode, body)
		}
	}
	var list strings.Builder
	list.WriteString(`<?xml version='1.0' encoding='utf-8'?>` + "\n<BlockList>")
	for _, id := range ids {
		list.WriteString("<Latest>" + id + "</Latest>")
	}
	list.WriteString("</BlockList>")
	resp, body = e.blobRequest(t, http.MethodPut, grantURL(g2)+"&comp=blocklist", []byte(list.String()), nil)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("Put Block List: %d %s", resp.StatusCode, body)
	}
	resp, got := e.blobRequest(t, http.MethodGet, grantURL(g2), nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("GET of the committed blob: %d, %d bytes", resp.StatusCode, len(got))
	}
	// One upload per upload URL: its bytes stay until GC's grace window
	// ends, so a URL cannot be used to fill the blob store.
	resp, body = e.blobRequest(t, http.MethodPut, grantURL(g2), data, map[string]string{"x-ms-blob-type": "BlockBlob"})
	expectError(t, resp, body, http.StatusConflict, "BlobAlreadyExists")
	resp, body = e.blobRequest(t, http.MethodPut, grantURL(g2)+"&comp=block&blockid="+url.QueryEscape(ids[0]), data[:10], nil)
	expectError(t, resp, body, http.StatusConflict, "BlobAlreadyExists")

	g3, _ := e.tasks.SourceUploadURL(ctx, e.group, "myreg")
	resp, body = e.blobRequest(t, http.MethodPut, grantURL(g3)+"&comp=block&blockid="+url.QueryEscape(ids[0]), data[:10], nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("Put Block: %d %s", resp.StatusCode, body)
	}
	resp, body = e.blobRequest(t, http.MethodPut, grantURL(g3)+"&comp=block&blockid="+url.QueryEscape(ids[0]), data[:20], nil)
	expectError(t, resp, body, http.StatusConflict, "InvalidBlockId")
	resp, body = e.blobRequest(t, http.MethodPut, grantURL(g3)+"&comp=blocklist", []byte("<BlockList><Latest>bm9wZQ==</Latest></BlockList>"), nil)
	expectError(t, resp, body, http.StatusBadRequest, "InvalidBlockList")
	resp, body = e.blobRequest(t, http.MethodPut, grantURL(g3)+"&comp=blocklist", []byte("<nope"), nil)
	expectError(t, resp, body, http.StatusBadRequest, "InvalidXmlDocument")
}

func TestSASRefused(t *testing.T) {
	e := newEnv(t)
	g, err := e.tasks.SourceUploadURL(t.Context(), e.group, "myreg")
	if err != nil {
		t.Fatal(err)
	}
	put := map[string]string{"x-ms-blob-type": "BlockBlob"}
	for name, u := range map[string]string{
		"no SAS":        "/" + g.Container + "/" + g.Path,
		"other blob":    "/" + g.Container + "/" + strings.Replace(g.Path, ".tar.gz", "0.tar.gz", 1) + "?" + g.Query,
		"other sp":      grantURL(g) + "&sp=rwdl",
		"later expiry":  strings.Replace(grantURL(g), "se=", "se=2999", 1),
		"flipped sig":   strings.Replace(grantURL(g), "sig=", "sig=A", 1),
		"other account": "/otherreg/" + g.Path + "?" + g.Query,
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := e.blobRequest(t, http.MethodPut, u, []byte("x"), put)
			expectError(t, resp, body, http.StatusForbidden, "AuthenticationFailed")
		})
	}
}

func TestLogTail(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	g, _ := e.tasks.SourceUploadURL(ctx, e.group, "myreg")
	q, _ := url.ParseQuery(g.Query)
	ref, err := e.tasks.AuthorizeBlob(ctx, g.Container, g.Path, q, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.tasks.PutSource(ctx, ref, bytes.NewReader(contextTarGz(t, 0))); err != nil {
		t.Fatal(err)
	}
	// ca1 holds the only slot until released; ca2 waits Queued, no log yet.
	for range 2 {
		if _, err := e.tasks.ScheduleBuild(ctx, task.Caller{}, e.group, "myreg", task.BuildSpec{SourceLocation: g.Path}); err != nil {
			t.Fatal(err)
		}
	}
	lg2, err := e.tasks.LogURL(ctx, e.group, "myreg", "ca2")
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.blobRequest(t, http.MethodHead, grantURL(lg2), nil, nil)
	expectError(t, resp, nil, http.StatusNotFound, "BlobNotFound")
	_ = body
	close(e.builder.release)
	e.tasks.Wait()

	lg, err := e.tasks.LogURL(ctx, e.group, "myreg", "ca1")
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = e.blobRequest(t, http.MethodHead, grantURL(lg), nil, nil)
	size, _ := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	if resp.StatusCode != http.StatusOK || size < 3*4096 || resp.Header.Get("x-ms-meta-Complete") != "successful" {
		t.Fatalf("HEAD of the log: %d %v", resp.StatusCode, resp.Header)
	}
	// az's reads: 4 KiB ranges until the size, each 206 with Content-Range.
	var log []byte
	for start := int64(0); start < size; start += 4096 {
		resp, chunk := e.blobRequest(t, http.MethodGet, grantURL(lg), nil, map[string]string{"x-ms-range": fmt.Sprintf("bytes=%d-%d", start, start+4095)})
		end := min(start+4095, size-1)
		if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", start, end, size) ||
			int64(len(chunk)) != end-start+1 {
			t.Fatalf("range at %d: %d %q, %d bytes", start, resp.StatusCode, resp.Header.Get("Content-Range"), len(chunk))
		}
		log = append(log, chunk...)
	}
	text := string(log)
	if !strings.HasSuffix(text, "\r\n\r\nRun ID: ca1 was successful after 0s\r\n") || strings.Count(text, "\n") != strings.Count(text, "\r\n") {
		t.Fatalf("log tail %q", text[len(text)-200:])
	}
	// Past the end: 416; a range running past it is clamped.
	resp, body = e.blobRequest(t, http.MethodGet, grantURL(lg), nil, map[string]string{"x-ms-range": fmt.Sprintf("bytes=%d-%d", size, size+10)})
	expectError(t, resp, body, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
	for _, rng := range []string{fmt.Sprintf("bytes=%d-", size-5), fmt.Sprintf("bytes=%d-%d", size-5, size+100)} {
		resp, chunk := e.blobRequest(t, http.MethodGet, grantURL(lg), nil, map[string]string{"x-ms-range": rng})
		if resp.StatusCode != http.StatusPartialContent || string(chunk) != " 0s\r\n" ||
			resp.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", size-5, size-1, size) {
			t.Fatalf("range %s: %d %q %q", rng, resp.StatusCode, chunk, resp.Header.Get("Content-Range"))
		}
	}
	// A log SAS reads, never writes.
	resp, body = e.blobRequest(t, http.MethodPut, grantURL(lg), []byte("x"), map[string]string{"x-ms-blob-type": "BlockBlob"})
	expectError(t, resp, body, http.StatusForbidden, "AuthorizationPermissionMismatch")
}
