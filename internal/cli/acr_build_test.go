package cli

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// taskEnv is a test environment with a Basic registry and a fixed TMPDIR.
func taskEnv(t *testing.T) *testEnv {
	e := newTestEnv(t)
	e.env["TMPDIR"] = t.TempDir()
	e.mustRun("login", "-o", "none")
	e.mustRun("group", "create", "-n", "myResourceGroup", "-l", "eastus", "-o", "none")
	e.mustRun("acr", "create", "-g", "myResourceGroup", "-n", "myregistry", "--sku", "Basic", "-o", "none")
	return e
}

func (e *testEnv) script(runs ...fakeRunScript) {
	e.fake.tasks.mu.Lock()
	defer e.fake.tasks.mu.Unlock()
	e.fake.tasks.script = append(e.fake.tasks.script, runs...)
}

// A log that appears after one look, grows over two more (a line split
// across them) and completes.
func growingLog(status string) fakeRunScript {
	return fakeRunScript{steps: []fakeLogStep{
		{},
		{text: "2024/05/01 12:00:01 Downloading source code...\r\nStep 1/2 : FR"},
		{text: "OM scratch\r\n"},
		{text: "\r\nRun ID: done after 2s\r\n", complete: status},
	}}
}

var (
	uuidHex  = regexp.MustCompile(`bbbbbbbb0000000000000000[0-9]{8}`)
	ctxSize  = regexp.MustCompile(`Sending context \([0-9.]+ (Bytes|KiB)\)`)
	tmpDirRe = regexp.MustCompile(`'[^']*/build_archive_`)
)

func normalizeBuild(s string) string {
	s = uuidHex.ReplaceAllString(s, "UUID")
	s = ctxSize.ReplaceAllString(s, "Sending context (SIZE)")
	return tmpDirRe.ReplaceAllString(s, "'$$TMPDIR/build_archive_")
}

