package arm

// Location is an item of GET /subscriptions/{s}/locations.
type Location struct {
	ID                  string           `json:"id"`
	Name                string           `json:"name"`
	Type                string           `json:"type"` // "Region"
	DisplayName         string           `json:"displayName"`
	RegionalDisplayName string           `json:"regionalDisplayName"`
	Metadata            LocationMetadata `json:"metadata"`
}

// LocationMetadata describes where a region is.
type LocationMetadata struct {
	RegionType       string         `json:"regionType"`     // "Physical" or "Logical"
	RegionCategory   string         `json:"regionCategory"` // "Recommended", "Other"
	GeographyGroup   string         `json:"geographyGroup,omitempty"`
	Longitude        string         `json:"longitude,omitempty"`
	Latitude         string         `json:"latitude,omitempty"`
	PhysicalLocation string         `json:"physicalLocation,omitempty"`
	PairedRegion     []PairedRegion `json:"pairedRegion,omitempty"`
}

// PairedRegion names a region's disaster-recovery pair.
type PairedRegion struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}
