package registry

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// desc renders a descriptor of content c.
func desc(mediaType, c string) map[string]any {
	return map[string]any{"mediaType": mediaType, "digest": digest.FromString(c).String(), "size": len(c)}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func image(mt string, config map[string]any, layers ...map[string]any) map[string]any {
	m := map[string]any{"schemaVersion": 2, "config": config, "layers": layers}
	if mt != "" {
		m["mediaType"] = mt
	}
	if layers == nil {
		m["layers"] = []any{}
	}
	return m
}

func index(mt string, children ...map[string]any) map[string]any {
	m := map[string]any{"schemaVersion": 2, "manifests": children}
	if mt != "" {
		m["mediaType"] = mt
	}
	if children == nil {
		m["manifests"] = []any{}
	}
	return m
}

func with(m map[string]any, k string, v any) map[string]any {
	c := map[string]any{}
	for kk, vv := range m {
		c[kk] = vv
	}
	if v == nil {
		delete(c, k)
	} else {
		c[k] = v
	}
	return c
}

func TestParseManifest(t *testing.T) {
	cfg := desc(mediaTypeOCIConfig, "config")
	layer := desc("application/vnd.oci.image.layer.v1.tar+gzip", "layer")
	foreignOCI := desc("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "nd")
	foreignDocker := desc("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "foreign")
	child := with(desc(MediaTypeOCIManifest, "child"), "platform", map[string]any{"architecture": "arm64", "os": "linux"})
	emptyCfg := desc("application/vnd.oci.empty.v1+json", "{}")
	subject := desc(MediaTypeOCIManifest, "subject")
	sha512Layer := map[string]any{"mediaType": "application/octet-stream", "digest": digest.SHA512.FromString("x").String(), "size": 1}

	type want struct {
		kind            manifestKind
		mediaType       string
		artifactType    string
		configMediaType string
		blobs           int
		children        int
		subject         bool
	}
	for _, tc := range []struct {
		name        string
		contentType string
		body        any // map or raw []byte
		want        want
		reason      string // expected error reason, "" for success
	}{
		{"oci image", MediaTypeOCIManifest, image(MediaTypeOCIManifest, cfg, layer),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 2, 0, false}, ""},
		{"oci image without mediaType field", MediaTypeOCIManifest, image("", cfg, layer),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 2, 0, false}, ""},
		{"oci image, Content-Type with parameters", MediaTypeOCIManifest + "; charset=utf-8", image(MediaTypeOCIManifest, cfg),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 1, 0, false}, ""},
		{"no Content-Type: the body decides", "", image(MediaTypeOCIManifest, cfg),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 1, 0, false}, ""},
		{"no media type anywhere: the structure decides", "", image("", cfg),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 1, 0, false}, ""},
		{"no media type anywhere, index", "application/json", index("", child),
			want{kindIndex, MediaTypeOCIIndex, "", "", 0, 1, false}, ""},
		{"no layers", MediaTypeOCIManifest, image(MediaTypeOCIManifest, cfg),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 1, 0, false}, ""},
		{"docker schema 2", MediaTypeDockerManifest, image(MediaTypeDockerManifest, desc(mediaTypeDockerConfig, "c"), desc("application/vnd.docker.image.rootfs.diff.tar.gzip", "l")),
			want{kindImage, MediaTypeDockerManifest, mediaTypeDockerConfig, mediaTypeDockerConfig, 2, 0, false}, ""},
		{"docker foreign layer is not required", MediaTypeDockerManifest, image(MediaTypeDockerManifest, desc(mediaTypeDockerConfig, "c"), foreignDocker, layer),
			want{kindImage, MediaTypeDockerManifest, mediaTypeDockerConfig, mediaTypeDockerConfig, 2, 0, false}, ""},
		{"oci non-distributable layer is not required", MediaTypeOCIManifest, image(MediaTypeOCIManifest, cfg, foreignOCI, layer),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 2, 0, false}, ""},
		{"oci index", MediaTypeOCIIndex, index(MediaTypeOCIIndex, child, desc(MediaTypeOCIManifest, "other")),
			want{kindIndex, MediaTypeOCIIndex, "", "", 0, 2, false}, ""},
		{"empty index", MediaTypeOCIIndex, index(MediaTypeOCIIndex),
			want{kindIndex, MediaTypeOCIIndex, "", "", 0, 0, false}, ""},
		{"docker manifest list", MediaTypeDockerManifestList, index(MediaTypeDockerManifestList, desc(MediaTypeDockerManifest, "x")),
			want{kindIndex, MediaTypeDockerManifestList, "", "", 0, 1, false}, ""},
		{"artifact with subject", MediaTypeOCIManifest, with(with(image(MediaTypeOCIManifest, emptyCfg, desc("application/vnd.example", "sig")), "artifactType", "application/vnd.example.sig"), "subject", subject),
			want{kindImage, MediaTypeOCIManifest, "application/vnd.example.sig", "application/vnd.oci.empty.v1+json", 2, 0, true}, ""},
		{"index with subject and artifactType", MediaTypeOCIIndex, with(with(index(MediaTypeOCIIndex, child), "artifactType", "application/vnd.example"), "subject", subject),
			want{kindIndex, MediaTypeOCIIndex, "application/vnd.example", "", 0, 1, true}, ""},
		{"subject with sha384 digest", MediaTypeOCIManifest, with(image(MediaTypeOCIManifest, cfg), "subject", map[string]any{"mediaType": MediaTypeOCIManifest, "digest": digest.SHA384.FromString("s").String(), "size": 3}),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 1, 0, true}, ""},
		{"sha512 layer", MediaTypeOCIManifest, image(MediaTypeOCIManifest, cfg, sha512Layer),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 2, 0, false}, ""},
		{"unknown fields are ignored", MediaTypeOCIManifest, with(image(MediaTypeOCIManifest, cfg), "org.example.extra", map[string]any{"x": 1}),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 1, 0, false}, ""},
		{"custom JSON type declaring itself", "application/vnd.example.thing.v1+json", map[string]any{"mediaType": "application/vnd.example.thing.v1+json", "blobs": []any{layer}},
			want{kindGeneric, "application/vnd.example.thing.v1+json", "", "", 1, 0, false}, ""},
		{"descriptor data matching", MediaTypeOCIManifest, image(MediaTypeOCIManifest, with(cfg, "data", base64.StdEncoding.EncodeToString([]byte("config")))),
			want{kindImage, MediaTypeOCIManifest, mediaTypeOCIConfig, mediaTypeOCIConfig, 1, 0, false}, ""},

		{"oversized", MediaTypeOCIManifest, with(image(MediaTypeOCIManifest, cfg), "annotations", map[string]string{"big": strings.Repeat("A", MaxManifestSize)}), want{}, "MANIFEST_TOO_LARGE"},
		{"bad JSON", MediaTypeOCIManifest, []byte(`{"schemaVersion": 2,`), want{}, "MANIFEST_INVALID"},
		{"not an object", MediaTypeOCIManifest, []byte(`[1, 2]`), want{}, "MANIFEST_INVALID"},
		{"empty body", MediaTypeOCIManifest, []byte(``), want{}, "MANIFEST_INVALID"},
		{"wrong type of field", MediaTypeOCIManifest, []byte(`{"schemaVersion": "2"}`), want{}, "MANIFEST_INVALID"},
		{"Content-Type mismatch", MediaTypeDockerManifest, image(MediaTypeOCIManifest, cfg), want{}, "MANIFEST_INVALID"},
		{"Content-Type index for an image", MediaTypeOCIIndex, image(MediaTypeOCIManifest, cfg), want{}, "MANIFEST_INVALID"},
		{"bad Content-Type", "a b c", image(MediaTypeOCIManifest, cfg), want{}, "MANIFEST_INVALID"},
		{"unknown Content-Type and no mediaType", "application/octet-stream", image("", cfg), want{}, "MANIFEST_INVALID"},
		{"no media type and no structure", "", map[string]any{"schemaVersion": 2}, want{}, "MANIFEST_INVALID"},
		{"schema 1", mediaTypeDockerSchema1Signed, map[string]any{"schemaVersion": 1, "mediaType": mediaTypeDockerSchema1Signed}, want{}, "MANIFEST_INVALID"},
		{"schemaVersion 1", MediaTypeOCIManifest, with(image(MediaTypeOCIManifest, cfg), "schemaVersion", 1), want{}, "MANIFEST_INVALID"},
		{"schemaVersion missing", MediaTypeOCIManifest, with(image(MediaTypeOCIManifest, cfg), "schemaVersion", nil), want{}, "MANIFEST_INVALID"},
		{"no config", MediaTypeOCIManifest, with(image(MediaTypeOCIManifest, cfg), "config", nil), want{}, "MANIFEST_INVALID"},
		{"config digest malformed", MediaTypeOCIManifest, image(MediaTypeOCIManifest, with(cfg, "digest", "sha256:nothex")), want{}, "MANIFEST_INVALID"},
		{"layer digest sha384", MediaTypeOCIManifest, image(MediaTypeOCIManifest, cfg, with(layer, "digest", digest.SHA384.FromString("l").String())), want{}, "MANIFEST_INVALID"},
		{"layer size missing", MediaTypeOCIManifest, image(MediaTypeOCIManifest, cfg, with(layer, "size", nil)), want{}, "MANIFEST_INVALID"},
		{"layer size negative", MediaTypeOCIManifest, image(MediaTypeOCIManifest, cfg, with(layer, "size", -1)), want{}, "MANIFEST_INVALID"},
		{"child digest missing", MediaTypeOCIIndex, index(MediaTypeOCIIndex, with(child, "digest", nil)), want{}, "MANIFEST_INVALID"},
		{"subject digest malformed", MediaTypeOCIManifest, with(image(MediaTypeOCIManifest, cfg), "subject", with(subject, "digest", "nope")), want{}, "MANIFEST_INVALID"},
		{"index with layers", MediaTypeOCIIndex, with(index(MediaTypeOCIIndex), "layers", []any{layer}), want{}, "MANIFEST_INVALID"},
		{"descriptor data not matching", MediaTypeOCIManifest, image(MediaTypeOCIManifest, with(cfg, "data", base64.StdEncoding.EncodeToString([]byte("CONFIG")))), want{}, "MANIFEST_INVALID"},
		{"descriptor data of another size", MediaTypeOCIManifest, image(MediaTypeOCIManifest, with(cfg, "data", base64.StdEncoding.EncodeToString([]byte("conf")))), want{}, "MANIFEST_INVALID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ok := tc.body.([]byte)
			if !ok {
				body = mustJSON(t, tc.body)
			}
			pm, err := parseManifest(tc.contentType, body)
			if tc.reason != "" {
				if err == nil {
					t.Fatalf("accepted, want %s", tc.reason)
				}
				if got := errdefs.As(err).Reason; got != tc.reason {
					t.Fatalf("error %v, want reason %s", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			got := want{pm.kind, pm.mediaType, pm.artifactType, pm.configMediaType, len(pm.blobs), len(pm.children), pm.subject != ""}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseManifestDetails(t *testing.T) {
	child := with(desc(MediaTypeOCIManifest, "child"), "platform", map[string]any{"architecture": "arm64", "os": "linux"})
	body := mustJSON(t, with(index(MediaTypeOCIIndex, child), "annotations", map[string]string{"a": "b"}))
	pm, err := parseManifest(MediaTypeOCIIndex, body)
	if err != nil {
		t.Fatal(err)
	}
	c := pm.children[0]
	if c.digest != digest.FromString("child") || c.size != 5 || c.architecture != "arm64" || c.os != "linux" {
		t.Errorf("child %+v", c)
	}
	if pm.annotations["a"] != "b" {
		t.Errorf("annotations %v", pm.annotations)
	}

	// Layer order is kept, config first; non-distributable layers drop out.
	cfg := desc(mediaTypeOCIConfig, "config")
	l1, l2 := desc("x", "one"), desc("x", "two")
	nd := desc("application/vnd.oci.image.layer.nondistributable.v1.tar", "nd")
	pm, err = parseManifest(MediaTypeOCIManifest, mustJSON(t, image(MediaTypeOCIManifest, cfg, l2, nd, l1)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range pm.blobs {
		got = append(got, string(b.digest))
	}
	want := []string{digest.FromString("config").String(), digest.FromString("two").String(), digest.FromString("one").String()}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("blobs %v, want %v", got, want)
	}

	// Exactly at the limit is accepted.
	base := mustJSON(t, with(image(MediaTypeOCIManifest, cfg), "annotations", map[string]string{"pad": ""}))
	pad := MaxManifestSize - len(base)
	body = mustJSON(t, with(image(MediaTypeOCIManifest, cfg), "annotations", map[string]string{"pad": strings.Repeat("A", pad)}))
	if len(body) != MaxManifestSize {
		t.Fatalf("test body is %d bytes", len(body))
	}
	if _, err := parseManifest(MediaTypeOCIManifest, body); err != nil {
		t.Errorf("manifest of exactly %d bytes: %v", MaxManifestSize, err)
	}
}

// TestParseManifestDuplicateKeys: a manifest or index naming a member twice
// (or two that differ only in case, which encoding/json conflates) is
// ambiguous and refused with MANIFEST_INVALID naming the member, whichever
// of the values would be valid.
func TestParseManifestDuplicateKeys(t *testing.T) {
	cfg := string(mustJSON(t, desc(mediaTypeOCIConfig, "config")))
	layer := desc("application/vnd.oci.image.layer.v1.tar+gzip", "layer")
	bogus := `"sha256:` + strings.Repeat("0", 64) + `"`
	child := string(mustJSON(t, desc(MediaTypeOCIManifest, "child")))
	for _, tc := range []struct {
		name, contentType, body, where string
	}{
		{"layer digest", MediaTypeOCIManifest,
			`{"schemaVersion":2,"mediaType":"` + MediaTypeOCIManifest + `","config":` + cfg + `,"layers":[{"digest":` + bogus + `,` + string(mustJSON(t, layer))[1:] + `]}`,
			`layers[0]`},
		{"layer digest differing in case", MediaTypeOCIManifest,
			`{"schemaVersion":2,"mediaType":"` + MediaTypeOCIManifest + `","config":` + cfg + `,"layers":[{"Digest":` + bogus + `,` + string(mustJSON(t, layer))[1:] + `]}`,
			`layers[0]`},
		{"top-level config", MediaTypeOCIManifest,
			`{"schemaVersion":2,"config":{"mediaType":"x","digest":` + bogus + `,"size":1},"mediaType":"` + MediaTypeOCIManifest + `","config":` + cfg + `}`,
			`top-level`},
		{"mediaType (the CVE-2021-41190 shape)", MediaTypeOCIManifest,
			`{"schemaVersion":2,"mediaType":"` + MediaTypeOCIIndex + `","config":` + cfg + `,"mediaType":"` + MediaTypeOCIManifest + `"}`,
			`top-level`},
		{"index child digest", MediaTypeOCIIndex,
			`{"schemaVersion":2,"mediaType":"` + MediaTypeOCIIndex + `","manifests":[{"digest":` + bogus + `,` + child[1:] + `]}`,
			`manifests[0]`},
		{"escaped spelling", MediaTypeOCIIndex,
			`{"schemaVersion":2,"mediaType":"` + MediaTypeOCIIndex + `","manifests":[{"\u0064igest":` + bogus + `,` + child[1:] + `]}`,
			`manifests[0]`},
		{"annotations", MediaTypeOCIManifest,
			`{"schemaVersion":2,"mediaType":"` + MediaTypeOCIManifest + `","config":` + cfg + `,"annotations":{"a":"1","a":"2"}}`,
			`annotations`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !json.Valid([]byte(tc.body)) {
				t.Fatalf("test body is not JSON: %s", tc.body)
			}
			_, err := parseManifest(tc.contentType, []byte(tc.body))
			e := errdefs.As(err)
			if err == nil || e.Reason != "MANIFEST_INVALID" || !strings.Contains(e.Message, tc.where) || !strings.Contains(strings.ToLower(e.Message), `"`) {
				t.Fatalf("error %v, want MANIFEST_INVALID naming the member at %s", err, tc.where)
			}
		})
	}
}
