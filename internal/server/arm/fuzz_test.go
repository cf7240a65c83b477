package arm

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// fuzzMethods are the methods the route fuzzer picks from.
var fuzzMethods = []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost, http.MethodHead, http.MethodOptions}

// FuzzRoute: the ARM path splitter and router never panic and refuse
// only with errdefs errors; a routed request names a scope that contains
// its target, ids that format and parse back to themselves, the
// subscription of its path, and an operation with its authorization
// declared; and routing ignores the case of ASCII letters.
func FuzzRoute(f *testing.F) {
	const sub = "/subscriptions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	for _, p := range []string{
		"/tenants", "/subscriptions", sub, sub + "/locations", sub + "/resourcegroups", sub + "/resourceGroups/myGroup/",
		sub + "/resources", sub + "/resourceGroups/rg/resources",
		sub + "/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r1",
		sub + "/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r1/listCredentials",
		sub + "/providers/Microsoft.ContainerRegistry/registries", sub + "/providers/Microsoft.ContainerRegistry/checkNameAvailability",
		sub + "/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r1/providers/Microsoft.Authorization/roleAssignments/a",
		"/providers/Microsoft.Authorization/roleDefinitions", sub + "/providers/Microsoft.Authorization/roleAssignments",
		sub + "/resourceGroups/rg/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d",
		"/subscriptions/not-a-guid/resourcegroups", sub + "//resourcegroups", sub + "/resourcegroups/a%2Fb", sub + "/resourcegroups/%00",
		sub + "/providers", sub + "/providers/Microsoft.Nope/things", sub + strings.Repeat("/a", 50),
	} {
		f.Add(p, uint8(0))
		f.Add(p, uint8(4))
	}
	h := New(Config{Types: RegistriesTypes(nil)}).(*handler)
	f.Fuzz(func(t *testing.T, path string, mi uint8) {
		method := fuzzMethods[int(mi)%len(fuzzMethods)]
		segs, err := splitPath(path)
		if err != nil {
			return
		}
		if len(segs) == 0 || len(segs) > maxSegments {
			t.Fatalf("splitPath(%q) = %d segments", path, len(segs))
		}
		for _, s := range segs {
			if s == "" || strings.ContainsAny(s, "/\x00") {
				t.Fatalf("splitPath(%q) gave segment %q", path, s)
			}
		}
		m, err := h.match(method, segs, "2023-01-01")
		upper := make([]string, len(segs))
		for i, s := range segs {
			upper[i] = asciiUpper(s)
		}
		mu, errU := h.match(method, upper, "2023-01-01")
		if (err == nil) != (errU == nil) {
			t.Fatalf("%s %q routes with %v, upper-cased with %v", method, path, err, errU)
		}
		if err != nil {
			if _, ok := errors.AsType[*errdefs.Error](err); !ok {
				t.Fatalf("%s %q: error of type %T: %v", method, path, err, err)
			}
			return
		}
		if m.op.Serve == nil || m.op.Auth < CheckAction || m.op.Auth > Authenticated ||
			(m.op.Auth == CheckAction || m.op.Auth == FilterItems) && m.op.Action == "" {
			t.Fatalf("%s %q routes to an operation without handler or authorization: %+v", method, path, m.op)
		}
		if !m.scope.Contains(m.target) {
			t.Fatalf("%s %q: scope %q does not contain target %q", method, path, m.scope, m.target)
		}
		for _, id := range []resourceid.ID{m.scope, m.target} {
			again, err := resourceid.Parse(id.String())
			if err != nil || again.String() != id.String() {
				t.Fatalf("%s %q: id %q does not round-trip: %q, %v", method, path, id, again, err)
			}
		}
		if m.subscription != "" && (!resourceid.IsGUID(m.subscription) ||
			m.target.Level() != resourceid.Root && !strings.EqualFold(m.target.SubscriptionID, m.subscription)) {
			t.Fatalf("%s %q: subscription %q, target %q", method, path, m.subscription, m.target)
		}
		if mu.op.Action != m.op.Action || mu.op.Auth != m.op.Auth || !strings.EqualFold(mu.action, m.action) ||
			!strings.EqualFold(mu.name, m.name) || !mu.target.Equal(m.target) || !mu.scope.Equal(m.scope) {
			t.Fatalf("%s %q routes differently upper-cased: %+v against %+v", method, path, mu, m)
		}
	})
}

// asciiUpper upper-cases ASCII letters only, leaving every other byte
// (and so any invalid UTF-8) as it is.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
