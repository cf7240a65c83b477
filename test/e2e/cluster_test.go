package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runnerGroups lists the group instances a server's runner holds.
func runnerGroups(dataDir string) []string {
	entries, _ := os.ReadDir(filepath.Join(dataDir, "instances", "groups"))
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestContainerGroupsOnTwoServers runs two servers on one PostgreSQL
// database and one S3 bucket: a group created through server A runs on A;
// show, logs, exec, stop and start through server B are forwarded to A and
// B's runner never holds it; when A stops, B takes the group over once A's
// lease runs out and runs it; when A comes back it lets go of its copy;
// delete through A is forwarded to B.
func TestContainerGroupsOnTwoServers(t *testing.T) {
	requireRuntime(t)
	storeURL := postgresDatabase(t)
	blobsURL, _ := s3Blobs(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	addrA, addrB := freeAddr(t), freeAddr(t)
	flags := []string{"--store", storeURL, "--blobs", blobsURL, "--server-lease", "6s"}
	a := startServer(t, dirA, addrA, flags...)
	b := startServer(t, dirB, addrB, flags...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server A:\n%s\nserver B:\n%s", a.log, b.log)
		}
	})
	// One az profile; the endpoint picks the server.
	b.env = append(append([]string(nil), a.env...), "CERULEAN_ENDPOINT=https://"+addrB)

	e := &registryEnv{server: a, transport: loopbackTransport(t, a)}
	e.mustAz(t, "login", "-o", "none")
	e.mustAz(t, "group", "create", "-n", "registries", "-l", "eastus", "-o", "none")
	regID, loginServer := e.createRegistry(t, "clusterreg")
	ie := &instancesEnv{registryEnv: e, registryID: regID, loginServer: loginServer}
	ie.pusher = e.newPrincipal(t, "cluster-push", "acrpush", regID)
	puller := e.newPrincipal(t, "cluster-pull", "acrpull", regID)
	image := ie.push(t, "ticker:v1", busyboxImage(t, "/bin/sh", "-c", "echo hello from $(hostname); sleep 600"))

	up := a // the server the cleanup deletes through
	t.Cleanup(func() {
		cmd := exec.Command(filepath.Join(binaries(t), "az"), "container", "delete", "-g", "registries", "-n", "shared", "--yes", "-o", "none")
		cmd.Env = up.env
		_ = cmd.Run()
	})
	a.mustAz(t, "container", "create", "-g", "registries", "-n", "shared", "--image", image,
		"--registry-login-server", loginServer, "--registry-username", puller.appID, "--registry-password", puller.password,
		"--only-show-errors", "-o", "none")
	// Not fatal: between A's death and the end of its lease, B answers
	// 503 ServerUnavailable (retry later).
	state := func(s *server) string {
		out, errOut, code := s.az(t, "container", "show", "-g", "registries", "-n", "shared", "--query", "containers[0].instanceView.currentState.state", "-o", "tsv")
		if code != 0 {
			return errOut
		}
		return out
	}
	running := func(s *server) func() (bool, string) {
		return func() (bool, string) {
			st := state(s)
			logs, _, _ := s.az(t, "container", "logs", "-g", "registries", "-n", "shared")
			return st == "Running" && strings.Contains(logs, "hello from shared"), st + ": " + logs
		}
	}
	// Through B: the state and the log only A's runner knows.
	waitFor(t, "the group runs, seen through B", running(b))
	if g := runnerGroups(dirB); len(g) != 0 {
		t.Fatalf("B's runner holds %v: the group runs on both servers", g)
	}
	if g := runnerGroups(dirA); len(g) != 1 {
		t.Fatalf("A's runner holds %v, want the one group", g)
	}
	// exec's websocket through B reaches A's session.
	cmd := exec.Command(filepath.Join(binaries(t), "az"), "container", "exec", "-g", "registries", "-n", "shared", "--exec-command", "hostname")
	cmd.Env, cmd.Stdin = b.env, strings.NewReader("")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "shared") {
		t.Fatalf("az container exec through B: %v\n%s", err, out)
	}
	b.mustAz(t, "container", "stop", "-g", "registries", "-n", "shared", "-o", "none")
	if st := a.mustAz(t, "container", "show", "-g", "registries", "-n", "shared", "--query", "instanceView.state", "-o", "tsv"); st != "Stopped" {
		t.Fatalf("after stop through B the group is %q", st)
	}
	b.mustAz(t, "container", "start", "-g", "registries", "-n", "shared", "-o", "none")
	waitFor(t, "the group runs again after start through B", running(b))
	if g := runnerGroups(dirB); len(g) != 0 {
		t.Fatalf("B's runner holds %v after start through B", g)
	}

	// A stops (its containers outlive it, as on a restart); once its lease
	// runs out B takes the group over and runs it.
	a.stop(t)
	up = b
	waitFor(t, "B takes the group over", func() (bool, string) {
		ok, st := running(b)()
		return ok && len(runnerGroups(dirB)) == 1, st
	})
	// A comes back: the group is B's now, and A lets go of its copy.
	a2 := startServer(t, dirA, addrA, flags...)
	a2.env = a.env
	waitFor(t, "A removes the group it no longer owns", func() (bool, string) {
		g := runnerGroups(dirA)
		return len(g) == 0, strings.Join(g, ",")
	})
	if st := state(a2); st != "Running" {
		t.Fatalf("through A after the take-over the group is %q", st)
	}
	// Delete through A goes to B, whose runner lets go.
	a2.mustAz(t, "container", "delete", "-g", "registries", "-n", "shared", "--yes", "-o", "none")
	if g := runnerGroups(dirB); len(g) != 0 {
		t.Fatalf("B's runner holds %v after delete", g)
	}
}
