package arm

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/server"
)

// listLocations serves GET /subscriptions/{s}/locations: the regions
// resource.CheckLocation accepts, so that a location az or an SDK picks from
// this list is one every PUT takes.
func (h *handler) listLocations(ctx context.Context, w http.ResponseWriter, c *Call) error {
	sub, err := h.requireVisible(ctx, c)
	if err != nil {
		return err
	}
	base := "/subscriptions/" + sub.ID + "/locations/"
	regions := resource.Regions()
	out := make([]arm.Location, 0, len(regions))
	for _, r := range regions {
		category := "Other"
		if r.Recommended {
			category = "Recommended"
		}
		l := arm.Location{
			ID: base + r.Name, Name: r.Name, Type: "Region", DisplayName: r.DisplayName,
			RegionalDisplayName: "(" + r.GeographyGroup + ") " + r.DisplayName,
			Metadata: arm.LocationMetadata{
				RegionType: "Physical", RegionCategory: category, GeographyGroup: r.GeographyGroup,
				Longitude: r.Longitude, Latitude: r.Latitude, PhysicalLocation: r.PhysicalLocation,
			},
		}
		if r.PairedRegion != "" {
			l.Metadata.PairedRegion = []arm.PairedRegion{{Name: r.PairedRegion, ID: base + r.PairedRegion}}
		}
		out = append(out, l)
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.Location]{Value: out})
	return nil
}