func TestACRBuild(t *testing.T) {
	e := taskEnv(t)
	dir := writeTree(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY a.txt /\n", "a.txt": "a", "b.log": "b", ".dockerignore": "*.log\n", ".git/HEAD": "x"})
	e.script(growingLog("successful"))
	stdout, stderr, code := e.run("acr", "build", "-r", "myregistry", "-t", "hello:{{.Run.ID}}", "--build-arg", "A=1",
		"--secret-build-arg", "S=2", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	wantErr := "WARNING: Packing source code into tar to upload...\n" +
		"WARNING: Excluding '.git' based on default ignore rules\n" +
		"WARNING: Uploading archived source code from '$TMPDIR/build_archive_UUID.tar.gz'...\n" +
		"WARNING: Sending context (SIZE) to registry: myregistry...\n" +
		"WARNING: Queued a build with ID: ca1\n" +
		"WARNING: Waiting for an agent...\n"
	if got := normalizeBuild(stderr); got != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, wantErr)
	}
	wantOut := "2024/05/01 12:00:01 Downloading source code...\r\nStep 1/2 : FROM scratch\r\n\r\nRun ID: done after 2s\r\n"
	if stdout != wantOut {
		t.Errorf("stdout %q, want %q", stdout, wantOut)
	}
	tk := e.fake.tasks
	wantBody := `{"type":"DockerBuildRequest","isArchiveEnabled":false,"imageNames":["hello:{{.Run.ID}}"],"isPushEnabled":true,"noCache":false,"dockerFilePath":"UUID_Dockerfile","arguments":[{"name":"A","value":"1","isSecret":false},{"name":"S","value":"2","isSecret":true}],"platform":{"os":"linux","architecture":"amd64"},"sourceLocation":"source/20240501000000/1.tar.gz","credentials":{}}`
	if got := uuidHex.ReplaceAllString(tk.bodies[0], "UUID"); got != wantBody {
		t.Errorf("scheduleRun body\n got %s\nwant %s", got, wantBody)
	}
	hdrs, contents := readArchive(t, tk.uploads["source/20240501000000/1.tar.gz"])
	var names []string
	for _, h := range hdrs {
		names = append(names, uuidHex.ReplaceAllString(h.Name, "UUID"))
	}
	if want := []string{"/", ".dockerignore", "Dockerfile", "a.txt", "UUID_Dockerfile"}; !slices.Equal(names, want) {
		t.Errorf("archive %q, want %q", names, want)
	}
	if contents[hdrs[len(hdrs)-1].Name] != "FROM scratch\nCOPY a.txt /\n" {
		t.Errorf("the Dockerfile's copy holds %q", contents[hdrs[len(hdrs)-1].Name])
	}
	// The temporary archive is gone.
	if left, _ := filepath.Glob(filepath.Join(e.env["TMPDIR"], "*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestACRBuildFailures(t *testing.T) {
	e := taskEnv(t)
	dir := writeTree(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	noDockerfile := writeTree(t, map[string]string{"x": ""})
	notTar := filepath.Join(t.TempDir(), "file.txt")
	_ = os.WriteFile(notTar, []byte("hello"), 0o644)
	tests := []struct {
		name     string
		script   *fakeRunScript
		args     []string
		wantCode int
		wantErr  string
	}{
		{"failed run", ptrScript(growingLog("Failed")), []string{dir}, 1, "ERROR: Run failed\n"},
		{"timed out", ptrScript(growingLog("TimedOut")), []string{dir}, 1, "ERROR: Run timed out\n"},
		{"canceled", ptrScript(growingLog("canceled")), []string{dir}, 1, "ERROR: Run was canceled\n"},
		{"internal error", ptrScript(growingLog("InternalError")), []string{dir}, 1, "ERROR: Run failed\n"},
		{"no Dockerfile", nil, []string{noDockerfile}, 1, "ERROR: Unable to find '" + filepath.Join(noDockerfile, "Dockerfile") + "'.\n"},
		{"a file that is no tarball", nil, []string{notTar}, 1, "ERROR: Source location should be a local directory path or remote URL.\n"},
		{"nothing there", nil, []string{"./nope"}, 1, "ERROR: './nope' doesn't exist.\n"},
		{"bad platform", nil, []string{"--platform", "linux/sparc", "https://example.com/x.git"}, 1,
			"ERROR: 'sparc' is not a valid value for Architecture specified in --platform. Valid options are amd64,x86,386,arm,arm64.\n"},
		{"bad timeout", nil, []string{"--timeout", "soon", dir}, 2, "ERROR: argument --timeout: invalid int value: 'soon'\n"},
		{"no source", nil, nil, 2, "ERROR: the following arguments are required: <SOURCE_LOCATION>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.script != nil {
				e.script(*tt.script)
			}
			_, stderr, code := e.run(append([]string{"acr", "build", "-r", "myregistry", "--no-push"}, tt.args...)...)
			if code != tt.wantCode || !strings.HasSuffix(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d ending %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func ptrScript(s fakeRunScript) *fakeRunScript { return &s }

// A tarball and standard input, Cerulean's extensions: uploaded as they
// are, compressed when plain, the Dockerfile named inside.
func TestACRBuildTarballs(t *testing.T) {
	e := taskEnv(t)
	var plain bytes.Buffer
	tw := tar.NewWriter(&plain)
	_ = tw.WriteHeader(&tar.Header{Name: "ctx/Dockerfile", Mode: 0o644, Size: 13, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("FROM scratch\n"))
	_ = tw.Close()
	tarPath := filepath.Join(t.TempDir(), "ctx.tar")
	_ = os.WriteFile(tarPath, plain.Bytes(), 0o644)

	e.script(growingLog("successful"), growingLog("successful"))
	if _, stderr, code := e.run("acr", "build", "-r", "myregistry", "-f", "ctx/Dockerfile", "--no-push", tarPath); code != 0 {
		t.Fatalf("tarball: exit %d\n%s", code, stderr)
	}
	e.stdin = plain.String()
	if _, stderr, code := e.run("acr", "build", "-r", "myregistry", "-f", "ctx/Dockerfile", "--no-push", "-"); code != 0 {
		t.Fatalf("stdin: exit %d\n%s", code, stderr)
	}
	tk := e.fake.tasks
	for k, rel := range []string{"source/20240501000000/1.tar.gz", "source/20240501000000/2.tar.gz"} {
		hdrs, contents := readArchive(t, tk.uploads[rel])
		if len(hdrs) != 1 || contents["ctx/Dockerfile"] != "FROM scratch\n" {
			t.Errorf("upload %d: %v", k, hdrs)
		}
		if !strings.Contains(tk.bodies[k], `"dockerFilePath":"ctx/Dockerfile"`) || !strings.Contains(tk.bodies[k], `"isPushEnabled":false`) {
			t.Errorf("body %d: %s", k, tk.bodies[k])
		}
	}
	e.stdin = "not a tar"
	if _, stderr, code := e.run("acr", "build", "-r", "myregistry", "-"); code != 1 || !strings.Contains(stderr, "The standard input is not a tar archive") {
		t.Errorf("exit %d, %s", code, stderr)
	}
}

func TestACRBuildNoWaitAndNoLogs(t *testing.T) {
	e := taskEnv(t)
	dir := writeTree(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	// az's core prints nothing for a command run with --no-wait.
	out, stderr, code := e.run("acr", "build", "-r", "myregistry", "-t", "x:1", "--no-wait", dir)
	if code != 0 || out != "" || !strings.Contains(stderr, "Queued a build with ID: ca1") || strings.Contains(stderr, "Waiting for an agent") {
		t.Errorf("--no-wait: exit %d, stdout %q, stderr %s", code, out, stderr)
	}

	e.script(fakeRunScript{statuses: []string{"Queued", "Running", "Succeeded"}})
	out = e.mustRun("acr", "build", "-r", "myregistry", "-t", "x:1", "--no-logs", "--query", "[runId,status]", "-o", "tsv", dir)
	if out != "ca2\nSucceeded\n" {
		t.Errorf("--no-logs printed %q", out)
	}
	e.script(fakeRunScript{statuses: []string{"Running", "Failed"}})
	_, stderr, code = e.run("acr", "build", "-r", "myregistry", "-t", "x:1", "--no-logs", dir)
	want := "ERROR: The run with ID 'ca3' finished with unsuccessful status 'Failed'. Show run details by 'az acr task show-run -r myregistry --run-id ca3'. Show run logs by 'az acr task logs -r myregistry --run-id ca3'.\n"
	if code != 1 || !strings.HasSuffix(stderr, want) {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

func TestACRRun(t *testing.T) {
	e := taskEnv(t)
	e.script(fakeRunScript{steps: []fakeLogStep{{text: "hello\r\n", complete: "successful"}}})
	stdout, stderr, code := e.run("acr", "run", "-r", "myregistry", "--cmd", "$Registry/busybox:1 echo hi", "--timeout", "300", "/dev/null")
	if code != 0 || stdout != "hello\r\n" || stderr != "WARNING: Queued a run with ID: ca1\nWARNING: Waiting for an agent...\n" {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	// base64 of az's own YAML for this command (get_yaml_template).
	want := `{"type":"EncodedTaskRunRequest","isArchiveEnabled":false,"encodedTaskContent":"dmVyc2lvbjogdjEuMS4wCnN0ZXBzOiAKICAtIGNtZDogJFJlZ2lzdHJ5L2J1c3lib3g6MSBlY2hvIGhpCiAgICBkaXNhYmxlV29ya2luZ0RpcmVjdG9yeU92ZXJyaWRlOiB0cnVlCiAgICB0aW1lb3V0OiAzMDAK","values":[],"timeout":300,"platform":{"os":"linux","architecture":"amd64"},"credentials":{}}`
	if got := e.fake.tasks.bodies[0]; got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	yaml := "steps:\n  - cmd: x\n"
	e.stdin = yaml
	e.script(fakeRunScript{steps: []fakeLogStep{{complete: "successful"}}})
	e.mustRun("acr", "run", "-r", "myregistry", "-f", "-", "/dev/null")
	var body struct {
		EncodedTaskContent string `json:"encodedTaskContent"`
	}
	_ = json.Unmarshal([]byte(e.fake.tasks.bodies[1]), &body)
	if dec, _ := base64.StdEncoding.DecodeString(body.EncodedTaskContent); string(dec) != "version: v1.1.0\n"+yaml {
		t.Errorf("task from stdin %q", dec)
	}
	if _, stderr, code := e.run("acr", "run", "-r", "myregistry", "--cmd", "x", "-f", "y", "/dev/null"); code != 1 ||
		!strings.Contains(stderr, "can run with either --cmd myCommand /dev/null or -f myFile mySourceLocation, but not both.") {
		t.Errorf("exit %d, %s", code, stderr)
	}
}

func TestACRTaskListRunsAndLogs(t *testing.T) {
	e := taskEnv(t)
	e.script(fakeRunScript{statuses: []string{"Succeeded"}}, fakeRunScript{statuses: []string{"Failed"},
		steps: []fakeLogStep{{text: "step failed\r\n", complete: "Failed"}}})
	e.mustRun("acr", "run", "-r", "myregistry", "--cmd", "x", "--no-logs", "/dev/null", "-o", "none")
	_, _, _ = e.run("acr", "run", "-r", "myregistry", "--cmd", "y", "--no-logs", "/dev/null")

	out := e.mustRun("acr", "task", "list-runs", "-r", "myregistry", "-o", "table")
	want := "RUN ID    TASK    PLATFORM    STATUS     TRIGGER    STARTED               DURATION\n" +
		"--------  ------  ----------  ---------  ---------  --------------------  ----------\n" +
		"ca2               linux       Failed     Manual     2024-05-01T12:00:03Z  00:01:12\n" +
		"ca1               linux       Succeeded  Manual     2024-05-01T12:00:03Z  00:01:12\n"
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
	e.mustRun("acr", "task", "list-runs", "-r", "myregistry", "--top", "1", "--run-status", "failed", "-n", "t1", "-o", "none")
	tk := e.fake.tasks
	wantQ := []string{"api-version=2019-06-01-preview&$top=15", "api-version=2019-06-01-preview&$filter=TaskName%20eq%20%27t1%27%20and%20Status%20eq%20%27Failed%27&$top=1"}
	if !slices.Equal(tk.queries, wantQ) {
		t.Errorf("queries %q, want %q", tk.queries, wantQ)
	}

	// The last run's log; a failed run is no error here.
	stdout, stderr, code := e.run("acr", "task", "logs", "-r", "myregistry")
	if code != 0 || stdout != "step failed\r\n" || stderr != "WARNING: Showing logs of the last created run.\nWARNING: Run ID: ca2\n" {
		t.Errorf("logs: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	out = e.mustRun("acr", "task", "show-run", "-r", "myregistry", "--run-id", "ca1", "--query", "status", "-o", "tsv")
	if out != "Succeeded\n" {
		t.Errorf("show-run %q", out)
	}
	if _, _, code := e.run("acr", "task", "show-run", "-r", "myregistry", "--run-id", "nope"); code != 3 {
		t.Errorf("show-run of a missing run: exit %d, want 3", code)
	}
	// The logs of a missing run: the service's error, as az 2.45 prints it.
	if _, stderr, code := e.run("acr", "task", "logs", "-r", "myregistry", "--run-id", "nope"); code != 3 || !strings.Contains(stderr, "ERROR: (RunNotFound) The run nope was not found.") {
		t.Errorf("logs of a missing run: exit %d, stderr %q", code, stderr)
	}
}
