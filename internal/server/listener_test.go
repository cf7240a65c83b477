package server

import (
	"errors"
	"io"
	"net"
	"testing"
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
