package arm_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	apiarm "github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/server/arm"
)

// TestMetadataShapes: each api-version gets the shape its consumers read —
// Azure Stack's object (msrestazure, az cloud register), ARM's array
// (az's ARM_CLOUD_METADATA_URL) and, from 2022-09-01, the single cloud
// (go-azure-sdk) — with every URL on the host the client used.
func TestMetadataShapes(t *testing.T) {
	own := arm.Metadata(arm.MetadataConfig{RegistryDomain: "azurecr.localhost"})
	azure := arm.Metadata(arm.MetadataConfig{RegistryDomain: "azurecr.io", AzureHostnames: true})
	get := func(h http.Handler, host, target string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	for _, target := range []string{"/metadata/endpoints?api-version=2015-01-01", "/metadata/endpoints?api-version=1.0", "//metadata/endpoints?api-version=2015-01-01"} {
		w := get(own, "localhost:8443", target)
		var stack apiarm.StackMetadata
		decode(t, w, &stack)
		if stack.Authentication.LoginEndpoint != "https://localhost:8443/" || stack.GraphEndpoint != "https://localhost:8443/" ||
			len(stack.Authentication.Audiences) == 0 || stack.Authentication.Audiences[0] != "https://management.core.windows.net/" {
			t.Errorf("%s: %+v", target, stack)
		}
	}

	var clouds []apiarm.CloudMetadata
	decode(t, get(own, "LocalHost:443", "/metadata/endpoints?api-version=2019-05-01"), &clouds)
	want := apiarm.CloudMetadata{
		Name: "Cerulean", ResourceManager: "https://localhost/",
		Authentication: apiarm.CloudAuthentication{LoginEndpoint: "https://localhost/",
			Audiences: []string{"https://management.core.windows.net/", "https://management.azure.com/"}, Tenant: "common", IdentityProvider: "AAD"},
		Graph: "https://localhost/", GraphAudience: "https://localhost/", MicrosoftGraphResourceID: "https://localhost/",
		Suffixes: map[string]string{"acrLoginServer": "azurecr.localhost"},
	}
	if len(clouds) != 1 || !equalJSON(t, clouds[0], want) {
		t.Errorf("2019-05-01: %+v, want [%+v]", clouds, want)
	}

	var one apiarm.CloudMetadata
	decode(t, get(azure, "management.azure.com", "/metadata/endpoints?api-version=2022-09-01"), &one)
	if one.Name != "AzureCloud" || one.ResourceManager != "https://management.azure.com/" ||
		one.Authentication.LoginEndpoint != "https://login.microsoftonline.com" ||
		one.MicrosoftGraphResourceID != "https://graph.microsoft.com/" || one.Suffixes["acrLoginServer"] != "azurecr.io" {
		t.Errorf("2022-09-01 in Azure's names: %+v", one)
	}

	for _, tt := range []struct {
		method, target string
		status         int
		code           string
	}{
		{http.MethodGet, "/metadata/endpoints", http.StatusBadRequest, "MissingApiVersionParameter"},
		{http.MethodPost, "/metadata/endpoints?api-version=2019-05-01", http.StatusMethodNotAllowed, "MethodNotAllowed"},
		{http.MethodGet, "/metadata/other?api-version=2019-05-01", http.StatusNotFound, "NotFound"},
	} {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		w := httptest.NewRecorder()
		own.ServeHTTP(w, r)
		var body apiarm.ErrorResponse
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != tt.status || body.Error.Code != tt.code {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.target, w.Code, w.Body, tt.status, tt.code)
		}
	}
}

func decode(t *testing.T, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(x) == string(y)
}
