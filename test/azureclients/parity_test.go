package azureclients

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// realAz is Debian's azure-cli, the reference: where it and Cerulean's own
// az disagree on output, the real one is right (issue 8).
const realAz = "/usr/bin/az"

// parityCase is one read command run with both CLIs.
type parityCase struct {
	// as names the principal both CLIs are signed in as: the owner unless
	// it says "pull" (the AcrPull principal, which cannot see the
	// registry's resource, only its data).
	as   string
	args []string
	// format is json (compared structurally), table, tsv, yaml or text
	// (no -o added: compared as text).
	format string
	// vary lists the JSON paths (see normPath) whose values may differ
	// between the two runs, each with the reason; keys and types must
	// still match.
	vary map[string]string
	// skip explains why the command is not compared.
	skip string
}

// parityError is a failing command: both CLIs must exit with the same code
// and print the same stderr, but for what each call makes anew (perCall).
type parityError struct {
	as   string
	args []string
	// firstLine, when set, says why only the WARNING lines and the first
	// ERROR line are compared.
	firstLine string
}

// TestOutputParity runs the same read commands with Debian's az and with
// Cerulean's own az (`cerulean az`), both signed in as the same service
// principal (the bootstrap Owner, or an AcrPull principal) against the same
// server, and compares their output: JSON structurally, other formats and
// error output as text. What may differ is listed with the reason.
func TestOutputParity(t *testing.T) {
	_, err := os.Stat(realAz)
	require(t, err == nil, "Debian's azure-cli is not installed")
	podman := requireCommand(t, "podman")
	busybox := requireBusybox(t)
	e := newEnv(t)
	bin := binary(t)
	c := e.creds

	// The scene, made with the real az.
	owner := e.azConfig(t)
	e.azLogin(t, owner, c.AppID, c.Password)
	const group, registry, cg = "parityGroup", "parityregistry", "paritycontainer"
	e.must(t, owner, realAz, "group", "create", "--name", group, "--location", "eastus", "-o", "none")
	e.must(t, owner, realAz, "acr", "create", "--resource-group", group, "--name", registry, "--sku", "Basic", "--admin-enabled", "true", "-o", "none")
	loginServer := registry + ".azurecr.io"
	e.hosts(t, loginServer)
	registryID := e.must(t, owner, realAz, "acr", "show", "--name", registry, "--query", "id", "-o", "tsv")
	push := e.servicePrincipal(t, owner, "parity-push-sp", registryID, "acrpush")
	pull := e.servicePrincipal(t, owner, "parity-pull-sp", registryID, "acrpull")

	admin := e.must(t, owner, realAz, "acr", "credential", "show", "--name", registry, "--query", "[username, passwords[0].value]", "-o", "tsv")
	user, password, _ := strings.Cut(admin, "\n")
	image := loginServer + "/parityimage:v1"
	pc := e.podman(t, podman, loginServer)
	pc.login(t, loginServer, user, password)
	pc.build(t, image, busybox, `echo "parity says hello"`)
	pc.must(t, "push", image)
	e.must(t, owner, realAz, "container", "create", "--resource-group", group, "--name", cg,
		"--image", image, "--registry-login-server", loginServer,
		"--registry-username", pull.appID, "--registry-password", pull.password,
		"--restart-policy", "Never", "-o", "none")
	e.waitContainerState(t, owner, realAz, group, cg, "Terminated")

	// Cerulean's az, signed in as the same principal, reaches the same
	// server through the Azure name and trusts the server's CA.
	type clis struct{ real, cer []string }
	signIn := func(appID, password string, extra ...string) clis {
		c := clis{real: e.azConfig(t), cer: append(e.azConfig(t), "CERULEAN_ENDPOINT=https://management.azure.com", "CERULEAN_DATA_DIR="+e.dataDir)}
		e.azLogin(t, c.real, appID, password, extra...)
		args := append([]string{"az", "login", "--service-principal", "-u", appID, "-p", password, "--tenant", e.creds.TenantID, "-o", "none"}, extra...)
		e.must(t, c.cer, bin, args...)
		return c
	}
	as := map[string]clis{
		"":     signIn(c.AppID, c.Password),
		"pull": signIn(pull.appID, pull.password, "--allow-no-subscriptions"),
	}
	run := func(who string, args []string) (realOut, realErr string, realCode int, cerOut, cerErr string, cerCode int) {
		realOut, realErr, realCode = e.run(t, as[who].real, realAz, args...)
		cerOut, cerErr, cerCode = e.run(t, as[who].cer, bin, append([]string{"az"}, args...)...)
		return
	}

	// Graph's @odata.context names the host the request was sent to: the
	// real az calls graph.microsoft.com, Cerulean's az its one endpoint
	// (management.azure.com here); both reach the same server.
	odataContext := map[string]string{"$.@odata.context": "the server echoes the host the CLI sent the Graph call to"}
	cases := []parityCase{
		{args: []string{"account", "show"}},
		{args: []string{"account", "list"}},
		{args: []string{"account", "get-access-token"}, vary: map[string]string{
			"$.accessToken": "a token issued for this call",
			"$.expiresOn":   "the issued token's expiry"}},
		{args: []string{"group", "show", "--name", group}},
		{args: []string{"group", "list"}},
		{args: []string{"group", "exists", "--name", group}},
		{args: []string{"group", "exists", "--name", "noSuchGroup"}},
		{args: []string{"acr", "show", "--name", registry}},
		{args: []string{"acr", "list"}},
		{args: []string{"acr", "list", "--resource-group", group}},
		{args: []string{"acr", "credential", "show", "--name", registry}},
		{args: []string{"acr", "check-name", "--name", registry}},
		{args: []string{"acr", "check-name", "--name", "freeregistryname"}},
		{args: []string{"acr", "repository", "list", "--name", registry}},
		{args: []string{"acr", "login", "--name", registry, "--expose-token"}, vary: map[string]string{
			"$.accessToken": "a token issued for this call"}},
		{args: []string{"acr", "repository", "show-tags", "--name", registry, "--repository", "parityimage"}},
		{args: []string{"acr", "repository", "show-tags", "--name", registry, "--repository", "parityimage", "--detail"}},
		{args: []string{"acr", "repository", "show", "--name", registry, "--repository", "parityimage"}},
		{args: []string{"acr", "repository", "show", "--name", registry, "--image", "parityimage:v1"}},
		{args: []string{"acr", "repository", "show-manifests", "--name", registry, "--repository", "parityimage"}},
		{args: []string{"acr", "repository", "show-manifests", "--name", registry, "--repository", "parityimage", "--detail"}},
		{args: []string{"ad", "sp", "show", "--id", pull.appID}, vary: odataContext},
		{args: []string{"ad", "sp", "show", "--id", push.objectID}, vary: odataContext},
		{args: []string{"ad", "sp", "list", "--display-name", "parity-pull-sp"}},
		{args: []string{"ad", "sp", "list", "--display-name", "no-such-sp"}},
		{args: []string{"ad", "app", "show", "--id", pull.appID}, vary: odataContext},
		{args: []string{"ad", "app", "list", "--display-name", "parity-push-sp"}},
		{args: []string{"container", "show", "--resource-group", group, "--name", cg}},
		{args: []string{"container", "list"}},
		{args: []string{"container", "list", "--resource-group", group}},
		{args: []string{"container", "logs", "--resource-group", group, "--name", cg}, format: "text"},
		{as: "pull", args: []string{"account", "show"}},
		{as: "pull", args: []string{"account", "list"}},
		{as: "pull", args: []string{"group", "list"}},
		{as: "pull", args: []string{"acr", "list"}},
		{as: "pull", args: []string{"acr", "repository", "list", "--name", registry}},
		{as: "pull", args: []string{"acr", "repository", "show-tags", "--name", registry, "--repository", "parityimage", "--detail"}},
		{as: "pull", args: []string{"acr", "login", "--name", registry, "--expose-token"}, vary: map[string]string{
			"$.accessToken": "a token issued for this call"}},
		{args: []string{"role", "definition", "list", "--name", "AcrPull"},
			skip: "Debian's az 2.45 crashes on role commands before sending anything (Azure/azure-cli#24959)"},

		{args: []string{"account", "show"}, format: "table"},
		{args: []string{"account", "show"}, format: "tsv"},
		{args: []string{"account", "list"}, format: "table"},
		{args: []string{"group", "show", "--name", group}, format: "table"},
		{args: []string{"acr", "check-name", "--name", registry}, format: "table"},
		{args: []string{"acr", "repository", "show", "--name", registry, "--image", "parityimage:v1"}, format: "table"},
		{args: []string{"ad", "app", "list", "--display-name", "parity-push-sp"}, format: "table"},
		{args: []string{"container", "show", "--resource-group", group, "--name", cg}, format: "tsv"},
		{args: []string{"container", "show", "--resource-group", group, "--name", cg}, format: "yaml"},
		{args: []string{"acr", "show", "--name", registry}, format: "yaml"},
		{args: []string{"group", "list"}, format: "yaml"},

		// --query, where numbers and projections are printed by az's own rules.
		{args: []string{"container", "show", "--resource-group", group, "--name", cg, "--query", "containers[0].resources.requests", "-o", "tsv"}, format: "text"},
		{args: []string{"container", "show", "--resource-group", group, "--name", cg, "--query", "containers[0].resources.requests.cpu", "-o", "json"}, format: "text"},
		{args: []string{"container", "list", "--query", "[].{name:name, cpu:containers[0].resources.requests.cpu, state:instanceView.state}", "-o", "table"}, format: "text"},
		{args: []string{"group", "list", "--query", "[].{Name:name, Location:location}", "-o", "table"}, format: "text"},
		{args: []string{"acr", "show", "--name", registry, "--query", "{sku:sku.name, admin:adminUserEnabled}", "-o", "tsv"}, format: "text"},
		{args: []string{"acr", "repository", "show-tags", "--name", registry, "--repository", "parityimage", "--detail", "--query", "[].{tag:name, size:size}", "-o", "json"}, format: "text"},
		{args: []string{"group", "list"}, format: "table"},
		{args: []string{"group", "list"}, format: "tsv"},
		{args: []string{"acr", "show", "--name", registry}, format: "table"},
		{args: []string{"acr", "show", "--name", registry}, format: "tsv"},
		{args: []string{"acr", "list"}, format: "table"},
		{args: []string{"acr", "list"}, format: "tsv"},
		{args: []string{"acr", "credential", "show", "--name", registry}, format: "table"},
		{args: []string{"acr", "repository", "show-tags", "--name", registry, "--repository", "parityimage"}, format: "table"},
		{args: []string{"acr", "repository", "show-tags", "--name", registry, "--repository", "parityimage", "--detail"}, format: "table"},
		{args: []string{"acr", "repository", "list", "--name", registry}, format: "table"},
		{args: []string{"ad", "sp", "list", "--display-name", "parity-pull-sp"}, format: "table"},
		{args: []string{"container", "list"}, format: "table"},
		{args: []string{"container", "list"}, format: "tsv"},
		{args: []string{"container", "show", "--resource-group", group, "--name", cg}, format: "table"},
	}
	for _, pcase := range cases {
		name := strings.Join(pcase.args, " ")
		if pcase.as != "" {
			name = "(as " + pcase.as + ") " + name
		}
		if pcase.format != "" && pcase.format != "text" {
			name += " -o " + pcase.format
		}
		if pcase.skip != "" {
			t.Logf("%s: not compared: %s", name, pcase.skip)
			continue
		}
		args := pcase.args
		format := pcase.format
		switch format {
		case "":
			format = "json"
			fallthrough
		case "table", "tsv", "yaml":
			args = append(append([]string{}, args...), "-o", format)
		}
		realOut, realErr, realCode, cerOut, cerErr, cerCode := run(pcase.as, args)
		dump(t, name, realOut, cerOut)
		if realCode != 0 {
			t.Errorf("%s: the real az exits %d:\n%s", name, realCode, realErr)
			continue
		}
		if cerCode != 0 {
			t.Errorf("%s: Cerulean's az exits %d:\n%s", name, cerCode, cerErr)
			continue
		}
		if w1, w2 := warnings(realErr), warnings(cerErr); w1 != w2 {
			t.Errorf("%s: stderr differs\nreal az:\n%s\nCerulean's az:\n%s", name, w1, w2)
		}
		if format != "json" {
			if realOut != cerOut {
				t.Errorf("%s: output differs\nreal az:\n%s\nCerulean's az:\n%s", name, realOut, cerOut)
			}
			continue
		}
		for _, d := range jsonDiffs(t, realOut, cerOut, pcase.vary) {
			t.Errorf("%s: %s", name, d)
		}
	}

	errorCases := []parityError{
		{args: []string{"acr", "show", "--name", "nosuchregistry"}},
		{args: []string{"group", "show", "--name", "noSuchGroup"}},
		{args: []string{"container", "show", "--resource-group", group, "--name", "nosuchcontainer"}},
		{args: []string{"container", "show", "--resource-group", "noSuchGroup", "--name", cg}},
		{args: []string{"container", "logs", "--resource-group", group, "--name", "nosuchcontainer"}},
		{args: []string{"ad", "sp", "show", "--id", "00000000-0000-0000-0000-000000000001"}},
		{args: []string{"ad", "app", "show", "--id", "00000000-0000-0000-0000-000000000001"}},
		{args: []string{"acr", "repository", "show-tags", "--name", registry, "--repository", "nosuchrepo"}},
		{args: []string{"acr", "repository", "show", "--name", registry, "--image", "parityimage:nosuchtag"}},
		{args: []string{"acr", "credential", "show", "--name", "nosuchregistry"}},
		{args: []string{"acr", "list", "--resource-group", "noSuchGroup"}},
		{args: []string{"acr", "repository", "list", "--name", "nosuchregistry"},
			firstLine: "the hint under the error: az's points at 'az acr check-health', which Cerulean lacks; Cerulean's says the server has no such registry"},
		{args: []string{"acr", "login", "--name", "nosuchregistry", "--expose-token"},
			firstLine: "the hint under the error: az's points at 'az acr check-health', which Cerulean lacks; Cerulean's says the server has no such registry"},
		{as: "pull", args: []string{"acr", "show", "--name", registry}},
		{args: []string{"account", "show", "--subscription", "noSuchSubscription"}},
		{args: []string{"container", "logs", "--resource-group", "noSuchGroup", "--name", cg}},
		{args: []string{"container", "list", "--resource-group", "noSuchGroup"}},
	}
	for _, ec := range errorCases {
		name := strings.Join(ec.args, " ")
		if ec.as != "" {
			name = "(as " + ec.as + ") " + name
		}
		_, realErr, realCode, _, cerErr, cerCode := run(ec.as, ec.args)
		dump(t, name+" (stderr)", realErr, cerErr)
		if realCode == 0 {
			t.Errorf("%s: the real az succeeds", name)
			continue
		}
		if realCode != cerCode {
			t.Errorf("%s: exit %d, the real az exits %d\nreal az:\n%s\nCerulean's az:\n%s", name, cerCode, realCode, realErr, cerErr)
		}
		r, g := maskPerCall(realErr), maskPerCall(cerErr)
		if ec.firstLine != "" {
			t.Logf("%s: only the first error line is compared: %s", name, ec.firstLine)
			r, g = warnings(r)+"\n"+firstError(r), warnings(g)+"\n"+firstError(g)
		}
		if r != g {
			t.Errorf("%s: stderr differs\nreal az:\n%s\nCerulean's az:\n%s", name, r, g)
		}
	}
}

