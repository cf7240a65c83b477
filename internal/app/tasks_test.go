package app

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/config"
)

// TestBlobHostRoutes: the blob host reaches the blob surface (Azure
// Storage's XML errors), the certificate covers it, and the SAS key is
// kept in keys/ and reused.
func TestBlobHostRoutes(t *testing.T) {
	dir := t.TempDir()
	a := newTestApp(t, dir)
	req := httptest.NewRequest(http.MethodGet, "https://cerulean.blob.azurecr.localhost:8443/myreg/logs/ca1/rawtext.log?sv=2018-11-09&sp=r&se=2999-01-01T00:00:00Z&sig=x", nil)
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || rec.Header().Get("x-ms-error-code") != "AuthenticationFailed" ||
		!strings.Contains(rec.Body.String(), "<Error><Code>AuthenticationFailed</Code>") {
		t.Fatalf("blob host: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	key, err := os.ReadFile(filepath.Join(dir, "keys", secretTasksSAS))
	if err != nil || len(key) != 32 {
		t.Fatalf("SAS key file: %d bytes, %v", len(key), err)
	}
	again, err := a.tasksKey(t.Context())
	if err != nil || string(again) != string(key) {
		t.Fatalf("the SAS key was not reused: %v", err)
	}
	if names := certNames("", config.Config{RegistryDomain: "azurecr.localhost"}); !slices.Contains(names, "cerulean.blob.azurecr.localhost") {
		t.Fatalf("cert names %v", names)
	}
	if names := certNames("", config.Config{RegistryDomain: "azurecr.io", AzureHostnames: true}); !slices.Contains(names, "cerulean.blob.core.windows.net") {
		t.Fatalf("Azure cert names %v", names)
	}
}
