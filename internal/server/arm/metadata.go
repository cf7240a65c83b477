package arm

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/server"
)

// MetadataConfig configures the cloud metadata endpoint.
type MetadataConfig struct {
	Logger *slog.Logger
	// AzureHostnames: the server answers as Azure's public cloud, so the
	// metadata names Azure's hosts and the cloud is AzureCloud.
	AzureHostnames bool
	// RegistryDomain is the parent domain of registry login servers.
	RegistryDomain string
}

// CloudName is the name the metadata gives Cerulean's cloud when it does
// not answer as Azure's.
const CloudName = "Cerulean"

// Metadata serves GET /metadata/endpoints, the document from which az
// (az cloud register, ARM_CLOUD_METADATA_URL) and the Azure SDKs learn a
// cloud's endpoints. It needs no token, as in Azure. Every URL is built
// from the Host the client used, like the login surface's discovery
// documents, so the answer is right for whatever name reaches the server.
func Metadata(cfg MetadataConfig) http.Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return server.Adapt(logger, writeError, func(w http.ResponseWriter, r *http.Request) error {
		// msrestazure appends "/metadata/endpoints" to an endpoint that
		// ends in "/": leading slashes count as one, as elsewhere in ARM.
		if !strings.EqualFold("/"+strings.TrimLeft(r.URL.Path, "/"), "/metadata/endpoints") {
			return errdefs.Newf(errdefs.NotFound, "NotFound", "The requested path '%s' was not found.", clip(r.URL.Path))
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			return errMethodNotAllowed(r.Method)
		}
		version := r.URL.Query().Get("api-version")
		if version == "" {
			return errMissingAPIVersion
		}
		cloud := cfg.cloud(r.Host)
		switch {
		case version == "1.0" || version == "2015-01-01":
			server.WriteJSON(w, http.StatusOK, arm.StackMetadata{
				GalleryEndpoint: cloud.ResourceManager,
				GraphEndpoint:   cloud.MicrosoftGraphResourceID,
				PortalEndpoint:  cloud.ResourceManager,
				Authentication: arm.StackAuthentication{
					LoginEndpoint: cloud.Authentication.LoginEndpoint,
					Audiences:     cloud.Authentication.Audiences,
				},
			})
		case version < "2022-09-01":
			server.WriteJSON(w, http.StatusOK, []arm.CloudMetadata{cloud})
		default:
			server.WriteJSON(w, http.StatusOK, cloud)
		}
		return nil
	})
}

// cloud is the metadata of the cloud reached through host.
func (cfg MetadataConfig) cloud(host string) arm.CloudMetadata {
	base := "https://" + strings.ToLower(strings.TrimSuffix(host, ":443")) + "/"
	c := arm.CloudMetadata{
		Name:            CloudName,
		ResourceManager: base,
		Authentication: arm.CloudAuthentication{
			LoginEndpoint: base,
			// The ARM audiences Cerulean issues tokens for; the first is
			// what az asks for.
			Audiences:        []string{"https://management.core.windows.net/", "https://management.azure.com/"},
			Tenant:           "common",
			IdentityProvider: "AAD",
		},
		// Graph is served on the server's own host; its tokens are asked
		// for by this URL.
		Graph:                    base,
		GraphAudience:            base,
		MicrosoftGraphResourceID: base,
		Suffixes:                 map[string]string{"acrLoginServer": cfg.RegistryDomain},
	}
	if cfg.AzureHostnames {
		c.Name = "AzureCloud"
		c.Portal = "https://portal.azure.com"
		c.ResourceManager = "https://management.azure.com/"
		c.Authentication.LoginEndpoint = "https://login.microsoftonline.com"
		c.Graph = "https://graph.windows.net/"
		c.GraphAudience = "https://graph.windows.net/"
		c.MicrosoftGraphResourceID = "https://graph.microsoft.com/"
	}
	return c
}
