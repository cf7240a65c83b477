package image

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// A layer flows through three goroutines: the first reads the network
// (TLS, and the compressed digest check of go-containerregistry), the
// second inflates and hashes the tar stream for the diffID, the third
// unpacks. Each hand-off is a readahead, so the stages overlap: on two
// cores a single large gzip layer runs about as fast as its slowest stage
// rather than the sum of all of them.

const (
	chunkSize   = 512 << 10
	chunksAhead = 4
)

var errReadaheadClosed = errors.New("readahead closed")

type chunk struct {
	buf []byte
	n   int
	err error
}

// readahead reads src in its own goroutine, up to chunksAhead chunks ahead
// of the consumer.
type readahead struct {
	full   chan chunk
	free   chan []byte
	stop   chan struct{}
	exited chan struct{} // closed when the producer has returned
	cur    chunk
	off    int
	err    error
}

func newReadahead(src io.Reader) *readahead {
	r := &readahead{
		full:   make(chan chunk, chunksAhead),
		free:   make(chan []byte, chunksAhead),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for range chunksAhead {
		r.free <- make([]byte, chunkSize)
	}
	go r.produce(src)
	return r
}

func (r *readahead) produce(src io.Reader) {
	defer close(r.exited)
	for {
		var buf []byte
		select {
		case buf = <-r.free:
		case <-r.stop:
			return
		}
		n, err := io.ReadFull(src, buf)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		select {
		case r.full <- chunk{buf: buf, n: n, err: err}:
		case <-r.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (r *readahead) Read(p []byte) (int, error) {
	for r.off == r.cur.n {
		if r.err != nil {
			return 0, r.err
		}
		if r.cur.buf != nil {
			r.free <- r.cur.buf
			r.cur = chunk{}
		}
		select {
		case c := <-r.full:
			r.cur, r.off, r.err = c, 0, c.err
		case <-r.stop:
			return 0, errReadaheadClosed
		}
	}
	n := copy(p, r.cur.buf[r.off:r.cur.n])
	r.off += n
	return n, nil
}

// Close stops the producer once its current read returns; the caller
// closes src to cut a read that might block.
func (r *readahead) Close() error {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	return nil
}

// wait returns once the producer no longer touches src.
func (r *readahead) wait() { <-r.exited }

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompress picks the decoder from the stream's first bytes, as
// containerd does: media types lie more often than magic numbers.
func decompress(br *bufio.Reader) (io.Reader, func(), error) {
	magic, err := br.Peek(4)
	if err != nil && len(magic) == 0 {
		if err == io.EOF {
			return br, func() {}, nil
		}
		return nil, nil, err
	}
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { _ = zr.Close() }, nil
	case bytes.HasPrefix(magic, zstdMagic):
		// 128 MiB is zstd's own default decoding window limit; a
		// frame asking for more is refused rather than allocated.
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxWindow(128<<20), zstd.WithDecoderConcurrency(2))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, zr.Close, nil
	default:
		return br, func() {}, nil
	}
}

// capReader fails once more than max bytes were read (a decompression
// bomb guard).
type capReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, fmt.Errorf("%w: more than %d uncompressed bytes", errUnsafeLayer, c.max)
	}
	return n, err
}
