package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContainerGroupRuntime runs a two-container group from a YAML file
// through the built binary and checks what a user relies on: the group's
// address forwards its port into the group, the containers share
// localhost, exec runs in the container's namespaces (PID 1 is the
// entrypoint, the hostname is the group's, the host's processes are
// invisible), a Never group that fails reports its exit code, and the
// containers keep running, with their logs, across a server restart.
func TestContainerGroupRuntime(t *testing.T) {
	e := newInstancesEnv(t)
	image := e.push(t, "tools:v1", busyboxImage(t, "/bin/sh", "-c", "sleep 600"))
	yaml := fmt.Sprintf(`apiVersion: 2023-05-01
location: eastus
name: webgroup
type: Microsoft.ContainerInstance/containerGroups
properties:
  osType: Linux
  restartPolicy: Always
  imageRegistryCredentials:
  - server: %[2]s
    username: %[3]s
    password: %[4]s
  ipAddress:
    type: Public
    ports:
    - port: 8080
      protocol: TCP
  containers:
  - name: web
    properties:
      image: %[1]s
      command: ["/bin/sh", "-c", "mkdir -p /www && echo served-from-web > /www/index.html && echo web up && exec httpd -f -p 8080 -h /www"]
      ports:
      - port: 8080
      resources:
        requests: {cpu: 0.5, memoryInGB: 0.5}
  - name: probe
    properties:
      image: %[1]s
      command: ["/bin/sh", "-c", "while true; do wget -qO- http://localhost:8080/ && sleep 1 || sleep 0.2; done"]
      resources:
        requests: {cpu: 0.5, memoryInGB: 0.5}
`, image, e.loginServer, e.puller.appID, e.puller.password)
	file := filepath.Join(t.TempDir(), "group.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustAz(t, "container", "create", "-g", "registries", "--file", file, "-o", "none")
	show := func(query string) string {
		return e.mustAz(t, "container", "show", "-g", "registries", "-n", "webgroup", "--query", query, "-o", "tsv")
	}
	waitFor(t, "both containers running", func() (bool, string) {
		s := show("containers[].instanceView.currentState.state")
		return s == "Running\nRunning" || s == "Running\tRunning", s
	})
	ip := show("ipAddress.ip")
	if !strings.HasPrefix(ip, "127.") {
		t.Fatalf("group address %q is not a loopback address", ip)
	}

	// The group's address forwards 8080 into the group.
	get := func() (string, error) {
		c := http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get("http://" + ip + ":8080/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	waitFor(t, "the web container answers on the group address", func() (bool, string) {
		body, err := get()
		return err == nil && strings.Contains(body, "served-from-web"), fmt.Sprint(body, err)
	})
	// The probe container reaches the web container over localhost.
	waitFor(t, "the probe container reaches localhost:8080", func() (bool, string) {
		logs, _, _ := e.az(t, "container", "logs", "-g", "registries", "-n", "webgroup", "--container-name", "probe")
		return strings.Contains(logs, "served-from-web"), logs
	})

	// exec runs inside the container's namespaces.
	exe := func(cmd string) string {
		c := exec.Command(filepath.Join(binaries(t), "az"), "container", "exec", "-g", "registries", "-n", "webgroup",
			"--container-name", "web", "--exec-command", cmd)
		c.Env = e.env
		c.Stdin = strings.NewReader("")
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("az container exec %q: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
	if out := exe("hostname"); !strings.Contains(out, "webgroup") {
		t.Fatalf("hostname in the container: %q", out)
	}
	if out := exe("cat /proc/1/cmdline"); !strings.Contains(out, "httpd") && !strings.Contains(out, "/bin/sh") {
		t.Fatalf("PID 1 is not the entrypoint: %q", out)
	}
	ps := exe("ps")
	if strings.Contains(ps, "cerulean") || strings.Contains(ps, "sshd") || strings.Contains(ps, "systemd") {
		t.Fatalf("host processes are visible in the container:\n%s", ps)
	}
	if out := exe("cat /proc/net/dev"); strings.Contains(out, "eth0") || strings.Contains(out, "ens") || strings.Contains(out, "docker0") {
		t.Fatalf("host network interfaces are visible:\n%s", out)
	}

	// The containers outlive the server, and so do their logs.
	e.stop(t)
	if body, err := get(); err != nil || !strings.Contains(body, "served-from-web") {
		t.Fatalf("the group stopped answering when the server stopped: %q %v", body, err)
	}
	restarted := startServer(t, e.dataDir, e.addr)
	e.server = restarted
	e.mustAz(t, "login", "-o", "none")
	if s := show("containers[0].instanceView.currentState.state"); s != "Running" {
		t.Fatalf("after a server restart the web container is %q", s)
	}
	logs := e.mustAz(t, "container", "logs", "-g", "registries", "-n", "webgroup", "--container-name", "web")
	if !strings.Contains(logs, "web up") {
		t.Fatalf("the web container's log was lost across the restart: %q", logs)
	}
	if body, err := get(); err != nil || !strings.Contains(body, "served-from-web") {
		t.Fatalf("the group does not answer after the server restarted: %q %v", body, err)
	}
	e.mustAz(t, "container", "delete", "-g", "registries", "-n", "webgroup", "--yes", "-o", "none")
	if _, err := get(); err == nil {
		t.Fatal("the group's port still answers after delete")
	}
}

// TestRestartPolicyNeverReportsTheExitCode: a Never group whose container
// exits 3 leaves provisioning Succeeded, the container Terminated with exit
// code 3 and detail Error, and the group Failed — ACI's reporting.
func TestRestartPolicyNeverReportsTheExitCode(t *testing.T) {
	e := newInstancesEnv(t)
	image := e.push(t, "fails:v1", busyboxImage(t, "/bin/sh", "-c", "echo about to fail; exit 3"))
	e.mustAz(t, "container", "create", "-g", "registries", "-n", "failing", "--image", image,
		"--registry-login-server", e.loginServer, "--registry-username", e.puller.appID, "--registry-password", e.puller.password,
		"--restart-policy", "Never", "-o", "none")
	q := "[provisioningState, instanceView.state, containers[0].instanceView.currentState.state, to_string(containers[0].instanceView.currentState.exitCode), containers[0].instanceView.currentState.detailStatus]"
	waitFor(t, "the container terminates", func() (bool, string) {
		got := strings.Join(strings.Fields(e.mustAz(t, "container", "show", "-g", "registries", "-n", "failing", "--query", q, "-o", "tsv")), " ")
		return got == "Succeeded Failed Terminated 3 Error", got
	})
	logs := e.mustAz(t, "container", "logs", "-g", "registries", "-n", "failing")
	if !strings.Contains(logs, "about to fail") {
		t.Fatalf("logs %q", logs)
	}
}

// TestContainerLimitsThroughTheBinary: the container gets the default
// capability set and the CPU quota it asked for, and an allocation past
// its memory is OOM-killed and reported as ACI reports it (Terminated,
// exit code 137, OOMKilled).
func TestContainerLimitsThroughTheBinary(t *testing.T) {
	e := newInstancesEnv(t)
	image := e.push(t, "limits:v1", busyboxImage(t, "/bin/sh", "-c", "sleep 600"))
	script := `grep CapEff /proc/self/status; echo quota=$(cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us); ` +
		`echo allocating; x=$(head -c 400000000 /dev/zero | tr '\000' a); echo survived`
	e.mustAz(t, "container", "create", "-g", "registries", "-n", "limits", "--image", image,
		"--registry-login-server", e.loginServer, "--registry-username", e.puller.appID, "--registry-password", e.puller.password,
		"--restart-policy", "Never", "--cpu", "0.5", "--memory", "0.1", "--command-line", "/bin/sh -c \""+script+"\"", "-o", "none")
	q := "[containers[0].instanceView.currentState.state, to_string(containers[0].instanceView.currentState.exitCode), containers[0].instanceView.currentState.detailStatus]"
	waitFor(t, "the allocation is OOM-killed", func() (bool, string) {
		got := strings.Join(strings.Fields(e.mustAz(t, "container", "show", "-g", "registries", "-n", "limits", "--query", q, "-o", "tsv")), " ")
		return got == "Terminated 137 OOMKilled", got
	})
	logs := e.mustAz(t, "container", "logs", "-g", "registries", "-n", "limits")
	// containerd's and Docker's default set: CHOWN DAC_OVERRIDE FSETID FOWNER
	// MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT
	// KILL AUDIT_WRITE.
	if !strings.Contains(logs, "CapEff:\t00000000a80425fb") {
		t.Errorf("capabilities are not the default set:\n%s", logs)
	}
	if !strings.Contains(logs, "quota=50000") {
		t.Errorf("the CPU quota is not half a core:\n%s", logs)
	}
	if strings.Contains(logs, "survived") {
		t.Errorf("the allocation past the memory limit survived:\n%s", logs)
	}
}

// TestRestartPoliciesAndAttach: under Always a container that exits 0 is
// restarted after its back-off (restartCount, previousState Completed,
// Started counted twice); under OnFailure it is not, and the group
// Succeeds; `az container attach` streams the output of a container.
func TestRestartPoliciesAndAttach(t *testing.T) {
	e := newInstancesEnv(t)
	image := e.push(t, "once:v1", busyboxImage(t, "/bin/sh", "-c", "echo ran-once; sleep 1; exit 0"))
	create := func(name, policy string) {
		e.mustAz(t, "container", "create", "-g", "registries", "-n", name, "--image", image,
			"--registry-login-server", e.loginServer, "--registry-username", e.puller.appID, "--registry-password", e.puller.password,
			"--restart-policy", policy, "-o", "none")
	}
	create("always", "Always")
	create("onfailure", "OnFailure")

	out, errOut, code := e.az(t, "container", "attach", "-g", "registries", "-n", "onfailure")
	if code != 0 || !strings.Contains(out+errOut, "ran-once") {
		t.Fatalf("az container attach: exit %d\n%s\n%s", code, out, errOut)
	}
	waitFor(t, "OnFailure: the group succeeds without a restart", func() (bool, string) {
		got := strings.Join(strings.Fields(e.mustAz(t, "container", "show", "-g", "registries", "-n", "onfailure", "--query",
			"[instanceView.state, to_string(containers[0].instanceView.restartCount), containers[0].instanceView.currentState.detailStatus]", "-o", "tsv")), " ")
		return got == "Succeeded 0 Completed", got
	})

	deadline := time.Now().Add(45 * time.Second)
	for {
		got := strings.Join(strings.Fields(e.mustAz(t, "container", "show", "-g", "registries", "-n", "always", "--query",
			"[instanceView.state, to_string(containers[0].instanceView.restartCount), containers[0].instanceView.previousState.detailStatus, to_string(containers[0].instanceView.events[?name=='Started'].count | [0])]", "-o", "tsv")), " ")
		if strings.HasPrefix(got, "Running 1 Completed 2") || strings.HasPrefix(got, "Running 2 Completed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Always: the container was not restarted after exiting 0: %s", got)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
