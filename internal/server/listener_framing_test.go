package server

import (
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
)

// bodyLine is body text that looks like a request line with raw spaces in
// its query, the kind the repair rewrites in a request line.
const bodyLine = "GET /?a b HTTP/1.1"

// framingCases are request streams and what net/http must read from
// them: the same bytes, but for the request lines framing repairs.
var framingCases = []struct {
	name, in, want string
}{
	{
		name: "the issue: a body record that starts like a request line",
		in: "PUT /v2/r/manifests/v1 HTTP/1.1\r\nHost: h\r\nContent-Length: 16404\r\n\r\n" +
			strings.Repeat("x", 16384) + bodyLine + "\"\n" +
			"GET /s?$filter=a eq 'b' HTTP/1.1\r\nHost: h\r\n\r\n",
		want: "PUT /v2/r/manifests/v1 HTTP/1.1\r\nHost: h\r\nContent-Length: 16404\r\n\r\n" +
			strings.Repeat("x", 16384) + bodyLine + "\"\n" +
			"GET /s?$filter=a+eq+'b' HTTP/1.1\r\nHost: h\r\n\r\n",
	},
	{
		name: "a body that is a request, then a pipelined request",
		in: "POST /a?x y HTTP/1.1\r\nHost: h\r\ncontent-length:  51 \r\n\r\n" + bodyLine + "\r\nHost: h\r\n\r\n" + bodyLine + "\r\n" +
			"DELETE /b?c d HTTP/1.1\r\nHost: h\r\n\r\n",
		want: "POST /a?x+y HTTP/1.1\r\nHost: h\r\ncontent-length:  51 \r\n\r\n" + bodyLine + "\r\nHost: h\r\n\r\n" + bodyLine + "\r\n" +
			"DELETE /b?c+d HTTP/1.1\r\nHost: h\r\n\r\n",
	},
	{
		name: "chunked, with request lines in chunk data and an extension",
		in: "PATCH /p?q r HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n" +
			"13;ext=\"GET /?a b HTTP/1.1\"\r\n" + bodyLine + "\n\r\n" + "9\r\n" + "0\r\n\r\nGET \r\n" + "0;e\r\n\r\n" +
			"GET /s?t u HTTP/1.1\r\nHost: h\r\n\r\n",
		want: "PATCH /p?q+r HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n" +
			"13;ext=\"GET /?a b HTTP/1.1\"\r\n" + bodyLine + "\n\r\n" + "9\r\n" + "0\r\n\r\nGET \r\n" + "0;e\r\n\r\n" +
			"GET /s?t+u HTTP/1.1\r\nHost: h\r\n\r\n",
	},
	{
		name: "bare LF line ends and HTTP/1.0",
		in: "PUT /a?b c HTTP/1.0\nHost: h\nConnection: keep-alive\nContent-Length: 19\n\n" + bodyLine + "\n" +
			"GET /d?e f HTTP/1.1\nHost: h\n\n",
		want: "PUT /a?b+c HTTP/1.0\nHost: h\nConnection: keep-alive\nContent-Length: 19\n\n" + bodyLine + "\n" +
			"GET /d?e+f HTTP/1.1\nHost: h\n\n",
	},
	{
		name: "a request without a body is followed at once",
		in:   "GET /a?b c HTTP/1.1\r\nHost: h\r\nX-Probe: " + bodyLine + "\r\n\r\nGET /d?e f HTTP/1.1\r\n\r\n",
		want: "GET /a?b+c HTTP/1.1\r\nHost: h\r\nX-Probe: " + bodyLine + "\r\n\r\nGET /d?e+f HTTP/1.1\r\n\r\n",
	},
	// Framings net/http reads in ways framing does not follow: the rest of
	// the connection passes untouched.
	{
		name: "a coding other than chunked",
		in:   "POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "Transfer-Encoding and Content-Length",
		in:   "POST /a HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "POST /a HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "Transfer-Encoding on HTTP/1.0",
		in:   "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "two Content-Length fields",
		in:   "POST /a HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "POST /a HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "a Content-Length net/http refuses",
		in:   "POST /a HTTP/1.1\r\nContent-Length: +3\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "POST /a HTTP/1.1\r\nContent-Length: +3\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "a folded field",
		in:   "POST /a HTTP/1.1\r\nX: a\r\n Content-Length: 3\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "POST /a HTTP/1.1\r\nX: a\r\n Content-Length: 3\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "a field name net/http keeps as it is",
		in:   "POST /a HTTP/1.1\r\nContent-Length : 3\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "POST /a HTTP/1.1\r\nContent-Length : 3\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "Upgrade",
		in:   "GET /a HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: h2c\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "GET /a HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: h2c\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "a trailer",
		in:   "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "a bare LF in a chunk-size line",
		in:   "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "chunk data not ended by CRLF",
		in:   "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "a space in the path",
		in:   "GET /a b?c d HTTP/1.1\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "GET /a b?c d HTTP/1.1\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "CONNECT",
		in:   "CONNECT h:443 HTTP/1.1\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "CONNECT h:443 HTTP/1.1\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "the HTTP/2 preface",
		in:   "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
	{
		name: "an empty line before a request line",
		in:   "\r\nGET /?a b HTTP/1.1\r\n\r\n",
		want: "\r\nGET /?a b HTTP/1.1\r\n\r\n",
	},
}

// readAllSized reads c to EOF with read sizes taken in turn from sizes,
// retrying reads that time out.
func readAllSized(t *testing.T, c net.Conn, sizes []int) string {
	t.Helper()
	var got []byte
	buf := make([]byte, slices.Max(sizes))
	for i := 0; ; i++ {
		n, err := c.Read(buf[:sizes[i%len(sizes)]])
		got = append(got, buf[:n]...)
		switch {
		case errors.Is(err, io.EOF):
			return string(got)
		case errors.Is(err, os.ErrDeadlineExceeded):
		case err != nil:
			t.Fatal(err)
		}
		if i > 1<<20 {
			t.Fatal("no progress")
		}
	}
}

// TestFramingSplitAtEveryOffset splits each stream in two at every offset,
// and into single bytes, read back in 1-byte, odd and large reads: net/http
// must get the same bytes every time.
func TestFramingSplitAtEveryOffset(t *testing.T) {
	readSizes := [][]int{{1}, {4096}, {1, 4096, 7}, {64 << 10}}
	for _, tt := range framingCases {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.in) != len(tt.want) {
				t.Fatal("the case changes the length")
			}
			// Long streams: every offset of their last 512 bytes (where
			// the record boundary is), and some before.
			var splits [][][]byte
			for i := 0; i <= len(tt.in); i++ {
				if len(tt.in)-i <= 512 || i%64 == 0 {
					splits = append(splits, [][]byte{[]byte(tt.in[:i]), []byte(tt.in[i:])})
				}
			}
			var bytewise [][]byte
			for i := range len(tt.in) {
				bytewise = append(bytewise, []byte{tt.in[i]})
			}
			splits = append(splits, bytewise)
			for _, chunks := range splits {
				for _, sizes := range readSizes {
					if len(sizes) == 1 && sizes[0] == 1 && len(tt.in) > 1024 && len(chunks) == 2 {
						continue // byte by byte once, below, is enough
					}
					c := &repairConn{Conn: &chunkConn{chunks: slices.Clone(chunks)}}
					if got := readAllSized(t, c, sizes); got != tt.want {
						t.Fatalf("split %d+…, reads %v:\ngot  %.300q\nwant %.300q", len(chunks[0]), sizes, got, tt.want)
					}
				}
			}
		})
	}
}

