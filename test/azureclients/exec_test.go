package azureclients

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAzureCLIExec runs Debian's az container exec and attach against a
// container group that runs a private image. az's exec is a websocket
// (websocket-client) opened on the webSocketUri the exec POST returns, and
// it puts its stdin in raw mode, so it runs under a pseudo-terminal
// (script from util-linux). az's attach polls the container's logs until
// the container has terminated.
func TestAzureCLIExec(t *testing.T) {
	az := requireCommand(t, "az")
	podman := requireCommand(t, "podman")
	script := requireCommand(t, "script")
	busybox := requireBusybox(t)
	e := newEnv(t)
	owner := e.azConfig(t)
	c := e.creds

	e.must(t, owner, az, "login", "--service-principal", "-u", c.AppID, "-p", c.Password, "--tenant", c.TenantID, "-o", "none")
	e.must(t, owner, az, "group", "create", "--name", "execGroup", "--location", "eastus", "-o", "none")
	e.must(t, owner, az, "acr", "create", "--resource-group", "execGroup", "--name", "execregistry", "--sku", "Basic", "--admin-enabled", "true", "-o", "none")
	loginServer := e.must(t, owner, az, "acr", "show", "--name", "execregistry", "--query", "loginServer", "--output", "tsv")
	e.hosts(t, loginServer)
	var cred struct {
		Username  string
		Passwords []struct{ Value string }
	}
	if err := json.Unmarshal([]byte(e.must(t, owner, az, "acr", "credential", "show", "--name", "execregistry")), &cred); err != nil {
		t.Fatal(err)
	}
	if cred.Username == "" || len(cred.Passwords) == 0 {
		t.Fatalf("acr credential show: %+v", cred)
	}
	user, password := cred.Username, cred.Passwords[0].Value

	pc := e.podman(t, podman, loginServer)
	pc.login(t, loginServer, user, password)
	long := loginServer + "/waits:v1"
	// The shell is PID 1, which ignores SIGTERM without a handler: the trap
	// lets a delete stop it at once rather than after the kill timeout.
	pc.build(t, long, busybox, "trap 'exit 0' TERM; echo ready; /bin/busybox sleep 300 & wait")
	pc.must(t, "push", long)
	short := loginServer + "/once:v1"
	// Long enough for az (seconds to start on a loaded machine) to find it
	// running: attach streams logs only from a running container.
	pc.build(t, short, busybox, "trap 'exit 0' TERM; echo attached-output; /bin/busybox sleep 20 & wait")
	pc.must(t, "push", short)

	create := func(name, image, policy string) {
		t.Helper()
		// A group left running when the test fails would outlive the
		// server (its containers run under their own monitors).
		t.Cleanup(func() { e.deleteGroupQuietly(t, owner, az, "execGroup", name) })
		e.must(t, owner, az, "container", "create", "--resource-group", "execGroup", "--name", name,
			"--image", image, "--registry-login-server", loginServer,
			"--registry-username", user, "--registry-password", password,
			"--restart-policy", policy, "-o", "none")
	}
	create("waits", long, "Never")
	e.waitContainerState(t, owner, az, "execGroup", "waits", "Running")

	// az exec needs a terminal: script gives it one; its output comes
	// back through the pseudo-terminal.
	out, errOut, code := e.run(t, owner, script, "-qec",
		az+" container exec --resource-group execGroup --name waits --exec-command '/bin/busybox expr 1234 + 4321'", "/dev/null")
	if code != 0 || !strings.Contains(out, "5555") {
		t.Fatalf("az container exec: exit %d\nstdout: %q\nstderr: %s", code, out, errOut)
	}

	// attach prints the container's state and its logs until it has
	// terminated.
	create("once", short, "Never")
	out = e.must(t, owner, az, "container", "attach", "--resource-group", "execGroup", "--name", "once")
	if !strings.Contains(out, "attached-output") {
		t.Fatalf("az container attach: %q", out)
	}

	for _, name := range []string{"waits", "once"} {
		e.must(t, owner, az, "container", "delete", "--resource-group", "execGroup", "--name", name, "--yes", "-o", "none")
	}
}

// deleteGroupQuietly deletes a container group, if it is still there, when
// the test ends; t.Context is over by then, so it does not use e.run.
func (e *env) deleteGroupQuietly(t *testing.T, vars []string, az, group, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, az, "container", "delete", "--resource-group", group, "--name", name, "--yes", "-o", "none")
	cmd.Env = append(append([]string{}, e.vars...), vars...)
	if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(string(out), "ResourceNotFound") {
		t.Errorf("cleanup: az container delete %s: %v\n%s", name, err, out)
	}
}

// TestAzureCLIUsers: Cerulean's directory has no users and its tokens are
// all app-only; Debian's az reports both as it does against Azure. (In
// this package's exec_test.go because the package's other files belong
// to others.)
func TestAzureCLIUsers(t *testing.T) {
	az := requireCommand(t, "az")
	e := newEnv(t)
	owner := e.azConfig(t)
	c := e.creds
	e.must(t, owner, az, "login", "--service-principal", "-u", c.AppID, "-p", c.Password, "--tenant", c.TenantID, "-o", "none")

	// az exits 3 for a resource that is not found, 1 for other errors.
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ad", "signed-in-user", "show"}, 1, "ERROR: /me request is only valid with delegated authentication flow."},
		{[]string{"ad", "signed-in-user", "list-owned-objects"}, 1, "ERROR: /me request is only valid with delegated authentication flow."},
		{[]string{"ad", "user", "show", "--id", "someone@example.com"}, 3,
			"ERROR: Resource 'someone@example.com' does not exist or one of its queried reference-property objects are not present."},
		// az resolves the assignee (users, then service principals)
		// before it reaches the role assignment client that Debian's
		// 2.45 cannot run (az2_45Bug).
		{[]string{"role", "assignment", "create", "--assignee", "someone@example.com", "--role", "Reader",
			"--scope", "/subscriptions/" + c.SubscriptionID}, 1,
			"ERROR: Cannot find user or service principal in graph database for 'someone@example.com'."},
	}
	for _, tt := range tests {
		_, errOut, code := e.run(t, owner, az, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "Failed to query") {
			t.Errorf("az %s: exit %d\n%s\nwant exit %d and %q", strings.Join(tt.args, " "), code, errOut, tt.code, tt.want)
		}
	}
	if out := e.must(t, owner, az, "ad", "user", "list", "--upn", "someone@example.com"); out != "[]" {
		t.Errorf("az ad user list --upn: %q, want []", out)
	}
}
