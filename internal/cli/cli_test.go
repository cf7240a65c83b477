package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/tlsca"
)

const rgScope = "/subscriptions/" + fakeSubscription + "/resourceGroups/myResourceGroup"

func TestLoginWritesProfileFiles(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun("login")
	dir := filepath.Join(e.home, ".cerulean", "az")
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode = %v", st.Mode().Perm())
	}
	for _, name := range []string{profileFileName, spEntriesFileName, tokenCacheFileName} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v", name, st.Mode().Perm())
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, profileFileName))
	if !bytes.HasPrefix(raw, utf8BOM) {
		t.Errorf("azureProfile.json has no BOM, as az writes it")
	}
	var prof struct {
		InstallationID string           `json:"installationId"`
		Subscriptions  []map[string]any `json:"subscriptions"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(raw, utf8BOM), &prof); err != nil {
		t.Fatal(err)
	}
	if prof.InstallationID == "" || len(prof.Subscriptions) != 1 {
		t.Fatalf("profile = %s", raw)
	}
	sub := prof.Subscriptions[0]
	want := map[string]any{"id": fakeSubscription, "name": "Cerulean", "state": "Enabled", "isDefault": true,
		"tenantId": fakeTenant, "environmentName": "AzureCloud", "homeTenantId": fakeTenant,
		"managedByTenants": []any{},
		"user":             map[string]any{"name": fakeOwnerAppID, "type": "servicePrincipal"}}
	if !reflect.DeepEqual(sub, want) {
		t.Errorf("subscription = %#v\nwant %#v", sub, want)
	}
	sp, _ := os.ReadFile(filepath.Join(dir, spEntriesFileName))
	var entries []map[string]string
	if err := json.Unmarshal(sp, &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0]["client_id"] != fakeOwnerAppID || entries[0]["tenant"] != fakeTenant || entries[0]["client_secret"] != fakeOwnerSecret {
		t.Errorf("service principal entries = %s", sp)
	}

	// logout forgets the secret, the tokens and the accounts.
	e.mustRun("logout")
	sp, _ = os.ReadFile(filepath.Join(dir, spEntriesFileName))
	if strings.Contains(string(sp), fakeOwnerSecret) {
		t.Errorf("secret kept after logout: %s", sp)
	}
	tc, _ := os.ReadFile(filepath.Join(dir, tokenCacheFileName))
	if strings.Contains(string(tc), "token-for") {
		t.Errorf("tokens kept after logout: %s", tc)
	}
	if _, errs, code := e.run("group", "list"); code != 1 || errs != "ERROR: Please run 'az login' to setup account.\n" {
		t.Errorf("after logout: %d %q", code, errs)
	}
	if _, errs, code := e.run("logout"); code != 1 || errs != "ERROR: There are no active accounts.\n" {
		t.Errorf("second logout: %d %q", code, errs)
	}
}

func countTokenRequests(f *fakeAzure) int {
	n := 0
	for _, r := range f.requestLog() {
		if strings.Contains(r, "/oauth2/v2.0/token") {
			n++
		}
	}
	return n
}

func TestTokensAreCachedOnDisk(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun("login")
	if n := countTokenRequests(e.fake); n != 1 {
		t.Fatalf("token requests after login = %d", n)
	}
	e.mustRun("group", "list")
	e.mustRun("group", "list")
	if n := countTokenRequests(e.fake); n != 1 {
		t.Errorf("ARM token not reused: %d token requests", n)
	}
	e.mustRun("ad", "sp", "list", "--all")
	e.mustRun("ad", "sp", "list", "--all")
	if n := countTokenRequests(e.fake); n != 2 {
		t.Errorf("Graph token not cached: %d token requests", n)
	}
}

// TestCreateForRBACRequests checks the request sequence of reference
// §6.1 (role/custom.py create_service_principal_for_rbac).
func TestCreateForRBACRequests(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun("login", "-o", "none")
	before := len(e.fake.requestLog())
	e.mustRun("ad", "sp", "create-for-rbac", "--name", "acr-pull-sp", "--scopes", rgScope, "--role", "acrpull")
	got := filterRequests(e.fake.requestLog()[before:])
	want := []string{
		"GET /v1.0/servicePrincipals?$filter=displayName eq 'acr-pull-sp'",
		"GET /v1.0/applications?$filter=startswith(displayName,'acr-pull-sp')",
		"POST /v1.0/applications",
		"POST /v1.0/applications/aaaaaaaa-0000-0000-0000-000000000002/addPassword",
		"POST /v1.0/servicePrincipals",
		"GET " + rgScope + "/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName eq 'acrpull'",
		"PUT " + rgScope + "/providers/Microsoft.Authorization/roleAssignments/bbbbbbbb-0000-0000-0000-000000000001?api-version=2022-04-01",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Again: the application is patched, its password replaced, the
	// service principal reused, and the duplicate assignment tolerated.
	before = len(e.fake.requestLog())
	e.mustRun("ad", "sp", "create-for-rbac", "--name", "acr-pull-sp", "--scopes", rgScope, "--role", "acrpull")
	got = filterRequests(e.fake.requestLog()[before:])
	want = []string{
		"GET /v1.0/servicePrincipals?$filter=displayName eq 'acr-pull-sp'",
		"GET /v1.0/applications?$filter=startswith(displayName,'acr-pull-sp')",
		"GET /v1.0/applications?$filter=appId eq 'aaaaaaaa-0000-0000-0000-000000000002'",
		"PATCH /v1.0/applications/aaaaaaaa-0000-0000-0000-000000000002",
		"GET /v1.0/applications/aaaaaaaa-0000-0000-0000-000000000002",
		"POST /v1.0/applications/aaaaaaaa-0000-0000-0000-000000000002/removePassword",
		"POST /v1.0/applications/aaaaaaaa-0000-0000-0000-000000000002/addPassword",
		"GET " + rgScope + "/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName eq 'acrpull'",
		"PUT " + rgScope + "/providers/Microsoft.Authorization/roleAssignments/bbbbbbbb-0000-0000-0000-000000000002?api-version=2022-04-01",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("second run requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func filterRequests(reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if !strings.Contains(r, "/oauth2/") {
			out = append(out, r)
		}
	}
	return out
}

func TestCreateForRBACRetriesReplicationDelays(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun("login", "-o", "none")
	e.fake.spCreateFailures = 2
	e.fake.assignmentCreateFailures = 1
	out, errs, code := e.run("ad", "sp", "create-for-rbac", "-n", "slow", "--scopes", rgScope, "--role", "Reader", "--query", "displayName", "-o", "tsv")
	if code != 0 || out != "slow\n" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errs)
	}
	for _, want := range []string{
		"WARNING: Creating service principal failed with error 'The appId '",
		"Retrying: 1/36", "Retrying: 2/36",
		"WARNING:   Retrying role assignment creation: 1/36",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestRoleAssignmentCreateWithObjectID(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun("login", "-o", "none")
	before := len(e.fake.requestLog())
	out := e.mustRun("role", "assignment", "create", "--assignee-object-id", fakeOwnerObject,
		"--assignee-principal-type", "ServicePrincipal", "--role", "acdd72a7-3385-48ef-bd42-f606fba81ae7",
		"--scope", rgScope, "--query", "[roleDefinitionId, resourceGroup]", "-o", "tsv")
	if out != "/subscriptions/"+fakeSubscription+"/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7\nmyResourceGroup\n" {
		t.Errorf("out = %q", out)
	}
	for _, r := range filterRequests(e.fake.requestLog()[before:]) {
		if strings.Contains(r, "/v1.0/") || strings.Contains(r, "roleDefinitions") {
			t.Errorf("unexpected request %s: a GUID role and an object id need no lookup", r)
		}
	}
	_, errs, code := e.run("role", "assignment", "create", "--assignee", "x", "--assignee-object-id", "y", "--role", "Reader", "--scope", rgScope)
	if code != 1 || errs != "ERROR: usage error: --assignee STRING | --assignee-object-id GUID\n" {
		t.Errorf("both assignee forms: %d %q", code, errs)
	}
	_, errs, code = e.run("role", "assignment", "list", "--scope", rgScope, "-g", "x")
	if code != 1 || errs != "ERROR: Resource group \"x\" is redundant because scope is supplied\n" {
		t.Errorf("scope and group: %d %q", code, errs)
	}
}

func TestCATrust(t *testing.T) {
	e := newTestEnv(t)
	e.env["CERULEAN_CA_FILE"] = filepath.Join(e.home, "missing.pem")
	_, errs, code := e.run("login")
	if code != 1 || !strings.HasPrefix(errs, "ERROR: Cannot load the Cerulean CA certificate") {
		t.Errorf("missing CA: %d %s", code, errs)
	}
	// A CA that did not sign the server's certificate is refused.
	bundle, err := tlsca.LoadOrCreate(tlsca.Config{Dir: filepath.Join(e.home, "otherca"), DNSNames: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	e.env["CERULEAN_CA_FILE"] = bundle.CAFile
	_, errs, code = e.run("login")
	if code != 1 || !strings.Contains(errs, "certificate") || !strings.Contains(errs, sslRecommendation) {
		t.Errorf("foreign CA: %d %s", code, errs)
	}
}

func TestHelp(t *testing.T) {
	e := newTestEnv(t)
	out, _, code := e.run("group", "create", "-h")
	if code != 0 || !strings.Contains(out, "az group create : Create a new resource group.") ||
		!strings.Contains(out, "--location -l") || !strings.Contains(out, "[Required]") {
		t.Errorf("command help: %d\n%s", code, out)
	}
	out, _, code = e.run("group")
	if code != 0 || !strings.Contains(out, "Commands:") || !strings.Contains(out, "create") {
		t.Errorf("group help: %d\n%s", code, out)
	}
	out, _, code = e.run()
	if code != 0 || !strings.Contains(out, "Welcome to the cool new Azure CLI!") {
		t.Errorf("welcome: %d\n%s", code, out)
	}
}

func TestFilePrefixedArguments(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun("login", "-o", "none")
	p := filepath.Join(e.home, "name.txt")
	if err := os.WriteFile(p, []byte("fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := e.mustRun("group", "create", "-n", "@"+p, "-l", "eastus", "--query", "name", "-o", "tsv")
	if out != "fromfile\n" {
		t.Errorf("out = %q", out)
	}
}

func TestOutputFormatsAndEnv(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun("login", "-o", "none")
	e.mustRun("group", "create", "-n", "g1", "-l", "eastus", "-o", "none")
	e.env["AZURE_CORE_OUTPUT"] = "tsv"
	if out := e.mustRun("group", "show", "-n", "g1", "--query", "{n:name,l:location}"); out != "g1\teastus\n" {
		t.Errorf("AZURE_CORE_OUTPUT=tsv: %q", out)
	}
	if out := e.mustRun("group", "show", "-n", "g1", "--query", "name", "-o", "yaml"); out != "g1\n...\n" {
		t.Errorf("yaml: %q", out)
	}
	if out := e.mustRun("group", "show", "-n", "g1", "-o", "none"); out != "" {
		t.Errorf("none: %q", out)
	}
	e.env["AZURE_CORE_ONLY_SHOW_ERRORS"] = "true"
	if _, errs, _ := e.run("account", "list", "--all", "--refresh"); errs != "" {
		t.Errorf("only-show-errors from env printed %q", errs)
	}
}

func TestMainSignature(t *testing.T) {
	var out, errb bytes.Buffer
	home := t.TempDir()
	code := Main(context.Background(), []string{"account", "show"}, strings.NewReader(""), &out, &errb,
		func(k string) string { return map[string]string{"HOME": home}[k] })
	if code != 1 || errb.String() != "ERROR: Please run 'az login' to setup account.\n" {
		t.Errorf("Main: %d %q", code, errb.String())
	}
}
