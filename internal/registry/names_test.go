package registry

import (
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
)

func TestValidRegistryName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"abcde", true},
		{"MyRegistry01", true},
		{strings.Repeat("a", 50), true},
		{"abcd", false},
		{strings.Repeat("a", 51), false},
		{"my-registry", false},
		{"my_registry", false},
		{"my.registry", false},
		{"regístry", false},
		{"", false},
	} {
		if got := ValidRegistryName(tc.name); got != tc.ok {
			t.Errorf("ValidRegistryName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestValidateRepository(t *testing.T) {
	for _, tc := range []struct {
		repo string
		ok   bool
	}{
		{"a", true},
		{"hello-world", true},
		{"library/hello_world", true},
		{"a/b/c/d", true},
		{"a__b", true},
		{"a---b", true},
		{"a.b", true},
		{"conformance/repo1", true},
		{strings.Repeat("a", 255), true},
		{strings.Repeat("a", 256), false},
		{"", false},
		{"A", false},
		{"a/", false},
		{"/a", false},
		{"a//b", false},
		{"a___b", false},
		{"a..b", false},
		{"-a", false},
		{"a-", false},
		{"a:b", false},
		{"a/../b", false},
		{"_catalog", false},
		{"a b", false},
	} {
		err := ValidateRepository(tc.repo)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateRepository(%q) = %v, want ok=%v", tc.repo, err, tc.ok)
		}
		if err != nil && errdefs.As(err).Reason != "NAME_INVALID" {
			t.Errorf("ValidateRepository(%q): reason %q", tc.repo, errdefs.As(err).Reason)
		}
	}
}

func TestValidateTag(t *testing.T) {
	for _, tc := range []struct {
		tag string
		ok  bool
	}{
		{"latest", true},
		{"v1.0.0", true},
		{"_x", true},
		{"A-b_c.D", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{".x", false},
		{"-x", false},
		{"a:b", false},
		{"a/b", false},
		{"sha256:abc", false},
	} {
		err := ValidateTag(tc.tag)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateTag(%q) = %v, want ok=%v", tc.tag, err, tc.ok)
		}
		if err != nil && errdefs.As(err).Reason != "TAG_INVALID" {
			t.Errorf("ValidateTag(%q): reason %q", tc.tag, errdefs.As(err).Reason)
		}
	}
}

func TestParseDigest(t *testing.T) {
	hex64 := strings.Repeat("a", 64)
	for _, tc := range []struct {
		d  string
		ok bool
	}{
		{"sha256:" + hex64, true},
		{"sha512:" + strings.Repeat("0", 128), true},
		{"sha384:" + strings.Repeat("0", 96), false}, // valid, but not stored
		{"sha256:" + strings.ToUpper(hex64), false},
		{"sha256:" + hex64[:63], false},
		{"sha256:baddigeststring", false},
		{"md5:" + strings.Repeat("0", 32), false},
		{hex64, false},
		{"", false},
	} {
		_, err := ParseDigest(tc.d)
		if (err == nil) != tc.ok {
			t.Errorf("ParseDigest(%q) = %v, want ok=%v", tc.d, err, tc.ok)
		}
		if err != nil && errdefs.As(err).Reason != "DIGEST_INVALID" {
			t.Errorf("ParseDigest(%q): reason %q", tc.d, errdefs.As(err).Reason)
		}
	}
}

func TestLoginServer(t *testing.T) {
	for _, tc := range []struct{ name, domain, port, want string }{
		{"MyReg", "azurecr.localhost", "", "myreg.azurecr.localhost"},
		{"myreg", "azurecr.localhost", "443", "myreg.azurecr.localhost"},
		{"myreg", "AzureCR.Localhost", "8443", "myreg.azurecr.localhost:8443"},
	} {
		if got := loginServer(tc.name, tc.domain, tc.port); got != tc.want {
			t.Errorf("loginServer(%q, %q, %q) = %q, want %q", tc.name, tc.domain, tc.port, got, tc.want)
		}
	}
}

func TestRegistryNameFromHost(t *testing.T) {
	const domain = "azurecr.localhost"
	for _, tc := range []struct{ host, want string }{
		{"myreg.azurecr.localhost", "myreg"},
		{"MyReg.AzureCR.localhost:8443", "myreg"},
		{"myreg.azurecr.localhost.", "myreg"},
		{"myreg.azurecr.localhost:443", "myreg"},
		{"a.b.azurecr.localhost", ""},
		{"abc.azurecr.localhost", ""}, // too short to be a registry
		{"azurecr.localhost", ""},
		{"myreg.example.com", ""},
		{"myreg.azurecr.localhostx", ""},
		{"my-reg.azurecr.localhost", ""},
		{"", ""},
	} {
		if got := registryNameFromHost(tc.host, domain); got != tc.want {
			t.Errorf("registryNameFromHost(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

func TestIsDigestReference(t *testing.T) {
	if !IsDigestReference("sha256:abc") || IsDigestReference("latest") {
		t.Error("IsDigestReference misclassifies")
	}
}
