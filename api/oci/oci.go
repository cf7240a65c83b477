// Package oci holds the registry data-plane wire types: the OCI
// Distribution Specification's error body, tag list, catalog and
// referrers index, and Azure Container Registry's own /acr/v1 shapes
// (repository, tag and manifest attributes). Digests, media types and
// timestamps are plain strings here; the server formats them.
package oci

// ErrorResponse is the distribution error body: {"errors":[…]}.
type ErrorResponse struct {
	Errors []Error `json:"errors"`
}

// Error is one entry of an ErrorResponse. Code is an OCI error code
// (BLOB_UNKNOWN, NAME_UNKNOWN, …); Detail is free-form.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// AccessDetail is the detail of an UNAUTHORIZED error as ACR writes it:
// one entry per requested action, with capitalised keys.
type AccessDetail struct {
	Type   string `json:"Type"`
	Name   string `json:"Name"`
	Action string `json:"Action"`
}

// TagList is GET /v2/<name>/tags/list.
type TagList struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

// Catalog is GET /v2/_catalog and GET /acr/v1/_catalog.
type Catalog struct {
	Repositories []string `json:"repositories"`
}

// Descriptor is an OCI content descriptor, as the referrers API lists it.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// Index is an OCI image index: the body of GET /v2/<name>/referrers/<digest>.
type Index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []Descriptor `json:"manifests"`
}

// MediaTypeImageIndex is the media type of an OCI image index.
const MediaTypeImageIndex = "application/vnd.oci.image.index.v1+json"
