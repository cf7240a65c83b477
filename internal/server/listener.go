package server

import (
	"bytes"
	"crypto/tls"
	"errors"
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
	exempt func(serverName string) bool
}

// ListenerOption configures a TLSListener.
type ListenerOption func(*TLSListener)

// WithoutRepair exempts the connections whose TLS server name (SNI)
// satisfies exempt from the request-line repair: what their clients send
// reaches net/http untouched, without the copy through the repair's
// buffer. Hosts whose clients all encode their request targets (registry
// login servers) need no repair.
func WithoutRepair(exempt func(serverName string) bool) ListenerOption {
	return func(l *TLSListener) { l.exempt = exempt }
}

// NewTLSListener wraps a TCP listener.
func NewTLSListener(inner net.Listener, config *tls.Config, opts ...ListenerOption) *TLSListener {
	cfg := config.Clone()
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	l := &TLSListener{Listener: inner, config: cfg}
	for _, o := range opts {
		o(l)
	}
	return l
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
	return &repairConn{Conn: tc, tls: tc, batch: bc, exempt: l.exempt}, nil
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
// parsing decodes back to a space); lines with spaces before the "?" are
// left alone (see repairRequestLine).
//
// Only request lines are touched, wherever a client's writes, TLS records
// and net/http's reads split them: framing follows the stream's HTTP/1.1
// framing (header blocks, Content-Length and chunked bodies, pipelined
// requests), so every byte after a request's header reaches net/http as
// sent. Where framing cannot tell how net/http will read what follows, the
// rest of the connection passes through untouched. The rewrite never
// changes the length of the stream.
//
// Bytes wait in the buffer only while they may still need repair: the
// query of a request line whose end has not arrived. Everything else is
// handed on as soon as it is read; body bytes are read straight into the
// caller's buffer. net/http's 1-byte background read on keep-alive
// connections takes its byte from the buffer too, so the repair still sees
// the whole line. A read that times out (net/http's way of ending that
// background read) leaves the buffer as it was.
//
// An HTTP/2 connection (ALPN h2, or a stream that starts with the HTTP/2
// client preface), and a connection whose TLS server name is exempt,
// carry no request lines to repair: their reads go straight to the TLS
// connection.
//
// Writes go through TLS as one batch (see batchConn).
type repairConn struct {
	net.Conn
	tls     *tls.Conn  // the TLS connection under it, if any (ALPN, SNI)
	batch   *batchConn // the TCP side of tls, if any (write batching)
	exempt  func(serverName string) bool
	started bool

	framing framing
	buf     []byte
	r, p, w int   // buf[r:p] followed and ready; buf[p:w] an incomplete unit
	err     error // a read error, returned once the bytes before it are out
}

// readChunk is the size of the read buffer: at least one TLS record, and
// the longest line framing follows.
const readChunk = 32 << 10

func (c *repairConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if !c.started {
		c.started = true
		if err := c.start(); err != nil {
			return 0, err
		}
	}
	for {
		if lim := c.limit(); c.r < lim {
			n := copy(b, c.buf[c.r:lim])
			c.r += n
			return n, nil
		}
		if c.err != nil {
			err := c.err
			c.err = nil
			return 0, err
		}
		if c.r == c.w {
			if c.framing.state == statePass {
				c.buf, c.r, c.p, c.w = nil, 0, 0, 0
				return c.Conn.Read(b)
			}
			if k, ok := c.framing.inData(); ok {
				if uint64(len(b)) > k {
					b = b[:k]
				}
				n, err := c.Conn.Read(b)
				c.framing.skip(n)
				return n, err
			}
		}
		if !c.fill() {
			return 0, nil
		}
	}
}

// start decides, once the handshake is done, whether the connection may
// need repair at all.
func (c *repairConn) start() error {
	if c.tls == nil {
		return nil
	}
	if err := c.tls.Handshake(); err != nil {
		c.framing.state = statePass
		return err
	}
	st := c.tls.ConnectionState()
	if st.NegotiatedProtocol == "h2" || (c.exempt != nil && c.exempt(st.ServerName)) {
		c.framing.state = statePass
	}
	return nil
}

// limit is the end of the bytes that may be handed on now.
func (c *repairConn) limit() int {
	return c.p + c.framing.releasable(c.buf[c.p:c.w])
}

// fill reads once into the buffer and follows what arrived, reporting
// whether the read returned anything (bytes or an error). A read error
// other than a timeout ends the repair: no more bytes can complete the
// unit waiting in the buffer, so it is handed on as it is.
func (c *repairConn) fill() bool {
	if c.buf == nil {
		c.buf = make([]byte, readChunk)
	}
	// Here c.r >= c.p: only the incomplete unit needs keeping.
	if c.p > 0 {
		copy(c.buf, c.buf[c.p:c.w])
		c.r, c.w, c.p = c.r-c.p, c.w-c.p, 0
	}
	if c.w == len(c.buf) { // a line longer than the buffer
		c.framing.state = statePass
		c.p = c.w
		return true
	}
	n, err := c.Conn.Read(c.buf[c.w:])
	c.w += n
	if ne, ok := errors.AsType[net.Error](err); err != nil && (!ok || !ne.Timeout()) {
		c.framing.state = statePass
	}
	c.p += c.framing.advance(c.buf[c.p:c.w])
	c.err = err
	return n > 0 || err != nil
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
//
// Reads are the mirror image: TLS reads about one record per system call,
// which on a push (a layer streaming in) is most of the call's cost after
// SHA-256 and AES. While data streams in — the last read filled the
// buffer it was given — reads go through a read-ahead buffer of
// readAheadSize that takes in many records per call; once a read comes
// back short (the socket is drained), the buffer goes back to its pool and
// the next read is direct again, so an idle connection waits holding none.
type batchConn struct {
	net.Conn
	mu    sync.Mutex
	depth int     // batches in progress
	buf   *[]byte // records waiting, nil when none
	err   error   // a failed flush: the batch's records are lost

	// The read side, used by one reader at a time (tls.Conn serializes
	// its reads).
	rbuf      *[]byte // read ahead, rbuf[r:w] unread; nil when none
	r, w      int
	rerr      error // the error that ended the last read ahead, after rbuf
	streaming bool  // the last read filled its buffer: more is waiting
}

const readAheadSize = 256 << 10

var readAheadBuffers = sync.Pool{New: func() any {
	b := make([]byte, readAheadSize)
	return &b
}}

func (c *batchConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.rbuf != nil {
		n := copy(p, (*c.rbuf)[c.r:c.w])
		c.r += n
		if c.r == c.w {
			readAheadBuffers.Put(c.rbuf)
			c.rbuf = nil
		}
		return n, nil
	}
	if err := c.rerr; err != nil {
		c.rerr = nil
		return 0, err
	}
	if !c.streaming || len(p) >= readAheadSize {
		n, err := c.Conn.Read(p)
		c.streaming = err == nil && n == len(p)
		return n, err
	}
	b := readAheadBuffers.Get().(*[]byte)
	n, err := c.Conn.Read(*b)
	c.streaming = err == nil && n == len(*b)
	if n == 0 {
		readAheadBuffers.Put(b)
		return 0, err
	}
	c.rbuf, c.r, c.w, c.rerr = b, 0, n, err
	return c.Read(p)
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

// methods are those whose request lines are repaired.
var methods = [][]byte{[]byte("GET /"), []byte("HEAD /"), []byte("DELETE /"), []byte("PUT /"), []byte("POST /"), []byte("PATCH /"), []byte("OPTIONS /")}

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
