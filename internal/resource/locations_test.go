package resource_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resource"
)

const registryType = "Microsoft.ContainerRegistry/registries"

func TestCheckLocation(t *testing.T) {
	tests := []struct {
		location, resourceType string
		want                   *errdefs.Error // nil: accepted
		message                string         // prefix of the message
	}{
		{"eastus", registryType, nil, ""},
		{"East US", registryType, nil, ""},
		{"  EASTUS2 ", resource.ResourceGroupType, nil, ""},
		{"West Europe", resource.ResourceGroupType, nil, ""},
		{"", registryType, resource.ErrLocationRequired, "The location property is required for this definition."},
		{"   ", resource.ResourceGroupType, resource.ErrLocationRequired, "The location property is required"},
		{"mars", resource.ResourceGroupType, resource.ErrInvalidLocation,
			"The provided location 'mars' is not available for resource group. List of available regions is 'eastus,westus2,"},
		{"mars", registryType, resource.ErrLocationNotAvailable,
			"The provided location 'mars' is not available for resource type 'Microsoft.ContainerRegistry/registries'. List of available regions for the resource type is 'eastus,"},
		{"east-us", "Microsoft.ContainerInstance/containerGroups", resource.ErrLocationNotAvailable,
			"The provided location 'east-us' is not available for resource type 'Microsoft.ContainerInstance/containerGroups'."},
		{"eastus2euap", registryType, resource.ErrLocationNotAvailable, "The provided location 'eastus2euap'"},
	}
	for _, tt := range tests {
		t.Run(tt.location+"/"+tt.resourceType, func(t *testing.T) {
			err := resource.CheckLocation(tt.location, tt.resourceType)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckLocation(%q) = %v", tt.location, err)
				}
				return
			}
			e, ok := errors.AsType[*errdefs.Error](err)
			if !ok || !errors.Is(err, tt.want) || e.Kind != errdefs.InvalidArgument {
				t.Fatalf("CheckLocation(%q) = %v, want %v", tt.location, err, tt.want)
			}
			if !strings.HasPrefix(e.Message, tt.message) {
				t.Fatalf("message = %q, want prefix %q", e.Message, tt.message)
			}
		})
	}
}

// The list in the message is every region ARM lists, and nothing else.
func TestCheckLocationListsTheRegions(t *testing.T) {
	err := resource.CheckLocation("mars", registryType)
	e, _ := errors.AsType[*errdefs.Error](err)
	_, list, _ := strings.Cut(e.Message, "for the resource type is '")
	list = strings.TrimSuffix(list, "'.")
	var names []string
	for _, r := range resource.Regions() {
		names = append(names, r.Name)
	}
	if list != strings.Join(names, ",") {
		t.Fatalf("listed %q, ARM lists %q", list, strings.Join(names, ","))
	}
}

// Every region ARM lists is accepted by its name and its display name, and
// every paired region is itself listed.
func TestRegions(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range resource.Regions() {
		if seen[r.Name] {
			t.Errorf("%s listed twice", r.Name)
		}
		seen[r.Name] = true
		if r.Name != resource.NormalizeLocation(r.DisplayName) {
			t.Errorf("%s: display name %q does not normalize to it", r.Name, r.DisplayName)
		}
		for _, loc := range []string{r.Name, r.DisplayName} {
			if err := resource.CheckLocation(loc, registryType); err != nil {
				t.Errorf("%q: %v", loc, err)
			}
		}
	}
	for _, r := range resource.Regions() {
		if r.PairedRegion != "" && !seen[r.PairedRegion] {
			t.Errorf("%s pairs with %s, which is not listed", r.Name, r.PairedRegion)
		}
	}
}
