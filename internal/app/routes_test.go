package app

import "testing"

// TestFirstSegment: the segment that picks a surface, whatever number of
// slashes leads the path (the Azure SDK for JavaScript sends
// //subscriptions/… for scope-templated operations such as role
// assignments).
func TestFirstSegment(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"/subscriptions/x/resourcegroups", "subscriptions"},
		{"//subscriptions/x/providers/Microsoft.Authorization/roleDefinitions", "subscriptions"},
		{"/v1.0/servicePrincipals", "v1.0"},
		{"/tenant/oauth2/v2.0/token", "tenant"},
		{"/healthz", "healthz"},
		{"/", ""},
		{"", ""},
	} {
		if got := firstSegment(tt.path); got != tt.want {
			t.Errorf("firstSegment(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
