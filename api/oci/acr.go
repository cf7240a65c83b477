package oci

// ChangeableAttributes are ACR's lock flags of a repository, tag or
// manifest.
type ChangeableAttributes struct {
	DeleteEnabled bool `json:"deleteEnabled"`
	WriteEnabled  bool `json:"writeEnabled"`
	ReadEnabled   bool `json:"readEnabled"`
	ListEnabled   bool `json:"listEnabled"`
}

// AttributesUpdate is the body of PATCH /acr/v1/<name>[/_tags/<tag>|
// /_manifests/<digest>]: absent flags stay as they are.
type AttributesUpdate struct {
	DeleteEnabled *bool `json:"deleteEnabled,omitempty"`
	WriteEnabled  *bool `json:"writeEnabled,omitempty"`
	ReadEnabled   *bool `json:"readEnabled,omitempty"`
	ListEnabled   *bool `json:"listEnabled,omitempty"`
}

// RepositoryProperties is GET and PATCH /acr/v1/<name>. Times are
// formatted with seven fractional digits, as ACR does
// ("2022-12-13T09:17:12.6157503Z").
type RepositoryProperties struct {
	Registry             string               `json:"registry"`
	ImageName            string               `json:"imageName"`
	CreatedTime          string               `json:"createdTime"`
	LastUpdateTime       string               `json:"lastUpdateTime"`
	ManifestCount        int                  `json:"manifestCount"`
	TagCount             int                  `json:"tagCount"`
	ChangeableAttributes ChangeableAttributes `json:"changeableAttributes"`
}

// DeletedRepository is the 202 body of DELETE /acr/v1/<name>.
type DeletedRepository struct {
	ManifestsDeleted []string `json:"manifestsDeleted"`
	TagsDeleted      []string `json:"tagsDeleted"`
}

// TagAttributes describe one tag.
type TagAttributes struct {
	Name                 string               `json:"name"`
	Digest               string               `json:"digest"`
	CreatedTime          string               `json:"createdTime"`
	LastUpdateTime       string               `json:"lastUpdateTime"`
	Signed               bool                 `json:"signed"`
	ChangeableAttributes ChangeableAttributes `json:"changeableAttributes"`
}

// Tags is GET /acr/v1/<name>/_tags.
type Tags struct {
	Registry  string          `json:"registry"`
	ImageName string          `json:"imageName"`
	Tags      []TagAttributes `json:"tags"`
}

// TagProperties is GET and PATCH /acr/v1/<name>/_tags/<tag>.
type TagProperties struct {
	Registry  string        `json:"registry"`
	ImageName string        `json:"imageName"`
	Tag       TagAttributes `json:"tag"`
}

// ManifestReference names a manifest an index refers to.
type ManifestReference struct {
	Digest       string `json:"digest"`
	Architecture string `json:"architecture,omitempty"`
	OS           string `json:"os,omitempty"`
}

// ManifestAttributes describe one manifest.
type ManifestAttributes struct {
	Digest               string               `json:"digest"`
	ImageSize            int64                `json:"imageSize"`
	CreatedTime          string               `json:"createdTime"`
	LastUpdateTime       string               `json:"lastUpdateTime"`
	Architecture         string               `json:"architecture,omitempty"`
	OS                   string               `json:"os,omitempty"`
	MediaType            string               `json:"mediaType,omitempty"`
	ConfigMediaType      string               `json:"configMediaType,omitempty"`
	Tags                 []string             `json:"tags,omitempty"`
	References           []ManifestReference  `json:"references,omitempty"`
	ChangeableAttributes ChangeableAttributes `json:"changeableAttributes"`
}

// Manifests is GET /acr/v1/<name>/_manifests.
type Manifests struct {
	Registry  string               `json:"registry"`
	ImageName string               `json:"imageName"`
	Manifests []ManifestAttributes `json:"manifests"`
}

// ManifestProperties is GET and PATCH /acr/v1/<name>/_manifests/<digest>.
type ManifestProperties struct {
	Registry  string             `json:"registry"`
	ImageName string             `json:"imageName"`
	Manifest  ManifestAttributes `json:"manifest"`
}
