package server

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/tlsca"
)

func TestRepairRequestLine(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"unencoded filter", "GET /s/roleAssignments?$filter=principalId eq 'x'&api-version=1 HTTP/1.1\r\nHost: h\r\n\r\n",
			"GET /s/roleAssignments?$filter=principalId+eq+'x'&api-version=1 HTTP/1.1\r\nHost: h\r\n\r\n", true},
		{"bare LF", "DELETE /a?f=b c HTTP/1.1\nHost: h\n\n", "DELETE /a?f=b+c HTTP/1.1\nHost: h\n\n", true},
		{"clean line untouched", "GET /v2/ HTTP/1.1\r\nHost: h\r\n\r\n", "", false},
		{"space in the path is not repaired", "GET /a b?c=d e HTTP/1.1\r\n\r\n", "", false},
		{"no query", "GET /a b HTTP/1.1\r\n\r\n", "", false},
		{"no line end yet", "GET /a?b c HTTP/1.1", "", false},
		{"not a request line", "{\"GET /a?b c\": 1}\r\n", "", false},
		{"body line without proto", "GET /a?b c d\r\n", "", false},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := []byte(tt.in)
			ok := repairRequestLine(buf)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok && string(buf) != tt.in {
				t.Fatalf("unrepaired input was modified: %q", buf)
			}
			if ok && string(buf) != tt.want {
				t.Fatalf("got %q\nwant %q", buf, tt.want)
			}
			if len(buf) != len(tt.in) {
				t.Fatal("the repair must preserve length")
			}
		})
	}
}

