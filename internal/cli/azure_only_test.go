package cli

import (
	"strings"
	"testing"
)

// Every listed Azure CLI command is reachable (its parent is a group
// Cerulean has, or is listed itself) and none is one Cerulean implements:
// each one, and each with a subcommand, gets the "not supported" error.
func TestAzureOnlyCommands(t *testing.T) {
	e := newTestEnv(t)
	for _, path := range azureOnly {
		for _, args := range [][]string{strings.Fields(path), append(strings.Fields(path), "list", "--name", "x")} {
			_, stderr, code := e.run(args...)
			if code != 2 || !strings.Contains(stderr, "is not supported by Cerulean yet") {
				t.Errorf("az %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
			}
		}
	}
}

func TestAzureOnlyCommandMatching(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"acr webhook", true},
		{"role definition create", true},
		{"role definition", true}, // a group whose commands are listed
		{"vm", true},
		{"acr", true}, // a prefix of listed commands; the tree finds it first
		{"acr webhooks", false},
		{"acr foo", false},
		{"ad users", false},
		{"container", false}, // registered by its own files, not listed here
	}
	for _, tt := range tests {
		if got := azureOnlyCommand(tt.path); got != tt.want {
			t.Errorf("azureOnlyCommand(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
