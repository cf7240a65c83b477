package execstream

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	cg "github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/tlsca"
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

// serve runs the handler the way `cerulean serve` does: behind
// server.Middleware (whose response writer must let the upgrader take the
// connection over) and the TLS listener that repairs request lines, in an
// http.Server that also speaks HTTP/2. It returns the wss:// base URL and a
// dialer that trusts the server.
func serve(t *testing.T, s *sessions) (string, *websocket.Dialer) {
	t.Helper()
	bundle, err := tlsca.LoadOrCreate(tlsca.Config{Dir: t.TempDir(), DNSNames: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	srv := &http.Server{
		Handler:           server.Middleware(logger, New(s, logger)),
		Protocols:         server.Protocols(),
		HTTP2:             server.HTTP2Config(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		_ = srv.Serve(server.NewTLSListener(ln, &tls.Config{Certificates: []tls.Certificate{bundle.Cert}, NextProtos: []string{"h2", "http/1.1"}}))
	}()
	t.Cleanup(func() { _ = srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "wss://localhost:" + port, &websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: bundle.CertPool()}}
}

func TestUnknownSessionIs404BeforeUpgrade(t *testing.T) {
	url, dialer := serve(t, &sessions{password: "pw"})
	_, resp, err := dialer.Dial(url+PathPrefix+"nope", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("dial of an unknown session: %v %v", resp, err)
	}
}

func TestWrongPasswordClosesTheSocket(t *testing.T) {
	s := &sessions{password: "pw"}
	url, dialer := serve(t, s)
	conn, _, err := dialer.Dial(url+PathPrefix+"s1", nil)
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
	url, dialer := serve(t, s)
	conn, _, err := dialer.Dial(url+PathPrefix+"s1?api-version=1.0&rows=30&cols=100", nil)
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

// TestHandshakeAsWebsocketClientSendsIt replays the handshake az sends
// (websocket-client 1.2.3, as Debian ships it: an Origin of http://host,
// no ALPN) and the one curl --http1.1 sends (ALPN http/1.1) through the
// server stack: both must be switched to the websocket protocol.
func TestHandshakeAsWebsocketClientSendsIt(t *testing.T) {
	url, dialer := serve(t, &sessions{password: "pw"})
	host := strings.TrimPrefix(url, "wss://")
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	req := "GET " + PathPrefix + "s1?api-version=1.0&cols=80&rows=24 HTTP/1.1\r\n" +
		"Upgrade: websocket\r\nHost: " + host + "\r\nOrigin: http://" + host + "\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\nConnection: Upgrade\r\n\r\n"
	for _, alpn := range [][]string{nil, {"http/1.1"}} {
		conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: dialer.TLSClientConfig.RootCAs, ServerName: "localhost", NextProtos: alpn})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		_ = conn.Close()
		// The accept value for this key is RFC 6455's own example.
		if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
			t.Errorf("ALPN %q: %s %q, want 101 with the key's accept value", alpn, resp.Status, body)
		}
	}
}
