package server

import (
	"bytes"
)

// framing follows the HTTP/1.1 message framing (RFC 9112 §6) of a stream
// of requests, so that the request-line repair touches request lines and
// nothing else. It accepts a subset of what net/http's server accepts and
// reads it the way net/http does: wherever a request line starts for
// framing, it starts for net/http too. Anything outside that subset (a
// framing net/http would refuse, or that it reads in a way framing does
// not follow: obs-folded fields, trailers, several Content-Length or
// Transfer-Encoding fields, codings other than chunked, Upgrade, CONNECT,
// HTTP/2, a version other than HTTP/1.0 or 1.1) ends the repair for the
// rest of the connection (statePass), after which no byte is changed. That
// costs at most the repair of later requests, which net/http then refuses
// as it always would have; body bytes are never at stake.
type framing struct {
	state     frameState
	remaining uint64 // stateBody, stateChunkData: bytes still to come
	excess    int64  // chunked overhead, as net/http's chunkedReader counts it

	// The header facts of the current request.
	http10    bool
	hasLength bool
	length    uint64
	encodings int  // Transfer-Encoding field lines
	chunked   bool // the one Transfer-Encoding is "chunked"
}

type frameState uint8

const (
	stateRequestLine frameState = iota // at a request boundary
	stateHeader                        // in the header block
	stateBody                          // in a Content-Length body
	stateChunkSize                     // at a chunk-size line
	stateChunkData                     // in a chunk's data
	stateChunkEnd                      // at the CRLF after a chunk's data
	stateLastCRLF                      // after the last chunk: a CRLF, no trailer
	statePass                          // framing unknown: everything passes untouched
)

// Limits within which framing follows a stream. net/http refuses chunk-size
// lines of 4 KiB and more; chunk sizes are kept below 2^60 so that the
// overhead arithmetic cannot overflow.
const (
	maxChunkLine     = 1024
	maxChunkHexDigit = 15
	maxLengthDigits  = 18 // every 18-digit Content-Length fits net/http's int64
	maxChunkExcess   = 16 << 10
)

// inData reports whether the stream is inside body bytes, and how many of
// them remain.
func (f *framing) inData() (uint64, bool) {
	if f.state == stateBody || f.state == stateChunkData {
		return f.remaining, true
	}
	return 0, false
}

// skip accounts for n body bytes read while inData; n is at most what
// inData reported.
func (f *framing) skip(n int) {
	f.remaining -= uint64(n)
	if f.remaining > 0 {
		return
	}
	if f.state == stateBody {
		f.state = stateRequestLine
	} else {
		f.state = stateChunkEnd
	}
}

// releasable is how much of data, an incomplete unit (a line that has not
// ended yet), may be handed on before the unit is complete: all of it, but
// in a request line only what precedes the first "?", since the repair
// changes only bytes after it.
func (f *framing) releasable(data []byte) int {
	if f.state == stateRequestLine {
		if i := bytes.IndexByte(data, '?'); i >= 0 {
			return i
		}
	}
	return len(data)
}

// advance follows data, the bytes after those it has already followed,
// repairing request lines in place, and returns how many it consumed:
// whole lines and body bytes. The rest is an incomplete unit, to be given
// again with the bytes that follow it. In statePass it consumes everything.
func (f *framing) advance(data []byte) int {
	n := 0
	for n < len(data) && f.state != statePass {
		switch f.state {
		case stateBody, stateChunkData:
			k := int(min(f.remaining, uint64(len(data)-n)))
			f.skip(k)
			n += k
		case stateChunkEnd, stateLastCRLF:
			if len(data)-n < 2 {
				return n
			}
			if data[n] != '\r' || data[n+1] != '\n' {
				f.state = statePass
				break
			}
			n += 2
			if f.state == stateChunkEnd {
				f.state = stateChunkSize
			} else {
				f.state = stateRequestLine
			}
		default:
			i := bytes.IndexByte(data[n:], '\n')
			if i < 0 {
				return n
			}
			f.line(data[n : n+i+1])
			n += i + 1
		}
	}
	if f.state == statePass {
		return len(data)
	}
	return n
}

// line follows one whole line, ending in "\n".
func (f *framing) line(l []byte) {
	switch f.state {
	case stateRequestLine:
		f.requestLine(l)
	case stateHeader:
		f.headerLine(l)
	case stateChunkSize:
		f.chunkSizeLine(l)
	}
}

