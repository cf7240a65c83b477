package arm

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/server"
)

// region is one Azure region as GET …/locations lists it.
type region struct {
	name, display, geography, physical, lat, long, pair string
}

// regions are the public-cloud regions az and the SDKs commonly name.
// Cerulean runs everything locally; the location is a label.
var regions = []region{
	{"eastus", "East US", "US", "Virginia", "37.3719", "-79.8164", "westus"},
	{"eastus2", "East US 2", "US", "Virginia", "36.6681", "-78.3889", "centralus"},
	{"southcentralus", "South Central US", "US", "Texas", "29.4167", "-98.5", "northcentralus"},
	{"westus2", "West US 2", "US", "Washington", "47.233", "-119.852", "westcentralus"},
	{"westus3", "West US 3", "US", "Phoenix", "33.448376", "-112.074036", "eastus"},
	{"australiaeast", "Australia East", "Asia Pacific", "New South Wales", "-33.86", "151.2094", "australiasoutheast"},
	{"southeastasia", "Southeast Asia", "Asia Pacific", "Singapore", "1.283", "103.833", "eastasia"},
	{"northeurope", "North Europe", "Europe", "Ireland", "53.3478", "-6.2597", "westeurope"},
	{"swedencentral", "Sweden Central", "Europe", "Gävle", "60.67488", "17.14127", "swedensouth"},
	{"uksouth", "UK South", "Europe", "London", "50.941", "-0.799", "ukwest"},
	{"westeurope", "West Europe", "Europe", "Netherlands", "52.3667", "4.9", "northeurope"},
	{"centralus", "Central US", "US", "Iowa", "41.5908", "-93.6208", "eastus2"},
	{"southafricanorth", "South Africa North", "Africa", "Johannesburg", "-25.73134", "28.21837", "southafricawest"},
	{"centralindia", "Central India", "Asia Pacific", "Pune", "18.5822", "73.9197", "southindia"},
	{"eastasia", "East Asia", "Asia Pacific", "Hong Kong", "22.267", "114.188", "southeastasia"},
	{"japaneast", "Japan East", "Asia Pacific", "Tokyo, Saitama", "35.68", "139.77", "japanwest"},
	{"koreacentral", "Korea Central", "Asia Pacific", "Seoul", "37.5665", "126.978", "koreasouth"},
	{"canadacentral", "Canada Central", "Canada", "Toronto", "43.653", "-79.383", "canadaeast"},
	{"francecentral", "France Central", "Europe", "Paris", "46.3772", "2.373", "francesouth"},
	{"germanywestcentral", "Germany West Central", "Europe", "Frankfurt", "50.110924", "8.682127", "germanynorth"},
	{"norwayeast", "Norway East", "Europe", "Norway", "59.913868", "10.752245", "norwaywest"},
	{"switzerlandnorth", "Switzerland North", "Europe", "Zurich", "47.451542", "8.564572", "switzerlandwest"},
	{"brazilsouth", "Brazil South", "South America", "Sao Paulo State", "-23.55", "-46.633", "southcentralus"},
	{"northcentralus", "North Central US", "US", "Illinois", "41.8819", "-87.6278", "southcentralus"},
	{"westus", "West US", "US", "California", "37.783", "-122.417", "eastus"},
	{"westcentralus", "West Central US", "US", "Wyoming", "40.89", "-110.234", "westus2"},
}

// listLocations serves GET /subscriptions/{s}/locations.
func (h *handler) listLocations(ctx context.Context, w http.ResponseWriter, c *Call) error {
	sub, err := h.requireVisible(ctx, c)
	if err != nil {
		return err
	}
	base := "/subscriptions/" + sub.ID + "/locations/"
	out := make([]arm.Location, 0, len(regions))
	for _, r := range regions {
		out = append(out, arm.Location{
			ID: base + r.name, Name: r.name, Type: "Region", DisplayName: r.display,
			RegionalDisplayName: "(" + r.geography + ") " + r.display,
			Metadata: arm.LocationMetadata{
				RegionType: "Physical", RegionCategory: "Recommended", GeographyGroup: r.geography,
				Longitude: r.long, Latitude: r.lat, PhysicalLocation: r.physical,
				PairedRegion: []arm.PairedRegion{{Name: r.pair, ID: base + r.pair}},
			},
		})
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.Location]{Value: out})
	return nil
}
