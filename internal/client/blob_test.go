package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeStorage is a blob endpoint with Azure Storage's wire behaviour for
// the operations az uses: Put Blob, Put Block, Put Block List, HEAD
// (Content-Length, x-ms-meta-*), ranged GET (x-ms-range → 206 +
// Content-Range; 416 past the end).
type fakeStorage struct {
	t        *testing.T
	mu       sync.Mutex
	blobs    map[string]*fakeStoredBlob
	blocks   map[string][]byte
	requests []string
	inFlight int
	maxPar   int
}

type fakeStoredBlob struct {
	data []byte
	meta map[string]string
}

func newFakeStorage(t *testing.T) (*fakeStorage, *httptest.Server) {
	f := &fakeStorage{t: t, blobs: map[string]*fakeStoredBlob{}, blocks: map[string][]byte{}}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// client returns a Blob for https://acct.blob.example.com:<port>/c/<name>
// that reaches srv (its certificate covers example.com).
func (f *fakeStorage) client(t *testing.T, srv *httptest.Server, name string) *Blob {
	t.Helper()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com"
	addr := srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	_, port, _ := net.SplitHostPort(addr)
	b, err := NewBlob(BlobConfig{HTTPClient: &http.Client{Transport: tr}}, "https://acct.blob.example.com:"+port+"/c/"+name+"?sv=2018-11-09&sr=b&sp=rw&sig=c2lnbmF0dXJl")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var rangeHeader = regexp.MustCompile(`^bytes=(\d+)-(\d+)$`)

func (f *fakeStorage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+q.Get("comp")+" "+r.Header.Get("x-ms-range"))
	f.inFlight++
	f.maxPar = max(f.maxPar, f.inFlight)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
	switch {
	case r.Header.Get("x-ms-version") != BlobStorageVersion, r.Header.Get("x-ms-date") == "", r.Header.Get("x-ms-client-request-id") == "":
		http.Error(w, "missing storage headers", http.StatusBadRequest)
		return
	case r.Header.Get("Authorization") != "":
		http.Error(w, "SAS requests carry no Authorization", http.StatusBadRequest)
		return
	case q.Get("sig") != "c2lnbmF0dXJl" || q.Get("sp") != "rw":
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.</Message></Error>`)
		return
	}
	name := r.URL.Path
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		switch q.Get("comp") {
		case "":
			if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
				http.Error(w, "x-ms-blob-type", http.StatusBadRequest)
				return
			}
			f.blobs[name] = &fakeStoredBlob{data: body, meta: map[string]string{}}
		case "block":
			// Released while "uploading", so that parallel blocks overlap.
			f.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			f.mu.Lock()
			f.blocks[q.Get("blockid")] = body
		case "blocklist":
			var list struct {
				Latest []string `xml:"Latest"`
			}
			if !bytes.HasPrefix(body, []byte("<?xml version='1.0' encoding='utf-8'?>\n<BlockList>")) || xml.Unmarshal(body, &list) != nil {
				http.Error(w, "bad block list", http.StatusBadRequest)
				return
			}
			var data []byte
			for _, id := range list.Latest {
				b, ok := f.blocks[id]
				if !ok {
					http.Error(w, "unknown block "+id, http.StatusBadRequest)
					return
				}
				data = append(data, b...)
			}
			f.blobs[name] = &fakeStoredBlob{data: data, meta: map[string]string{}}
		}
		w.Header().Set("ETag", `"0x1"`)
		w.Header().Set("Last-Modified", "Wed, 01 May 2024 12:00:00 GMT")
		w.WriteHeader(http.StatusCreated)
	case http.MethodHead, http.MethodGet:
		b, ok := f.blobs[name]
		if !ok {
			w.Header().Set("x-ms-error-code", "BlobNotFound")
			w.WriteHeader(http.StatusNotFound)
			if r.Method == http.MethodGet {
				_, _ = io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>`)
			}
			return
		}
		for k, v := range b.meta {
			w.Header().Set("x-ms-meta-"+k, v)
		}
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Length", strconv.Itoa(len(b.data)))
			return
		}
		m := rangeHeader.FindStringSubmatch(r.Header.Get("x-ms-range"))
		if m == nil {
			_, _ = w.Write(b.data)
			return
		}
		start, _ := strconv.Atoi(m[1])
		end, _ := strconv.Atoi(m[2])
		if start >= len(b.data) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		end = min(end, len(b.data)-1)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(b.data)))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(b.data[start : end+1])
	}
}

func (f *fakeStorage) set(name string, data string, meta map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if meta == nil {
		meta = map[string]string{}
	}
	f.blobs["/c/"+name] = &fakeStoredBlob{data: []byte(data), meta: meta}
}

