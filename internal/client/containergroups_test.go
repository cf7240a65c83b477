package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/cerulean/cerulean/api/arm"
)

const cgPath = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/web"

// fakeLRO answers a container-group PUT with 201 Pending and an
// Azure-AsyncOperation URL that reports InProgress once, then final.
func fakeLRO(t *testing.T, final string, opErr *arm.ErrorDetail) (*recorder, *Client, *[]byte) {
	var mu sync.Mutex
	var putBody []byte
	polls := 0
	var rec *recorder
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == cgPath:
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			putBody = b
			mu.Unlock()
			w.Header().Set("Azure-AsyncOperation", rec.srv.URL+"/subscriptions/s/providers/Microsoft.ContainerInstance/locations/eastus/operations/op1?api-version=2018-06-01")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"name":"web","properties":{"provisioningState":"Pending","containers":[]}}`)
		case r.URL.Path == "/subscriptions/s/providers/Microsoft.ContainerInstance/locations/eastus/operations/op1":
			polls++
			w.Header().Set("Retry-After", "0")
			if polls == 1 {
				_ = json.NewEncoder(w).Encode(arm.AsyncOperation{ID: "x", Status: "InProgress"})
				return
			}
			_ = json.NewEncoder(w).Encode(arm.AsyncOperation{ID: "x", Status: final, Error: opErr})
		case r.Method == http.MethodGet && r.URL.Path == cgPath:
			_, _ = io.WriteString(w, `{"name":"web","properties":{"provisioningState":"Succeeded","containers":[{"name":"web","properties":{"image":"alpine"}}]}}`)
		default:
			http.NotFound(w, r)
		}
	})
	return rec, c, &putBody
}

func TestCreateContainerGroupFollowsAsyncOperation(t *testing.T) {
	rec, c, put := fakeLRO(t, "Succeeded", nil)
	cpu := 1.0
	body := arm.ContainerGroup{Location: "eastus", Properties: arm.ContainerGroupProperties{OSType: "Linux",
		Containers: []arm.Container{{Name: "web", Properties: arm.ContainerProperties{Image: "alpine",
			Resources: &arm.ResourceRequirements{Requests: &arm.ResourceValues{CPU: &cpu}}}}}}}
	got, err := c.ARM(StaticToken("tk")).CreateContainerGroup(context.Background(), "s", "rg", "web", body, false)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Properties.ProvisioningState != "Succeeded" {
		t.Fatalf("result = %+v, want the final GET", got)
	}
	want := []string{
		"PUT " + cgPath + "?api-version=2023-05-01",
		"GET /subscriptions/s/providers/Microsoft.ContainerInstance/locations/eastus/operations/op1?api-version=2018-06-01",
		"GET /subscriptions/s/providers/Microsoft.ContainerInstance/locations/eastus/operations/op1?api-version=2018-06-01",
		"GET " + cgPath + "?api-version=2023-05-01",
	}
	if g := rec.requests(); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	if !bytes.Contains(*put, []byte(`"osType":"Linux"`)) || !bytes.Contains(*put, []byte(`"cpu":1`)) {
		t.Errorf("PUT body = %s", *put)
	}
}

func TestCreateContainerGroupNoWaitDoesNotPoll(t *testing.T) {
	rec, c, _ := fakeLRO(t, "Succeeded", nil)
	got, err := c.ARM(StaticToken("tk")).PutContainerGroupRaw(context.Background(), "s", "rg", "web", "2019-12-01", map[string]any{"location": "eastus"}, true)
	if err != nil || got != nil {
		t.Fatalf("got %s, %v", got, err)
	}
	if g := rec.requests(); len(g) != 1 || g[0] != "PUT "+cgPath+"?api-version=2019-12-01" {
		t.Errorf("requests = %v", g)
	}
}

func TestCreateContainerGroupOperationFailure(t *testing.T) {
	_, c, _ := fakeLRO(t, "Failed", &arm.ErrorDetail{Code: "ContainerGroupFailed", Message: "it broke",
		Details: []arm.ErrorDetail{{Code: "Inner", Message: "why"}}})
	_, err := c.ARM(StaticToken("tk")).CreateContainerGroup(context.Background(), "s", "rg", "web", arm.ContainerGroup{}, false)
	re, ok := AsResponseError(err)
	if !ok || re.Code != "ContainerGroupFailed" || re.Message != "it broke" || len(re.Details) != 1 {
		t.Fatalf("err = %v (%+v)", err, re)
	}
}

func TestCreateContainerGroupBodyPolling(t *testing.T) {
	gets := 0
	_, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"properties":{"provisioningState":"Creating","containers":[]}}`)
			return
		}
		gets++
		w.Header().Set("Retry-After", "0")
		state := "Creating"
		if gets > 1 {
			state = "Failed"
		}
		_, _ = io.WriteString(w, `{"properties":{"provisioningState":"`+state+`","containers":[]}}`)
	})
	_, err := c.ARM(StaticToken("tk")).CreateContainerGroup(context.Background(), "s", "rg", "web", arm.ContainerGroup{}, false)
	if re, ok := AsResponseError(err); !ok || re.Code != "Failed" || gets != 2 {
		t.Fatalf("err = %v, gets = %d", err, gets)
	}
}

