package e2e

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAcrBuildSeed is the "done when": `az acr build` builds a
// multi-stage Dockerfile whose first stage RUNs shell commands in a base
// image imported into the registry (made here from Debian's
// busybox-static) and whose final stage is FROM scratch with a COPY
// --from; the build log streams to the terminal; `az container create`
// runs the result with an acrpull principal and its logs show what the
// RUN wrote. A second build of the unchanged context reuses every layer
// and gives the same digest; `az acr task list-runs` and `az acr task
// logs` show both runs.
func TestAcrBuildSeed(t *testing.T) {
	e := newInstancesEnv(t)
	base := e.push(t, "base/busybox:1", busyboxImage(t, "/bin/sh"))

	dir := t.TempDir()
	dockerfile := `# a two-stage build: compute in busybox, ship from scratch
ARG BASE=` + base + `
FROM ${BASE} AS build
WORKDIR /out
RUN echo "built by cerulean" > msg && echo "hello from RUN"
COPY greeting.txt /out/
RUN cat /out/greeting.txt >> msg

FROM scratch
COPY --from=build /bin/busybox /busybox
COPY --from=build /out/msg /msg
ENTRYPOINT ["/busybox", "sh", "-c", "/busybox cat /msg; /busybox sleep 600"]
`
	for name, content := range map[string]string{
		"Dockerfile":    dockerfile,
		"greeting.txt":  "and greetings from the context\n",
		"secret.txt":    "never in the context\n",
		".dockerignore": "secret.txt\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	out, errOut, code := e.az(t, "acr", "build", "-r", "mycontainerregistry", "-t", "built/app:v1", "-t", "built/app:{{.Run.ID}}", dir)
	if code != 0 {
		t.Fatalf("az acr build: exit %d\nstdout:\n%s\nstderr:\n%s\nserver:\n%s", code, out, errOut, e.log)
	}
	for _, want := range []string{"Queued a build with ID: ca1", "Waiting for an agent...", "Sending context"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !hasLine(out, "hello from RUN") || !strings.Contains(out, "Run ID: ca1 was successful after") {
		t.Errorf("the build log lacks the RUN's output or the run's result:\n%s", out)
	}
	if strings.Contains(out, "never in the context") {
		t.Error("a file .dockerignore excludes reached the build")
	}
	tags := e.mustAz(t, "acr", "repository", "show-tags", "-n", "mycontainerregistry", "--repository", "built/app", "-o", "tsv")
	if strings.Join(strings.Fields(tags), " ") != "ca1 v1" {
		t.Fatalf("tags %q, want ca1 and v1", tags)
	}
	digest := func(tag string) string {
		return e.mustAz(t, "acr", "repository", "show", "-n", "mycontainerregistry", "--image", "built/app:"+tag, "--query", "digest", "-o", "tsv")
	}
	first := digest("v1")

	// Run it with the pull principal.
	if _, errOut, code := e.az(t, "container", "create", "-g", "registries", "-n", "built", "--image", e.loginServer+"/built/app:v1",
		"--registry-login-server", e.loginServer, "--registry-username", e.puller.appID, "--registry-password", e.puller.password,
		"-o", "none", "--only-show-errors"); code != 0 {
		t.Fatalf("az container create: exit %d\n%s", code, errOut)
	}
	waitFor(t, "the built image runs and logs", func() (bool, string) {
		logs, _, _ := e.az(t, "container", "logs", "-g", "registries", "-n", "built")
		return strings.Contains(logs, "built by cerulean") && strings.Contains(logs, "and greetings from the context"), logs
	})

	// The same context again: every layer from the cache, the same digest.
	out, errOut, code = e.az(t, "acr", "build", "-r", "mycontainerregistry", "-t", "built/app:v2", dir)
	if code != 0 {
		t.Fatalf("second az acr build: exit %d\n%s\n%s", code, out, errOut)
	}
	if hasLine(out, "hello from RUN") || strings.Count(out, "Using cache") != 6 {
		t.Errorf("the second build ran its RUN again instead of using the cache:\n%s", out)
	}
	if second := digest("v2"); second != first {
		t.Fatalf("a rebuild of the same context gave %s, the first %s", second, first)
	}

	runs := e.mustAz(t, "acr", "task", "list-runs", "-r", "mycontainerregistry", "--query", "[].[runId, status]", "-o", "tsv")
	if strings.Join(strings.Fields(runs), " ") != "ca2 Succeeded ca1 Succeeded" {
		t.Fatalf("list-runs: %q", runs)
	}
	logs := e.mustAz(t, "acr", "task", "logs", "-r", "mycontainerregistry", "--run-id", "ca1")
	if !hasLine(logs, "hello from RUN") {
		t.Fatalf("task logs of ca1 lack the RUN output:\n%s", logs)
	}

	// A failing RUN fails the build with az's error and exit code.
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nRUN echo about to fail && exit 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = e.az(t, "acr", "build", "-r", "mycontainerregistry", "-t", "built/app:broken", dir)
	if code == 0 || !strings.Contains(errOut, "Run failed") || !strings.Contains(out, "about to fail") {
		t.Fatalf("a failing RUN: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
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

// TestAcrRunAndStreaming runs a command in a registry image with `az acr
// run --cmd` (the registry's login done for it, $Registry expanded), and
// checks that a build's log reaches the terminal while the build is still
// running: the first line of a RUN that then waits is printed while `az
// acr task list-runs` still says Running.
func TestAcrRunAndStreaming(t *testing.T) {
	e := newInstancesEnv(t)
	e.push(t, "base/busybox:1", busyboxImage(t, "/bin/sh"))

	out, errOut, code := e.az(t, "acr", "run", "-r", "mycontainerregistry", "--cmd", "$Registry/base/busybox:1 echo hello from acr run", "/dev/null")
	if code != 0 || !hasLine(out, "hello from acr run") || !strings.Contains(errOut, "Queued a run with ID: ca1") {
		t.Fatalf("az acr run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if _, _, code := e.az(t, "acr", "run", "-r", "mycontainerregistry", "--cmd", "$Registry/base/busybox:1 false", "/dev/null"); code == 0 {
		t.Fatal("az acr run of a failing command exited 0")
	}

	dir := t.TempDir()
	// The RUN waits until the test has seen its first line; nothing but
	// the streamed log can tell it to go on, so the test cannot pass
	// unless the log streams. It gives up after two minutes.
	dockerfile := "FROM " + e.loginServer + "/base/busybox:1\n" +
		"RUN echo first line && i=0 && while [ $i -lt 1200 ]; do i=$((i+1)); sleep 0.1; done && echo second line\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), filepath.Join(binaries(t), "az"), "acr", "build", "-r", "mycontainerregistry", "--no-push", dir)
	cmd.Env = e.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	seen := false
	for sc.Scan() {
		if strings.TrimRight(sc.Text(), "\r") == "first line" {
			seen = true
			break
		}
	}
	if !seen {
		t.Fatalf("the build's first RUN line never arrived (%v)", cmd.Wait())
	}
	status := e.mustAz(t, "acr", "task", "list-runs", "-r", "mycontainerregistry", "--top", "1", "--query", "[0].status", "-o", "tsv")
	if status != "Running" {
		t.Fatalf("the first RUN line arrived while the run was %q; it should stream while Running", status)
	}
	// Cancel the waiting build: the run ends Canceled and az stops.
	runID := e.mustAz(t, "acr", "task", "list-runs", "-r", "mycontainerregistry", "--top", "1", "--query", "[0].runId", "-o", "tsv")
	e.mustAz(t, "acr", "task", "cancel-run", "-r", "mycontainerregistry", "--run-id", runID)
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err == nil {
		t.Fatal("az acr build of a canceled run exited 0")
	}
	if got := e.mustAz(t, "acr", "task", "show-run", "-r", "mycontainerregistry", "--run-id", runID, "--query", "status", "-o", "tsv"); got != "Canceled" {
		t.Fatalf("status after cancel-run: %q", got)
	}
}
