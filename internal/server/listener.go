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

// repairConn percent-encodes spaces and double quotes inside the
// request-target of an HTTP/1.1 request line. The Azure SDK for Go's
// armauthorization client appends role-assignment $filter values to the
// URL unencoded ("…?$filter=principalId eq 'x'"), which net/http refuses
// with 400 before any handler runs. Only a chunk that starts with a method
// token, a space and "/", and holds a whole line ending in " HTTP/1.x", is
// touched.
//
// It always reads the underlying connection into its own buffer and hands
// bytes out from there: net/http's 1-byte background read on keep-alive
// connections would otherwise take the first byte of the next request line
// and hide it from the repair. Nothing waits for more bytes than a read
// returned, so the repair can never stall a connection.
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
		if fixed, ok := repairRequestLine(chunk); ok {
			chunk = fixed
		}
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

// repairRequestLine returns buf with the first line's request-target
// repaired, or false when there is nothing to repair.
func repairRequestLine(buf []byte) ([]byte, bool) {
	sp := -1
	for _, m := range methods {
		if bytes.HasPrefix(buf, m) {
			sp = len(m) - 2
			break
		}
	}
	if sp < 0 {
		return nil, false
	}
	eol := bytes.Index(buf, []byte("\r\n"))
	if eol < 0 {
		return nil, false
	}
	line := buf[:eol]
	protoAt := bytes.LastIndexByte(line, ' ')
	if protoAt <= sp || !bytes.HasPrefix(line[protoAt+1:], []byte("HTTP/1.")) {
		return nil, false
	}
	target := line[sp+1 : protoAt]
	if !bytes.ContainsAny(target, " \"") {
		return nil, false
	}
	var out bytes.Buffer
	out.Grow(len(buf) + 32)
	out.Write(buf[:sp+1])
	for _, b := range target {
		switch b {
		case ' ':
			out.WriteString("%20")
		case '"':
			out.WriteString("%22")
		default:
			out.WriteByte(b)
		}
	}
	out.Write(buf[protoAt:])
	return out.Bytes(), true
}
