package e2e

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFidelity checks, through the built binary, the places where
// Cerulean's answers must be Azure's: locations, commands of the Azure CLI
// Cerulean lacks, import errors, and a deleted registry.
func TestFidelity(t *testing.T) {
	s := startServer(t, t.TempDir(), freeAddr(t))
	s.mustAz(t, "login", "-o", "none")
	sub := s.mustAz(t, "account", "show", "--query", "id", "-o", "tsv")
	subName := s.mustAz(t, "account", "show", "--query", "name", "-o", "tsv")
	s.mustAz(t, "group", "create", "-n", "fidelity", "-l", "eastus", "-o", "none")
	s.mustAz(t, "acr", "create", "-g", "fidelity", "-n", "fidelityregistry", "--sku", "Basic", "-o", "none", "--only-show-errors")

	t.Run("locations", func(t *testing.T) {
		_, errOut, code := s.az(t, "group", "create", "-n", "onmars", "-l", "mars")
		want := "ERROR: (LocationNotAvailableForResourceGroup) The provided location 'mars' is not available for resource group. List of available regions is 'eastus,"
		if code != 1 || !strings.HasPrefix(errOut, want) || strings.Contains(errOut, "Target:") {
			t.Errorf("group on mars: exit %d, stderr %q", code, errOut)
		}
		if out := s.mustAz(t, "group", "exists", "-n", "onmars"); out != "false" {
			t.Errorf("a group was created on mars: exists = %s", out)
		}
		// Display names and any case are Azure's too.
		if got := s.mustAz(t, "group", "create", "-n", "westeu", "-l", "West Europe", "--query", "location", "-o", "tsv"); got != "westeurope" {
			t.Fatalf("group in 'West Europe': location %q", got)
		}
		_, errOut, code = s.az(t, "acr", "create", "-g", "fidelity", "-n", "marsregistry", "--sku", "Basic", "-l", "mars")
		want = "ERROR: (LocationNotAvailableForResourceType) The provided location 'mars' is not available for resource type 'Microsoft.ContainerRegistry/registries'. List of available regions for the resource type is 'eastus,"
		if code != 1 || !strings.HasPrefix(errOut, want) {
			t.Errorf("registry on mars: exit %d, stderr %q", code, errOut)
		}
		if got := s.mustAz(t, "acr", "create", "-g", "fidelity", "-n", "swedenregistry", "--sku", "Basic", "-l", "SwedenCentral", "--only-show-errors", "--query", "location", "-o", "tsv"); got != "swedencentral" {
			t.Fatalf("registry in SwedenCentral: location %q", got)
		}
	})

	t.Run("azure CLI commands Cerulean lacks", func(t *testing.T) {
		tests := []struct {
			args    []string
			message string
		}{
			{[]string{"acr", "webhook", "list", "-r", "fidelityregistry"}, "ERROR: 'az acr webhook' is part of the Azure CLI but is not supported by Cerulean yet.\n"},
			{[]string{"acr", "token", "list", "-r", "fidelityregistry"}, "ERROR: 'az acr token' is part of the Azure CLI but is not supported by Cerulean yet.\n"},
			{[]string{"acr", "manifest", "list", "-r", "fidelityregistry"}, "ERROR: 'az acr manifest' is part of the Azure CLI but is not supported by Cerulean yet.\n"},
			{[]string{"acr", "show-usage", "-n", "fidelityregistry"}, "ERROR: 'az acr show-usage' is part of the Azure CLI but is not supported by Cerulean yet.\n"},
			{[]string{"ad", "user", "list"}, "ERROR: 'az ad user' is part of the Azure CLI but is not supported by Cerulean yet.\n"},
			{[]string{"role", "definition", "delete", "--name", "x"}, "ERROR: 'az role definition delete' is part of the Azure CLI but is not supported by Cerulean yet.\n"},
			{[]string{"acr", "webhooks", "list"}, "ERROR: 'webhooks' is misspelled or not recognized by the system.\nDid you mean 'webhook' ?\n"},
			{[]string{"acr", "frobnicate"}, "ERROR: 'frobnicate' is misspelled or not recognized by the system.\n"},
		}
		for _, tt := range tests {
			_, errOut, code := s.az(t, tt.args...)
			if code != 2 || !strings.HasPrefix(errOut, tt.message) {
				t.Errorf("az %s: exit %d, stderr %q, want %q", strings.Join(tt.args, " "), code, errOut, tt.message)
			}
		}
	})

	t.Run("import from an unreachable source says why once", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, errOut, code := s.az(t, "acr", "import", "-n", "fidelityregistry", "--source", addr+"/x:1", "-t", "x:1")
		if code != 1 || !strings.HasPrefix(errOut, "ERROR: Cannot read the source image '"+addr+"/x:1': ") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if n := strings.Count(errOut, `Get "https://`+addr+`/v2/"`); n != 1 {
			t.Fatalf("the cause is said %d times: %q", n, errOut)
		}
	})

	t.Run("a deleted registry does not exist", func(t *testing.T) {
		s.mustAz(t, "acr", "create", "-g", "fidelity", "-n", "shortlived", "--sku", "Basic", "-o", "none", "--only-show-errors")
		s.mustAz(t, "acr", "delete", "-n", "shortlived", "--yes")
		notFound := "The resource with name 'shortlived' and type 'Microsoft.ContainerRegistry/registries' could not be found in subscription '" + subName + " (" + sub + ")'.\n"
		// ARM reads say so as an error; data-plane commands, as in az, warn,
		// fall back to the default login server, and fail to reach it, with
		// Cerulean's hint that the registry does not exist.
		if _, errOut, code := s.az(t, "acr", "show", "-n", "shortlived"); code != 1 || errOut != "ERROR: "+notFound {
			t.Errorf("az acr show: exit %d, stderr %q, want %q", code, errOut, "ERROR: "+notFound)
		}
		for _, args := range [][]string{
			{"acr", "repository", "list", "-n", "shortlived"},
			{"acr", "login", "-n", "shortlived", "--expose-token"},
		} {
			_, errOut, code := s.az(t, args...)
			if code != 1 || !strings.HasPrefix(errOut, "WARNING: "+notFound) ||
				!strings.Contains(errOut, "\nERROR: Could not connect to the registry login server 'shortlived.") ||
				!strings.Contains(errOut, "has no registry named 'shortlived'") {
				t.Errorf("az %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
			}
		}
	})
}

