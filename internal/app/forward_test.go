package app

import "testing"

func TestContainerGroupOf(t *testing.T) {
	tests := []struct {
		path, name string
	}{
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/web", "web"},
		{"//subscriptions/s1/resourcegroups/rg/providers/microsoft.containerinstance/CONTAINERGROUPS/web/stop", "web"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/web/containers/c1/exec", "web"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups", ""},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/", ""},
		{"/subscriptions/s1/providers/Microsoft.ContainerInstance/locations/eastus/operations/x/y", ""},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/web", ""},
	}
	for _, tt := range tests {
		id, ok := containerGroupOf(tt.path)
		if ok != (tt.name != "") || ok && (id.Name() != tt.name || id.SubscriptionID != "s1" || id.ResourceGroup != "rg") {
			t.Errorf("%s: %v %v, want %q", tt.path, id, ok, tt.name)
		}
	}
}
