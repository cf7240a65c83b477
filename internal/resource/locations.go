package resource

import (
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// ResourceGroupType is the ARM type of resource groups, the one type whose
// unknown location ARM reports with its own code.
const ResourceGroupType = "Microsoft.Resources/resourceGroups"

// ErrLocationNotAvailable is a location that is not one of the regions
// GET …/locations lists, for a provider's resource type.
var ErrLocationNotAvailable = errdefs.New(errdefs.InvalidArgument, "LocationNotAvailableForResourceType", "location not available for the resource type")

// Region is an Azure public-cloud region as GET
// /subscriptions/{s}/locations describes it. Cerulean runs everything on
// this machine, so a region is a label; what matters is that the names are
// Azure's, so that scripts written for Azure pass the same location checks.
type Region struct {
	Name             string // programmatic name: "eastus"
	DisplayName      string // "East US"
	GeographyGroup   string // "US", "Europe", ...
	PhysicalLocation string
	Latitude         string
	Longitude        string
	PairedRegion     string
	Recommended      bool // regionCategory "Recommended" (else "Other")
}

// regions are Azure's physical public-cloud regions, in the order ARM
// lists them (recommended regions first).
var regions = []Region{
	{"eastus", "East US", "US", "Virginia", "37.3719", "-79.8164", "westus", true},
	{"westus2", "West US 2", "US", "Washington", "47.233", "-119.852", "westcentralus", true},
	{"australiaeast", "Australia East", "Asia Pacific", "New South Wales", "-33.86", "151.2094", "australiasoutheast", true},
	{"southeastasia", "Southeast Asia", "Asia Pacific", "Singapore", "1.283", "103.833", "eastasia", true},
	{"northeurope", "North Europe", "Europe", "Ireland", "53.3478", "-6.2597", "westeurope", true},
	{"swedencentral", "Sweden Central", "Europe", "Gävle", "60.67488", "17.14127", "swedensouth", true},
	{"uksouth", "UK South", "Europe", "London", "50.941", "-0.799", "ukwest", true},
	{"westeurope", "West Europe", "Europe", "Netherlands", "52.3667", "4.9", "northeurope", true},
	{"centralus", "Central US", "US", "Iowa", "41.5908", "-93.6208", "eastus2", true},
	{"southafricanorth", "South Africa North", "Africa", "Johannesburg", "-25.73134", "28.21837", "southafricawest", true},
	{"centralindia", "Central India", "Asia Pacific", "Pune", "18.5822", "73.9197", "southindia", true},
	{"eastasia", "East Asia", "Asia Pacific", "Hong Kong", "22.267", "114.188", "southeastasia", true},
	{"japaneast", "Japan East", "Asia Pacific", "Tokyo, Saitama", "35.68", "139.77", "japanwest", true},
	{"koreacentral", "Korea Central", "Asia Pacific", "Seoul", "37.5665", "126.978", "koreasouth", true},
	{"canadacentral", "Canada Central", "Canada", "Toronto", "43.653", "-79.383", "canadaeast", true},
	{"francecentral", "France Central", "Europe", "Paris", "46.3772", "2.373", "francesouth", true},
	{"germanywestcentral", "Germany West Central", "Europe", "Frankfurt", "50.110924", "8.682127", "germanynorth", true},
	{"italynorth", "Italy North", "Europe", "Milan", "45.46888", "9.18109", "", true},
	{"norwayeast", "Norway East", "Europe", "Norway", "59.913868", "10.752245", "norwaywest", true},
	{"polandcentral", "Poland Central", "Europe", "Warsaw", "52.23334", "21.01666", "", true},
	{"spaincentral", "Spain Central", "Europe", "Madrid", "40.4259", "-3.4209", "", true},
	{"switzerlandnorth", "Switzerland North", "Europe", "Zurich", "47.451542", "8.564572", "switzerlandwest", true},
	{"mexicocentral", "Mexico Central", "Mexico", "Querétaro State", "20.588818", "-100.389888", "", true},
	{"uaenorth", "UAE North", "Middle East", "Dubai", "25.266666", "55.316666", "uaecentral", true},
	{"brazilsouth", "Brazil South", "South America", "Sao Paulo State", "-23.55", "-46.633", "southcentralus", true},
	{"israelcentral", "Israel Central", "Middle East", "Israel", "31.2655698", "33.4506633", "", true},
	{"qatarcentral", "Qatar Central", "Middle East", "Doha", "25.551462", "51.439327", "", true},
	{"eastus2", "East US 2", "US", "Virginia", "36.6681", "-78.3889", "centralus", true},
	{"southcentralus", "South Central US", "US", "Texas", "29.4167", "-98.5", "northcentralus", true},
	{"westus3", "West US 3", "US", "Phoenix", "33.448376", "-112.074036", "eastus", true},
	{"northcentralus", "North Central US", "US", "Illinois", "41.8819", "-87.6278", "southcentralus", false},
	{"westus", "West US", "US", "California", "37.783", "-122.417", "eastus", false},
	{"jioindiawest", "Jio India West", "Asia Pacific", "Jamnagar", "22.470701", "70.05773", "jioindiacentral", false},
	{"westcentralus", "West Central US", "US", "Wyoming", "40.89", "-110.234", "westus2", false},
	{"southafricawest", "South Africa West", "Africa", "Cape Town", "-34.075691", "18.843266", "southafricanorth", false},
	{"australiacentral", "Australia Central", "Asia Pacific", "Canberra", "-35.3075", "149.1244", "australiacentral", false},
	{"australiacentral2", "Australia Central 2", "Asia Pacific", "Canberra", "-35.3075", "149.1244", "australiacentral2", false},
	{"australiasoutheast", "Australia Southeast", "Asia Pacific", "Victoria", "-37.8136", "144.9631", "australiaeast", false},
	{"japanwest", "Japan West", "Asia Pacific", "Osaka", "34.6939", "135.5022", "japaneast", false},
	{"jioindiacentral", "Jio India Central", "Asia Pacific", "Nagpur", "21.146633", "79.08886", "jioindiawest", false},
	{"koreasouth", "Korea South", "Asia Pacific", "Busan", "35.1796", "129.0756", "koreacentral", false},
	{"southindia", "South India", "Asia Pacific", "Chennai", "12.9822", "80.1636", "centralindia", false},
	{"westindia", "West India", "Asia Pacific", "Mumbai", "19.088", "72.868", "southindia", false},
	{"canadaeast", "Canada East", "Canada", "Quebec", "46.817", "-71.217", "canadacentral", false},
	{"francesouth", "France South", "Europe", "Marseille", "43.8345", "2.1972", "francecentral", false},
	{"germanynorth", "Germany North", "Europe", "Berlin", "53.073635", "8.806422", "germanywestcentral", false},
	{"norwaywest", "Norway West", "Europe", "Norway", "58.969975", "5.733107", "norwayeast", false},
	{"switzerlandwest", "Switzerland West", "Europe", "Geneva", "46.204391", "6.143158", "switzerlandnorth", false},
	{"ukwest", "UK West", "Europe", "Cardiff", "53.427", "-3.084", "uksouth", false},
	{"uaecentral", "UAE Central", "Middle East", "Abu Dhabi", "24.466667", "54.366669", "uaenorth", false},
	{"brazilsoutheast", "Brazil Southeast", "South America", "Rio", "-22.90278", "-43.2075", "brazilsouth", false},
	{"swedensouth", "Sweden South", "Europe", "Malmo", "55.60105", "13.0072", "swedencentral", false},
}

// Regions lists the regions ARM offers, in its order.
func Regions() []Region {
	return append([]Region(nil), regions...)
}

// LookupRegion finds a region by its programmatic or display name, in any
// case and spacing ("East US", "eastus", "EASTUS").
func LookupRegion(location string) (Region, bool) {
	n := NormalizeLocation(location)
	for _, r := range regions {
		if r.Name == n {
			return r, true
		}
	}
	return Region{}, false
}

// CheckLocation reports whether a resource of resourceType (an ARM type such
// as "Microsoft.ContainerRegistry/registries", or ResourceGroupType) may be
// placed in location, with ARM's errors: LocationRequired for an empty one,
// LocationNotAvailableForResourceGroup or LocationNotAvailableForResourceType
// (listing the available regions) for one ARM does not list. The location
// may be a display name; store NormalizeLocation(location).
func CheckLocation(location, resourceType string) error {
	if NormalizeLocation(location) == "" {
		return ErrLocationRequired.WithTarget("location")
	}
	if _, ok := LookupRegion(location); ok {
		return nil
	}
	names := make([]string, len(regions))
	for i, r := range regions {
		names[i] = r.Name
	}
	available := strings.Join(names, ",")
	shown := clip(location)
	if strings.EqualFold(resourceType, ResourceGroupType) {
		return ErrInvalidLocation.WithMessage("The provided location '%s' is not available for resource group. List of available regions is '%s'.", shown, available)
	}
	return ErrLocationNotAvailable.WithMessage("The provided location '%s' is not available for resource type '%s'. List of available regions for the resource type is '%s'.", shown, resourceType, available)
}

// clip keeps an echoed client value short.
func clip(s string) string {
	const max = 100
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
