package oci

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRoute(t *testing.T) {
	tests := []struct {
		path string
		kind routeKind
		name string
		ref  string
		err  error
	}{
		{"/v2/", routeBase, "", "", nil},
		{"/v2", routeBase, "", "", nil},
		{"/v2/_catalog", routeCatalog, "", "", nil},
		{"/v2/hello/manifests/latest", routeManifest, "hello", "latest", nil},
		{"/v2/a/b/c/manifests/sha256:abc", routeManifest, "a/b/c", "sha256:abc", nil},
		{"/v2/a%2Fb/manifests/v1", routeManifest, "a/b", "v1", nil},
		{"/v2/a%2fb/manifests/v1", routeManifest, "a/b", "v1", nil},
		{"/v2/a/blobs/sha256:abc", routeBlob, "a", "sha256:abc", nil},
		{"/v2/a/blobs/sha256%3Aabc", routeBlob, "a", "sha256:abc", nil},
		{"/v2/a/blobs/uploads/", routeUploads, "a", "", nil},
		{"/v2/a/blobs/uploads", routeUploads, "a", "", nil},
		{"/v2/a/blobs/uploads/u-1", routeUpload, "a", "u-1", nil},
		{"/v2/a/b/blobs/uploads/u-1", routeUpload, "a/b", "u-1", nil},
		{"/v2/a/tags/list", routeTagList, "a", "", nil},
		{"/v2/a/referrers/sha256:abc", routeReferrers, "a", "sha256:abc", nil},
		// Names whose components look like route words still route by suffix.
		{"/v2/blobs/manifests/x", routeManifest, "blobs", "x", nil},
		{"/v2/a/manifests/b/manifests/latest", routeManifest, "a/manifests/b", "latest", nil},
		{"/v2/a/blobs/uploads/blobs/sha256:x", routeBlob, "a/blobs/uploads", "sha256:x", nil},
		{"/v2/tags/tags/list", routeTagList, "tags", "", nil},
		{"/acr/v1/_catalog", routeACRCatalog, "", "", nil},
		{"/acr/v1/hello", routeACRRepository, "hello", "", nil},
		{"/acr/v1/a/b", routeACRRepository, "a/b", "", nil},
		{"/acr/v1/a%2Fb", routeACRRepository, "a/b", "", nil},
		{"/acr/v1/a%2Fb/_tags", routeACRTags, "a/b", "", nil},
		{"/acr/v1/a/b/_tags/v1", routeACRTag, "a/b", "v1", nil},
		{"/acr/v1/a/_manifests", routeACRManifests, "a", "", nil},
		{"/acr/v1/a/_manifests/sha256:abc", routeACRManifest, "a", "sha256:abc", nil},
		// Unknown routes.
		{"/", 0, "", "", errRouteUnknown},
		{"/v1/", 0, "", "", errRouteUnknown},
		{"/v2/a", 0, "", "", errRouteUnknown},
		{"/v2/a/unknown/x", 0, "", "", errRouteUnknown},
		{"/v2/a/manifests/", 0, "", "", errRouteUnknown},
		{"/v2/a/blobs/%zz", 0, "", "", errRouteUnknown},
		{"/acr/v2/a", 0, "", "", errRouteUnknown},
		{"/oauth2/token", 0, "", "", errRouteUnknown},
		{"/v2/" + strings.Repeat("a/", 1100) + "tags/list", 0, "", "", errRouteUnknown},
		// Malformed names.
		{"/v2/A/manifests/x", 0, "", "", errNameInvalid},
		{"/v2/a//b/manifests/x", 0, "", "", errNameInvalid},
		{"/v2/../manifests/x", 0, "", "", errNameInvalid},
		{"/v2/a%22b/manifests/x", 0, "", "", errNameInvalid},
		{"/v2/a%zz/manifests/x", 0, "", "", errNameInvalid},
		{"/v2/_catalog/tags/list", 0, "", "", errNameInvalid},
		{"/acr/v1/a/", 0, "", "", errNameInvalid},
		{"/acr/v1/_x", 0, "", "", errNameInvalid},
		{"/v2/" + strings.Repeat("a", 257) + "/tags/list", 0, "", "", errNameInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rt, err := parseRoute(tt.path)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rt.kind != tt.kind || rt.name != tt.name || rt.ref != tt.ref {
				t.Errorf("got %+v, want kind %d name %q ref %q", rt, tt.kind, tt.name, tt.ref)
			}
		})
	}
}

// checkValidator fails for each of valid that fn refuses and each of
// invalid that it accepts.
func checkValidator(t *testing.T, name string, fn func(string) bool, valid, invalid []string) {
	t.Helper()
	for _, s := range valid {
		if !fn(s) {
			t.Errorf("%s(%q) = false", name, s)
		}
	}
	for _, s := range invalid {
		if fn(s) {
			t.Errorf("%s(%q) = true", name, s)
		}
	}
}

func TestValidName(t *testing.T) {
	checkValidator(t, "validName", validName,
		[]string{"a", "hello-world", "a/b/c", "a.b", "a_b", "a__b", "a---b", "0", "library/ubuntu", "a1/b2-c3.d4__e5"},
		[]string{"", "A", "-a", "a-", "a..b", "a___b", "a_.b", "a/", "/a", "a//b", ".a", "a b", "a:b", "a%2Fb", "ä", `a"b`, strings.Repeat("a", 257)})
}

func TestValidTag(t *testing.T) {
	checkValidator(t, "validTag", validTag,
		[]string{"latest", "v1.0", "V_1-2", "_x", "0", strings.Repeat("a", 128), "sha256-abc"},
		[]string{"", ".x", "-x", "a:b", "a/b", "a b", strings.Repeat("a", 129), "ä"})
}

func TestValidUploadID(t *testing.T) {
	for s, want := range map[string]bool{
		"upload-1": true, "0f3c1a7e-5b0e-4d7a-9d1e-3f6c2b9a8e11": true, "YWJj=": true,
		"": false, "a/b": false, "a b": false, `a"b`: false, strings.Repeat("a", 129): false,
	} {
		if got := validUploadID(s); got != want {
			t.Errorf("validUploadID(%q) = %v", s, got)
		}
	}
}
