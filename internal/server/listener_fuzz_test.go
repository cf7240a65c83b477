package server

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// genRequest is one request of a generated stream.
type genRequest struct {
	method string
	line   string // the request line as sent
	fixed  string // the request line as net/http must read it
	query  string // the raw query net/http must see
	rest   string // the header block and body as sent
	body   string // the body's content
}

// genStream is a stream of requests. From the request at passAt on,
// framing may give up (the request's own line is still repaired), so
// net/http sees nothing repaired after that request's line.
type genStream struct {
	reqs   []genRequest
	passAt int
}

// sent is the stream as the client sends it.
func (s genStream) sent() string {
	var b strings.Builder
	for _, r := range s.reqs {
		b.WriteString(r.line + r.rest)
	}
	return b.String()
}

// read is the stream as net/http must read it.
func (s genStream) read() string {
	var b strings.Builder
	for i, r := range s.reqs {
		if i <= s.passAt {
			b.WriteString(r.fixed)
		} else {
			b.WriteString(r.line)
		}
		b.WriteString(r.rest)
	}
	return b.String()
}

// planReader hands out the bytes of a fuzzer's plan, then zeros.
type planReader struct {
	b []byte
	i int
}

func (p *planReader) next() int {
	if p.i >= len(p.b) {
		return 0
	}
	p.i++
	return int(p.b[p.i-1])
}

// Body pieces that look like request lines, chunk framing and header ends.
var bodyPieces = []string{
	"GET /?a b HTTP/1.1\r\nHost: x\r\n\r\n",
	"PUT /x?c d HTTP/1.1\n",
	"0\r\n\r\n",
	"\r\n",
	"5\r\nhello\r\n",
	"POST /s?$filter=principalId eq 'x' HTTP/1.0\r\nContent-Length: 3\r\n\r\n",
}

