package cli

// The fake server's Microsoft.ContainerInstance routes, with the shapes and
// status codes of reference/aci.md §1.3 and §3: PUT answers 201/200 with
// provisioningState Pending and an Azure-AsyncOperation URL, GET adds the
// instance views, list leaves them out, DELETE answers 200 with the group,
// start 202 + operation, stop and restart 204. Exec hands out a websocket
// on a second TLS listener with the same certificate.

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cerulean/cerulean/api/arm"
)

type fakeContainerGroup struct {
	group    arm.ContainerGroup // as stored, secrets stripped, no instance view
	putBody  string             // the last PUT body, verbatim
	putAPI   string             // its api-version
	logs     []string           // successive answers of the logs API
	logCalls int
	// doneAfterLogs ends the run (group Succeeded, container Terminated
	// with exit code 0) at that many log calls; 0 never.
	doneAfterLogs int
	state         string // group instanceView.state
	container     string // containers' currentState.state
	exitCode      *int
}

// fakeACI holds the container-group state of a fakeAzure.
type fakeACI struct {
	groups  map[string]*fakeContainerGroup // lower-case "rg/name"
	actions []string
	wsOnce  sync.Once
	ws      *httptest.Server
	wsMu    sync.Mutex
	wsLog   []string // frames the exec server received
}