// requestLine repairs the line and reads it as net/http does: method,
// request-target and version are cut at the first two spaces.
func (f *framing) requestLine(l []byte) {
	repairRequestLine(l)
	method, rest, ok1 := bytes.Cut(trimEOL(l), []byte(" "))
	_, proto, ok2 := bytes.Cut(rest, []byte(" "))
	switch {
	case !ok1 || !ok2 || string(method) == "CONNECT":
		f.state = statePass
	case string(proto) == "HTTP/1.1", string(proto) == "HTTP/1.0":
		*f = framing{state: stateHeader, http10: string(proto) == "HTTP/1.0"}
	default: // HTTP/2's preface, or a version net/http reads otherwise
		f.state = statePass
	}
}

// headerLine follows a field line, or the empty line that ends the header
// block and decides how the body is framed (RFC 9112 §6.3, as net/http
// applies it to requests: Transfer-Encoding chunked, else Content-Length,
// else no body).
func (f *framing) headerLine(l []byte) {
	s := trimEOL(l)
	if len(s) == 0 {
		f.endHeader()
		return
	}
	name, value, ok := bytes.Cut(s, []byte(":"))
	if !ok || s[0] == ' ' || s[0] == '\t' || !isToken(name) {
		// obs-fold, or a line net/http refuses or keeps under a
		// name it does not recognise.
		f.state = statePass
		return
	}
	value = bytes.Trim(value, " \t")
	switch {
	case asciiEqualFold(name, "Content-Length"):
		n, ok := parseDecimal(value)
		if !ok || f.hasLength {
			f.state = statePass
			return
		}
		f.hasLength, f.length = true, n
	case asciiEqualFold(name, "Transfer-Encoding"):
		f.encodings++
		f.chunked = asciiEqualFold(value, "chunked")
	case asciiEqualFold(name, "Upgrade"):
		f.state = statePass // what follows may be another protocol
	case asciiEqualFold(name, "Connection"):
		for tok := range bytes.SplitSeq(value, []byte(",")) {
			if asciiEqualFold(bytes.Trim(tok, " \t"), "upgrade") {
				f.state = statePass
			}
		}
	}
}

func (f *framing) endHeader() {
	switch {
	case f.encodings > 0:
		// net/http ignores Transfer-Encoding on HTTP/1.0 and lets it
		// override Content-Length; neither is followed here.
		if f.encodings > 1 || !f.chunked || f.http10 || f.hasLength {
			f.state = statePass
			return
		}
		f.state, f.excess = stateChunkSize, 0
	case f.hasLength && f.length > 0:
		f.state, f.remaining = stateBody, f.length
	default:
		f.state = stateRequestLine
	}
}

// chunkSizeLine follows "1*HEXDIG [ ";" extension ] CRLF", the subset of
// chunk-size lines net/http reads as this does.
func (f *framing) chunkSizeLine(l []byte) {
	body, ok := bytes.CutSuffix(l, []byte("\r\n"))
	if !ok || len(body) >= maxChunkLine || bytes.IndexByte(body, '\r') >= 0 {
		f.state = statePass
		return
	}
	hex, _, _ := bytes.Cut(body, []byte(";"))
	if len(hex) == 0 || len(hex) > maxChunkHexDigit {
		f.state = statePass
		return
	}
	var size uint64
	for _, c := range hex {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			f.state = statePass
			return
		}
		size = size<<4 | uint64(d)
	}
	// net/http refuses a chunked body whose overhead (sizes, extensions,
	// CRLFs) grows too far beyond its data; framing stops following
	// such a body rather than tell whether net/http has refused it yet.
	f.excess = max(f.excess+int64(len(body))+2-16-2*int64(size), 0)
	if f.excess > maxChunkExcess {
		f.state = statePass
		return
	}
	if size == 0 {
		f.state = stateLastCRLF
		return
	}
	f.state, f.remaining = stateChunkData, size
}

// trimEOL removes the line end net/http's line reader removes: "\n" and a
// "\r" before it.
func trimEOL(l []byte) []byte {
	l = bytes.TrimSuffix(l, []byte("\n"))
	return bytes.TrimSuffix(l, []byte("\r"))
}

// parseDecimal parses a Content-Length value (1*DIGIT).
func parseDecimal(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > maxLengthDigits {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// isToken reports whether b is a non-empty RFC 9110 token, as a field name
// must be for net/http to file it under its canonical name.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0:
		default:
			return false
		}
	}
	return true
}

// asciiEqualFold compares b with s, ignoring ASCII case only.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
