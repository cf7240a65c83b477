package s3blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/blob/blobtest"
)

// testOptions returns the S3 store of CERULEAN_TEST_S3 (see
// scripts/seaweedfs.sh) under a fresh prefix of its own, and removes
// everything under that prefix when the test ends. Without the variable
// the test is skipped, unless CERULEAN_E2E_REQUIRE=1.
func testOptions(t testing.TB) Options {
	t.Helper()
	raw := os.Getenv("CERULEAN_TEST_S3")
	if raw == "" {
		if os.Getenv("CERULEAN_E2E_REQUIRE") == "1" {
			t.Fatal("CERULEAN_TEST_S3 is not set (CERULEAN_E2E_REQUIRE=1); see scripts/seaweedfs.sh")
		}
		t.Skip("CERULEAN_TEST_S3 is not set; see scripts/seaweedfs.sh")
	}
	o, err := ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	o.Prefix = strings.TrimPrefix(o.Prefix+"/"+hex.EncodeToString(b[:]), "/")
	return o
}

// newStore opens a store under a fresh prefix. When the test passed it
// checks that nothing was left in tmp/, uploads/ or as an incomplete
// multipart upload, then removes the prefix.
func newStore(t testing.TB, o Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if !t.Failed() {
			for _, dir := range []string{tmpDir, uploadsDir} {
				if left := list(t, s, dir); len(left) != 0 {
					t.Errorf("left in %s: %v", dir, left)
				}
			}
			for mu := range s.c.ListIncompleteUploads(ctx, s.bucket, s.prefix, true) {
				t.Errorf("multipart upload left: %s %s %v", mu.Key, mu.UploadID, mu.Err)
			}
		}
		for _, key := range list(t, s, "") {
			_ = s.c.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
		}
		for mu := range s.c.ListIncompleteUploads(ctx, s.bucket, s.prefix, true) {
			_ = s.c.AbortMultipartUpload(ctx, s.bucket, mu.Key, mu.UploadID)
		}
	})
	return s
}

// list returns the keys under the store's prefix + dir, relative to the
// prefix.
func list(t testing.TB, s *Store, dir string) []string {
	t.Helper()
	var keys []string
	for oi := range s.c.Client.ListObjects(context.Background(), s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + dir, Recursive: true}) {
		if oi.Err != nil {
			t.Fatalf("list %s: %v", dir, oi.Err)
		}
		keys = append(keys, strings.TrimPrefix(oi.Key, s.prefix))
	}
	return keys
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return newStore(t, testOptions(t))
	})
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func sha256Of(b []byte) digest.Digest {
	sum := sha256.Sum256(b)
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum[:]))
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func write(t *testing.T, u blob.Upload, b []byte) {
	t.Helper()
	n, err := u.Write(b)
	must(t, err, "Write")
	if n != len(b) {
		t.Fatalf("Write wrote %d of %d", n, len(b))
	}
}

func readAll(t *testing.T, s blob.Store, d digest.Digest) []byte {
	t.Helper()
	r, err := s.Open(t.Context(), d)
	must(t, err, "Open")
	defer r.Close()
	b, err := io.ReadAll(r)
	must(t, err, "read")
	return b
}

// TestHandOver: a session moves between two independent stores on one
// bucket, as a chunked push does between servers: A starts it, B resumes
// and writes past a part boundary, A commits, and B reads the blob.
func TestHandOver(t *testing.T) {
	o := testOptions(t)
	a, b := newStore(t, o), newStore(t, o)
	ctx := t.Context()
	content := random(basePart + minPart + 12345) // a full part, a tail big enough for a part at Close, a last part
	chunks := [][]byte{content[:1000], content[1000 : basePart+100], content[basePart+100:]}

	u, err := a.Upload(ctx, "handover", true)
	must(t, err, "create on A")
	write(t, u, chunks[0])
	must(t, u.Close(), "Close on A")

	for i, s := range []*Store{b, a} {
		u, err = s.Upload(ctx, "handover", false)
		must(t, err, "resume")
		if want := int64(len(chunks[0])); i == 0 && u.Size() != want {
			t.Fatalf("resumed on B at %d, want %d", u.Size(), want)
		}
		write(t, u, chunks[i+1])
		must(t, u.Close(), "Close")
	}

	u, err = b.Upload(ctx, "handover", false)
	must(t, err, "resume on B")
	if u.Size() != int64(len(content)) {
		t.Fatalf("resumed on B at %d, want %d", u.Size(), len(content))
	}
	info, err := u.Commit(ctx, sha256Of(content), int64(len(content)))
	must(t, err, "Commit on B")
	if !bytes.Equal(readAll(t, a, info.Digest), content) {
		t.Fatal("A reads other bytes than were written through A and B")
	}
}