// dump writes both outputs under $CERULEAN_PARITY_DUMP, when set, for a
// person comparing them by eye.
func dump(t *testing.T, name, real, cer string) {
	t.Helper()
	dir := os.Getenv("CERULEAN_PARITY_DUMP")
	if dir == "" {
		return
	}
	file := regexp.MustCompile(`[^A-Za-z0-9.-]+`).ReplaceAllString(name, "_")
	for _, f := range []struct{ sub, text string }{{"real", real}, {"cerulean", cer}} {
		p := filepath.Join(dir, f.sub, file)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.text+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// warnings are the WARNING lines of a successful command's stderr.
func warnings(stderr string) string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "WARNING:") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// perCall are the parts of stderr that each call makes anew.
var perCall = []struct {
	re   *regexp.Regexp
	repl string
}{
	// az acr's add_timestamp: str(datetime.utcnow()) when the error is made.
	{regexp.MustCompile(`(?m)^ERROR: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})? `), "ERROR: <now> "},
	// The server's x-ms-correlation-request-id, one per request.
	{regexp.MustCompile(`Correlation ID: [0-9a-fA-F-]+`), "Correlation ID: <id>"},
}

func maskPerCall(s string) string {
	for _, p := range perCall {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// firstError is the first line of stderr that starts with ERROR:.
func firstError(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "ERROR:") {
			return l
		}
	}
	return "(no ERROR line)"
}

// jsonDiffs compares two JSON documents: the same members at every level,
// the same JSON types, and the same values except at the paths vary names.
func jsonDiffs(t *testing.T, real, cer string, vary map[string]string) []string {
	t.Helper()
	decode := func(who, s string) (any, bool) {
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Errorf("%s: not JSON: %v\n%s", who, err, s)
			return nil, false
		}
		return v, true
	}
	r, ok1 := decode("real az", real)
	g, ok2 := decode("Cerulean's az", cer)
	if !ok1 || !ok2 {
		return nil
	}
	var diffs []string
	compareJSON("$", r, g, vary, &diffs)
	return diffs
}

