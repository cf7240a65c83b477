package azureclients

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAzureCLIRoleAssignments checks that az's own role assignment
// requests — its $filter expressions, api-versions and bodies — work
// against Cerulean: create-for-rbac with --role and --scopes (the seed's
// form, printing the password), role assignment create/list/delete with
// --assignee, --scope, --role and --all, role definition list. Debian's az
// 2.45 cannot send any of them (az2_45Bug), so this test runs it with
// testdata/python/config-shim on PYTHONPATH, which repairs only the
// attribute name az reads from its SDK; everything az sends is its own.
func TestAzureCLIRoleAssignments(t *testing.T) {
	az := requireCommand(t, "az")
	debianPython(t)
	e := newEnv(t)
	shim, err := filepath.Abs("testdata/python/config-shim")
	if err != nil {
		t.Fatal(err)
	}
	owner := append(e.azConfig(t), "PYTHONPATH="+shim)
	c := e.creds
	e.azLogin(t, owner, c.AppID, c.Password)
	e.must(t, owner, az, "group", "create", "--name", "rg", "--location", "eastus", "-o", "none")
	e.must(t, owner, az, "acr", "create", "--resource-group", "rg", "--name", "rolesreg", "--sku", "Basic", "-o", "none")
	registryID := e.must(t, owner, az, "acr", "show", "--name", "rolesreg", "--query", "id", "-o", "tsv")
	groupID := e.must(t, owner, az, "group", "show", "--name", "rg", "--query", "id", "-o", "tsv")

	// The seed's command, verbatim.
	password := e.must(t, owner, az, "ad", "sp", "create-for-rbac", "--name", "acr-pull-sp", "--scopes", registryID, "--role", "acrpull", "--query", "password", "--output", "tsv")
	appID := e.must(t, owner, az, "ad", "sp", "list", "--display-name", "acr-pull-sp", "--query", "[].appId", "--output", "tsv")
	if password == "" || appID == "" {
		t.Fatalf("create-for-rbac: password %q, appId %q", password, appID)
	}
	roles := func(args ...string) string {
		t.Helper()
		return e.must(t, owner, az, append([]string{"role", "assignment", "list", "--query", "sort([].join(' ', [principalName, roleDefinitionName, scope]))", "-o", "tsv"}, args...)...)
	}
	if got, want := roles("--assignee", appID, "--scope", registryID), appID+" AcrPull "+registryID; got != want {
		t.Fatalf("role assignment list --assignee --scope:\n%s\nwant %s", got, want)
	}

	e.must(t, owner, az, "role", "assignment", "create", "--assignee", appID, "--role", "AcrPush", "--scope", registryID, "-o", "none")
	e.must(t, owner, az, "role", "assignment", "create", "--assignee", appID, "--role", "Reader", "--resource-group", "rg", "-o", "none")
	// Creating an assignment that exists is idempotent in az (it reads
	// Azure's 409 RoleAssignmentExists).
	e.must(t, owner, az, "role", "assignment", "create", "--assignee", appID, "--role", "AcrPush", "--scope", registryID, "-o", "none")
	if got, want := roles("--assignee", appID, "--all"), strings.Join([]string{
		appID + " AcrPull " + registryID, appID + " AcrPush " + registryID, appID + " Reader " + groupID,
	}, "\n"); got != want {
		t.Fatalf("role assignment list --all:\n%s\nwant\n%s", got, want)
	}
	// Inherited assignments show at the registry with --include-inherited.
	if got := roles("--assignee", appID, "--scope", registryID, "--include-inherited"); !strings.Contains(got, "Reader "+groupID) {
		t.Fatalf("--include-inherited:\n%s", got)
	}

	e.must(t, owner, az, "role", "assignment", "delete", "--assignee", appID, "--role", "AcrPush", "--scope", registryID)
	if got, want := roles("--assignee", appID, "--scope", registryID), appID+" AcrPull "+registryID; got != want {
		t.Fatalf("after delete:\n%s\nwant %s", got, want)
	}
	if got := e.must(t, owner, az, "role", "definition", "list", "--name", "AcrPull", "--query", "[].name", "-o", "tsv"); got != "7f951dda-4ed3-4680-a7ca-43fe172d538d" {
		t.Fatalf("role definition list --name AcrPull: %q", got)
	}
	// An assignee Graph does not know is az's own error.
	_, errOut, code := e.run(t, owner, az, "role", "assignment", "create", "--assignee", "00000000-0000-0000-0000-00000000abcd", "--role", "AcrPull", "--scope", registryID)
	if code == 0 || !strings.Contains(errOut, "Cannot find user or service principal in graph database") {
		t.Fatalf("unknown assignee: exit %d\n%s", code, errOut)
	}
}

// TestAzureCLIApps: Debian's az manages applications and their secrets in
// Cerulean's Graph as in Entra ID, and a reset secret signs in while the
// one it replaced no longer does.
func TestAzureCLIApps(t *testing.T) {
	az := requireCommand(t, "az")
	e := newEnv(t)
	owner := e.azConfig(t)
	c := e.creds
	e.azLogin(t, owner, c.AppID, c.Password)

	appID := e.must(t, owner, az, "ad", "app", "create", "--display-name", "cerulean-app", "--query", "appId", "-o", "tsv")
	if got := e.must(t, owner, az, "ad", "app", "list", "--display-name", "cerulean-app", "--query", "[].appId", "-o", "tsv"); got != appID {
		t.Fatalf("ad app list --display-name: %q, want %q", got, appID)
	}
	if got := e.must(t, owner, az, "ad", "app", "show", "--id", appID, "--query", "displayName", "-o", "tsv"); got != "cerulean-app" {
		t.Fatalf("ad app show: %q", got)
	}
	e.must(t, owner, az, "ad", "sp", "create", "--id", appID, "-o", "none")
	first := e.must(t, owner, az, "ad", "app", "credential", "reset", "--id", appID, "--query", "password", "-o", "tsv")
	second := e.must(t, owner, az, "ad", "app", "credential", "reset", "--id", appID, "--query", "password", "-o", "tsv")

	app := e.azConfig(t)
	if _, errOut, code := e.run(t, app, az, "login", "--service-principal", "-u", appID, "-p", first, "--tenant", c.TenantID, "--allow-no-subscriptions", "-o", "none"); code == 0 ||
		!strings.Contains(errOut, "AADSTS7000215") {
		t.Fatalf("login with the replaced secret: exit %d\n%s", code, errOut)
	}
	e.azLogin(t, app, appID, second, "--allow-no-subscriptions")

	e.must(t, owner, az, "ad", "app", "delete", "--id", appID)
	if _, errOut, code := e.run(t, owner, az, "ad", "app", "show", "--id", appID); code == 0 || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("ad app show after delete: exit %d\n%s", code, errOut)
	}
}
