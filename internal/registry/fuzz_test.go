package registry

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// FuzzParseManifest: manifest validation never panics, refuses only with
// its own errors, and what it accepts re-validates identically (with the
// same Content-Type, and with the media type it decided on), references
// only descriptors with well-formed digests of the algorithms the
// registry stores, and has the shape its kind promises.
func FuzzParseManifest(f *testing.F) {
	cfg := `{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + digest.FromString("config").String() + `","size":6}`
	layer := `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + digest.FromString("layer").String() + `","size":5}`
	child := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + digest.FromString("child").String() +
		`","size":5,"platform":{"architecture":"arm64","os":"linux"}}`
	for _, seed := range []struct{ ct, body string }{
		{MediaTypeOCIManifest, `{"schemaVersion":2,"mediaType":"` + MediaTypeOCIManifest + `","config":` + cfg + `,"layers":[` + layer + `]}`},
		{"", `{"schemaVersion":2,"config":` + cfg + `,"layers":[]}`},
		{MediaTypeDockerManifest, `{"schemaVersion":2,"mediaType":"` + MediaTypeDockerManifest + `","config":` + cfg + `,"layers":[` + layer + `]}`},
		{MediaTypeOCIIndex, `{"schemaVersion":2,"mediaType":"` + MediaTypeOCIIndex + `","manifests":[` + child + `]}`},
		{MediaTypeDockerManifestList, `{"schemaVersion":2,"manifests":[` + child + `]}`},
		{"application/json", `{"schemaVersion":2,"manifests":[]}`},
		{MediaTypeOCIManifest, `{"schemaVersion":2,"mediaType":"` + MediaTypeOCIManifest + `","artifactType":"application/vnd.example+type","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` +
			digest.FromString("{}").String() + `","size":2,"data":"e30="},"layers":[` + layer + `],"subject":` + child + `,"annotations":{"a":"b"}}`},
		{MediaTypeOCIManifest, `{"schemaVersion":2,"config":` + cfg + `,"layers":[{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip","digest":"md5:0123","size":1}]}`},
		{"application/vnd.example.thing+json", `{"mediaType":"application/vnd.example.thing+json","blobs":[` + layer + `]}`},
		{MediaTypeOCIManifest + "; charset=utf-8", `{"schemaVersion":1}`},
		{"", `{"schemaVersion":2,"config":` + cfg + `,"config":null}`},
		{"", `{"schemaVersion":2,"mediaType":"a b","config":` + cfg + `}`},
		{"", `[]`},
		{"", ` {"schemaVersion":2,"config":{"digest":"sha256:zz","size":-1}}`},
	} {
		f.Add(seed.ct, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		pm, err := parseManifest(contentType, body)
		if err != nil {
			if !errors.Is(err, ErrManifestInvalid) && !errors.Is(err, ErrManifestTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		again, err := parseManifest(contentType, body)
		if err != nil || !reflect.DeepEqual(again, pm) {
			t.Fatalf("re-validation differs: %+v, %v; first %+v", again, err, pm)
		}
		again, err = parseManifest(pm.mediaType, body)
		if err != nil || !reflect.DeepEqual(again, pm) {
			t.Fatalf("re-validation as %q differs: %+v, %v; first %+v", pm.mediaType, again, err, pm)
		}
		if pm.mediaType == "" || strings.ContainsAny(pm.mediaType, " ;") {
			t.Fatalf("accepted media type %q", pm.mediaType)
		}
		for _, d := range append(append([]descriptor{}, pm.blobs...), pm.children...) {
			if _, err := ParseDigest(d.digest.String()); err != nil || d.size < 0 {
				t.Fatalf("accepted descriptor %+v: %v", d, err)
			}
		}
		if pm.subject != "" && pm.subject.Validate() != nil {
			t.Fatalf("accepted subject %q", pm.subject)
		}
		switch pm.kind {
		case kindImage:
			if pm.config == nil || len(pm.blobs) == 0 || pm.blobs[0] != *pm.config || len(pm.children) != 0 {
				t.Fatalf("image manifest %+v", pm)
			}
		case kindIndex:
			if pm.config != nil || len(pm.blobs) != 0 {
				t.Fatalf("index %+v", pm)
			}
		}
	})
}
