package azureclients

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// debianDocker is Debian's docker.io: dockerd and its CLI. The CLI is
// named by path because /usr/local/bin may hold another docker.
func debianDocker(t *testing.T) (dockerd, cli string) {
	t.Helper()
	dockerd = requireCommand(t, "dockerd")
	cli = "/usr/bin/docker"
	_, err := os.Stat(cli)
	require(t, err == nil, "docker.io's "+cli+" is missing")
	return dockerd, cli
}

// docker returns Debian's docker CLI talking to a daemon of its own
// (images, containers and credentials of its own), trusting the local CA
// for the given registry login servers the way a user sets it up:
// /etc/docker/certs.d/<login server>/ca.crt, which the daemon reads.
// The daemon does no networking of its own: no bridge, no iptables.
func (e *env) docker(t *testing.T, dockerd, cli string, loginServers ...string) *engine {
	t.Helper()
	for _, ls := range loginServers {
		e.trustRegistry(t, "/etc/docker/certs.d", ls)
	}
	// A short directory: containerd's sockets live under the exec root
	// and a unix socket path has at most 107 bytes.
	dir, err := os.MkdirTemp("", "cdk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		waitProcesses(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	sock := "unix://" + filepath.Join(dir, "docker.sock")
	log := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, dockerd,
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "dockerd.pid"), "--host", sock,
		"--containerd-namespace", filepath.Base(dir), "--containerd-plugins-namespace", filepath.Base(dir)+"-plugins",
		"--bridge", "none", "--iptables=false", "--ip-masq=false", "--storage-driver", "vfs")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Stdout, cmd.Stderr = bufferWriter{log}, bufferWriter{log}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("dockerd: %v\n%s", err, log)
		}
	})

	config := filepath.Join(dir, "config")
	d := &engine{e: e, name: "docker", bin: cli, authFile: filepath.Join(config, "config.json"),
		vars: []string{
			"DOCKER_HOST=" + sock,
			"DOCKER_CONFIG=" + config,
			// Debian's docker.io has no buildx; the classic builder
			// needs no runtime for a Dockerfile without RUN.
			"DOCKER_BUILDKIT=0",
		},
		loginOK: "Login Succeeded",
		loginRefused: func(server, message string) string {
			return `Error response from daemon: Get "https://` + server + `/v2/": unauthorized: ` + message
		},
		pushRefused:   []string{scopeDenied},
		identityToken: true,
	}
	for range 300 {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("dockerd exited: %v\n%s", err, log)
		default:
		}
		if _, _, code := d.run(t, "version"); code == 0 {
			return d
		}
		sleep(t, 100)
	}
	t.Fatalf("dockerd did not answer\n%s", log)
	return nil
}

// bufferWriter writes to a syncBuffer.
type bufferWriter struct{ b *syncBuffer }

func (w bufferWriter) Write(p []byte) (int, error) {
	w.b.WriteString(string(p))
	return len(p), nil
}

// TestDockerAzureRegistry: Debian's docker logs in to a registry addressed
// as <name>.azurecr.io with a service principal, with `az acr login` and
// with the admin user, pushes, pulls and runs.
func TestDockerAzureRegistry(t *testing.T) {
	dockerd, cli := debianDocker(t)
	requireCommand(t, "runc")
	registryClients(t, "dockerregistry", func(e *env, loginServers ...string) *engine {
		return e.docker(t, dockerd, cli, loginServers...)
	})
}