// TestREADMEHostsEntry runs the README's /etc/hosts lines (on a copy) in a
// root shell that has no sudo, as a container or CI image has: they must
// work there as well as for a user with sudo.
func TestREADMEHostsEntry(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root: the lines run as a root shell without sudo")
	}
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	inShell := false
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "```"):
			inShell = l == "```sh" || l == "```bash"
		case inShell:
			// The command, not its comment: `cerulean hosts --apply   #
			// root: /etc/hosts gets …` is TestHostsAndCA's to check.
			code, _, _ := strings.Cut(l, " #")
			if strings.Contains(code, "/etc/hosts") || strings.HasPrefix(code, "SUDO=") {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) == 0 {
		t.Fatal("README has no /etc/hosts line")
	}
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A PATH with only what the lines may need: no sudo.
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"id", "tee", "cat"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not installed", tool)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	shell, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("sh not installed")
	}
	script := strings.ReplaceAll(strings.Join(lines, "\n"), "/etc/hosts", hosts)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, shell, "-e", "-c", script)
	cmd.Env = []string{"PATH=" + bin, "HOME=" + dir}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("README lines failed as root without sudo: %v\n%s\n--- script\n%s", err, out, script)
	}
	got, err := os.ReadFile(hosts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "127.0.0.1 login.microsoftonline.com\n") {
		t.Fatalf("hosts file after the README lines:\n%s", got)
	}
}