// timeoutConn returns a timeout from every other read, as net/http's
// abortPendingRead makes the read under its background read return.
type timeoutConn struct {
	net.Conn
	n int
}

func (c *timeoutConn) Read(p []byte) (int, error) {
	c.n++
	if c.n%2 == 1 {
		return 0, os.ErrDeadlineExceeded
	}
	return c.Conn.Read(p)
}

// TestFramingSurvivesTimeouts: a read that times out in the middle of a
// request line loses nothing and repairs nothing early.
func TestFramingSurvivesTimeouts(t *testing.T) {
	in := "GET /a?b c HTTP/1.1\r\nContent-Length: 18\r\n\r\n" + bodyLine + "GET /d?e f HTTP/1.1\r\n\r\n"
	want := "GET /a?b+c HTTP/1.1\r\nContent-Length: 18\r\n\r\n" + bodyLine + "GET /d?e+f HTTP/1.1\r\n\r\n"
	var chunks [][]byte
	for i := 0; i < len(in); i += 3 {
		chunks = append(chunks, []byte(in[i:min(i+3, len(in))]))
	}
	c := &repairConn{Conn: &timeoutConn{Conn: &chunkConn{chunks: chunks}}}
	if got := readAllSized(t, c, []int{1, 5}); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestFramingHoldsOnlyTheQuery: the start of a request line is handed on
// before its end arrives (net/http starts its header timer on the first
// bytes); only the query waits, since only it may change.
func TestFramingHoldsOnlyTheQuery(t *testing.T) {
	c := &repairConn{Conn: &chunkConn{chunks: [][]byte{[]byte("GET /path?a b"), []byte(" HTTP/1.1\r\n\r\n")}}}
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "GET /path" {
		t.Fatalf("first read %q, %v; want the bytes before the query", buf[:n], err)
	}
	n, err = c.Read(buf)
	if err != nil || string(buf[:n]) != "?a+b HTTP/1.1\r\n\r\n" {
		t.Fatalf("second read %q, %v", buf[:n], err)
	}
}

// TestFramingGivesUpOnOverlongLines: a line longer than the buffer is
// handed on unrepaired, and so is the rest of the connection.
func TestFramingGivesUpOnOverlongLines(t *testing.T) {
	long := "GET /a?" + strings.Repeat("b ", readChunk) + " HTTP/1.1\r\n\r\n"
	in := long + "GET /?a b HTTP/1.1\r\n\r\n"
	c := &repairConn{Conn: &chunkConn{chunks: [][]byte{[]byte(in)}}}
	if got := readAllSized(t, c, []int{4096}); got != in {
		t.Fatal("an overlong request line, or what follows it, was changed")
	}
}

// TestFramingEndsOnReadErrors: a read error hands on the incomplete line
// as it is, then the error.
func TestFramingEndsOnReadErrors(t *testing.T) {
	c := &repairConn{Conn: &chunkConn{chunks: [][]byte{[]byte("GET /a?b c HTTP/1.1")}}}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "GET /a?b c HTTP/1.1" {
		t.Fatalf("got %q, %v", got, err)
	}
}
