package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/cli/output"
)

const acrAPI = "api-version=2023-11-01-preview"

// TestACRRequests checks what az acr sends: the create body, and the
// resource-group lookup through the generic resource list when -g is
// absent (reference §1.2(d)).
func TestACRRequests(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun("login", "-o", "none")
	e.mustRun("group", "create", "-n", "myResourceGroup", "-l", "eastus", "-o", "none")

	before := len(e.fake.requestLog())
	e.mustRun("acr", "create", "-g", "myResourceGroup", "-n", "myregistry", "--sku", "Basic", "-o", "none")
	reg := rgScope + "/providers/Microsoft.ContainerRegistry/registries/myregistry"
	want := []string{
		"GET /subscriptions/" + fakeSubscription + "/resourcegroups/myResourceGroup?api-version=2021-04-01",
		"PUT " + reg + "?" + acrAPI,
	}
	if got := filterRequests(e.fake.requestLog()[before:]); !reflect.DeepEqual(got, want) {
		t.Errorf("create requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(e.fake.registries["myregistry"].lastBody), &body); err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]any{
		"location": "eastus", "sku": map[string]any{"name": "Basic"},
		"properties": map[string]any{"adminUserEnabled": false, "anonymousPullEnabled": false},
	}
	if !reflect.DeepEqual(body, wantBody) {
		t.Errorf("create body %v, want %v", body, wantBody)
	}

	before = len(e.fake.requestLog())
	e.mustRun("acr", "show", "-n", "MyRegistry", "-o", "none")
	want = []string{
		"GET /subscriptions/" + fakeSubscription + "/resources?api-version=2021-04-01&$filter=resourceType eq 'Microsoft.ContainerRegistry/registries'",
		// az takes the group from the lower-cased resource id.
		"GET /subscriptions/" + fakeSubscription + "/resourceGroups/myresourcegroup/providers/Microsoft.ContainerRegistry/registries/MyRegistry?" + acrAPI,
	}
	if got := filterRequests(e.fake.requestLog()[before:]); !reflect.DeepEqual(got, want) {
		t.Errorf("show requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	e.mustRun("acr", "update", "-n", "myregistry", "-g", "myResourceGroup", "--tags", "", "--admin-enabled", "false", "-o", "none")
	body = nil
	if err := json.Unmarshal([]byte(e.fake.registries["myregistry"].lastBody), &body); err != nil {
		t.Fatal(err)
	}
	wantBody = map[string]any{"tags": map[string]any{}, "properties": map[string]any{"adminUserEnabled": false}}
	if !reflect.DeepEqual(body, wantBody) {
		t.Errorf("update body %v, want %v", body, wantBody)
	}
}

// TestACRDeletePrompts answers the confirmation on a terminal.
func TestACRDeletePrompts(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun("login", "-o", "none")
	e.mustRun("group", "create", "-n", "myResourceGroup", "-l", "eastus", "-o", "none")
	e.mustRun("acr", "create", "-g", "myResourceGroup", "-n", "myregistry", "--sku", "Basic", "-o", "none")
	run := func(answer string) (string, string, int) {
		var out, errb bytes.Buffer
		a := newApp(strings.NewReader(answer), &out, &errb, e.getenv)
		a.now = func() time.Time { return fakeTime }
		a.stdinIsTTY = func() bool { return true }
		code := a.run(context.Background(), []string{"acr", "delete", "-n", "myregistry"})
		return out.String(), errb.String(), code
	}
	out, errs, code := run("n\n")
	if code != 1 || out != "Are you sure you want to delete the registry 'myregistry'? (y/n): " || errs != "ERROR: Operation cancelled.\n" {
		t.Fatalf("declined: %d %q %q", code, out, errs)
	}
	if e.fake.registries["myregistry"] == nil {
		t.Fatal("deleted although declined")
	}
	if _, errs, code := run("y\n"); code != 0 || errs != "" {
		t.Fatalf("confirmed: %d %q", code, errs)
	}
	if e.fake.registries["myregistry"] != nil {
		t.Fatal("not deleted")
	}
}

func TestACRTableValues(t *testing.T) {
	item := map[string]any{"name": "r", "adminUserEnabled": false, "sku": map[string]any{"name": "Basic"},
		"passwords": []any{map[string]any{"value": "p1"}}, "count": json.Number("0")}
	tests := []struct {
		path []any
		want string
	}{
		{[]any{"name"}, "r"},
		{[]any{"adminUserEnabled"}, " "},
		{[]any{"sku", "name"}, "Basic"},
		{[]any{"sku", "tier"}, " "},
		{[]any{"passwords", 0, "value"}, "p1"},
		{[]any{"passwords", 1, "value"}, " "},
		{[]any{"name", "x"}, " "},
		{[]any{"count"}, " "},
	}
	for _, tc := range tests {
		if got := acrValue(item, tc.path...); got != tc.want {
			t.Errorf("acrValue(%v) = %q, want %q", tc.path, got, tc.want)
		}
	}
	if got := acrValue(map[string]any{"adminUserEnabled": true}, "adminUserEnabled"); got != "True" {
		t.Errorf("true = %q", got)
	}
	for in, want := range map[string]string{
		"2024-05-01T12:00:00.123456+00:00": "2024-05-01T12:00:00Z",
		"2024-05-01T12:00:00Z":             "2024-05-01T12:00:00Z",
		" ":                                " ",
	} {
		if got := acrDate(in); got != want {
			t.Errorf("acrDate(%q) = %q, want %q", in, got, want)
		}
	}
	rows, ok := transformRegistries(item).([]output.Row)
	if !ok || len(rows) != 1 || rows[0][0].Key != "NAME" || len(rows[0]) != 7 {
		t.Errorf("one registry: %v", rows)
	}
}

func TestACRNameChecks(t *testing.T) {
	for _, tc := range []struct {
		name        string
		upper, dash bool
	}{
		{"myregistry", false, false},
		{"MyRegistry", true, false},
		{"myRegistry", true, false},
		{"my-registry", false, true},
		{"my-Registry", false, true},
		{"my_registry", false, false},
	} {
		if got := registryNameUpper.MatchString(tc.name); got != tc.upper {
			t.Errorf("%s: upper %v", tc.name, got)
		}
		if got := registryNameDash.MatchString(tc.name); got != tc.dash {
			t.Errorf("%s: dash %v", tc.name, got)
		}
	}
	for in, want := range map[string]string{"r.example:8443": "r.example", "r.example": "r.example", "[::1]:443": "::1"} {
		if got := loginHost(in); got != want {
			t.Errorf("loginHost(%q) = %q", in, got)
		}
	}
}

func TestACRUpdateWire(t *testing.T) {
	got := registryUpdateWire(map[string]any{
		"sku": map[string]any{"name": "Premium"}, "tags": map[string]any{}, "adminUserEnabled": true,
		"policies": map[string]any{"azureAdAuthenticationAsArmPolicy": map[string]any{"status": "enabled"}},
	})
	want := map[string]any{
		"sku": map[string]any{"name": "Premium"}, "tags": map[string]any{},
		"properties": map[string]any{"adminUserEnabled": true,
			"policies": map[string]any{"azureADAuthenticationAsArmPolicy": map[string]any{"status": "enabled"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("wire %v, want %v", got, want)
	}
	if got := registryUpdateWire(map[string]any{}); len(got) != 0 {
		t.Errorf("empty update %v", got)
	}
	for _, tc := range []struct {
		params map[string]any
		ok     bool
	}{
		{map[string]any{}, true},
		{map[string]any{"sku": map[string]any{"name": "Standard"}}, true},
		{map[string]any{"sku": map[string]any{"name": "Classic"}}, false},
		{map[string]any{"sku": map[string]any{"tier": "Standard"}}, false},
		{map[string]any{"sku": "Standard"}, false},
	} {
		if err := validateSKUUpdate(tc.params); (err == nil) != tc.ok {
			t.Errorf("%v: %v", tc.params, err)
		}
	}
}
