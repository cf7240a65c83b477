package client

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/api/arm"
)

// CloudMetadata is GET /metadata/endpoints?api-version=2022-09-01, which
// needs no token: the cloud the server answers as, with its endpoints and
// suffixes (what az takes from its cloud configuration, such as the
// registry login server suffix).
func (c *Client) CloudMetadata(ctx context.Context) (arm.CloudMetadata, error) {
	var out arm.CloudMetadata
	resp, err := c.do(ctx, call{surface: SurfaceARM, method: http.MethodGet,
		url: c.urlFor("/metadata/endpoints", query("api-version", "2022-09-01"))})
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}
