package task

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// A run's log is written as the run goes, in chunks of the metadata
// store, so that any server sharing the store serves it (az tails it with
// ranged GETs while the run goes on). Lines end in CRLF — az prints only
// up to the last CRLF it has read — and the service's own lines carry
// acr-builder's "2006/01/02 15:04:05 " prefix; the builder's and the
// container's lines are written as given. Lines holding a secret value
// (secret build arguments, secret values) have it replaced by "*****".

// Bounds of a run's log.
const (
	// MaxLogSize bounds a run's stored log; output beyond it is dropped
	// (a line says so) and the closing lines are always written.
	MaxLogSize = 16 << 20
	// logChunk is how much the log buffers before it writes a chunk;
	// it is also written every logFlushEvery.
	logChunk      = 32 << 10
	logFlushEvery = time.Second
	// maxLine is where an unterminated line is cut.
	maxLine = 64 << 10
)

type runLog struct {
	store    Store
	registry string
	id       string
	now      func() time.Time

	mu        sync.Mutex
	pending   []byte // whole CRLF lines not yet stored
	partial   []byte // the start of a line
	size      int64  // stored + pending
	truncated bool
	secrets   []string
	err       error

	stop chan struct{}
	done chan struct{}
}

func newRunLog(st Store, registry, id string, now func() time.Time, secrets []string) *runLog {
	l := &runLog{store: st, registry: registry, id: id, now: now, stop: make(chan struct{}), done: make(chan struct{})}
	for _, s := range secrets {
		if s != "" {
			l.secrets = append(l.secrets, s)
		}
	}
	go l.flusher()
	return l
}

func (l *runLog) flusher() {
	defer close(l.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.flushLocked()
			l.mu.Unlock()
		}
	}
}

// Printf writes one of the service's lines, with its time prefix.
func (l *runLog) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endPartialLocked()
	l.lineLocked(l.now().UTC().Format("2006/01/02 15:04:05 ") + fmt.Sprintf(format, args...))
}

// Line writes a line as given ("" for a blank line).
func (l *runLog) Line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lineLocked(s)
}

// Write takes the builder's or a container's output: lines as given.
func (l *runLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lineLocked(string(bytes.TrimSuffix(l.partial[:i], []byte{'\r'})))
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > maxLine {
		l.lineLocked(string(l.partial))
		l.partial = nil
	}
	return len(p), nil
}

// endPartialLocked ends an unterminated line of output before a line of
// the service's own.
func (l *runLog) endPartialLocked() {
	if len(l.partial) > 0 {
		p := string(l.partial)
		l.partial = nil
		l.lineLocked(p)
	}
}

func (l *runLog) lineLocked(s string) {
	for _, sec := range l.secrets {
		s = strings.ReplaceAll(s, sec, "*****")
	}
	s = strings.ReplaceAll(s, "\r", "")
	if l.truncated {
		return
	}
	if l.size+int64(len(s))+2 > MaxLogSize-4096 { // room for the closing lines
		l.truncated = true
		s = l.now().UTC().Format("2006/01/02 15:04:05 ") + fmt.Sprintf("The log is longer than %d MiB: the rest of the run's output is not kept.", MaxLogSize>>20)
	}
	l.pending = append(l.pending, s...)
	l.pending = append(l.pending, '\r', '\n')
	l.size += int64(len(s)) + 2
	if len(l.pending) >= logChunk {
		l.flushLocked()
	}
}

// closing writes the run's last lines, which the size bound never drops.
func (l *runLog) closing(lines ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.endPartialLocked()
	l.truncated = false
	for _, s := range lines {
		l.pending = append(l.pending, s...)
		l.pending = append(l.pending, '\r', '\n')
		l.size += int64(len(s)) + 2
	}
}

func (l *runLog) flushLocked() {
	if len(l.pending) == 0 {
		return
	}
	// The store write is bounded: a log must not hang a finished run.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.store.AppendLog(ctx, l.registry, l.id, l.pending); err != nil && l.err == nil {
		l.err = err
	}
	l.pending = l.pending[:0]
}

// Close stops the flusher and stores what is left.
func (l *runLog) Close() error {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	return l.err
}
