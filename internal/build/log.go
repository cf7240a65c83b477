package build

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
)

// buildLog writes a build's log to the request's writer one whole line at
// a time, with every secret value replaced by "***" (a RUN that echoes a
// secret build arg does not leak it into the run's log).
type buildLog struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string
}

func newBuildLog(w io.Writer, secrets []string) *buildLog {
	if w == nil {
		w = io.Discard
	}
	var s []string
	for _, v := range secrets {
		if v != "" {
			s = append(s, v)
		}
	}
	return &buildLog{w: w, secrets: s}
}

func (l *buildLog) scrub(s string) string {
	for _, v := range l.secrets {
		s = strings.ReplaceAll(s, v, "***")
	}
	return s
}

func (l *buildLog) printf(format string, args ...any) {
	l.line(fmt.Sprintf(format, args...))
}

func (l *buildLog) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, l.scrub(strings.TrimRight(s, "\n"))+"\n")
}

// stream returns a writer for a process's output: complete lines go to
// the log as they come; flush writes what is left of the last line.
func (l *buildLog) stream() *lineWriter { return &lineWriter{log: l} }

type lineWriter struct {
	mu  sync.Mutex
	log *buildLog
	buf []byte
}

// maxLine cuts very long lines so a process without newlines cannot hold
// its output back (or grow the buffer) forever.
const maxLine = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) >= maxLine {
				w.log.line(string(w.buf))
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		w.log.line(strings.TrimSuffix(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.log.line(string(w.buf))
		w.buf = nil
	}
}