// generate builds a stream of up to six requests from plan, with bodies
// made of text and bodyPieces, framed by Content-Length or chunked
// encoding; at most one request (passAt) has a framing net/http reads in a
// way framing does not follow, or a request line it refuses.
func generate(plan []byte, text string) genStream {
	p := &planReader{b: plan}
	s := genStream{passAt: -1}
	n := 1 + p.next()%6
	for i := range n {
		var r genRequest
		m := methods[p.next()%len(methods)]
		r.method = string(m[:len(m)-2])
		eol := "\r\n"
		if p.next()%4 == 3 {
			eol = "\n"
		}
		proto := "HTTP/1.1"
		if p.next()%8 == 7 {
			proto = "HTTP/1.0"
		}
		weird := -1
		if p.next()%10 == 9 && s.passAt < 0 {
			weird = p.next() % 6
			s.passAt = i
		}

		var path, query string
		hasQuery := true
		switch p.next() % 5 {
		case 0:
			path, hasQuery = "/v2/x/manifests/v1", false
		case 1:
			path, query = "/s/roleAssignments", "$filter=principalId eq 'x y'&api-version=1"
		case 2:
			path, query = "/", "a b"
		case 3:
			path = "/p"
			for _, c := range []byte(text[:min(len(text), p.next())]) {
				if c == ' ' || c == '=' || c == '&' || c == '$' || c == '\'' || c == '-' ||
					'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
					query += string(c)
				}
			}
		default:
			path, query = "/a", "b=c"
		}
		if weird == 0 { // a space in the path: not repaired, refused by net/http
			path = "/a b"
		}
		target, fixedTarget := path, path
		if hasQuery {
			target += "?" + query
			r.query = strings.ReplaceAll(query, " ", "+")
			if !strings.Contains(path, " ") {
				fixedTarget += "?" + r.query
			} else {
				fixedTarget = target
			}
		}
		r.line = r.method + " " + target + " " + proto + eol
		r.fixed = r.method + " " + fixedTarget + " " + proto + eol

		var h strings.Builder
		h.WriteString("Host: h" + eol)
		if proto == "HTTP/1.0" {
			h.WriteString("Connection: keep-alive" + eol)
		}
		for range p.next() % 3 {
			h.WriteString([]string{"X-Probe: GET /?a b HTTP/1.1", "accept:*/*", "X-Empty:"}[p.next()%3] + eol)
		}

		var body strings.Builder
		for range p.next() % 4 {
			if k := p.next(); k%3 == 0 {
				body.WriteString(text[:min(len(text), k*128)])
			} else {
				body.WriteString(bodyPieces[k%len(bodyPieces)])
			}
		}
		r.body = body.String()
		framing := p.next() % 3
		if proto == "HTTP/1.0" && framing == 2 {
			framing = 1
		}
		if r.body == "" && framing == 0 && p.next()%2 == 0 {
			framing = 1 // Content-Length: 0
		}
		if r.body != "" && framing == 0 {
			framing = 1
		}
		if weird == 4 || weird == 5 {
			framing = 2
		}
		switch weird {
		case 1:
			h.WriteString("Transfer-Encoding: gzip" + eol)
		case 2:
			h.WriteString("X-Fold: a" + eol + " b" + eol)
		case 3:
			h.WriteString("Connection: Upgrade" + eol + "Upgrade: websocket" + eol)
		}
		var wire strings.Builder
		switch framing {
		case 1:
			name := []string{"Content-Length", "content-length", "CONTENT-LENGTH"}[p.next()%3]
			fmt.Fprintf(&h, "%s:%s%d%s", name, strings.Repeat(" ", p.next()%3), len(r.body), eol)
			wire.WriteString(r.body)
		case 2:
			h.WriteString("Transfer-Encoding: chunked" + eol)
			rest := r.body
			excess := 0 // net/http refuses a body with too much overhead
			for len(rest) > 0 {
				size := min(len(rest), 1+p.next()*8)
				if p.i >= len(p.b) || excess > 8<<10 {
					size = len(rest)
				}
				ext := ""
				if p.next()%4 == 1 {
					ext = `;x="GET /?a b HTTP/1.1"`
				}
				excess = max(0, excess+len(fmt.Sprintf("%x", size))+len(ext)+2-16-2*size)
				f := "%x"
				if p.next()%2 == 0 {
					f = "%X"
				}
				wire.WriteString(fmt.Sprintf(f, size) + ext + "\r\n" + rest[:size] + "\r\n")
				rest = rest[size:]
			}
			wire.WriteString("0\r\n")
			switch weird {
			case 4:
				wire.WriteString("X-Trailer: GET /?a b HTTP/1.1\r\n")
			case 5:
				wire.WriteString("\n") // a bare LF: refused
			}
			wire.WriteString("\r\n")
		}
		r.rest = h.String() + eol + wire.String()
		s.reqs = append(s.reqs, r)
	}
	if s.passAt < 0 {
		s.passAt = len(s.reqs)
	}
	return s
}

// split cuts stream into the chunks its reads (or TLS records) return,
// as cuts says: a byte under 128 is a chunk of 1 to 128 bytes, a byte from
// 128 up takes the next byte with it for a chunk of up to 32 KiB, and a
// zero byte also makes a read time out first. The rest is one chunk.
func split(stream string, cuts []byte) (chunks [][]byte, timeouts map[int]bool) {
	timeouts = map[int]bool{}
	for i := 0; i < len(cuts) && len(stream) > 0; i++ {
		size := 1 + int(cuts[i])
		if cuts[i] >= 128 && i+1 < len(cuts) {
			size = 1 + (int(cuts[i]&127)<<8 | int(cuts[i+1]))
			i++
		}
		if cuts[i] == 0 {
			timeouts[len(chunks)] = true
		}
		size = min(size, len(stream))
		chunks = append(chunks, []byte(stream[:size]))
		stream = stream[size:]
	}
	if len(stream) > 0 {
		chunks = append(chunks, []byte(stream))
	}
	return chunks, timeouts
}

// splitConn returns chunks from its reads, a timeout before each chunk
// whose index is in timeouts, then EOF. Writes are discarded; Close
// reports on closed.
type splitConn struct {
	chunks   [][]byte
	timeouts map[int]bool
	next     int
	closed   chan struct{}
	once     sync.Once
}

