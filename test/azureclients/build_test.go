package azureclients

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerregistry/armcontainerregistry"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cerulean/cerulean/test/testimage"
)

// TestAzureCLIBuild runs ACR Tasks with Debian's azure-cli in the
// AzureCloud cloud: az acr build uploads its context to
// cerulean.blob.core.windows.net (the blob host of --azure-hostnames) and
// tails the run's log there; az acr run, task list-runs and task logs.
func TestAzureCLIBuild(t *testing.T) {
	az := requireCommand(t, "az")
	requireRunc(t)
	e := newEnv(t)
	owner := e.azConfig(t)
	e.azLogin(t, owner, e.creds.AppID, e.creds.Password)
	runBuild(t, e, az, owner, "azurecr.io", "cerulean.blob.core.windows.net", true)
	goSDKBuild(t, e)
	buildParity(t, e, az)
}

// TestAzureCLIBuildRegisteredCloud is the same in a cloud registered from
// /metadata/endpoints: az takes the blob host from the upload URL
// (cerulean.blob.<registry domain>), never from the cloud's storage
// suffix, so the hosts line needs that one name more.
func TestAzureCLIBuildRegisteredCloud(t *testing.T) {
	az := requireCommand(t, "az")
	requireRunc(t)
	e := newRegisteredCloudEnv(t)
	vars := e.azConfig(t)
	e.must(t, vars, az, "cloud", "register", "--name", "Stack", "--endpoint-resource-manager", e.base)
	e.vars = append(e.vars, "ARM_CLOUD_METADATA_URL="+e.base+"metadata/endpoints?api-version=2019-05-01")
	owner := e.azConfig(t)
	e.azLogin(t, owner, e.creds.AppID, e.creds.Password)
	// Only the essentials here: the AzureCloud test covers every command.
	runBuild(t, e, az, owner, "azurecr.localhost", "cerulean.blob.azurecr.localhost", false)
}

// requireRunc requires the container runtime a RUN step needs.
func requireRunc(t *testing.T) {
	t.Helper()
	requireCommand(t, "runc")
	requireBusybox(t)
}

