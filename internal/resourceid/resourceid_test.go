package resourceid

import (
	"errors"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
)

const sub = "00000000-1111-2222-3333-444444444444"

func TestParse(t *testing.T) {
	tests := []struct {
		in     string
		level  Level
		canon  string
		typ    string
		name   string
		reason string // expected error reason, "" for success
	}{
		{in: "/", level: Root, canon: "/"},
		{in: "/subscriptions/" + sub, level: Subscription, canon: "/subscriptions/" + sub, typ: "Microsoft.Resources/subscriptions", name: sub},
		{in: "/SUBSCRIPTIONS/" + sub + "/", level: Subscription, canon: "/subscriptions/" + sub},
		{in: "/subscriptions/" + sub + "/resourcegroups/rg1", level: ResourceGroup, canon: "/subscriptions/" + sub + "/resourceGroups/rg1", typ: "Microsoft.Resources/resourceGroups", name: "rg1"},
		{in: "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.ContainerRegistry/registries/r1", level: Resource,
			canon: "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.ContainerRegistry/registries/r1", typ: "Microsoft.ContainerRegistry/registries", name: "r1"},
		{in: "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.ContainerRegistry/registries/r1/replications/eu", level: Resource,
			typ: "Microsoft.ContainerRegistry/registries/replications", name: "eu",
			canon: "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.ContainerRegistry/registries/r1/replications/eu"},
		{in: "", reason: "InvalidScope"},
		{in: "subscriptions/" + sub, reason: "InvalidScope"},
		{in: "/subscriptions/not-a-guid", reason: "InvalidSubscriptionId"},
		{in: "/subscriptions/" + sub + "/resourceGroups", reason: "InvalidScope"},
		{in: "/subscriptions/" + sub + "//resourceGroups/x", reason: "InvalidScope"},
		{in: "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.X", reason: "InvalidScope"},
		{in: "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.X/t", reason: "InvalidScope"},
		{in: "/subscriptions/" + sub + "/resourceGroups/rg/foo/bar", reason: "InvalidScope"},
		{in: "/tenants/x", reason: "InvalidScope"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := Parse(tt.in)
			if tt.reason != "" {
				e, ok := errors.AsType[*errdefs.Error](err)
				if !ok || e.Kind != errdefs.InvalidArgument || e.Reason != tt.reason {
					t.Fatalf("Parse(%q) err = %v, want reason %s", tt.in, err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Level() != tt.level || id.String() != tt.canon {
				t.Fatalf("got level %v canon %q", id.Level(), id.String())
			}
			if tt.typ != "" && (id.ResourceType() != tt.typ || id.Name() != tt.name) {
				t.Fatalf("type %q name %q", id.ResourceType(), id.Name())
			}
		})
	}
}

func TestContainsAndAncestors(t *testing.T) {
	s := MustParse("/subscriptions/" + sub)
	rg := MustParse("/subscriptions/" + sub + "/resourceGroups/RG1")
	rg10 := MustParse("/subscriptions/" + sub + "/resourceGroups/rg10")
	reg := MustParse("/subscriptions/" + sub + "/resourcegroups/rg1/providers/Microsoft.ContainerRegistry/registries/r")
	tests := []struct {
		a, b ID
		want bool
	}{
		{ID{}, reg, true},
		{s, reg, true},
		{rg, reg, true},
		{reg, reg, true},
		{reg, rg, false},
		{rg, rg10, false},
		{rg10, reg, false},
	}
	for _, tt := range tests {
		if got := tt.a.Contains(tt.b); got != tt.want {
			t.Errorf("%s contains %s = %v", tt.a, tt.b, got)
		}
	}
	anc := reg.Ancestors()
	if len(anc) != 4 || anc[0].String() != "/" || !anc[1].Equal(s) || !anc[2].Equal(rg) || !anc[3].Equal(reg) {
		t.Fatalf("ancestors %v", anc)
	}
	if !rg.Equal(MustParse("/SUBSCRIPTIONS/" + sub + "/RESOURCEGROUPS/rg1")) {
		t.Fatal("Equal must ignore case")
	}
	// Equal must agree with Key, which stores and indexes use.
	dotted := ForResourceGroup(sub, "İx")
	plain := ForResourceGroup(sub, "ix")
	if dotted.Equal(plain) != (dotted.Key() == plain.Key()) {
		t.Fatal("Equal disagrees with Key")
	}
}

func TestIsGUID(t *testing.T) {
	for s, want := range map[string]bool{
		"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": true,
		"8E3AF657-A8FF-443C-A75C-2FE8C4BCB635": true,
		"8e3af657a8ff443ca75c2fe8c4bcb635":     false,
		"8e3af657-a8ff-443c-a75c-2fe8c4bcb63g": false,
		"":                                     false,
	} {
		if IsGUID(s) != want {
			t.Errorf("IsGUID(%q) != %v", s, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("/subscriptions/" + sub + "/resourceGroups/rg/providers/A.B/c/d")
	f.Add("/")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(id.String())
		if err != nil || !again.Equal(id) {
			t.Fatalf("round trip of %q failed: %v", s, err)
		}
	})
}
