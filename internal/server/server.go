// Package server holds the plumbing shared by Cerulean's inbound HTTP
// adapters: handlers that return errors, request identifiers, access logs,
// panic recovery, bounded body decoding, bearer token extraction, and the
// TLS listener that tolerates the raw spaces some Azure SDK clients put in
// query strings. Each sub-package serves one protocol surface and maps
// errdefs errors to that protocol's envelope in one place.
package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// ErrorWriter writes err in a protocol's envelope.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Func is an HTTP handler that returns its error instead of writing it.
type Func func(w http.ResponseWriter, r *http.Request) error

// Adapt turns a Func into an http.Handler whose errors are written by
// writeErr and logged: 5xx at Error with the cause, 4xx at Debug.
func Adapt(logger *slog.Logger, writeErr ErrorWriter, fn Func) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		LogError(r.Context(), logger, r, err)
		writeErr(w, r, err)
	})
}

// LogError logs a handler error at a level matching its kind.
func LogError(ctx context.Context, logger *slog.Logger, r *http.Request, err error) {
	e := errdefs.As(err)
	if e.Kind == errdefs.Internal || e.Kind == errdefs.Unavailable {
		logger.ErrorContext(ctx, "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		return
	}
	logger.DebugContext(ctx, "request refused", "method", r.Method, "path", r.URL.Path, "kind", e.Kind.String(), "reason", e.Reason, "error", err)
}

type requestIDKey struct{}

// RequestID returns the request's id (also sent as x-ms-request-id).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewID returns a random GUID-formatted id.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// statusRecorder remembers the status and size a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush lets streaming handlers flush through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets the websocket surface (exec and attach) take over the
// connection. Without it the upgrader answers every handshake with a bare
// 500. The status recorded is the 101 the upgrader writes on the taken
// connection, once it is taken: when it cannot be (an HTTP/2 stream), the
// upgrader's own error status is logged instead.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("server: the connection cannot be taken over")
	}
	conn, rw, err := h.Hijack()
	if err == nil && s.status == 0 {
		s.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// Middleware wraps every request: it assigns a request id (x-ms-request-id)
// and echoes or creates a correlation id (x-ms-correlation-request-id),
// recovers panics as 500s, and writes one access log line per request.
func Middleware(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := NewID()
		corr := r.Header.Get("x-ms-correlation-request-id")
		if corr == "" || len(corr) > 64 {
			corr = id
		}
		h := w.Header()
		h.Set("x-ms-request-id", id)
		h.Set("x-ms-correlation-request-id", corr)
		if c := r.Header.Get("client-request-id"); c != "" && len(c) <= 64 {
			h.Set("client-request-id", c)
		}
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				logger.ErrorContext(ctx, "handler panic", "panic", p, "stack", string(debug.Stack()), "request_id", id)
				if rec.status == 0 {
					http.Error(rec, `{"error":{"code":"InternalServerError","message":"internal error"}}`, http.StatusInternalServerError)
				}
			}
			logger.InfoContext(ctx, "request", "method", r.Method, "host", r.Host, "path", r.URL.Path,
				"status", rec.status, "bytes", rec.bytes, "duration_ms", float64(time.Since(start).Microseconds())/1000,
				"request_id", id, "correlation_id", corr)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// BearerToken returns the token of an "Authorization: Bearer …" header, or
// "" when there is none.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
