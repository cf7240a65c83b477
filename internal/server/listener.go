package server

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
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
	bc := &batchConn{Conn: c}
	tc := tls.Server(bc, l.config)
	return &repairConn{Conn: tc, tls: tc, batch: bc}, nil
}

// Protocols returns the protocol set for an http.Server behind a
// TLSListener: HTTP/1.1, and HTTP/2 over the already-decrypted stream.
func Protocols() *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &p
}

// HTTP2Config is the HTTP/2 configuration for an http.Server behind a
// TLSListener: receive windows large enough that a client pushing several
// layers at once over one connection is not held back by flow control
// (the defaults, 1 MiB for the connection and each stream, cost an h2 push
// of four layers ~10 % on the benchmark machine). A connection buffers at
// most its window. net/http's documentation gives 4 MiB as the limit, but
// it accepts any window HTTP/2 allows (up to 2^31-1), as the SETTINGS and
// WINDOW_UPDATE frames it sends show; were that enforced some day, these
// would fall back to the defaults, costing speed only.
func HTTP2Config() *http.HTTP2Config {
	return &http.HTTP2Config{
		MaxReceiveBufferPerConnection: 16 << 20,
		MaxReceiveBufferPerStream:     4 << 20,
	}
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
//
// An HTTP/2 connection (ALPN h2, or a first read that starts with the
// HTTP/2 client preface) has no request lines: from then on reads go
// straight to the TLS connection, without the copy through the buffer
// (and without mistaking a body that happens to look like a request line
// for one).
//
// Writes go through TLS as one batch (see batchConn).
type repairConn struct {
	net.Conn
	tls     *tls.Conn  // the TLS connection under it, if any (ALPN)
	batch   *batchConn // the TCP side of tls, if any (write batching)
	buf     []byte
	pending []byte
	err     error // the underlying read error, returned once pending drains
	started bool  // the first chunk has been read
	h2      bool  // the connection speaks HTTP/2: reads pass straight through
}

// h2Preface is how every HTTP/2 connection starts (RFC 9113 §3.4).
var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// readChunk is the size of one underlying read: at least one TLS record.
const readChunk = 32 << 10

var methods = [][]byte{[]byte("GET /"), []byte("HEAD /"), []byte("DELETE /"), []byte("PUT /"), []byte("POST /"), []byte("PATCH /"), []byte("OPTIONS /")}

func (c *repairConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		if c.h2 && c.err == nil {
			return c.Conn.Read(p)
		}
		if c.started && len(p) >= readChunk && c.err == nil {
			// A large read (a request body): into p directly, repaired in
			// place, without the copy through the buffer. Small reads
			// (net/http's 1-byte background read, its 4 KiB header
			// buffer) still go through the buffer, so a request line is
			// never split by them.
			n, err := c.Conn.Read(p)
			repairRequestLine(p[:n])
			return n, err
		}
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
		if !c.started && n > 0 {
			c.started = true
			c.h2 = bytes.HasPrefix(chunk, h2Preface) || (c.tls != nil && c.tls.ConnectionState().NegotiatedProtocol == "h2")
		}
		if !c.h2 {
			repairRequestLine(chunk)
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

// Write writes p through TLS; the records it makes leave in as few
// system calls as the batch buffer allows.
func (c *repairConn) Write(p []byte) (int, error) {
	if c.batch == nil {
		return c.Conn.Write(p)
	}
	c.batch.begin()
	n, err := c.Conn.Write(p)
	if ferr := c.batch.end(); err == nil {
		err = ferr
	}
	return n, err
}

// batchConn is the TCP side of a TLS connection. TLS writes every record
// (at most 16 KiB of data) with a write of its own; during a repairConn
// Write the records collect here instead and leave in writes of up to
// batchSize, which spares a large response most of its system calls. Any
// write outside a batch (the handshake, alerts) goes out at once, and a
// batch is flushed before its Write returns, so nothing is ever held back.
type batchConn struct {
	net.Conn
	mu    sync.Mutex
	depth int     // batches in progress
	buf   *[]byte // records waiting, nil when none
	err   error   // a failed flush: the batch's records are lost
}

const batchSize = 256 << 10

var batchBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, batchSize)
	return &b
}}

func (c *batchConn) begin() {
	c.mu.Lock()
	c.depth++
	c.mu.Unlock()
}

// end finishes a batch, flushing the records when no other batch is open,
// and reports a failure to send any of them.
func (c *batchConn) end() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.depth--
	if c.depth > 0 {
		return c.err
	}
	err := c.flushLocked()
	if err == nil {
		err = c.err
	}
	c.err = nil
	return err
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.depth == 0 || len(p) >= batchSize {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		return c.Conn.Write(p)
	}
	if c.buf != nil && len(*c.buf)+len(p) > batchSize {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	if c.buf == nil {
		c.buf = batchBuffers.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// flushLocked sends the waiting records.
func (c *batchConn) flushLocked() error {
	if c.buf == nil {
		return nil
	}
	b := c.buf
	c.buf = nil
	_, err := c.Conn.Write(*b)
	*b = (*b)[:0]
	batchBuffers.Put(b)
	if err != nil && c.err == nil {
		c.err = err
	}
	return err
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
