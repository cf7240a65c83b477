package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// cerulean runs the binary with the server's environment and returns
// stdout, stderr and the exit code.
func (s *server) cerulean(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binaries(t), "cerulean"), args...)
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("cerulean %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

func (s *server) mustCerulean(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, errOut, code := s.cerulean(t, args...)
	if code != 0 {
		t.Fatalf("cerulean %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out, errOut
}

// runtimeAvailable reports what requireRuntime checks, without skipping.
func runtimeAvailable() bool {
	if os.Geteuid() != 0 {
		return false
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return false
	}
	_, err := os.Stat("/bin/busybox")
	return err == nil
}

// TestHostsAndCA: `cerulean hosts --apply` keeps a block per data dir in
// a hosts file, beside a running server, in step with its registries and
// container groups, and leaves every other line alone; `cerulean ca` names
// the server's CA, and `ca --pem` is the CA its certificate chains to.
func TestHostsAndCA(t *testing.T) {
	var (
		e           *registryEnv
		groupLine   string // "<ip> <fqdn>" of a labelled container group
		groupLabels bool
		loginServer string // the instances environment's registry
	)
	if runtimeAvailable() {
		ie := newInstancesEnv(t)
		e, loginServer = ie.registryEnv, ie.loginServer
		image := ie.push(t, "web:v1", busyboxImage(t, "/bin/sh", "-c", "sleep 600"))
		e.mustAz(t, "container", "create", "-g", "registries", "-n", "web", "--image", image,
			"--registry-login-server", ie.loginServer, "--registry-username", ie.puller.appID, "--registry-password", ie.puller.password,
			"--dns-name-label", "hostsweb", "--ports", "80", "-o", "none", "--only-show-errors")
		ipAndFQDN := e.mustAz(t, "container", "show", "-g", "registries", "-n", "web", "--query", "[ipAddress.ip, ipAddress.fqdn]", "-o", "tsv")
		groupLine = strings.Join(strings.Fields(ipAndFQDN), " ")
		if !strings.HasPrefix(groupLine, "127.") || !strings.HasSuffix(groupLine, " hostsweb.eastus.azurecontainer.localhost") {
			t.Fatalf("container group address and FQDN %q", ipAndFQDN)
		}
		groupLabels = true
	} else {
		t.Log("no container runtime here: registries only")
		e = newRegistryEnv(t)
	}
	_, alpha := e.createRegistry(t, "hostsalpha")
	_, beta := e.createRegistry(t, "hostsbeta")
	host := func(loginServer string) string { h, _, _ := net.SplitHostPort(loginServer); return h }

	hostsFile := filepath.Join(t.TempDir(), "hosts")
	const others = "127.0.0.1\tlocalhost\n::1 localhost ip6-localhost   # kept as is  \n" +
		"# BEGIN cerulean (data dir /elsewhere)\n127.0.0.1 theirs.azurecr.localhost\n# END cerulean (data dir /elsewhere)\n"
	if err := os.WriteFile(hostsFile, []byte(others), 0o640); err != nil {
		t.Fatal(err)
	}
	settings := []string{"--data-dir", e.dataDir, "--listen", e.addr}
	apply := func() (string, string) {
		t.Helper()
		_, errOut := e.mustCerulean(t, append([]string{"hosts", "--apply", "--hosts-file", hostsFile}, settings...)...)
		data, err := os.ReadFile(hostsFile)
		if err != nil {
			t.Fatal(err)
		}
		return string(data), errOut
	}
	block := func(lines ...string) string {
		return "# BEGIN cerulean (data dir " + e.dataDir + ")\n" + strings.Join(lines, "\n") + "\n# END cerulean (data dir " + e.dataDir + ")\n"
	}
	// The blob host of ACR Tasks (uploads and logs of az acr build) first.
	want := []string{"127.0.0.1 cerulean.blob.azurecr.localhost", "127.0.0.1 " + host(alpha), "127.0.0.1 " + host(beta)}
	if groupLabels {
		want = append(want, "127.0.0.1 "+host(loginServer), groupLine)
	}
	got, report := apply()
	if got != others+block(want...) {
		t.Fatalf("hosts file after --apply:\n%s\nwant:\n%s", got, others+block(want...))
	}
	for _, l := range want {
		if !strings.Contains(report, "+ "+l+"\n") {
			t.Errorf("--apply did not report adding %q:\n%s", l, report)
		}
	}
	printed, _ := e.mustCerulean(t, append([]string{"hosts"}, settings...)...)
	if printed != block(want...) {
		t.Fatalf("cerulean hosts printed:\n%s\nwant the block --apply wrote:\n%s", printed, block(want...))
	}

	again, report := apply()
	if again != got || !strings.Contains(report, "unchanged") {
		t.Fatalf("a second --apply changed the file (%q):\n%s", report, again)
	}
	if fi, err := os.Stat(hostsFile); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("hosts file mode %v, %v; want 0640 kept", fi.Mode(), err)
	}

	// A registry deleted since goes from the block.
	e.mustAz(t, "acr", "delete", "-n", "hostsbeta", "--yes", "-o", "none")
	want = slices.DeleteFunc(want, func(l string) bool { return l == "127.0.0.1 "+host(beta) })
	got, report = apply()
	if got != others+block(want...) || !strings.Contains(report, "- 127.0.0.1 "+host(beta)) {
		t.Fatalf("after deleting %s (%q):\n%s", beta, report, got)
	}

	// --remove leaves the file as it was.
	e.mustCerulean(t, append([]string{"hosts", "--remove", "--hosts-file", hostsFile}, settings...)...)
	if data, _ := os.ReadFile(hostsFile); string(data) != others {
		t.Fatalf("after --remove:\n%s", data)
	}

	// ca names the data dir's CA (here given by CERULEAN_DATA_DIR) and the
	// registries' certs.d directories.
	caFile := filepath.Join(e.dataDir, "tls", "ca.pem")
	out, _ := e.mustCerulean(t, "ca")
	for _, s := range []string{
		"CA certificate: " + caFile + "\n",
		"export NODE_EXTRA_CA_CERTS=" + caFile + "\n",
		"mkdir -p /etc/docker/certs.d/" + alpha + " && cp " + caFile + " /etc/docker/certs.d/" + alpha + "/ca.crt\n",
		"mkdir -p /etc/containers/certs.d/" + alpha + " && cp " + caFile + " /etc/containers/certs.d/" + alpha + "/ca.crt\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("cerulean ca lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, beta) {
		t.Errorf("cerulean ca names the deleted registry %s:\n%s", beta, out)
	}

	pem, _ := e.mustCerulean(t, "ca", "--pem", "--data-dir", e.dataDir)
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(pem)) {
		t.Fatalf("ca --pem is not a PEM certificate:\n%s", pem)
	}
	conn, err := tls.Dial("tcp", e.addr, &tls.Config{RootCAs: roots, ServerName: host(alpha)})
	if err != nil {
		t.Fatalf("the server's certificate does not chain to ca --pem: %v", err)
	}
	_ = conn.Close()

	if _, errOut, code := e.cerulean(t, "ca", "--data-dir", filepath.Join(t.TempDir(), "never")); code == 0 || !strings.Contains(errOut, "has not run") {
		t.Fatalf("ca on a data dir the server never used: exit %d\n%s", code, errOut)
	}
}