// TestUnclosedWritesDropped: bytes written but never recorded by Close (a
// server that died mid-PATCH) are not part of the session: another server
// resumes from the last Close, the client resends, and the blob is right,
// although parts of the lost writes reached S3.
func TestUnclosedWritesDropped(t *testing.T) {
	o := testOptions(t)
	a, b := newStore(t, o), newStore(t, o)
	ctx := t.Context()
	content := random(3*basePart + 77)

	u, err := a.Upload(ctx, "crash", true)
	must(t, err, "create on A")
	write(t, u, content[:basePart+10])
	must(t, u.Close(), "Close")
	u, err = a.Upload(ctx, "crash", false)
	must(t, err, "resume on A")
	write(t, u, random(2*basePart)) // sends two parts, then A "dies": no Close

	u, err = b.Upload(ctx, "crash", false)
	must(t, err, "resume on B")
	if u.Size() != basePart+10 {
		t.Fatalf("resumed on B at %d, want %d", u.Size(), basePart+10)
	}
	write(t, u, content[basePart+10:])
	info, err := u.Commit(ctx, sha256Of(content), int64(len(content)))
	must(t, err, "Commit")
	if !bytes.Equal(readAll(t, b, info.Digest), content) {
		t.Fatal("content differs")
	}
}

// TestRedirectURL: with ?redirect=true a blob has a presigned URL that
// serves it, Range included; without, none.
func TestRedirectURL(t *testing.T) {
	o := testOptions(t)
	plain := newStore(t, o)
	o.Redirect = true
	s := newStore(t, o)
	ctx := t.Context()
	content := random(100_000)
	info, err := s.Put(ctx, sha256Of(content), int64(len(content)), bytes.NewReader(content))
	must(t, err, "Put")

	if _, ok, err := plain.RedirectURL(ctx, info.Digest); ok || err != nil {
		t.Fatalf("RedirectURL without ?redirect = %v, %v", ok, err)
	}
	u, ok, err := s.RedirectURL(ctx, info.Digest)
	if err != nil || !ok {
		t.Fatalf("RedirectURL = %v, %v", ok, err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	req.Header.Set("Range", "bytes=10-19")
	resp, err := http.DefaultClient.Do(req)
	must(t, err, "GET")
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, content[10:20]) {
		t.Fatalf("GET %s: %s, %d bytes", u.Redacted(), resp.Status, len(got))
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    Options
		wantErr bool
	}{
		{raw: "s3://bkt/some/prefix/?endpoint=http://127.0.0.1:8333&region=us-east-1",
			want: Options{Bucket: "bkt", Prefix: "some/prefix", Region: "us-east-1"}},
		{raw: "s3://bkt?region=eu-west-1&redirect=true", want: Options{Bucket: "bkt", Region: "eu-west-1", Redirect: true}},
		{raw: "s3://bkt/p?endpoint=https://s3.example.com", want: Options{Bucket: "bkt", Prefix: "p"}},
		{raw: "s3://bkt", wantErr: true},                                  // AWS needs a region
		{raw: "s3:///p?region=x", wantErr: true},                          // no bucket
		{raw: "http://bkt/p?region=x", wantErr: true},                     // scheme
		{raw: "s3://bkt/p?region=x&redirect=maybe", wantErr: true},        // not a bool
		{raw: "s3://bkt/p?region=x&endpoint=ftp://h", wantErr: true},      // endpoint scheme
		{raw: "s3://bkt/p?endpoint=http://h/path", wantErr: true},         // endpoint path
		{raw: "s3://bkt/p?region=x&secret=1", wantErr: true},              // unknown parameter
		{raw: "s3://user:pw@bkt/p?region=x", wantErr: true},               // credentials in the URL
		{raw: "s3://bkt:9000/p?region=x", wantErr: true},                  // a port is no bucket
		{raw: "s3://bkt/p?endpoint=http://127.0.0.1:1%zz", wantErr: true}, // unparsable
	}
	for _, tt := range tests {
		got, err := ParseURL(tt.raw)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseURL(%q) error = %v, want error %v", tt.raw, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		got.Endpoint = nil // checked by the error cases
		if got != tt.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tt.raw, got, tt.want)
		}
	}
}
