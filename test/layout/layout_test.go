// Package layout_test enforces the import rules of docs/architecture.md:
// which packages may depend on which. It reads the module's import graph
// with `go list` and fails on any edge the rules forbid.
package layout_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"path"
	"strings"
	"testing"
)

const module = "github.com/cerulean/cerulean"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func loadPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(&out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// rel returns the import path relative to the module ("" for non-module).
func rel(p string) (string, bool) {
	if p == module {
		return "", true
	}
	r, ok := strings.CutPrefix(p, module+"/")
	return r, ok
}

func under(p string, prefixes ...string) bool {
	for _, pre := range prefixes {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}

// domain packages hold the business rules; they know no transport or backend.
var domain = []string{"internal/identity", "internal/rbac", "internal/resource", "internal/registry", "internal/containergroup", "internal/task"}

// leaves import nothing of ours but errdefs.
var leaves = []string{"internal/errdefs", "internal/jsonstrict", "internal/atomicfile", "internal/sealbox", "internal/resourceid", "internal/principal", "internal/token", "internal/tlsca", "internal/bootstrap"}

// serverTest is the server surfaces' test support (a running server on a
// sqlite store): it wires a backend as the composition root does, so the
// adapter and wiring rules exempt it, and only _test.go files may import it.
const serverTest = "internal/server/servertest"

type rule struct {
	name      string
	applies   func(p string) bool
	forbidden func(dep string) bool
	direct    bool // check direct imports only (else all transitive deps)
}

var rules = []rule{
	{
		name:    "domain packages never import net/http, database/sql, api/* or any adapter",
		applies: func(p string) bool { return under(p, domain...) },
		forbidden: func(dep string) bool {
			if dep == "net/http" || dep == "database/sql" {
				return true
			}
			r, ok := rel(dep)
			// internal/blob itself is the blob interface, which domains use;
			// its sub-packages are backends.
			backendBlob := strings.HasPrefix(r, "internal/blob/")
			return ok && (backendBlob || under(r, "api", "internal/server", "internal/store", "internal/runner", "internal/image", "internal/build",
				"internal/app", "internal/config", "internal/cli", "internal/client"))
		},
		direct: true,
	},
	{
		name:    "domain packages do not depend on adapters, even indirectly",
		applies: func(p string) bool { return under(p, domain...) },
		forbidden: func(dep string) bool {
			r, ok := rel(dep)
			return dep == "database/sql" || ok && under(r, "internal/server", "internal/store", "internal/app", "internal/cli", "internal/client")
		},
	},
	{
		name:    "leaf packages import nothing of ours but errdefs and atomicfile",
		applies: func(p string) bool { return under(p, leaves...) },
		forbidden: func(dep string) bool {
			r, ok := rel(dep)
			return ok && r != "internal/errdefs" && r != "internal/atomicfile"
		},
	},
	{
		name:    "api/* is wire types only: standard library",
		applies: func(p string) bool { return under(p, "api") },
		forbidden: func(dep string) bool {
			return strings.Contains(strings.Split(dep, "/")[0], ".")
		},
	},
	{
		name:    "the CLI and client never reach server, store, domain or app code",
		applies: func(p string) bool { return under(p, "internal/cli", "internal/client") },
		forbidden: func(dep string) bool {
			r, ok := rel(dep)
			return dep == "database/sql" || ok && (under(r, "internal/server", "internal/store", "internal/app", "internal/config") || under(r, domain...))
		},
	},
	{
		name:    "inbound adapters never import backends, config or app",
		applies: func(p string) bool { return under(p, "internal/server") && p != serverTest },
		forbidden: func(dep string) bool {
			r, ok := rel(dep)
			return dep == "database/sql" || ok && under(r, "internal/store", "internal/app", "internal/config", "internal/cli", "internal/client")
		},
	},
	{
		name:    "backends never import inbound adapters, api, app or the CLI",
		applies: func(p string) bool { return under(p, "internal/store") },
		forbidden: func(dep string) bool {
			r, ok := rel(dep)
			return ok && under(r, "internal/server", "api", "internal/app", "internal/config", "internal/cli", "internal/client")
		},
	},
	{
		name:    "only cmd and test import the composition root",
		applies: func(p string) bool { return !under(p, "cmd", "test") },
		forbidden: func(dep string) bool {
			r, ok := rel(dep)
			return ok && under(r, "internal/app")
		},
		direct: true,
	},
	{
		name: "only the composition root wires backends",
		applies: func(p string) bool {
			return !under(p, "cmd", "test", "internal/app", "internal/store") && p != serverTest
		},
		forbidden: func(dep string) bool {
			r, ok := rel(dep)
			return ok && under(r, "internal/store/sqlstore", "internal/store/pgstore")
		},
		direct: true,
	},
	{
		name: "only the database/sql backends use their shared domain SQL",
		applies: func(p string) bool {
			return !under(p, "internal/store/sqlbase", "internal/store/sqlstore", "internal/store/pgstore")
		},
		forbidden: func(dep string) bool {
			r, ok := rel(dep)
			return ok && under(r, "internal/store/sqlbase")
		},
		direct: true,
	},
	{
		// go list's Imports leave out what _test.go files import.
		name:    "only _test.go files import " + serverTest,
		applies: func(string) bool { return true },
		forbidden: func(dep string) bool {
			r, ok := rel(dep)
			return ok && r == serverTest
		},
		direct: true,
	},
}

func TestImportRules(t *testing.T) {
	for _, p := range loadPackages(t) {
		r, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		for _, rl := range rules {
			if !rl.applies(r) {
				continue
			}
			deps := p.Deps
			if rl.direct {
				deps = p.Imports
			}
			for _, d := range deps {
				if rl.forbidden(d) {
					t.Errorf("%s imports %s: %s", r, d, rl.name)
				}
			}
		}
	}
}

func TestNoGrabBagPackages(t *testing.T) {
	for _, p := range loadPackages(t) {
		switch path.Base(p.ImportPath) {
		case "util", "utils", "common", "helpers", "helper", "misc", "shared":
			t.Errorf("%s: name packages for what they provide", p.ImportPath)
		}
	}
}
