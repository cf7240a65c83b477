package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/jsonstrict"
)

// Manifest media types the registry understands.
const (
	MediaTypeOCIManifest         = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex            = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerManifest      = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList  = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeOCIConfig           = "application/vnd.oci.image.config.v1+json"
	mediaTypeDockerConfig        = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// MaxManifestSize is the largest manifest accepted (the limit the OCI
// distribution spec suggests and ACR applies).
const MaxManifestSize = 4 << 20

// manifestKind says which rules a manifest follows.
type manifestKind int

const (
	kindImage   manifestKind = iota // OCI image manifest, Docker schema 2 manifest
	kindIndex                       // OCI image index, Docker manifest list
	kindGeneric                     // any other JSON type that declares its mediaType
)

// wireDescriptor is a content descriptor as manifests carry it.
type wireDescriptor struct {
	MediaType    string         `json:"mediaType"`
	Digest       string         `json:"digest"`
	Size         *int64         `json:"size"`
	Data         []byte         `json:"data"`
	ArtifactType string         `json:"artifactType"`
	Platform     *wirePlatform  `json:"platform"`
	URLs         []string       `json:"urls"`
	Annotations  map[string]any `json:"annotations"`
}

type wirePlatform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// wireManifest is the union of the fields of every manifest type the
// registry validates; unknown fields are ignored, as the specs require.
type wireManifest struct {
	SchemaVersion *int              `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *wireDescriptor   `json:"config"`
	Layers        []wireDescriptor  `json:"layers"`
	Manifests     []wireDescriptor  `json:"manifests"`
	Blobs         []wireDescriptor  `json:"blobs"` // the withdrawn OCI artifact manifest
	Subject       *wireDescriptor   `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// descriptor is a validated reference to a blob or a child manifest.
type descriptor struct {
	mediaType    string
	digest       digest.Digest
	size         int64
	architecture string
	os           string
}

// parsedManifest is what PutManifest learns from a manifest body.
type parsedManifest struct {
	kind            manifestKind
	mediaType       string
	artifactType    string
	configMediaType string
	config          *descriptor  // image manifests
	blobs           []descriptor // must be linked to the repository: config and distributable layers
	children        []descriptor // must be manifests of the repository
	subject         digest.Digest
	annotations     map[string]string
}

// parseManifest validates a manifest body against its media type: size,
// JSON, the media type against contentType, schemaVersion, and the shape
// of every descriptor. What the descriptors point at is checked by the
// caller, against the repository.
func parseManifest(contentType string, body []byte) (parsedManifest, error) {
	var pm parsedManifest
	if len(body) > MaxManifestSize {
		return pm, ErrManifestTooLarge.WithMessage("manifest of %d bytes exceeds the limit of %d bytes", len(body), MaxManifestSize)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return pm, ErrManifestInvalid.WithMessage("manifest is not a JSON object")
	}
	var w wireManifest
	if err := json.Unmarshal(body, &w); err != nil {
		return pm, ErrManifestInvalid.WithMessage("manifest is not valid JSON: %s", jsonProblem(err))
	}
	if err := uniqueKeys(body); err != nil {
		return pm, err
	}
	mt, err := manifestMediaType(contentType, w)
	if err != nil {
		return pm, err
	}
	pm.mediaType = mt
	pm.annotations = w.Annotations
	pm.artifactType = w.ArtifactType

	switch mt {
	case MediaTypeOCIManifest, MediaTypeDockerManifest:
		pm.kind = kindImage
		if err := requireSchema2(w); err != nil {
			return pm, err
		}
		if w.Config == nil {
			return pm, ErrManifestInvalid.WithMessage("manifest has no config descriptor").WithTarget("config")
		}
	case MediaTypeOCIIndex, MediaTypeDockerManifestList:
		pm.kind = kindIndex
		if err := requireSchema2(w); err != nil {
			return pm, err
		}
		if w.Config != nil || len(w.Layers) > 0 {
			return pm, ErrManifestInvalid.WithMessage("an index has no config or layers")
		}
	default:
		pm.kind = kindGeneric
	}

	if w.Config != nil {
		c, err := validDescriptor(*w.Config, "config", true)
		if err != nil {
			return pm, err
		}
		pm.config = &c
		pm.configMediaType = c.mediaType
		pm.blobs = append(pm.blobs, c)
	}
	layers := append(w.Layers, w.Blobs...)
	if pm.kind == kindIndex {
		layers = nil
	}
	for i, l := range layers {
		field := fmt.Sprintf("layers[%d]", i)
		if i >= len(w.Layers) {
			field = fmt.Sprintf("blobs[%d]", i-len(w.Layers))
		}
		foreign := nonDistributable(l.MediaType)
		d, err := validDescriptor(l, field, !foreign)
		if err != nil {
			return pm, err
		}
		if !foreign {
			pm.blobs = append(pm.blobs, d)
		}
	}
	children := w.Manifests
	if pm.kind == kindImage {
		children = nil // not part of an image manifest: ignored like any unknown field
	}
	for i, m := range children {
		d, err := validDescriptor(m, fmt.Sprintf("manifests[%d]", i), true)
		if err != nil {
			return pm, err
		}
		pm.children = append(pm.children, d)
	}
	if w.Subject != nil {
		d, err := validDescriptor(*w.Subject, "subject", false)
		if err != nil {
			return pm, err
		}
		pm.subject = d.digest
	}
	// The referrers API's rule: an image manifest without artifactType is
	// listed under its config's media type.
	if pm.artifactType == "" && pm.kind != kindIndex && pm.config != nil {
		pm.artifactType = pm.configMediaType
	}
	return pm, nil
}

// uniqueKeys refuses a manifest that names a member twice, or two that
// differ only in case: encoding/json (this registry, and containerd, docker
// and most Go clients) keeps the last and matches field names in any case,
// other parsers keep the first or match exactly, so the descriptors
// validated here would not be the ones every reader sees (the class of
// CVE-2021-41190).
func uniqueKeys(body []byte) error {
	err := jsonstrict.Check(body, jsonstrict.FoldCase)
	if err == nil {
		return nil
	}
	if d, ok := errors.AsType[*jsonstrict.DuplicateKeyError](err); ok {
		d.Path, d.Key, d.First = truncate(d.Path), truncate(d.Key), truncate(d.First)
		return ErrManifestInvalid.WithMessage("manifest is ambiguous: %s", d.Error()).WithTarget(d.Key)
	}
	if errors.Is(err, jsonstrict.ErrTooDeep) {
		return ErrManifestInvalid.WithMessage("manifest is nested deeper than %d levels", jsonstrict.MaxDepth)
	}
	return ErrManifestInvalid.WithMessage("manifest is not valid JSON: %s", jsonProblem(err))
}

// manifestMediaType decides a manifest's media type from the request's
// Content-Type and the body's mediaType field, which must agree when both
// are given.
func manifestMediaType(contentType string, w wireManifest) (string, error) {
	ct := ""
	if strings.TrimSpace(contentType) != "" {
		t, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return "", ErrManifestInvalid.WithMessage("invalid Content-Type %q", truncate(contentType))
		}
		ct = t // lower-cased by ParseMediaType
	}
	mt := w.MediaType
	switch {
	case mt != "":
		if ct != "" && !strings.EqualFold(ct, mt) {
			return "", ErrManifestInvalid.WithMessage("the Content-Type %q does not match the manifest's mediaType %q", ct, truncate(mt)).WithTarget("mediaType")
		}
	case knownManifestType(ct):
		mt = ct
	case ct == "" || ct == "application/json":
		// Neither says: the structure does (OCI allows omitting mediaType).
		switch {
		case w.Config != nil:
			mt = MediaTypeOCIManifest
		case w.Manifests != nil:
			mt = MediaTypeOCIIndex
		default:
			return "", ErrManifestInvalid.WithMessage("cannot tell the manifest's media type: neither the Content-Type nor the body give one")
		}
	default:
		return "", ErrManifestInvalid.WithMessage("unsupported manifest media type %q", ct).WithTarget("mediaType")
	}
	if mt == mediaTypeDockerSchema1 || mt == mediaTypeDockerSchema1Signed {
		return "", ErrManifestInvalid.WithMessage("Docker image manifest schema 1 is not supported; push with schema 2 or OCI").WithTarget("mediaType")
	}
	if _, _, err := mime.ParseMediaType(mt); err != nil || strings.ContainsAny(mt, " ;") {
		return "", ErrManifestInvalid.WithMessage("invalid mediaType %q", truncate(mt)).WithTarget("mediaType")
	}
	return mt, nil
}

func knownManifestType(mt string) bool {
	switch mt {
	case MediaTypeOCIManifest, MediaTypeOCIIndex, MediaTypeDockerManifest, MediaTypeDockerManifestList:
		return true
	}
	return false
}

func requireSchema2(w wireManifest) error {
	if w.SchemaVersion == nil || *w.SchemaVersion != 2 {
		return ErrManifestInvalid.WithMessage("schemaVersion must be 2").WithTarget("schemaVersion")
	}
	return nil
}

// nonDistributable reports layer media types whose content lives
// elsewhere (OCI non-distributable and Docker foreign layers): registries
// need not hold them.
func nonDistributable(mt string) bool {
	return strings.HasPrefix(mt, "application/vnd.oci.image.layer.nondistributable.") ||
		strings.HasPrefix(mt, "application/vnd.docker.image.rootfs.foreign.")
}

// validDescriptor checks a descriptor's digest and size, and its embedded
// data when present. stored says the registry must be able to hold the
// content, so the digest algorithm must be one it stores.
func validDescriptor(w wireDescriptor, field string, stored bool) (descriptor, error) {
	bad := func(format string, args ...any) error {
		return ErrManifestInvalid.WithMessage("%s: "+format, append([]any{field}, args...)...).WithTarget(field)
	}
	d := descriptor{mediaType: w.MediaType}
	if w.Platform != nil {
		d.architecture, d.os = w.Platform.Architecture, w.Platform.OS
	}
	var err error
	if stored {
		d.digest, err = ParseDigest(w.Digest)
	} else {
		d.digest, err = digest.Parse(w.Digest)
	}
	if err != nil {
		return d, bad("invalid digest %q", truncate(w.Digest))
	}
	if w.Size == nil || *w.Size < 0 {
		return d, bad("size must be given and not negative")
	}
	d.size = *w.Size
	if w.Data != nil {
		if int64(len(w.Data)) != d.size {
			return d, bad("data is %d bytes, size says %d", len(w.Data), d.size)
		}
		if d.digest.Algorithm().Available() && d.digest.Algorithm().FromBytes(w.Data) != d.digest {
			return d, bad("data does not match the digest")
		}
	}
	return d, nil
}

// jsonProblem describes a JSON decoding error without echoing content.
func jsonProblem(err error) string {
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("syntax error at offset %d", e.Offset)
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return fmt.Sprintf("field %q has the wrong type", e.Field)
	}
	return "malformed"
}
