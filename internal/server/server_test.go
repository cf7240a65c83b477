package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestMiddlewareHijack: the middleware's writer passes Hijack through, and
// logs the status the client got: 101 once the connection is taken, the
// handler's own status when it cannot be.
func TestMiddlewareHijack(t *testing.T) {
	tests := []struct {
		name string
		w    func(http.ResponseWriter) http.ResponseWriter
		want int
	}{
		{"taken over", func(w http.ResponseWriter) http.ResponseWriter { return hijacker{w, nil} }, http.StatusSwitchingProtocols},
		{"the take-over fails", func(w http.ResponseWriter) http.ResponseWriter {
			return hijacker{w, errors.New("already taken")}
		}, http.StatusInternalServerError},
		{"no take-over (HTTP/2)", func(w http.ResponseWriter) http.ResponseWriter { return w }, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			h := Middleware(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hj, ok := w.(http.Hijacker)
				if !ok {
					t.Fatal("the middleware's writer is not a Hijacker")
				}
				if _, _, err := hj.Hijack(); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
				}
			}))
			h.ServeHTTP(tt.w(httptest.NewRecorder()), httptest.NewRequest(http.MethodGet, "/execstream/sessionId/x", nil))
			var line struct{ Status int }
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, logs.String())
			}
			if line.Status != tt.want {
				t.Fatalf("logged status %d, want %d", line.Status, tt.want)
			}
		})
	}
}

// hijacker is a ResponseWriter whose Hijack returns err, and no
// connection (the handler above does not use it).
type hijacker struct {
	http.ResponseWriter
	err error
}

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) { return nil, nil, h.err }
