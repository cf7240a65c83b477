package arm

// Cloud metadata: what GET /metadata/endpoints returns. Azure Resource
// Manager answers api-version 2019-05-01 with an array of clouds and
// 2022-09-01 with the one cloud the host belongs to, both in the
// CloudMetadata shape; Azure Stack Hub (and msrestazure, which az cloud
// register uses) asks for api-version 2015-01-01 and reads the
// StackMetadata shape.

// CloudMetadata is one cloud in ARM's shape.
type CloudMetadata struct {
	Name                     string              `json:"name"`
	Portal                   string              `json:"portal,omitempty"`
	ResourceManager          string              `json:"resourceManager"`
	Authentication           CloudAuthentication `json:"authentication"`
	Graph                    string              `json:"graph"`
	GraphAudience            string              `json:"graphAudience"`
	MicrosoftGraphResourceID string              `json:"microsoftGraphResourceId"`
	Suffixes                 map[string]string   `json:"suffixes"`
}

// CloudAuthentication is a cloud's Entra ID authority and the audiences
// of its Resource Manager.
type CloudAuthentication struct {
	LoginEndpoint    string   `json:"loginEndpoint"`
	Audiences        []string `json:"audiences"`
	Tenant           string   `json:"tenant"`
	IdentityProvider string   `json:"identityProvider"`
}

// StackMetadata is Azure Stack Hub's metadata document
// (api-version 2015-01-01).
type StackMetadata struct {
	GalleryEndpoint string              `json:"galleryEndpoint"`
	GraphEndpoint   string              `json:"graphEndpoint"`
	PortalEndpoint  string              `json:"portalEndpoint"`
	Authentication  StackAuthentication `json:"authentication"`
}

// StackAuthentication is the authority and audiences of StackMetadata.
type StackAuthentication struct {
	LoginEndpoint string   `json:"loginEndpoint"`
	Audiences     []string `json:"audiences"`
}
