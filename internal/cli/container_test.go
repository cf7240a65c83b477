package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/api/arm"
)

func newContainerEnv(t *testing.T) *testEnv {
	e := newTestEnv(t)
	e.mustRun("login", "-o", "none")
	e.mustRun("group", "create", "-n", "rg", "-l", "westeurope", "-o", "none")
	return e
}

func (e *testEnv) containerGroup(name string) *fakeContainerGroup {
	e.fake.mu.Lock()
	defer e.fake.mu.Unlock()
	return e.fake.aci.groups["rg/"+name]
}

func TestContainerCreateRequestBody(t *testing.T) {
	e := newContainerEnv(t)
	e.mustRun("container", "create", "-g", "rg", "-n", "web", "--image", "mycontainerregistry.azurecr.localhost:8443/app:v1",
		"--registry-login-server", "mycontainerregistry.azurecr.localhost:8443", "--registry-username", "appid", "--registry-password", "pw",
		"--ip-address", "Public", "--ports", "8080", "--protocol", "UDP", "-e", "A=1", "--secure-environment-variables", "S=s",
		"--command-line", `python -c "print('hi')"`, "--zone", "1", "-o", "none")
	g := e.containerGroup("web")
	if g == nil {
		t.Fatal("no PUT reached the server")
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(g.putBody), &body); err != nil {
		t.Fatal(err)
	}
	props := body["properties"].(map[string]any)
	c := props["containers"].([]any)[0].(map[string]any)["properties"].(map[string]any)
	checks := []struct {
		name      string
		got, want any
	}{
		{"location (from the group)", body["location"], "westeurope"},
		{"zones", body["zones"], []any{"1"}},
		{"osType default", props["osType"], "Linux"},
		{"restartPolicy default", props["restartPolicy"], "Always"},
		{"credentials", props["imageRegistryCredentials"], []any{map[string]any{"server": "mycontainerregistry.azurecr.localhost:8443", "username": "appid", "password": "pw"}}},
		{"ip", props["ipAddress"], map[string]any{"type": "Public", "ports": []any{map[string]any{"protocol": "UDP", "port": 8080.0}}}},
		{"container ports", c["ports"], []any{map[string]any{"protocol": "UDP", "port": 8080.0}}},
		{"env", c["environmentVariables"], []any{map[string]any{"name": "A", "value": "1"}, map[string]any{"name": "S", "secureValue": "s"}}},
		{"command", c["command"], []any{"python", "-c", "print('hi')"}},
		{"resources", c["resources"], map[string]any{"requests": map[string]any{"cpu": 1.0, "memoryInGB": 1.5}}},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
	if g.putAPI != "2023-05-01" {
		t.Errorf("api-version = %s", g.putAPI)
	}
}

func TestContainerCreateNoIPHasNoPorts(t *testing.T) {
	e := newContainerEnv(t)
	e.mustRun("container", "create", "-g", "rg", "-n", "plain", "--image", "nginx", "--ports", "81", "-o", "none")
	var body struct {
		Properties struct {
			IPAddress  any `json:"ipAddress"`
			Containers []struct {
				Properties map[string]any `json:"properties"`
			} `json:"containers"`
			ImageRegistryCredentials any `json:"imageRegistryCredentials"`
		} `json:"properties"`
	}
	_ = json.Unmarshal([]byte(e.containerGroup("plain").putBody), &body)
	if body.Properties.IPAddress != nil || body.Properties.Containers[0].Properties["ports"] != nil || body.Properties.ImageRegistryCredentials != nil {
		t.Errorf("PUT body = %s", e.containerGroup("plain").putBody)
	}
}

func TestContainerCreatePromptsForRegistryPassword(t *testing.T) {
	e := newContainerEnv(t)
	out, _, code := e.runTTY("typed-secret\n", "container", "create", "-g", "rg", "-n", "p", "--image", "reg.example.com/a:1",
		"--registry-login-server", "reg.example.com", "--registry-username", "u", "-o", "none")
	if code != 0 || out != "Image registry password: " {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(e.containerGroup("p").putBody, `"password":"typed-secret"`) {
		t.Errorf("PUT body = %s", e.containerGroup("p").putBody)
	}
}

const twoContainerYAML = `apiVersion: '2019-12-01'
name: multi
location: westus
tags:
  env: test
properties:
  osType: Linux
  restartPolicy: OnFailure
  containers:
  - name: app
    properties:
      image: nginx
      resources:
        requests:
          cpu: 1.0
          memoryInGB: 1.5
      ports:
      - port: 80
  - name: sidecar
    properties:
      image: busybox
      command: [sleep, "3600"]
      resources:
        requests:
          cpu: 0.5
          memoryInGB: 0.5
  ipAddress:
    type: Public
    ports:
    - protocol: tcp
      port: 80
type: Microsoft.ContainerInstance/containerGroups
`

func TestContainerCreateFromFileExecAndExport(t *testing.T) {
	e := newContainerEnv(t)
	file := filepath.Join(e.home, "multi.yaml")
	if err := os.WriteFile(file, []byte(twoContainerYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	// -n must match the YAML's name.
	_, errs, code := e.run("container", "create", "-g", "rg", "-n", "other", "--file", file)
	if code != 1 || errs != "ERROR: The name parameter and name from yaml definition must match.\n" {
		t.Errorf("mismatch: exit %d, %q", code, errs)
	}
	// Flags other than the file are ignored, as az does.
	out := e.mustRun("container", "create", "-g", "rg", "-f", file, "--registry-username", "ignored", "--cpu", "4",
		"--query", "{name:name,rg:resourceGroup,loc:location,tags:tags,kind:kind,state:properties.provisioningState,n:length(properties.containers)}", "-o", "json")
	want := `{
  "kind": null,
  "loc": "westus",
  "n": 2,
  "name": "multi",
  "rg": "rg",
  "state": "Succeeded",
  "tags": {
    "env": "test"
  }
}
`
	if out != want {
		t.Errorf("create --file output:\n%s\nwant:\n%s", out, want)
	}
	g := e.containerGroup("multi")
	if g.putAPI != "2019-12-01" || strings.Contains(g.putBody, "apiVersion") || strings.Contains(g.putBody, "ignored") {
		t.Errorf("PUT api-version %s, body %s", g.putAPI, g.putBody)
	}

	// exec needs --container-name with two containers.
	_, errs, code = e.run("container", "exec", "-g", "rg", "-n", "multi", "--exec-command", "/bin/sh")
	if code != 1 || errs != "ERROR: --container-name required when container group has more than one container.\n" {
		t.Errorf("exec without --container-name: exit %d, %q", code, errs)
	}
	e.stdin = "ls\n"
	out, errs, code = e.run("container", "exec", "-g", "rg", "-n", "multi", "--container-name", "sidecar", "--exec-command", "/bin/sh")
	e.stdin = ""
	if code != 0 || out != "# ran ls\r\n# Bye.\r\n" {
		t.Errorf("exec: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	e.fake.mu.Lock()
	actions := append([]string(nil), e.fake.aci.actions...)
	e.fake.mu.Unlock()
	e.fake.aci.wsMu.Lock()
	frames := append([]string(nil), e.fake.aci.wsLog...)
	e.fake.aci.wsMu.Unlock()
	if want := `exec multi containers/sidecar/exec /bin/sh {"rows":24,"cols":80}`; len(actions) == 0 || actions[len(actions)-1] != want {
		t.Errorf("actions = %q, want last %q", actions, want)
	}
	if want := []string{"binary ls\n", "binary \x04"}; !reflect.DeepEqual(frames, want) {
		t.Errorf("stdin frames = %q, want %q", frames, want)
	}

	// export writes the YAML create --file reads.
	exported := filepath.Join(e.home, "out.yaml")
	if out := e.mustRun("container", "export", "-g", "rg", "-n", "multi", "-f", exported); out != "" {
		t.Errorf("export printed %q", out)
	}
	data, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	wantYAML := `additional_properties: {}
apiVersion: '2023-05-01'
extended_location: null
identity: null
location: westus
name: multi
properties:
  containers:
  - name: app
    properties:
      environmentVariables: []
      image: nginx
      ports:
      - port: 80
      resources:
        requests:
          cpu: 1
          memoryInGB: 1.5
  - name: sidecar
    properties:
      command:
      - sleep
      - '3600'
      environmentVariables: []
      image: busybox
      ports: []
      resources:
        requests:
          cpu: 0.5
          memoryInGB: 0.5
  initContainers: []
  ipAddress:
    ip: 127.0.0.2
    ports:
    - port: 80
      protocol: tcp
    type: Public
  osType: Linux
  restartPolicy: OnFailure
  sku: Standard
tags:
  env: test
type: Microsoft.ContainerInstance/containerGroups
`
	if string(data) != wantYAML {
		t.Errorf("exported YAML:\n%s\nwant:\n%s", data, wantYAML)
	}
	// The export creates the group again.
	e.mustRun("container", "delete", "-g", "rg", "-n", "multi", "--yes", "-o", "none")
	e.mustRun("container", "create", "-g", "rg", "-f", exported, "-o", "none")
	if g := e.containerGroup("multi"); g == nil || g.putAPI != "2023-05-01" || len(g.group.Properties.Containers) != 2 {
		t.Errorf("re-create from export: %+v", g)
	}
}

func TestContainerDeletePrompt(t *testing.T) {
	e := newContainerEnv(t)
	e.mustRun("container", "create", "-g", "rg", "-n", "web", "--image", "nginx", "-o", "none")
	out, _, code := e.runTTY("n\n", "container", "delete", "-g", "rg", "-n", "web")
	if code != 1 || out != "Are you sure you want to perform this operation? (y/n): " || e.containerGroup("web") == nil {
		t.Fatalf("answer n: exit %d, stdout %q", code, out)
	}
	out, _, code = e.runTTY("y\n", "container", "delete", "-g", "rg", "-n", "web", "--query", "name", "-o", "tsv")
	if code != 0 || out != "Are you sure you want to perform this operation? (y/n): web\n" || e.containerGroup("web") != nil {
		t.Fatalf("answer y: exit %d, stdout %q", code, out)
	}
}

func TestContainerLogsFollowStopsAfterTermination(t *testing.T) {
	e := newContainerEnv(t)
	e.mustRun("container", "create", "-g", "rg", "-n", "job", "--image", "nginx", "--restart-policy", "Never", "-o", "none")
	g := e.containerGroup("job")
	e.fake.mu.Lock()
	code := 0
	g.logs = []string{"one\n", "one\ntwo\n", "one\ntwo\nthree\n"}
	g.state, g.container, g.exitCode = "Succeeded", "Terminated", &code
	e.fake.mu.Unlock()
	out := e.mustRun("container", "logs", "-g", "rg", "-n", "job", "--follow")
	if out != "one\ntwo\nthree\n" {
		t.Errorf("logs --follow (not a terminal) = %q", out)
	}
	if g.logCalls != 3 {
		t.Errorf("log polls = %d, want 3 (the poll at termination, then az's grace)", g.logCalls)
	}
}

func TestContainerLogsFollowRestartWarning(t *testing.T) {
	e := newContainerEnv(t)
	e.mustRun("container", "create", "-g", "rg", "-n", "svc", "--image", "nginx", "-o", "none")
	g := e.containerGroup("svc")
	e.fake.mu.Lock()
	g.logs = []string{"a\nb\nc\n", "a\n"}
	e.fake.mu.Unlock()
	out := e.mustRun("container", "logs", "-g", "rg", "-n", "svc", "--follow")
	want := "a\nb\nc\nWarning: you're having '--restart-policy=Always'; the container 'svc' was just restarted; the tail of the current log might be missing. Exiting...\n"
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
}

func TestStreamerTerminalRedraws(t *testing.T) {
	e := newContainerEnv(t)
	e.mustRun("container", "create", "-g", "rg", "-n", "job", "--image", "nginx", "--restart-policy", "Never", "-o", "none")
	g := e.containerGroup("job")
	e.fake.mu.Lock()
	g.logs = []string{"one\n", "one\ntwo\n"}
	g.state = "Failed"
	e.fake.mu.Unlock()
	var out bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &bytes.Buffer{}, e.getenv)
	a.sleep = func(context.Context, time.Duration) error { return nil }
	i := &inv{ctx: context.Background(), app: a, args: &args{values: map[string][]string{}}}
	s, err := i.armSession()
	if err != nil {
		t.Fatal(err)
	}
	st := i.newStreamer(s, "rg", "job", "job", "Never")
	st.tty = true
	if err := st.run(st.logStep); err != nil {
		t.Fatal(err)
	}
	want := "one\n\n\x1b[2A\x1b[K\x1b[Jone\ntwo\n\n\x1b[3A\x1b[K\x1b[Jone\ntwo\n\n"
	if out.String() != want {
		t.Errorf("terminal output = %q, want %q", out.String(), want)
	}
}

func TestSpinner(t *testing.T) {
	var b bytes.Buffer
	s := &spinner{w: &b, label: "Running"}
	for range 5 {
		s.step()
	}
	s.clear()
	want := "\r\x1b[K - Running ..\r\r\x1b[K \\ Running ..\r\r\x1b[K | Running ..\r\r\x1b[K / Running ..\r\r\x1b[K - Running ..\r\r\x1b[K"
	if b.String() != want {
		t.Errorf("spinner = %q, want %q", b.String(), want)
	}
	// runWithProgress draws at least the first step and always erases.
	b.Reset()
	err := runWithProgress(&spinner{w: &b, label: "Running"}, time.Hour, func() error { return nil })
	if err != nil || b.String() != "\r\x1b[K - Running ..\r\r\x1b[K" {
		t.Errorf("runWithProgress wrote %q, %v", b.String(), err)
	}
}

func TestShlexSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "/bin/sh -c 'echo hi; sleep 1'", want: []string{"/bin/sh", "-c", "echo hi; sleep 1"}},
		{in: `python -c "print(\"a\\\\b\")"`, want: []string{"python", "-c", `print("a\\b")`}},
		{in: `a\ b  c""d ''`, want: []string{"a b", "cd", ""}},
		{in: "tail -f /dev/null", want: []string{"tail", "-f", "/dev/null"}},
		{in: "x # not a comment", want: []string{"x", "#", "not", "a", "comment"}},
		{in: `"open`, err: "No closing quotation"},
		{in: `trailing\`, err: "No escaped character"},
	} {
		got, err := shlexSplit(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("shlexSplit(%q) error = %v, want %s", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("shlexSplit(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestContainerGroupOutputNullsAndFloats(t *testing.T) {
	cpu, mem := 2.0, 3.5
	out := containerGroupOutput(arm.ContainerGroup{
		ID: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerInstance/containerGroups/n", Name: "n",
		Properties: arm.ContainerGroupProperties{
			Containers: []arm.Container{{Name: "c", Properties: arm.ContainerProperties{Image: "i",
				Resources:     &arm.ResourceRequirements{Requests: &arm.ResourceValues{CPU: &cpu, MemoryInGB: &mem}},
				LivenessProbe: json.RawMessage(`{"exec":{"command":["true"]},"periodSeconds":5}`)}}},
			ImageRegistryCredentials: []arm.ImageRegistryCredential{{Server: "r", Username: "u"}},
		},
	})
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, want := range []string{
		`"resources":{"requests":{"memoryInGb":3.5,"cpu":2.0,"gpu":null},"limits":null}`,
		`"imageRegistryCredentials":[{"server":"r","username":"u","password":null,"identity":null,"identityUrl":null}]`,
		`"livenessProbe":{"exec":{"command":["true"]},"httpGet":null,"initialDelaySeconds":null,"periodSeconds":5,"failureThreshold":null,"successThreshold":null,"timeoutSeconds":null}`,
		`"resourceGroup":"g"`, `"volumes":null`, `"subnetIds":null`, `"instanceView":null`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s\n%s", want, s)
		}
	}
}

func TestContainerAttachStreamsLogsOnceRunning(t *testing.T) {
	e := newContainerEnv(t)
	e.mustRun("container", "create", "-g", "rg", "-n", "svc", "--image", "nginx", "--restart-policy", "OnFailure", "-o", "none")
	g := e.containerGroup("svc")
	e.fake.mu.Lock()
	g.logs = []string{"starting\n", "starting\nready\n"}
	g.doneAfterLogs = 2 // the run ends after the second poll
	e.fake.mu.Unlock()
	out := e.mustRun("container", "attach", "-g", "rg", "-n", "svc")
	want := "Container 'svc' is in state 'Running'...\n" +
		"(count: 1) (last timestamp: 2024-05-01 12:00:02+00:00) pulling image \"nginx\"\n" +
		"(count: 1) (last timestamp: 2024-05-01 12:00:05+00:00) Successfully pulled image \"nginx\"\n" +
		"(count: 1) (last timestamp: 2024-05-01 12:00:11+00:00) Started container\n" +
		"\nStart streaming logs:\n" +
		"starting\nready\n"
	if out != want {
		t.Errorf("attach output:\n%q\nwant:\n%q", out, want)
	}
}
