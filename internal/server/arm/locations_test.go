package arm

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/resource"
)

// TestLocationsAreChecked: what GET …/locations lists is what a PUT takes;
// anything else is Azure's LocationNotAvailableFor… error, without a
// target (ARM names none for it).
func TestLocationsAreChecked(t *testing.T) {
	e := newServiceRegistryEnv(t)
	tok := e.owner.token

	var locs arm.List[arm.Location]
	r := e.do(t, http.MethodGet, e.subPath()+"/locations", tok, nil)
	expect(t, r, http.StatusOK, "")
	r.decode(t, &locs)
	if len(locs.Value) != len(resource.Regions()) {
		t.Fatalf("listed %d locations, resource knows %d", len(locs.Value), len(resource.Regions()))
	}
	listed := map[string]bool{}
	for _, l := range locs.Value {
		listed[l.Name] = true
	}
	for _, l := range locs.Value {
		for _, p := range l.Metadata.PairedRegion {
			if !listed[p.Name] {
				t.Errorf("%s pairs with unlisted %s", l.Name, p.Name)
			}
		}
	}
	last := locs.Value[len(locs.Value)-1]

	tests := []struct {
		name, path, body string
		status           int
		code, message    string
	}{
		{"group in a listed region", e.subPath() + "/resourcegroups/listed", `{"location":"` + last.DisplayName + `"}`, http.StatusCreated, "", ""},
		{"group on mars", e.subPath() + "/resourcegroups/onmars", `{"location":"mars"}`, http.StatusBadRequest,
			"LocationNotAvailableForResourceGroup", "The provided location 'mars' is not available for resource group. List of available regions is 'eastus,"},
		{"registry on mars", registryPath(e.group(t, "rg"), "marsregistry"), `{"location":"mars","sku":{"name":"Basic"}}`, http.StatusBadRequest,
			"LocationNotAvailableForResourceType", "The provided location 'mars' is not available for resource type 'Microsoft.ContainerRegistry/registries'. List of available regions for the resource type is 'eastus,"},
		{"registry in a listed region", registryPath(e.group(t, "rg2"), "listedregistry"), `{"location":"` + last.Name + `","sku":{"name":"Basic"}}`, http.StatusOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, http.MethodPut, tt.path, tok, tt.body)
			if tt.status == http.StatusOK && r.status == http.StatusCreated {
				r.status = http.StatusOK // a registry PUT may answer either
			}
			expect(t, r, tt.status, tt.code)
			if tt.message == "" {
				return
			}
			var er arm.ErrorResponse
			r.decode(t, &er)
			if !strings.HasPrefix(er.Error.Message, tt.message) || er.Error.Target != "" {
				t.Fatalf("error %+v, want message %q and no target", er.Error, tt.message)
			}
		})
	}
}
