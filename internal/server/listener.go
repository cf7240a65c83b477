package server

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
)

// TLSListener terminates TLS itself and hands http.Server plain
// connections, so that each connection's request lines can be repaired
// before net/http parses them (see repairConn). ALPN still offers h2; the
// server must enable unencrypted HTTP/2 (Protocols) to take it.
type TLSListener struct {
	net.Listener
	config *tls.Config
}

// NewTLSListener wraps a TCP listener.
func NewTLSListener(inner net.Listener, config *tls.Config) *TLSListener {
	cfg := config.Clone()
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	return &TLSListener{Listener: inner, config: cfg}
}

// Accept returns the next connection; its TLS handshake happens on first
// read, in the connection's own goroutine.
func (l *TLSListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &repairConn{Conn: tls.Server(c, l.config)}, nil
}

// Protocols returns the protocol set for an http.Server behind a
// TLSListener: HTTP/1.1, and HTTP/2 over the already-decrypted stream.
func Protocols() *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &p
}

// repairConn repairs the request-target of an HTTP/1.1 request line whose
// query holds raw spaces. The Azure SDK for Go's armauthorization client
// appends role-assignment $filter values to the URL unencoded
// ("…?$filter=principalId eq 'x'"), which net/http refuses with 400 before
// any handler runs. Each space in the query becomes "+" (which query
// parsing decodes back to a space). The rewrite never changes the length of
// the stream, so however a client splits its bytes it cannot shift HTTP
// framing (Content-Length, chunk sizes): at worst it alters the content of
// its own request. Only a chunk that starts with a method token, a space and
// "/", and holds a whole line ending in " HTTP/1.x", is considered; lines
// with spaces before the "?" are left alone.
//
// It always reads the underlying connection into its own buffer and hands
// bytes out from there: net/http's 1-byte background read on keep-alive
// connections would otherwise take the first byte of the next request line
// and hide it from the repair. Nothing waits for more bytes than a read
// returned, so the repair can never stall a connection. Known limits: a
// request line split across reads, or a pipelined request behind another in
// the same read, is passed through unrepaired.
type repairConn struct {
	net.Conn
	buf     []byte
	pending []byte
	err     error // the underlying read error, returned once pending drains
}

// readChunk is the size of one underlying read: at least one TLS record.
const readChunk = 32 << 10

var methods = [][]byte{[]byte("GET /"), []byte("HEAD /"), []byte("DELETE /"), []byte("PUT /"), []byte("POST /"), []byte("PATCH /"), []byte("OPTIONS /")}

func (c *repairConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		if c.err != nil {
			err := c.err
			c.err = nil
			return 0, err
		}
		if c.buf == nil {
			c.buf = make([]byte, readChunk)
		}
		n, err := c.Conn.Read(c.buf)
		chunk := c.buf[:n]
		repairRequestLine(chunk)
		c.pending, c.err = chunk, err
		if n == 0 {
			c.err = nil
			return 0, err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	if len(c.pending) == 0 && c.err != nil {
		err := c.err
		c.err = nil
		return n, err
	}
	return n, nil
}

// repairRequestLine rewrites, in place, the spaces of the first line's
// query into "+" and reports whether it changed anything.
func repairRequestLine(buf []byte) bool {
	sp := -1
	for _, m := range methods {
		if bytes.HasPrefix(buf, m) {
			sp = len(m) - 2
			break
		}
	}
	if sp < 0 {
		return false
	}
	eol := bytes.IndexByte(buf, '\n')
	if eol < 0 {
		return false
	}
	line := bytes.TrimSuffix(buf[:eol], []byte("\r"))
	protoAt := bytes.LastIndexByte(line, ' ')
	if protoAt <= sp || !bytes.HasPrefix(line[protoAt+1:], []byte("HTTP/1.")) {
		return false
	}
	target := line[sp+1 : protoAt]
	q := bytes.IndexByte(target, '?')
	if q < 0 || bytes.IndexByte(target[:q], ' ') >= 0 || bytes.IndexByte(target[q:], ' ') < 0 {
		return false
	}
	for i := q; i < len(target); i++ {
		if target[i] == ' ' {
			target[i] = '+'
		}
	}
	return true
}
