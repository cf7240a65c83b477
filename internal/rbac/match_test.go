package rbac

import "testing"

func TestMatchAction(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "Microsoft.Resources/subscriptions/resourceGroups/write", true},
		{"*/read", "Microsoft.Resources/subscriptions/resourceGroups/read", true},
		{"*/read", "Microsoft.Resources/subscriptions/resourceGroups/write", false},
		{"*/read", "read", false},
		{"Microsoft.Authorization/*", "Microsoft.Authorization/roleAssignments/write", true},
		{"Microsoft.Authorization/*/Write", "microsoft.authorization/roleassignments/write", true},
		{"Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/read", false},
		{"Microsoft.ContainerRegistry/registries/pull/read", "Microsoft.ContainerRegistry/registries/pull/read", true},
		{"Microsoft.ContainerRegistry/registries/pull/read", "Microsoft.ContainerRegistry/registries/push/write", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := matchAction(tt.pattern, tt.action); got != tt.want {
			t.Errorf("matchAction(%q, %q) = %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
}

func TestBuiltinRoles(t *testing.T) {
	const (
		rgWrite    = "Microsoft.Resources/subscriptions/resourceGroups/write"
		rgRead     = "Microsoft.Resources/subscriptions/resourceGroups/read"
		raWrite    = "Microsoft.Authorization/roleAssignments/write"
		pull       = "Microsoft.ContainerRegistry/registries/pull/read"
		push       = "Microsoft.ContainerRegistry/registries/push/write"
		artifacDel = "Microsoft.ContainerRegistry/registries/artifacts/delete"
	)
	tests := []struct {
		role    string
		allowed []string
		denied  []string
	}{
		{"Owner", []string{rgWrite, rgRead, raWrite, pull, push, artifacDel}, nil},
		{"Contributor", []string{rgWrite, rgRead, pull, push}, []string{raWrite, "Microsoft.Authorization/roleAssignments/delete"}},
		{"Reader", []string{rgRead, pull}, []string{rgWrite, raWrite, push}},
		{"User Access Administrator", []string{rgRead, raWrite}, []string{rgWrite}},
		{"AcrPull", []string{pull}, []string{push, rgRead}},
		{"AcrPush", []string{pull, push}, []string{artifacDel, rgRead}},
		{"AcrDelete", []string{artifacDel}, []string{pull}},
	}
	for _, tt := range tests {
		d, ok := RoleDefinitionByName(tt.role)
		if !ok {
			t.Fatalf("no built-in role %q", tt.role)
		}
		for _, a := range tt.allowed {
			if !d.Allows(a) {
				t.Errorf("%s should allow %s", tt.role, a)
			}
		}
		for _, a := range tt.denied {
			if d.Allows(a) {
				t.Errorf("%s should not allow %s", tt.role, a)
			}
		}
	}
	if d, ok := RoleDefinitionByName("acrpull"); !ok || d.ID != AcrPullID {
		t.Fatal("role names must match case-insensitively")
	}
	if _, ok := RoleDefinitionByID("7F951DDA-4ED3-4680-A7CA-43FE172D538D"); !ok {
		t.Fatal("role ids must match case-insensitively")
	}
	signer, _ := RoleDefinitionByID(AcrImageSignerID)
	if !signer.AllowsData("Microsoft.ContainerRegistry/registries/trustedCollections/write") || signer.AllowsData(pull) {
		t.Fatal("data actions are separate from actions")
	}
}

func TestRoleDefinitionGUID(t *testing.T) {
	for in, want := range map[string]string{
		"acdd72a7-3385-48ef-bd42-f606fba81ae7": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
		"/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/ACDD72A7-3385-48EF-BD42-F606FBA81AE7": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
		"/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7":                                                    "acdd72a7-3385-48ef-bd42-f606fba81ae7",
		"/subscriptions/x/providers/Microsoft.Other/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7":                                            "",
		"Reader": "",
	} {
		got, ok := RoleDefinitionGUID(in)
		if got != want || ok != (want != "") {
			t.Errorf("RoleDefinitionGUID(%q) = %q, %v", in, got, ok)
		}
	}
}