// normPath drops array indexes from a path: $.containers[].ports[].port.
var indexRE = regexp.MustCompile(`\[\d+\]`)

func normPath(p string) string { return indexRE.ReplaceAllString(p, "[]") }

func varies(p string, vary map[string]string) bool {
	n := normPath(p)
	for pat := range vary {
		// * stands for one member name.
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pat), `\*`, `[^.\[]*`) + "$"
		if regexp.MustCompile(re).MatchString(n) {
			return true
		}
	}
	return false
}

func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func compareJSON(p string, r, g any, vary map[string]string, diffs *[]string) {
	if tr, tg := jsonType(r), jsonType(g); tr != tg {
		*diffs = append(*diffs, fmt.Sprintf("%s: %s %s, the real az has %s %s", p, tg, short(g), tr, short(r)))
		return
	}
	switch r := r.(type) {
	case map[string]any:
		g := g.(map[string]any)
		keys := map[string]bool{}
		for k := range r {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			rv, inR := r[k]
			gv, inG := g[k]
			switch {
			case !inG:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing, the real az has %s", p, k, short(rv)))
			case !inR:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: %s, the real az has no such member", p, k, short(gv)))
			default:
				compareJSON(p+"."+k, rv, gv, vary, diffs)
			}
		}
	case []any:
		g := g.([]any)
		if len(r) != len(g) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %d items, the real az has %d", p, len(g), len(r)))
		}
		for i := range min(len(r), len(g)) {
			compareJSON(fmt.Sprintf("%s[%d]", p, i), r[i], g[i], vary, diffs)
		}
	default:
		if varies(p, vary) {
			return
		}
		if jr, _ := json.Marshal(r); string(jr) != mustJSON(g) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %s, the real az has %s", p, short(g), short(r)))
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func short(v any) string {
	s := mustJSON(v)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