func TestParseBlobURL(t *testing.T) {
	tests := []struct {
		in      string
		want    BlobURL
		wantErr bool
	}{
		{"https://acct.blob.core.windows.net/cont/source/x.tar.gz?sv=1&sig=abc", BlobURL{"acct", "core.windows.net", "cont", "source/x.tar.gz", "sv=1&sig=abc"}, false},
		{"https://cerulean.blob.azurecr.localhost:8443/logs/r/ca1.log?se=2&sig=x", BlobURL{"cerulean", "azurecr.localhost:8443", "logs", "r/ca1.log", "se=2&sig=x"}, false},
		{"https://acct.example.com/c/b?sig=x", BlobURL{}, true},
		{"https://acct.blob.example.com/c/b", BlobURL{}, true},
	}
	for _, tt := range tests {
		got, err := ParseBlobURL(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseBlobURL(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

// patternReader is size deterministic bytes, without holding them.
type patternReader struct{ size int64 }

func (p patternReader) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	for ; n < len(b) && off+int64(n) < p.size; n++ {
		x := off + int64(n)
		b[n] = byte(x*7 + x>>12)
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func TestUpload(t *testing.T) {
	tests := []struct {
		name       string
		size       int64
		wantBlocks int // 0: one Put Blob
	}{
		{"small", 12345, 0},
		{"just below the single put limit", MaxSinglePutSize - 1, 0},
		{"blocks", MaxSinglePutSize + 4097, 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeStorage(t)
			b := f.client(t, srv, "source/ctx.tar.gz")
			src := patternReader{tt.size}
			if err := b.Upload(context.Background(), src, tt.size); err != nil {
				t.Fatal(err)
			}
			want := sha256.New()
			_, _ = io.Copy(want, io.NewSectionReader(src, 0, tt.size))
			stored := f.blobs["/c/source/ctx.tar.gz"]
			if stored == nil || sha256.Sum256(stored.data) != [32]byte(want.Sum(nil)) {
				t.Fatalf("stored blob differs from the source")
			}
			var puts, blocks, lists int
			for _, r := range f.requests {
				switch r {
				case "PUT  ":
					puts++
				case "PUT block ":
					blocks++
				case "PUT blocklist ":
					lists++
				}
			}
			if tt.wantBlocks == 0 && (puts != 1 || blocks != 0 || lists != 0) {
				t.Errorf("requests %v, want one Put Blob", f.requests)
			}
			if tt.wantBlocks > 0 && (puts != 0 || blocks != tt.wantBlocks || lists != 1 || f.maxPar != blockConnections) {
				t.Errorf("requests %v (at most %d at once), want %d blocks two at a time and a block list", f.requests, f.maxPar, tt.wantBlocks)
			}
		})
	}
}

func TestBlockIDIsTheStorageSDKs(t *testing.T) {
	// base64(url_quote(base64('%032d' % offset))), computed once with the
	// Python storage SDK's own helpers (_encode_base64, urllib's quote).
	tests := map[int64]string{
		0:        "TURBd01EQXdNREF3TURBd01EQXdNREF3TURBd01EQXdNREF3TURBd01EQSUzRA==",
		4194304:  "TURBd01EQXdNREF3TURBd01EQXdNREF3TURBd01EQXdNRFF4T1RRek1EUSUzRA==",
		62914560: "TURBd01EQXdNREF3TURBd01EQXdNREF3TURBd01EQXdOakk1TVRRMU5qQSUzRA==",
	}
	for off, want := range tests {
		if got := BlockID(off); got != want {
			t.Errorf("BlockID(%d) = %s, want %s", off, got, want)
		}
	}
}

func TestUploadRefused(t *testing.T) {
	f, srv := newFakeStorage(t)
	b := f.client(t, srv, "x")
	b.url.SAS = "sv=2018-11-09&sp=r&sig=c2lnbmF0dXJl"
	err := b.Upload(context.Background(), strings.NewReader("data"), 4)
	if err == nil || !strings.Contains(err.Error(), "Server failed to authenticate the request. ErrorCode: AuthenticationFailed") {
		t.Fatalf("err = %v", err)
	}
}

// tailScript grows the log at each of the tailer's sleeps.
type tailScript struct {
	f     *fakeStorage
	steps []func()
	slept []time.Duration
	out   *bytes.Buffer
	// seen is what had been printed at each sleep.
	seen []string
}

func (s *tailScript) sleep(_ context.Context, d time.Duration) error {
	s.slept = append(s.slept, d)
	if s.out != nil {
		s.seen = append(s.seen, s.out.String())
	}
	if len(s.steps) > 0 {
		s.steps[0]()
		s.steps = s.steps[1:]
	}
	return nil
}

func TestTailLog(t *testing.T) {
	long := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdefghijklmnopqrst\r\n", 100) // 7000 bytes
	tests := []struct {
		name       string
		initial    *string // nil: no blob yet (404)
		steps      []func(f *fakeStorage)
		timeout    time.Duration
		wantOut    string
		wantStatus string
		wantGaveUp bool
		wantRanges []string
		wantSeen   []string
	}{
		{
			name: "404 first, then lines buffered up to the last CRLF",
			steps: []func(*fakeStorage){
				func(f *fakeStorage) { f.set("l", "line1\r\npart", nil) },
				func(f *fakeStorage) { f.set("l", "line1\r\npart", nil) },
				func(f *fakeStorage) { f.set("l", "line1\r\npartial\r\n", nil) },
				func(f *fakeStorage) {
					f.set("l", "line1\r\npartial\r\nRun ID: ca1 was successful after 2s", map[string]string{"Complete": "successful"})
				},
			},
			timeout:    time.Hour,
			wantOut:    "line1\r\npartial\r\nRun ID: ca1 was successful after 2s\n",
			wantStatus: "successful",
			wantRanges: []string{"bytes=0-4095", "bytes=11-4106", "bytes=16-4111"},
			// "part" waits for its CRLF.
			wantSeen: []string{"", "", "line1\r\n", "line1\r\npartial\r\n"},
		},
		{
			name:       "complete at once, read in 4 KiB chunks",
			initial:    &long,
			steps:      nil,
			timeout:    time.Hour,
			wantOut:    long,
			wantStatus: "Failed",
			wantRanges: []string{"bytes=0-4095", "bytes=4096-8191"},
		},
		{
			name:       "no new bytes for longer than the timeout",
			initial:    ptr("started\r\nhalf a line"),
			timeout:    5 * time.Second,
			wantOut:    "started\r\nhalf a line\n",
			wantStatus: "inprogress",
			wantGaveUp: true,
			wantRanges: []string{"bytes=0-4095"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeStorage(t)
			if tt.initial != nil {
				meta := map[string]string(nil)
				if tt.name == "complete at once, read in 4 KiB chunks" {
					meta = map[string]string{"complete": "Failed"}
				}
				f.set("l", *tt.initial, meta)
			}
			s := &tailScript{f: f}
			for _, st := range tt.steps {
				s.steps = append(s.steps, func() { st(f) })
			}
			var out bytes.Buffer
			s.out = &out
			b := f.client(t, srv, "l")
			res, err := b.TailLog(context.Background(), Tail{Out: &out, Timeout: tt.timeout, Sleep: s.sleep, Jitter: func() float64 { return 1.5 }})
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.wantOut {
				t.Errorf("out = %q\nwant %q", out.String(), tt.wantOut)
			}
			if res.Status != tt.wantStatus || res.GaveUp != tt.wantGaveUp {
				t.Errorf("result %+v, want status %q gave up %v", res, tt.wantStatus, tt.wantGaveUp)
			}
			if tt.wantSeen != nil && strings.Join(s.seen, "|") != strings.Join(tt.wantSeen, "|") {
				t.Errorf("printed at each sleep %q, want %q", s.seen, tt.wantSeen)
			}
			var ranges []string
			for _, r := range f.requests {
				if strings.HasPrefix(r, "GET") {
					ranges = append(ranges, strings.TrimPrefix(r, "GET  "))
				}
			}
			if strings.Join(ranges, ",") != strings.Join(tt.wantRanges, ",") {
				t.Errorf("ranges %q, want %q", ranges, tt.wantRanges)
			}
		})
	}
}

// The back-off: 1 s plus jitter per empty poll, doubling every third
// one, at most 15 s.
func TestTailLogBackOff(t *testing.T) {
	f, srv := newFakeStorage(t)
	f.set("l", "", nil)
	s := &tailScript{f: f}
	var out bytes.Buffer
	_, err := f.client(t, srv, "l").TailLog(context.Background(), Tail{Out: &out, Timeout: 100 * time.Second, Sleep: s.sleep, Jitter: func() float64 { return 1 }})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range s.slept {
		got = append(got, d.String())
	}
	want := "2s,2s,3s,3s,3s,5s,5s,5s,9s,9s,9s,16s,16s,16s" // 103 s > 100 s: gives up
	if strings.Join(got, ",") != want {
		t.Errorf("sleeps %s, want %s", strings.Join(got, ","), want)
	}
}

func ptr(s string) *string { return &s }