var (
	fakeCGPath = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/Microsoft\.ContainerInstance/containerGroups(?:/([^/]+)(?:/(.+))?)?$`)
	fakeCGList = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/providers/Microsoft\.ContainerInstance/containerGroups$`)
	fakeCGOp   = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/providers/Microsoft\.ContainerInstance/locations/([^/]+)/operations/([^/]+)$`)
)

// serveContainerGroups answers the container-group routes; false means
// the path is not one. f.mu is held.
func (f *fakeAzure) serveContainerGroups(w http.ResponseWriter, r *http.Request, path string) bool {
	if f.aci == nil {
		f.aci = &fakeACI{groups: map[string]*fakeContainerGroup{}}
	}
	switch {
	case fakeCGOp.MatchString(path):
		m := fakeCGOp.FindStringSubmatch(path)
		w.Header().Set("Retry-After", "0")
		op := arm.AsyncOperation{ID: m[2], Status: "Succeeded", StartTime: fakeTime, Properties: &arm.AsyncOperationProperties{Events: []arm.ContainerEvent{}}}
		if strings.HasPrefix(m[2], "fail-") {
			op.Status = "Failed"
			op.Error = &arm.ErrorDetail{Code: "ContainerGroupDeploymentFailed", Message: "The container group deployment failed."}
		}
		writeJSON(w, 200, op)
	case fakeCGList.MatchString(path):
		f.aciList(w, "")
	case fakeCGPath.MatchString(path):
		m := fakeCGPath.FindStringSubmatch(path)
		group, ok := f.groups[strings.ToLower(m[1])]
		switch {
		case !ok:
			armError(w, 404, "ResourceGroupNotFound", "Resource group '"+m[1]+"' could not be found.")
		case m[2] == "":
			f.aciList(w, group.Name)
		default:
			f.aciItem(w, r, group, m[2], m[3])
		}
	default:
		return false
	}
	return true
}

func (f *fakeAzure) aciList(w http.ResponseWriter, group string) {
	var keys []string
	for k, g := range f.aci.groups {
		if group == "" || strings.EqualFold(*resourceGroupOfID(g.group.ID), group) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := []arm.ContainerGroup{}
	for _, k := range keys {
		out = append(out, f.aci.groups[k].group)
	}
	writeJSON(w, 200, arm.List[arm.ContainerGroup]{Value: out})
}

// view is the GET shape: the stored group plus instance views.
func (g *fakeContainerGroup) view() arm.ContainerGroup {
	out := g.group
	data, _ := json.Marshal(out)
	_ = json.Unmarshal(data, &out) // deep copy
	out.Properties.InstanceView = &arm.GroupInstanceView{Events: []arm.ContainerEvent{}, State: g.state}
	start := fakeTime.Add(11 * time.Second)
	for i := range out.Properties.Containers {
		c := &out.Properties.Containers[i]
		ev := func(sec int, name, msg string) arm.ContainerEvent {
			t := fakeTime.Add(time.Duration(sec) * time.Second)
			return arm.ContainerEvent{Count: 1, FirstTimestamp: t, LastTimestamp: t, Name: name, Message: msg, Type: "Normal"}
		}
		cs := &arm.ContainerState{State: g.container, StartTime: &start, DetailStatus: ""}
		if g.exitCode != nil {
			finish := start.Add(2 * time.Second)
			cs.ExitCode, cs.FinishTime, cs.DetailStatus = g.exitCode, &finish, "Completed"
			if *g.exitCode != 0 {
				cs.DetailStatus = "Error"
			}
		}
		c.Properties.InstanceView = &arm.ContainerInstanceView{CurrentState: cs, Events: []arm.ContainerEvent{
			ev(5, "Pulled", `Successfully pulled image "`+c.Properties.Image+`"`),
			ev(2, "Pulling", `pulling image "`+c.Properties.Image+`"`),
			ev(11, "Started", "Started container"),
		}}
	}
	return out
}

func (f *fakeAzure) aciItem(w http.ResponseWriter, r *http.Request, group arm.ResourceGroup, name, sub string) {
	key := strings.ToLower(group.Name + "/" + name)
	g, exists := f.aci.groups[key]
	if r.Method == http.MethodPut && sub == "" {
		f.aciPut(w, r, group, name, key, g)
		return
	}
	if !exists {
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		armError(w, 404, "ResourceNotFound", "The Resource 'Microsoft.ContainerInstance/containerGroups/"+name+"' under resource group '"+group.Name+"' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")
		return
	}
	switch {
	case sub == "" && r.Method == http.MethodGet:
		writeJSON(w, 200, g.view())
	case sub == "" && r.Method == http.MethodDelete:
		delete(f.aci.groups, key)
		writeJSON(w, 200, g.group)
	case sub == "start" && r.Method == http.MethodPost:
		f.aci.actions = append(f.aci.actions, "start "+name)
		g.state, g.container = "Running", "Running"
		w.Header().Set("Azure-AsyncOperation", f.srv.URL+"/subscriptions/"+fakeSubscription+"/providers/Microsoft.ContainerInstance/locations/"+g.group.Location+"/operations/start-"+name+"?api-version=2018-06-01")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusAccepted)
	case (sub == "stop" || sub == "restart") && r.Method == http.MethodPost:
		f.aci.actions = append(f.aci.actions, sub+" "+name)
		if sub == "stop" {
			g.state, g.container = "Stopped", "Terminated"
		}
		w.WriteHeader(http.StatusNoContent)
	case strings.HasSuffix(sub, "/logs") && r.Method == http.MethodGet:
		content := ""
		if len(g.logs) > 0 {
			content = g.logs[min(g.logCalls, len(g.logs)-1)]
		}
		g.logCalls++
		if g.logCalls == g.doneAfterLogs {
			g.finish(0)
		}
		writeJSON(w, 200, arm.Logs{Content: content})
	case strings.HasSuffix(sub, "/exec") && r.Method == http.MethodPost:
		var req arm.ContainerExecRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		f.aci.actions = append(f.aci.actions, "exec "+name+" "+sub+" "+req.Command+" "+jsonString(req.TerminalSize))
		srv := f.aci.execServer(f.srv)
		writeJSON(w, 200, arm.ContainerExecResponse{
			WebSocketURI: "wss" + strings.TrimPrefix(srv.URL, "https") + "/execstream/sessionId/" + name + "?api-version=1.0&rows=24&cols=80",
			Password:     "pw-" + name,
		})
	default:
		armError(w, 405, "MethodNotAllowed", "method not allowed")
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (f *fakeAzure) aciPut(w http.ResponseWriter, r *http.Request, group arm.ResourceGroup, name, key string, old *fakeContainerGroup) {
	raw, _ := io.ReadAll(r.Body)
	var in arm.ContainerGroup
	if err := json.Unmarshal(raw, &in); err != nil {
		armError(w, 400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: '"+err.Error()+"'.")
		return
	}
	p := &in.Properties
	if !strings.EqualFold(p.OSType, "Linux") && !strings.EqualFold(p.OSType, "Windows") {
		armError(w, 400, "InvalidOsType", "The 'osType' for container group '<null>' is invalid. The value must be one of 'Windows,Linux'.")
		return
	}
	for i := range p.Containers {
		c := &p.Containers[i].Properties
		if strings.HasPrefix(c.Image, "inaccessible.") {
			writeJSON(w, 400, arm.ErrorResponse{Error: arm.ErrorDetail{Code: "InaccessibleImage",
				Message: "The image '" + c.Image + "' in container group '" + name + "' is not accessible. Please check the image and registry credential.",
				Details: []arm.ErrorDetail{{Code: "RegistryHostNotFound", Message: "The registry 'inaccessible.example.com' is unknown to this server."}}}})
			return
		}
		if c.Ports == nil {
			c.Ports = []arm.ContainerPort{}
		}
		if c.EnvironmentVariables == nil {
			c.EnvironmentVariables = []arm.EnvironmentVariable{}
		}
		for j := range c.EnvironmentVariables {
			if c.EnvironmentVariables[j].SecureValue != nil {
				c.EnvironmentVariables[j] = arm.EnvironmentVariable{Name: c.EnvironmentVariables[j].Name}
			}
		}
	}
	for i := range p.ImageRegistryCredentials {
		p.ImageRegistryCredentials[i].Password = nil
	}
	for i := range p.Volumes {
		if p.Volumes[i].Secret != nil {
			p.Volumes[i].Secret = map[string]string{}
		}
	}
	if p.InitContainers == nil {
		p.InitContainers = []arm.InitContainer{}
	}
	if p.SKU == "" {
		p.SKU = "Standard"
	}
	if p.RestartPolicy == "" {
		p.RestartPolicy = "Always"
	}
	if ip := p.IPAddress; ip != nil {
		ip.IP = "127.0.0.2"
		if ip.DNSNameLabel != "" {
			ip.FQDN = ip.DNSNameLabel + "." + in.Location + ".azurecontainer.io"
		}
	}
	if in.Tags == nil {
		in.Tags = map[string]string{}
	}
	in.ID = "/subscriptions/" + fakeSubscription + "/resourceGroups/" + group.Name + "/providers/Microsoft.ContainerInstance/containerGroups/" + name
	in.Name, in.Type, in.Identity = name, "Microsoft.ContainerInstance/containerGroups", nil
	p.ProvisioningState = "Succeeded"
	g := &fakeContainerGroup{group: in, putBody: string(raw), putAPI: r.URL.Query().Get("api-version"),
		state: "Running", container: "Running", logs: []string{"hello\n"}}
	if old != nil {
		g.logs = old.logs
	}
	if p.RestartPolicy == "Never" {
		g.finish(0) // a run-to-completion job: done by the time anyone looks
	}
	f.aci.groups[key] = g
	status := http.StatusCreated
	if old != nil {
		status = http.StatusOK
	}
	opID := "op-" + name
	if strings.Contains(name, "fail") {
		opID = "fail-" + name
	}
	first := g.view()
	first.Properties.ProvisioningState = "Pending"
	first.Properties.InstanceView = &arm.GroupInstanceView{Events: []arm.ContainerEvent{}, State: "Pending"}
	for i := range first.Properties.Containers {
		first.Properties.Containers[i].Properties.InstanceView = nil
	}
	w.Header().Set("Azure-AsyncOperation", f.srv.URL+"/subscriptions/"+fakeSubscription+"/providers/Microsoft.ContainerInstance/locations/"+in.Location+"/operations/"+opID+"?api-version=2018-06-01")
	w.Header().Set("Retry-After", "0")
	writeJSON(w, status, first)
}

// finish ends the run with an exit code.
func (g *fakeContainerGroup) finish(code int) {
	g.state, g.container, g.exitCode = "Succeeded", "Terminated", &code
	if code != 0 {
		g.state = "Failed"
	}
}

// execServer is the websocket end of exec: it wants the password as the
// first text frame, greets, then answers every binary frame with what it
// received and closes on "exit" or Ctrl-D.
func (a *fakeACI) execServer(main *httptest.Server) *httptest.Server {
	a.wsOnce.Do(func() {
		up := websocket.Upgrader{}
		a.ws = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer func() { _ = conn.Close() }()
			name := strings.TrimPrefix(r.URL.Path, "/execstream/sessionId/")
			kind, pw, err := conn.ReadMessage()
			if err != nil || kind != websocket.TextMessage || string(pw) != "pw-"+name {
				_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "bad password"))
				return
			}
			_ = conn.WriteMessage(websocket.TextMessage, []byte("# "))
			for {
				kind, data, err := conn.ReadMessage()
				if err != nil {
					return
				}
				a.wsMu.Lock()
				a.wsLog = append(a.wsLog, map[int]string{websocket.TextMessage: "text", websocket.BinaryMessage: "binary"}[kind]+" "+string(data))
				a.wsMu.Unlock()
				s := string(data)
				if strings.Contains(s, "exit") || strings.Contains(s, "\x04") {
					_ = conn.WriteMessage(websocket.BinaryMessage, []byte("Bye.\r\n"))
					_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
					return
				}
				_ = conn.WriteMessage(websocket.BinaryMessage, []byte("ran "+strings.TrimSpace(s)+"\r\n# "))
			}
		}))
		a.ws.TLS = &tls.Config{Certificates: main.TLS.Certificates}
		a.ws.StartTLS()
	})
	return a.ws
}

func (a *fakeACI) close() {
	if a != nil && a.ws != nil {
		a.ws.Close()
	}
}