func (c *splitConn) Read(p []byte) (int, error) {
	if c.next >= len(c.chunks) {
		return 0, io.EOF
	}
	if c.timeouts[c.next] {
		delete(c.timeouts, c.next)
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(p, c.chunks[c.next])
	c.chunks[c.next] = c.chunks[c.next][n:]
	if len(c.chunks[c.next]) == 0 {
		c.next++
	}
	return n, nil
}

func (c *splitConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *splitConn) Close() error {
	c.once.Do(func() {
		if c.closed != nil {
			close(c.closed)
		}
	})
	return nil
}
func (c *splitConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443} }
func (c *splitConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *splitConn) SetDeadline(time.Time) error      { return nil }
func (c *splitConn) SetReadDeadline(time.Time) error  { return nil }
func (c *splitConn) SetWriteDeadline(time.Time) error { return nil }

// oneConnListener hands out one connection, then reports itself closed.
type oneConnListener struct {
	conn net.Conn
	done bool
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	if l.done {
		return nil, net.ErrClosed
	}
	l.done = true
	return l.conn, nil
}
func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443} }

// seen is a request as a handler saw it.
type seen struct{ method, query, body string }

// serve runs net/http over a repairConn reading chunks, and returns the
// requests its handler saw.
func serve(chunks [][]byte) []seen {
	var (
		mu  sync.Mutex
		got []seen
	)
	conn := &splitConn{chunks: chunks, closed: make(chan struct{})}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				body = append(body, "<read error: "+err.Error()+">"...)
			}
			mu.Lock()
			got = append(got, seen{r.Method, r.URL.RawQuery, string(body)})
			mu.Unlock()
		}),
		ErrorLog: log.New(io.Discard, "", 0),
	}
	_ = srv.Serve(&oneConnListener{conn: &repairConn{Conn: conn}})
	<-conn.closed
	mu.Lock()
	defer mu.Unlock()
	return got
}

// FuzzRequestLineRepair generates streams of pipelined requests whose
// headers and bodies (Content-Length and chunked) are full of
// request-line-like text, splits them at the offsets the fuzzer picks into
// the chunks reads and TLS records return (with read timeouts between
// them), and checks that net/http gets exactly the bytes sent but for the
// repaired request lines, and that an http.Server's handlers see every
// request line repaired and every body byte for byte. Its seeds are in
// testdata/fuzz/FuzzRequestLineRepair: the 16 KiB manifest prefix,
// chunked and pipelined requests, and each framing it gives up on.
func FuzzRequestLineRepair(f *testing.F) {
	f.Fuzz(func(t *testing.T, plan []byte, text string, cuts []byte) {
		s := generate(plan, text)
		sent, want := s.sent(), s.read()
		chunks, timeouts := split(sent, cuts)

		sizes := []int{1, 4096, 7, 64 << 10, 2}
		var readSizes []int
		for _, c := range cuts {
			readSizes = append(readSizes, sizes[int(c)%len(sizes)])
		}
		if len(readSizes) == 0 {
			readSizes = []int{4096}
		}
		c := &repairConn{Conn: &splitConn{chunks: slices.Clone(chunks), timeouts: timeouts}}
		if got := readAllSized(t, c, readSizes); got != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("the stream differs at byte %d of %d:\ngot  %.200q\nwant %.200q", i, len(want), got[i:], want[i:])
		}

		got := serve(slices.Clone(chunks))
		checked := min(s.passAt, len(s.reqs))
		if len(got) < checked || (s.passAt == len(s.reqs) && len(got) != len(s.reqs)) {
			t.Fatalf("the server saw %d requests, want %d (framing gives up at %d)", len(got), len(s.reqs), s.passAt)
		}
		for i, r := range s.reqs[:checked] {
			if want := (seen{r.method, r.query, r.body}); got[i] != want {
				t.Fatalf("request %d seen as %.200q\nwant %.200q", i, got[i], want)
			}
		}
	})
}