func TestContainerGroupActionsAndLogs(t *testing.T) {
	var rec *recorder
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/ops/start":
			_, _ = io.WriteString(w, `{"status":"Succeeded"}`)
		case strings.HasSuffix(r.URL.Path, "/start"):
			w.Header().Set("Azure-AsyncOperation", rec.srv.URL+"/ops/start?api-version=2018-06-01")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusAccepted)
		case strings.HasSuffix(r.URL.Path, "/stop"), strings.HasSuffix(r.URL.Path, "/restart"):
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/logs"):
			_, _ = io.WriteString(w, `{"content":"hello\n"}`)
		case r.Method == http.MethodDelete:
			_, _ = io.WriteString(w, `{"name":"web","properties":{"provisioningState":"Succeeded","containers":[]}}`)
		}
	})
	a, ctx := c.ARM(StaticToken("tk")), context.Background()
	if err := a.StartContainerGroup(ctx, "s", "rg", "web", false); err != nil {
		t.Fatal(err)
	}
	if err := a.StopContainerGroup(ctx, "s", "rg", "web"); err != nil {
		t.Fatal(err)
	}
	if err := a.RestartContainerGroup(ctx, "s", "rg", "web", false); err != nil {
		t.Fatal(err)
	}
	logs, err := a.ContainerLogs(ctx, "s", "rg", "web", "c1", 10, true)
	if err != nil || logs.Content != "hello\n" {
		t.Fatalf("logs = %+v, %v", logs, err)
	}
	deleted, err := a.DeleteContainerGroup(ctx, "s", "rg", "web")
	if err != nil || deleted == nil || deleted.Name != "web" {
		t.Fatalf("delete = %+v, %v", deleted, err)
	}
	want := []string{
		"POST " + cgPath + "/start?api-version=2023-05-01",
		"GET /ops/start?api-version=2018-06-01",
		"POST " + cgPath + "/stop?api-version=2023-05-01",
		"POST " + cgPath + "/restart?api-version=2023-05-01",
		"GET " + cgPath + "/containers/c1/logs?api-version=2023-05-01&tail=10&timestamps=true",
		"DELETE " + cgPath + "?api-version=2023-05-01",
	}
	if g := rec.requests(); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

// syncBuffer is a bytes.Buffer safe for the session's writer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestExecSessionProtocol(t *testing.T) {
	up := websocket.Upgrader{}
	type frame struct {
		kind int
		data string
	}
	frames := make(chan frame, 10)
	rec, c := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		for {
			kind, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			frames <- frame{kind, string(data)}
			if kind == websocket.TextMessage {
				_ = conn.WriteMessage(websocket.TextMessage, []byte("$ "))
				continue
			}
			_ = conn.WriteMessage(websocket.BinaryMessage, []byte("ran "+string(data)))
			_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			return
		}
	})
	uri := "wss" + strings.TrimPrefix(rec.srv.URL, "https") + "/execstream/sessionId/1?api-version=1.0"
	var out syncBuffer
	if err := c.ExecSession(context.Background(), uri, "s3cret", strings.NewReader("ls\r"), &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "$ ran ls\r" {
		t.Errorf("output = %q", got)
	}
	first, second := <-frames, <-frames
	if first.kind != websocket.TextMessage || first.data != "s3cret" {
		t.Errorf("first frame = %+v, want the password as text", first)
	}
	if second.kind != websocket.BinaryMessage || second.data != "ls\r" {
		t.Errorf("second frame = %+v, want stdin as binary", second)
	}
}

func TestRedactHidesSecureEnvironmentValues(t *testing.T) {
	got := Redact(`{"name":"S","secureValue":"hidden"}`)
	if strings.Contains(got, "hidden") {
		t.Errorf("Redact = %s", got)
	}
}