// runBuild: a registry with a busybox base image, a two-stage az acr build
// whose log streams, the runs listed and their logs, a failing build; all
// adds az acr run, --no-wait and --no-logs.
func runBuild(t *testing.T, e *env, az string, owner []string, registryDomain, blobHost string, all bool) {
	t.Helper()
	const reg = "buildregistry"
	e.must(t, owner, az, "group", "create", "--name", "buildGroup", "--location", "eastus", "-o", "none")
	e.must(t, owner, az, "acr", "create", "--resource-group", "buildGroup", "--name", reg, "--sku", "Basic", "-o", "none")
	loginServer := reg + "." + registryDomain
	e.hosts(t, loginServer, blobHost)

	// The base image, pushed with the token az acr login gives.
	var tok struct{ AccessToken string }
	if err := json.Unmarshal([]byte(e.must(t, owner, az, "acr", "login", "--name", reg, "--expose-token")), &tok); err != nil {
		t.Fatal(err)
	}
	base := loginServer + "/base/busybox:1"
	e.pushBusybox(t, base, tok.AccessToken)

	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Dockerfile", `FROM `+base+` AS build
WORKDIR /out
RUN echo "built by cerulean" > msg && echo "hello from RUN"
COPY greeting.txt /out/

FROM scratch
COPY --from=build /bin/busybox /busybox
COPY --from=build /out/ /
ENTRYPOINT ["/busybox", "cat", "/msg", "/greeting.txt"]
`)
	write("greeting.txt", "and greetings from the context\n")
	write("secret.txt", "never in the context\n")
	write(".dockerignore", "secret.txt\n")

	start := time.Now()
	out, errOut, code := e.run(t, owner, az, "acr", "build", "-r", reg, "-t", "app:v1", dir)
	t.Logf("az acr build: %s", time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("az acr build: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	t.Logf("az acr build\nstdout:\n%s\nstderr:\n%s", out, errOut)
	for _, want := range []string{"Packing source code into tar to upload...", "Sending context (", "Queued a build with ID: ca1", "Waiting for an agent..."} {
		if !strings.Contains(errOut, want) {
			t.Errorf("az acr build: stderr lacks %q:\n%s", want, errOut)
		}
	}
	lines := strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n")
	if !hasLine(out, "hello from RUN") || !regexp.MustCompile(`^Run ID: ca1 was successful after \d+s$`).MatchString(lines[len(lines)-1]) {
		t.Errorf("az acr build: stdout lacks the RUN's output or does not end with the run's result:\n%s", out)
	}
	if strings.Contains(out, "never in the context") {
		t.Error("a file .dockerignore excludes reached the build")
	}
	if tags := e.must(t, owner, az, "acr", "repository", "show-tags", "-n", reg, "--repository", "app", "-o", "tsv"); tags != "v1" {
		t.Fatalf("show-tags app: %q", tags)
	}

	// list-runs as az's table and as JSON.
	table := e.must(t, owner, az, "acr", "task", "list-runs", "-r", reg, "-o", "table")
	tl := strings.Split(table, "\n")
	if len(tl) != 3 || strings.Join(strings.Fields(tl[0]), " ") != "RUN ID TASK PLATFORM STATUS TRIGGER STARTED DURATION" {
		t.Fatalf("list-runs -o table:\n%s", table)
	}
	if !regexp.MustCompile(`^ca1\s+linux\s+Succeeded\s+Manual\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+\d\d:\d\d:\d\d$`).MatchString(tl[2]) {
		t.Errorf("list-runs -o table: row %q", tl[2])
	}
	var runs []struct {
		RunID, Status, RunType, Name, Type, ProvisioningState string
		OutputImages                                          []struct{ Registry, Repository, Tag, Digest string }
		Platform                                              struct{ OS string }
	}
	if err := json.Unmarshal([]byte(e.must(t, owner, az, "acr", "task", "list-runs", "-r", reg, "-o", "json")), &runs); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].RunID != "ca1" || runs[0].Name != "ca1" || runs[0].Status != "Succeeded" || runs[0].RunType != "QuickBuild" ||
		runs[0].ProvisioningState != "Succeeded" || runs[0].Platform.OS != "linux" || len(runs[0].OutputImages) != 1 ||
		runs[0].OutputImages[0].Registry != loginServer || runs[0].OutputImages[0].Repository != "app" || runs[0].OutputImages[0].Tag != "v1" ||
		!strings.HasPrefix(runs[0].OutputImages[0].Digest, "sha256:") {
		t.Errorf("list-runs -o json: %+v", runs)
	}

	// task logs replays the log: the same lines, exit 0.
	logs := e.must(t, owner, az, "acr", "task", "logs", "-r", reg, "--run-id", "ca1")
	if !hasLine(logs, "hello from RUN") || !strings.Contains(logs, "Run ID: ca1 was successful after") {
		t.Errorf("az acr task logs --run-id ca1:\n%s", logs)
	}

	// --image: the runs that output the manifest a tag names.
	if got := e.must(t, owner, az, "acr", "task", "list-runs", "-r", reg, "--image", "app:v1", "--query", "[].runId", "-o", "tsv"); got != "ca1" {
		t.Errorf("list-runs --image app:v1: %q", got)
	}
	if _, errOut, code := e.run(t, owner, az, "acr", "task", "logs", "-r", reg, "--image", "app:v1"); code != 0 || !strings.Contains(errOut, "Run ID: ca1") {
		t.Errorf("task logs --image app:v1: exit %d\n%s", code, errOut)
	}

	// A failing RUN: az's "Run failed" and a non-zero exit.
	write("Dockerfile", "FROM "+base+"\nRUN echo about to fail && exit 3\n")
	out, errOut, code = e.run(t, owner, az, "acr", "build", "-r", reg, "-t", "app:broken", dir)
	if code == 0 || !strings.Contains(errOut, "Run failed") || !hasLine(out, "about to fail") {
		t.Fatalf("a failing RUN: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	t.Logf("a failing RUN\nstdout:\n%s\nstderr:\n%s", out, errOut)
	// task logs of a failed run still exits 0.
	if logs := e.must(t, owner, az, "acr", "task", "logs", "-r", reg, "--run-id", "ca2"); !hasLine(logs, "about to fail") {
		t.Errorf("az acr task logs --run-id ca2:\n%s", logs)
	}
	if !all {
		return
	}

	// A quick run with the registry's login done: $Registry is its login server.
	out, errOut, code = e.run(t, owner, az, "acr", "run", "-r", reg, "--cmd", "$Registry/base/busybox:1 echo hello from acr run $ID", "/dev/null")
	if code != 0 || !hasLine(out, "hello from acr run ca3") || !strings.Contains(errOut, "Queued a run with ID: ca3") {
		t.Fatalf("az acr run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	t.Logf("az acr run\nstdout:\n%s\nstderr:\n%s", out, errOut)
	// -f names a task file whose steps az sends after its own version line.
	taskFile := filepath.Join(t.TempDir(), "steps.yaml")
	if err := os.WriteFile(taskFile, []byte("steps:\n  - cmd: $Registry/base/busybox:1 echo first step\n  - id: second\n    cmd: $Registry/base/busybox:1 echo second step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = e.run(t, owner, az, "acr", "run", "-r", reg, "-f", taskFile, "/dev/null")
	if code != 0 || !hasLine(out, "first step") || !hasLine(out, "second step") || !strings.Contains(out, "Step ID: second marked as successful") || !strings.Contains(errOut, "Queued a run with ID: ca4") {
		t.Fatalf("az acr run -f: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// A long log comes in 4 KiB ranges; az prints each line once, in order.
	write("Dockerfile", "FROM "+base+"\nRUN seq 1 20000\n")
	out, errOut, code = e.run(t, owner, az, "acr", "build", "-r", reg, "--no-push", dir)
	if code != 0 {
		t.Fatalf("az acr build of a long log: exit %d\n%s", code, errOut)
	}
	var numbers []string
	for l := range strings.Lines(out) {
		if l = strings.TrimRight(l, "\r\n"); l != "" && strings.Trim(l, "0123456789") == "" {
			numbers = append(numbers, l)
		}
	}
	if len(numbers) != 20000 || numbers[0] != "1" || numbers[19999] != "20000" {
		t.Errorf("the long log printed %d number lines", len(numbers))
	} else {
		for i, n := range numbers {
			if n != strconv.Itoa(i+1) {
				t.Errorf("line %d of the long log is %q", i+1, n)
				break
			}
		}
	}

	// --no-wait queues the run and prints nothing else (az drops the
	// result of a command run with --no-wait); task logs then follows it
	// to its end.
	write("Dockerfile", "FROM "+base+"\nRUN echo later\n")
	out, errOut, code = e.run(t, owner, az, "acr", "build", "-r", reg, "-t", "app:later", "--no-wait", dir)
	if code != 0 || out != "" || !strings.Contains(errOut, "Queued a build with ID: ca6") || strings.Contains(errOut, "Waiting for an agent") {
		t.Fatalf("az acr build --no-wait: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if logs := e.must(t, owner, az, "acr", "task", "logs", "-r", reg, "--run-id", "ca6"); !hasLine(logs, "later") || !strings.Contains(logs, "Run ID: ca6 was successful after") {
		t.Errorf("az acr task logs --run-id ca6:\n%s", logs)
	}

	// --no-logs polls GET runs/{id} every 30 s until the run ends.
	start = time.Now()
	var done struct{ RunID, Status string }
	if err := json.Unmarshal([]byte(e.must(t, owner, az, "acr", "build", "-r", reg, "-t", "app:quiet", "--no-logs", dir, "-o", "json")), &done); err != nil {
		t.Fatal(err)
	}
	t.Logf("az acr build --no-logs: %s", time.Since(start).Round(time.Millisecond))
	if done.RunID != "ca7" || done.Status != "Succeeded" {
		t.Errorf("az acr build --no-logs: %+v", done)
	}

	// A context of 64 MiB or more goes up in 4 MiB blocks, two at a time,
	// then a block list; with no -t nothing is pushed.
	big := t.TempDir()
	noise := make([]byte, 65<<20)
	rng := rand.NewChaCha8([32]byte{'c', 'e', 'r', 'u', 'l', 'e', 'a', 'n'})
	_, _ = rng.Read(noise)
	if err := os.WriteFile(filepath.Join(big, "noise.bin"), noise, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(big, "Dockerfile"), []byte("FROM scratch\nCOPY noise.bin /\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	puts := func() int { return strings.Count(e.log.String(), "method=PUT host="+blobHost+" ") }
	before := puts()
	start = time.Now()
	out, errOut, code = e.run(t, owner, az, "acr", "build", "-r", reg, big)
	t.Logf("az acr build of a 65 MiB context: %s", time.Since(start).Round(time.Millisecond))
	if code != 0 || !strings.Contains(out, "Run ID: ca8 was successful after") ||
		!regexp.MustCompile(`Sending context \(65\.\d{3} MiB\) to registry: `+reg+`\.\.\.`).MatchString(errOut) ||
		!strings.Contains(errOut, "'--image or -t' is not provided. Skipping image push after build.") {
		t.Fatalf("az acr build of a 65 MiB context: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if n := puts() - before; n != 18 { // 17 blocks and the list
		t.Errorf("the 65 MiB context went up in %d PUTs, want 18", n)
	}

	// A Dockerfile named by -f outside the context, build arguments (one
	// from the environment, one secret), --target and a templated tag.
	other := t.TempDir()
	custom := filepath.Join(other, "Custom.dockerfile")
	if err := os.WriteFile(custom, []byte("FROM "+base+" AS first\nARG A\nARG B\nARG S\n"+
		"RUN echo \"A=$A B=$B\" && test \"$S\" = top\"\"secret && echo \"secret: $S\"\n"+
		"FROM first\nRUN echo never\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = e.run(t, append(owner, "B=from-env"), az, "acr", "build", "-r", reg, "-t", "opts:{{.Run.ID}}", "-f", custom,
		"--build-arg", "A=1", "--build-arg", "B", "--secret-build-arg", "S=topsecret", "--target", "first", dir)
	if code != 0 || !hasLine(out, "A=1 B=from-env") || !strings.Contains(out, "\nsecret: *") || strings.Contains(out, "topsecret") || strings.Contains(out, "never") {
		t.Fatalf("az acr build -f --build-arg --secret-build-arg --target: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if tags := e.must(t, owner, az, "acr", "repository", "show-tags", "-n", reg, "--repository", "opts", "-o", "tsv"); tags != "ca9" {
		t.Errorf("show-tags opts: %q, want the run's id", tags)
	}

	// cancel-run stops a running quick run; its log ends, and task logs
	// (which never fails for the run's status) says so.
	out, errOut, code = e.run(t, owner, az, "acr", "run", "-r", reg, "--cmd", "$Registry/base/busybox:1 sleep 300", "--no-wait", "/dev/null")
	if code != 0 || out != "" || !strings.Contains(errOut, "Queued a run with ID: caa") {
		t.Fatalf("az acr run --no-wait: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	status := func() string {
		return e.must(t, owner, az, "acr", "task", "show-run", "-r", reg, "--run-id", "caa", "--query", "status", "-o", "tsv")
	}
	for i := 0; status() != "Running"; i++ {
		if i == 60 {
			t.Fatal("run caa never ran")
		}
		sleep(t, 500)
	}
	e.must(t, owner, az, "acr", "task", "cancel-run", "-r", reg, "--run-id", "caa")
	if logs := e.must(t, owner, az, "acr", "task", "logs", "-r", reg, "--run-id", "caa"); !strings.Contains(logs, "Run ID: caa") {
		t.Errorf("az acr task logs of a canceled run:\n%s", logs)
	}
	if got := status(); got != "Canceled" {
		t.Errorf("run caa is %s after cancel-run", got)
	}
	// update-run records isArchiveEnabled.
	if got := e.must(t, owner, az, "acr", "task", "update-run", "-r", reg, "--run-id", "ca1", "--no-archive", "false", "--query", "isArchiveEnabled", "-o", "tsv"); got != "true" {
		t.Errorf("update-run --no-archive false: isArchiveEnabled %q", got)
	}
}

// pushBusybox pushes a one-layer linux/amd64 image of the host's static
// busybox and the links a shell script needs, with an ACR access token.
func (e *env) pushBusybox(t *testing.T, ref, token string) {
	t.Helper()
	img, err := testimage.Busybox(requireBusybox(t), []string{"/bin/sh"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	auth := &authn.Basic{Username: "00000000-0000-0000-0000-000000000000", Password: token}
	if err := remote.Write(r, img, remote.WithAuth(auth), remote.WithTransport(e.transport(t)), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// hasLine reports whether text has a line that is exactly line (a RUN's
// output, not the step that echoes its command).
func hasLine(text, line string) bool {
	for l := range strings.Lines(text) {
		if strings.TrimRight(l, "\r\n") == line {
			return true
		}
	}
	return false
}

// buildParity runs the ACR Tasks commands with Cerulean's own az as with
// the real one, against the runs runBuild left: where they differ, the
// real az is right.
func buildParity(t *testing.T, e *env, az string) {
	t.Helper()
	const reg = "buildregistry"
	bin := binary(t)
	real := e.azConfig(t)
	e.azLogin(t, real, e.creds.AppID, e.creds.Password)
	cer := append(e.azConfig(t), "CERULEAN_ENDPOINT=https://management.azure.com", "CERULEAN_DATA_DIR="+e.dataDir)
	e.must(t, cer, bin, "az", "login", "--service-principal", "-u", e.creds.AppID, "-p", e.creds.Password, "--tenant", e.creds.TenantID, "-o", "none")
	both := func(args ...string) (ro, re string, rc int, co, ce string, cc int) {
		ro, re, rc = e.run(t, real, az, args...)
		co, ce, cc = e.run(t, cer, bin, append([]string{"az"}, args...)...)
		dump(t, strings.Join(args, " "), ro+"\n--stderr--\n"+re, co+"\n--stderr--\n"+ce)
		return
	}
	sameText := func(args ...string) {
		t.Helper()
		ro, re, rc, co, ce, cc := both(args...)
		if rc != cc || ro != co || maskPerCall(re) != maskPerCall(ce) {
			t.Errorf("az %s differs:\nreal (exit %d):\n%s\n%s\ncerulean (exit %d):\n%s\n%s", strings.Join(args, " "), rc, ro, re, cc, co, ce)
		}
	}
	for _, f := range []string{"table", "tsv"} {
		sameText("acr", "task", "list-runs", "-r", reg, "-o", f)
	}
	sameText("acr", "task", "list-runs", "-r", reg, "--top", "2", "-o", "table")
	sameText("acr", "task", "list-runs", "-r", reg, "--image", "app:v1", "-o", "table")
	sameText("acr", "task", "list-runs", "-r", reg, "--run-status", "Failed", "-o", "tsv")
	sameText("acr", "task", "show-run", "-r", reg, "--run-id", "ca1", "-o", "table")
	ro, _, _, co, _, _ := both("acr", "task", "show-run", "-r", reg, "--run-id", "ca1")
	if d := jsonDiffs(t, ro, co, nil); len(d) > 0 {
		t.Errorf("az acr task show-run differs:\n%s", strings.Join(d, "\n"))
	}
	for _, id := range []string{"ca1", "ca2"} {
		sameText("acr", "task", "logs", "-r", reg, "--run-id", id)
	}
	sameText("acr", "task", "logs", "-r", reg)
	ro, _, _, co, _, _ = both("acr", "task", "list-runs", "-r", reg, "-o", "json")
	if d := jsonDiffs(t, ro, co, nil); len(d) > 0 {
		t.Errorf("az acr task list-runs -o json differs:\n%s", strings.Join(d, "\n"))
	}
	// Errors: an unknown run.
	sameText("acr", "task", "logs", "-r", reg, "--run-id", "zz9")

	// A build and a quick run by each: the same lines but for the run's
	// own id, times and the archive's name and size.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+reg+".azurecr.io/base/busybox:1\nRUN echo parity\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	perRun := []struct {
		re   *regexp.Regexp
		repl string
	}{
		{regexp.MustCompile(`\d{4}/\d\d/\d\d \d\d:\d\d:\d\d`), "<time>"},
		{regexp.MustCompile(`\bca[0-9a-z]\b`), "<run>"},
		{regexp.MustCompile(`after \d+s`), "after <n>s"},
		{regexp.MustCompile(`seconds: [0-9.]+`), "seconds: <n>"},
		{regexp.MustCompile(`build_archive_[0-9a-f]+`), "build_archive_<id>"},
		{regexp.MustCompile(`Sending context \([0-9.]+ \w+\)`), "Sending context (<size>)"},
		{regexp.MustCompile(`[0-9a-f]{12}\b|sha256:[0-9a-f]{64}|build-[0-9a-f]{16}`), "<hex>"},
	}
	norm := func(s string) string {
		for _, p := range perRun {
			s = p.re.ReplaceAllString(s, p.repl)
		}
		return s
	}
	// The first build fills the layer cache: the compared ones both use it.
	e.must(t, real, az, "acr", "build", "-r", reg, "-t", "parity:v0", dir)
	for _, args := range [][]string{
		{"acr", "build", "-r", reg, "-t", "parity:v1", dir},
		{"acr", "run", "-r", reg, "--cmd", "$Registry/base/busybox:1 echo parity run", "/dev/null"},
		{"acr", "build", "-r", reg, "-t", "parity:v2", "--no-wait", dir},
	} {
		ro, re, rc, co, ce, cc := both(args...)
		if rc != cc || norm(ro) != norm(co) || norm(re) != norm(ce) {
			t.Errorf("az %s differs:\nreal (exit %d):\n%s\n%s\ncerulean (exit %d):\n%s\n%s", strings.Join(args, " "), rc, ro, re, cc, co, ce)
		}
	}
	// The last run ends before the server stops.
	e.must(t, real, az, "acr", "task", "logs", "-r", reg)
}

// transport reaches the server for any name, trusting its CA. It dials the
// server directly: Go's resolver reads /etc/hosts again only every few
// seconds.
func (e *env) transport(t *testing.T) *http.Transport {
	t.Helper()
	var d net.Dialer
	return &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: e.caPool(t)},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, "127.0.0.1:443")
		},
	}
}

// goSDKBuild is a build with the Azure SDK for Go (armcontainerregistry
// v1.2.0, AzureCloud): the upload URL, a Put Blob of the context as
// Azure Storage takes it, BeginScheduleRun, RunsClient.Get until the run
// ends, the log by its SAS URL, and the runs pager.
func goSDKBuild(t *testing.T, e *env) {
	t.Helper()
	const reg = "buildregistry"
	ctx := t.Context()
	hc := &http.Client{Transport: e.transport(t)}
	opts := azcore.ClientOptions{Transport: hc}
	cred, err := azidentity.NewClientSecretCredential(e.creds.TenantID, e.creds.AppID, e.creds.Password, &azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	factory, err := armcontainerregistry.NewClientFactory(e.creds.SubscriptionID, cred, &azarm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	registries, runs := factory.NewRegistriesClient(), factory.NewRunsClient()
	up, err := registries.GetBuildSourceUploadURL(ctx, "buildGroup", reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	df := []byte("FROM " + reg + ".azurecr.io/base/busybox:1\nRUN echo from the Go SDK\n")
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df))}); err != nil {
		t.Fatal(err)
	}
	_, _ = tw.Write(df)
	if err := errors.Join(tw.Close(), zw.Close()); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, *up.UploadURL, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-ms-blob-type", "BlockBlob")
	req.Header.Set("x-ms-version", "2018-11-09")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("Put Blob %s: %s", *up.UploadURL, resp.Status)
	}

	poller, err := registries.BeginScheduleRun(ctx, "buildGroup", reg, &armcontainerregistry.DockerBuildRequest{
		Type: to.Ptr("DockerBuildRequest"), SourceLocation: up.RelativePath, DockerFilePath: to.Ptr("Dockerfile"),
		ImageNames: []*string{to.Ptr("gosdk:{{.Run.ID}}")}, IsPushEnabled: to.Ptr(true),
		Platform: &armcontainerregistry.PlatformProperties{OS: to.Ptr(armcontainerregistry.OSLinux), Architecture: to.Ptr(armcontainerregistry.ArchitectureAmd64)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	queued, err := poller.PollUntilDone(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := *queued.Properties.RunID
	var run armcontainerregistry.RunsClientGetResponse
	for range 600 {
		if run, err = runs.Get(ctx, "buildGroup", reg, id, nil); err != nil {
			t.Fatal(err)
		}
		if s := *run.Properties.Status; s != armcontainerregistry.RunStatusQueued && s != armcontainerregistry.RunStatusStarted && s != armcontainerregistry.RunStatusRunning {
			break
		}
		sleep(t, 200)
	}
	p := run.Properties
	if *p.Status != armcontainerregistry.RunStatusSucceeded || len(p.OutputImages) != 1 || *p.OutputImages[0].Tag != id {
		t.Fatalf("Go SDK run %s: %+v", id, p)
	}
	logs, err := runs.GetLogSasURL(ctx, "buildGroup", reg, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = hc.Get(*logs.LogLink)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("x-ms-meta-Complete") == "" || !hasLine(string(text), "from the Go SDK") {
		t.Fatalf("Go SDK run %s log: %s %v\n%s", id, resp.Status, resp.Header, text)
	}
	pager := runs.NewListPager("buildGroup", reg, &armcontainerregistry.RunsClientListOptions{Top: to.Ptr[int32](1)})
	page, err := pager.NextPage(ctx)
	if err != nil || len(page.Value) != 1 || *page.Value[0].Name != id {
		t.Fatalf("Go SDK list runs: %v %s", err, fmt.Sprint(page.Value))
	}
}