// chunkConn is a net.Conn whose reads return the given chunks in order.
type chunkConn struct {
	net.Conn
	chunks [][]byte
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	if len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

// TestRepairConnOneByteReads reproduces net/http's 1-byte background read on
// keep-alive connections: the repair must still see whole request lines.
func TestRepairConnOneByteReads(t *testing.T) {
	first := "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	second := "GET /b?$filter=x eq 'y' HTTP/1.1\r\nHost: h\r\n\r\n"
	c := &repairConn{Conn: &chunkConn{chunks: [][]byte{[]byte(first), []byte(second)}}}
	var got []byte
	one := make([]byte, 1)
	big := make([]byte, 4096)
	for i := 0; ; i++ {
		buf := big
		if i%2 == 1 {
			buf = one // alternate tiny and large reads
		}
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := first + "GET /b?$filter=x+eq+'y' HTTP/1.1\r\nHost: h\r\n\r\n"
	if string(got) != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestRepairConnLeavesHTTP2Alone: once a connection has started with the
// HTTP/2 preface, nothing on it is a request line, so bytes that look like
// one (a request body, say) pass through untouched.
func TestRepairConnLeavesHTTP2Alone(t *testing.T) {
	preface := "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	body := "GET /b?$filter=x eq 'y' HTTP/1.1\r\nHost: h\r\n\r\n"
	c := &repairConn{Conn: &chunkConn{chunks: [][]byte{[]byte(preface), []byte(body)}}}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != preface+body {
		t.Fatalf("got %q\nwant %q", got, preface+body)
	}
}

// recordingConn is a net.Conn that records its writes, failing once fail
// of them have been made (fail < 0: never).
type recordingConn struct {
	net.Conn
	writes []string
	fail   int
}

var errBrokenPipe = errors.New("broken pipe")

func (c *recordingConn) Write(p []byte) (int, error) {
	if c.fail >= 0 && len(c.writes) >= c.fail {
		return 0, errBrokenPipe
	}
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

// recordWriter stands for TLS: it writes each record with a write of its
// own to the connection under it.
type recordWriter struct {
	net.Conn
	under net.Conn
}

func (w recordWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 3 {
		if _, err := w.under.Write(p[i:min(i+3, len(p))]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// TestBatchConn: the records of one repairConn write leave in one write;
// writes outside a batch (the handshake, alerts) go out at once; a failed
// flush is the write's error.
func TestBatchConn(t *testing.T) {
	rec := &recordingConn{fail: -1}
	bc := &batchConn{Conn: rec}
	c := &repairConn{Conn: recordWriter{under: bc}, batch: bc}
	if n, err := c.Write([]byte("abcdefgh")); n != 8 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	if _, err := bc.Write([]byte("alert")); err != nil {
		t.Fatal(err)
	}
	if want := []string{"abcdefgh", "alert"}; !slices.Equal(rec.writes, want) {
		t.Fatalf("writes %q, want %q", rec.writes, want)
	}

	big := strings.Repeat("x", batchSize+7)
	rec.writes = nil
	if _, err := c.Write([]byte(big)); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 2 || strings.Join(rec.writes, "") != big {
		t.Fatalf("a batch over %d bytes left in %d writes", batchSize, len(rec.writes))
	}

	rec.writes, rec.fail = nil, 0
	if _, err := c.Write([]byte("lost")); !errors.Is(err, errBrokenPipe) {
		t.Fatalf("Write to a broken connection: %v", err)
	}
}

// TestTLSListenerOverTLS serves over real TLS: a body whose TLS record
// starts like a request line reaches the handler as sent; a raw-space query
// is repaired on the server host and left alone (net/http refuses it) on a
// host exempt from the repair.
func TestTLSListenerOverTLS(t *testing.T) {
	bundle, err := tlsca.LoadOrCreate(tlsca.Config{Dir: t.TempDir(), DNSNames: []string{"localhost", "r.registry.test"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Protocols: Protocols(),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s|%s", r.URL.RawQuery, body)
		}),
	}
	exempt := func(name string) bool { return strings.HasSuffix(name, ".registry.test") }
	go func() {
		_ = srv.Serve(NewTLSListener(ln, &tls.Config{Certificates: []tls.Certificate{bundle.Cert}}, WithoutRepair(exempt)))
	}()
	t.Cleanup(func() { srv.Close() })

	do := func(host string, parts ...string) (int, string) {
		t.Helper()
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: bundle.CertPool(), ServerName: host, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, p := range parts { // a record (or more) each
			if _, err := io.WriteString(conn, p); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	body := "GET /?a b HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, host := range []string{"localhost", "r.registry.test"} {
		head := fmt.Sprintf("PUT /a?b=c HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", host, 3+len(body))
		if status, got := do(host, head, "xyz", body); status != http.StatusOK || got != "b=c|xyz"+body {
			t.Errorf("%s: body record that looks like a request line: %d %q", host, status, got)
		}
	}
	if status, got := do("localhost", "GET /a?f=x eq 'y' HTTP/1.1\r\nHost: localhost\r\n\r\n"); status != http.StatusOK || got != "f=x+eq+'y'|" {
		t.Errorf("server host: %d %q, want the query repaired", status, got)
	}
	if status, _ := do("r.registry.test", "GET /a?f=x eq 'y' HTTP/1.1\r\nHost: r.registry.test\r\n\r\n"); status != http.StatusBadRequest {
		t.Errorf("exempt host: %d, want net/http's 400 for an unrepaired line", status)
	}
}

// scriptConn serves data in reads of at most chunk bytes, then io.EOF.
type scriptConn struct {
	net.Conn
	data  []byte
	chunk int
	reads int
}

func (s *scriptConn) Read(p []byte) (int, error) {
	s.reads++
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), s.chunk)], s.data)
	s.data = s.data[n:]
	return n, nil
}

// TestBatchConnReadAhead reads streams through batchConn with TLS-like
// buffer sizes: the bytes and the final EOF come through unchanged; a
// stream arriving faster than it is read takes far fewer reads of the
// socket; one that arrives in short reads (the socket drained each time)
// is read directly, holding no read-ahead buffer between reads.
func TestBatchConnReadAhead(t *testing.T) {
	data := make([]byte, 4<<20+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, c := range []struct {
		name      string
		chunk     int // what the socket has each time it is read
		sizes     []int
		maxReads  int
		buffering bool
	}{
		{"streaming, record-sized reads", 1 << 20, []int{16<<10 + 5, 517, 16 << 10}, 40, true},
		{"streaming, one-byte reads", 1 << 20, []int{1}, 40, true},
		{"streaming, reads larger than the read ahead", 1 << 20, []int{readAheadSize + 1}, 20, false},
		{"drained each time", 1000, []int{16 << 10}, len(data)/1000 + 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := &scriptConn{data: data, chunk: c.chunk}
			bc := &batchConn{Conn: sc}
			var got []byte
			buffered := false
			for i := 0; ; i++ {
				p := make([]byte, c.sizes[i%len(c.sizes)])
				n, err := bc.Read(p)
				got = append(got, p[:n]...)
				buffered = buffered || bc.rbuf != nil
				if !c.buffering && bc.rbuf != nil {
					t.Fatalf("read %d: a read-ahead buffer is held", i)
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes, not the %d sent", len(got), len(data))
			}
			if sc.reads > c.maxReads {
				t.Errorf("%d reads of the socket, want at most %d", sc.reads, c.maxReads)
			}
			if buffered != c.buffering {
				t.Errorf("read ahead used: %v, want %v", buffered, c.buffering)
			}
			if bc.rbuf != nil {
				t.Error("a read-ahead buffer is held at the end")
			}
		})
	}
}
