package execstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	cg "github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// echoProcess echoes its input upper-cased until stdin closes, then exits 7.
type echoProcess struct {
	inR *io.PipeReader
	inW *io.PipeWriter
	out *io.PipeReader
	mu  sync.Mutex
	got bytes.Buffer
}

func newEchoProcess() *echoProcess {
	p := &echoProcess{}
	p.inR, p.inW = io.Pipe()
	outR, outW := io.Pipe()
	p.out = outR
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := p.inR.Read(buf)
			if n > 0 {
				p.mu.Lock()
				p.got.Write(buf[:n])
				p.mu.Unlock()
				_, _ = outW.Write(bytes.ToUpper(buf[:n]))
			}
			if err != nil {
				_ = outW.Close()
				return
			}
		}
	}()
	return p
}

func (p *echoProcess) Stdin() io.WriteCloser        { return p.inW }
func (p *echoProcess) Output() io.Reader            { return p.out }
func (p *echoProcess) Resize(cg.TerminalSize) error { return nil }
func (p *echoProcess) Wait() (int, error)           { return 7, nil }
func (p *echoProcess) Close() error                 { return p.inW.Close() }

type sessions struct {
	mu       sync.Mutex
	password string
	opened   int
	size     cg.TerminalSize
	proc     *echoProcess
}

func (s *sessions) PeekSession(id string) bool { return id == "s1" }

func (s *sessions) OpenSession(_ context.Context, id, password string, size cg.TerminalSize) (cg.Process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != "s1" || password != s.password {
		return nil, errdefs.New(errdefs.Unauthenticated, "InvalidExecSession", "wrong password")
	}
	s.opened++
	s.size = size
	s.proc = newEchoProcess()
	return s.proc, nil
}

func serve(t *testing.T, s *sessions) string {
	t.Helper()
	srv := httptest.NewServer(New(s, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestUnknownSessionIs404BeforeUpgrade(t *testing.T) {
	url := serve(t, &sessions{password: "pw"})
	_, resp, err := websocket.DefaultDialer.Dial(url+PathPrefix+"nope", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("dial of an unknown session: %v %v", resp, err)
	}
}

func TestWrongPasswordClosesTheSocket(t *testing.T) {
	s := &sessions{password: "pw"}
	conn, _, err := websocket.DefaultDialer.Dial(serve(t, s)+PathPrefix+"s1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.WriteMessage(websocket.TextMessage, []byte("guess")); err != nil {
		t.Fatal(err)
	}
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("read after a wrong password: %v", err)
	}
	if s.opened != 0 {
		t.Fatal("a process was started for a wrong password")
	}
}

func TestExecSessionPipesBothWays(t *testing.T) {
	s := &sessions{password: "pw"}
	conn, _, err := websocket.DefaultDialer.Dial(serve(t, s)+PathPrefix+"s1?api-version=1.0&rows=30&cols=100", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// ACI's protocol: the password first, as text; then input as binary.
	if err := conn.WriteMessage(websocket.TextMessage, []byte("pw")); err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteMessage(websocket.BinaryMessage, []byte("echo hi\n")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for !strings.Contains(out.String(), "ECHO HI") {
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v (so far %q)", err, out.String())
		}
		if typ != websocket.BinaryMessage {
			t.Fatalf("output frame type %d, want binary", typ)
		}
		out.Write(msg)
	}
	if s.size != (cg.TerminalSize{Rows: 30, Cols: 100}) {
		t.Fatalf("terminal size %+v", s.size)
	}
	// Ending the input ends the process; the close reason carries its exit code.
	_ = s.proc.inW.Close()
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != "exit code 7" {
			t.Fatalf("close: %v", err)
		}
		break
	}
	s.proc.mu.Lock()
	defer s.proc.mu.Unlock()
	if s.proc.got.String() != "echo hi\n" {
		t.Fatalf("the process read %q", s.proc.got.String())
	}
}
