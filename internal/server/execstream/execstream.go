// Package execstream serves the websocket end of ACI's exec and attach:
// GET /execstream/sessionId/{id} on the server host, upgraded to a
// websocket. The protocol is ACI's, as az and virtual-kubelet speak it:
// the client's first message is the session password as a text frame;
// then the client sends raw terminal input as binary (or text) frames and
// the server sends the terminal's output as binary frames, and closes the
// socket when the process exits. Attach sessions send output only.
package execstream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	cg "github.com/cerulean/cerulean/internal/containergroup"
)

// Sessions is the part of containergroup.Service this surface calls.
type Sessions interface {
	PeekSession(id string) bool
	OpenSession(ctx context.Context, id, password string, size cg.TerminalSize) (cg.Process, error)
}

// PathPrefix is where sessions live.
const PathPrefix = "/execstream/sessionId/"

// passwordTimeout bounds the wait for the password frame.
const passwordTimeout = 30 * time.Second

// Handler serves exec and attach websockets.
type Handler struct {
	sessions Sessions
	log      *slog.Logger
	upgrader websocket.Upgrader
}

// New returns the handler.
func New(sessions Sessions, logger *slog.Logger) *Handler {
	return &Handler{
		sessions: sessions, log: logger,
		upgrader: websocket.Upgrader{
			ReadBufferSize: 32 << 10, WriteBufferSize: 32 << 10,
			// The session id and its one-time password authenticate the
			// socket; there is no ambient credential (cookie) a foreign
			// page could ride on, so the origin does not matter.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || id == "" || strings.Contains(id, "/") || !h.sessions.PeekSession(id) {
		http.Error(w, "exec session not found", http.StatusNotFound)
		return
	}
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer func() { _ = conn.Close() }()
	conn.SetReadLimit(1 << 20)

	// ACI's attach takes the password in the Authorization header; exec
	// takes it as the first message.
	password := r.Header.Get("Authorization")
	if password == "" {
		_ = conn.SetReadDeadline(time.Now().Add(passwordTimeout))
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		password = string(msg)
		_ = conn.SetReadDeadline(time.Time{})
	}
	size := cg.TerminalSize{Rows: dim(r.URL.Query().Get("rows")), Cols: dim(r.URL.Query().Get("cols"))}
	proc, err := h.sessions.OpenSession(r.Context(), id, password, size)
	if err != nil {
		h.log.InfoContext(r.Context(), "exec session refused", "session", id, "err", err)
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "session refused"), time.Now().Add(time.Second))
		return
	}
	defer func() { _ = proc.Close() }()
	h.pump(r.Context(), conn, proc)
}

// pump copies input frames to the process and its output to the socket
// until the process's output ends, then closes the socket with its exit
// code in the close reason.
func (h *Handler) pump(ctx context.Context, conn *websocket.Conn, proc cg.Process) {
	var wg sync.WaitGroup
	wg.Go(func() {
		stdin := proc.Stdin()
		defer func() { _ = stdin.Close() }()
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if _, err := stdin.Write(msg); err != nil {
				return
			}
		}
	})
	buf := make([]byte, 32<<10)
	out := proc.Output()
	for {
		n, err := out.Read(buf)
		if n > 0 {
			if werr := conn.WriteMessage(websocket.BinaryMessage, buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				h.log.DebugContext(ctx, "exec output", "err", err)
			}
			break
		}
	}
	code, _ := proc.Wait()
	_ = conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, "exit code "+strconv.Itoa(code)), time.Now().Add(time.Second))
	_ = conn.Close() // ends the reader
	wg.Wait()
}

func dim(s string) uint16 {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 1000 {
		return 0
	}
	return uint16(n)
}
