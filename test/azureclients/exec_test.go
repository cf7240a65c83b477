package azureclients

import (
	"encoding/json"
	"strings"
	"testing"
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
	pc.build(t, long, busybox, "echo ready; /bin/busybox sleep 300")
	pc.must(t, "push", long)
	short := loginServer + "/once:v1"
	pc.build(t, short, busybox, "echo attached-output; /bin/busybox sleep 3")
	pc.must(t, "push", short)

	create := func(name, image, policy string) {
		t.Helper()
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
	e.must(t, owner, az, "group", "delete", "--name", "execGroup", "--yes")
}
