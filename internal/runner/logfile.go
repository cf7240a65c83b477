package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// Log files hold CRI-format lines, "<RFC 3339 nano time> <stream> <F|P>
// <content>": F ends a line, P is a fragment of one (output without a
// newline yet). The monitor writes them as the output arrives, with no
// buffering, so `--follow` sees a prompt as soon as it is printed.

// DefaultLogCap is the output kept per container run: ACI shows "up to
// 4mb" of logs.
const DefaultLogCap = 4 << 20

const logTime = time.RFC3339Nano

// logWriter appends both streams of one container run to its log file,
// rotating to <path>.1 at half the cap so that the newest output up to the
// cap is always kept. A write error is remembered and the output dropped:
// the container must never block on its log.
type logWriter struct {
	mu   sync.Mutex
	path string
	cap  int64
	f    *os.File
	size int64
}

// newLogWriter starts a new run's log, dropping the previous run's.
func newLogWriter(path string, capBytes int64) (*logWriter, error) {
	_ = os.Remove(path + ".1")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &logWriter{path: path, cap: capBytes, f: f}, nil
}

// drain copies r (one stream) into the log until EOF.
func (w *logWriter) drain(stream string, r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			w.write(stream, buf[:n], time.Now().UTC())
		}
		if err != nil {
			return
		}
	}
}

func (w *logWriter) write(stream string, p []byte, at time.Time) {
	var out bytes.Buffer
	ts := at.Format(logTime)
	for len(p) > 0 {
		line, rest, full := bytes.Cut(p, []byte{'\n'})
		tag := " F "
		if !full {
			tag = " P "
		}
		out.WriteString(ts)
		out.WriteByte(' ')
		out.WriteString(stream)
		out.WriteString(tag)
		out.Write(line)
		out.WriteByte('\n')
		p = rest
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return
	}
	if w.size+int64(out.Len()) > w.cap/2 && w.size > 0 {
		w.rotate()
		if w.f == nil {
			return
		}
	}
	n, _ := w.f.Write(out.Bytes())
	w.size += int64(n)
}

func (w *logWriter) rotate() {
	_ = w.f.Close()
	w.f = nil
	if err := os.Rename(w.path, w.path+".1"); err != nil {
		return
	}
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	w.f, w.size = f, 0
}

func (w *logWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		_ = w.f.Close()
		w.f = nil
	}
}

// logLine is one reassembled output line.
type logLine struct {
	at      time.Time
	content []byte
	partial bool // the last fragment did not end the line (yet)
}

// logParser reassembles fragments into lines.
type logParser struct {
	pending *logLine
}

// feed parses one record and returns a completed line, if any.
func (p *logParser) feed(rec []byte) (logLine, bool) {
	at, content, full, ok := parseRecord(rec)
	if !ok {
		return logLine{}, false
	}
	if p.pending == nil {
		p.pending = &logLine{at: at}
	}
	p.pending.content = append(p.pending.content, content...)
	if !full {
		return logLine{}, false
	}
	l := *p.pending
	p.pending = nil
	return l, true
}

func formatLine(l logLine, timestamps bool) []byte {
	var b []byte
	if timestamps {
		b = append(b, l.at.Format(logTime)...)
		b = append(b, ' ')
	}
	b = append(b, l.content...)
	if !l.partial {
		b = append(b, '\n')
	}
	return b
}

// readLog returns the kept lines of a container's log (the rotated file
// first); a trailing fragment is returned as a partial line. offset is
// where reading of path (not .1) stopped, for following.
func readLog(path string) (lines []logLine, f *os.File, err error) {
	var p logParser
	scan := func(r io.Reader) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		for sc.Scan() {
			if l, ok := p.feed(sc.Bytes()); ok {
				lines = append(lines, l)
			}
		}
	}
	if old, err := os.Open(path + ".1"); err == nil {
		scan(old)
		_ = old.Close()
	}
	f, err = os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return lines, nil, nil
		}
		return nil, nil, err
	}
	// Read only whole records, so that following resumes at a record.
	data, err := io.ReadAll(f)
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	scan(bytes.NewReader(data[:end]))
	if _, err := f.Seek(int64(end), io.SeekStart); err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	if p.pending != nil {
		l := *p.pending
		l.partial = true
		lines = append(lines, l)
	}
	return lines, f, nil
}

// parseRecord splits one log record.
func parseRecord(rec []byte) (at time.Time, content []byte, full bool, ok bool) {
	ts, rest, ok1 := bytes.Cut(rec, []byte{' '})
	_, rest, ok2 := bytes.Cut(rest, []byte{' '}) // stream
	tag, content, ok3 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, nil, false, false
	}
	at, _ = time.Parse(logTime, string(ts))
	return at, content, string(tag) != "P", true
}

// followLog streams records appended to path after f's offset into w until
// stop reports the writer gone and the file is drained, or ctx ends. A
// rotation (a new file at path) is followed. Fragments are written as they
// come (a prompt shows at once); lineStart says whether the output so far
// ended a line.
func followLog(ctx context.Context, path string, f *os.File, w io.Writer, timestamps, lineStart bool, stop func() bool) error {
	defer func() { _ = f.Close() }()
	var carry []byte
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	buf := make([]byte, 64<<10)
	stopping := false
	for {
		n, err := f.Read(buf)
		if n > 0 {
			carry = append(carry, buf[:n]...)
			var out []byte
			for {
				i := bytes.IndexByte(carry, '\n')
				if i < 0 {
					break
				}
				if at, content, full, ok := parseRecord(carry[:i]); ok {
					if timestamps && lineStart {
						out = append(append(out, at.Format(logTime)...), ' ')
					}
					out = append(out, content...)
					if full {
						out = append(out, '\n')
					}
					lineStart = full
				}
				carry = carry[i+1:]
			}
			if len(out) > 0 {
				if _, werr := w.Write(out); werr != nil {
					return werr
				}
			}
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		// At the end: a rotated or replaced file continues at path.
		if st, serr := os.Stat(path); serr == nil {
			if cur, cerr := f.Stat(); cerr == nil && !sameFile(st, cur) {
				if nf, oerr := os.Open(path); oerr == nil {
					_ = f.Close()
					f = nf
					continue
				}
			}
		}
		if stopping {
			return nil
		}
		if stop() {
			stopping = true // one more pass for output written just before the stop
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func sameFile(a, b os.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Ino == sb.Ino && sa.Dev == sb.Dev
}

// tailLines keeps the last n lines (n <= 0: all).
func tailLines(lines []logLine, n int) []logLine {
	if n > 0 && len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}
