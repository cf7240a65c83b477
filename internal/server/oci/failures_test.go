package oci

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// TestRegistryFailures: whatever the registry fails with reaches the
// client through errors.go, and an internal failure never shows its cause.
func TestRegistryFailures(t *testing.T) {
	d := "sha256:" + strings.Repeat("c", 64)
	tests := []struct {
		method, path, body, fail string
	}{
		{"GET", "/v2/", "", "ByLoginServer"},
		{"GET", "/v2/a/blobs/" + d, "", "OpenBlob"},
		{"HEAD", "/v2/a/blobs/" + d, "", "StatBlob"},
		{"DELETE", "/v2/a/blobs/" + d, "", "DeleteBlob"},
		{"POST", "/v2/a/blobs/uploads/?mount=" + d + "&from=b", "", "MountBlob:b"},
		{"POST", "/v2/a/blobs/uploads/?digest=" + d, "x", "PutBlob"},
		{"POST", "/v2/a/blobs/uploads/", "", "StartUpload"},
		{"PATCH", "/v2/a/blobs/uploads/u", "x", "WriteUpload"},
		{"PUT", "/v2/a/blobs/uploads/u?digest=" + d, "", "CompleteUpload"},
		{"GET", "/v2/a/blobs/uploads/u", "", "UploadStatus"},
		{"DELETE", "/v2/a/blobs/uploads/u", "", "CancelUpload"},
		{"GET", "/v2/a/manifests/v1", "", "GetManifest"},
		{"PUT", "/v2/a/manifests/v1", "{}", "PutManifest:"},
		{"DELETE", "/v2/a/manifests/v1", "", "DeleteManifest"},
		{"GET", "/v2/a/tags/list", "", "Tags:10001"},
		{"GET", "/v2/_catalog", "", "Catalog:101"},
		{"GET", "/acr/v1/_catalog", "", "Catalog:101"},
		{"GET", "/acr/v1/a", "", "Repository"},
		{"PATCH", "/acr/v1/a", "{}", "UpdateRepository"},
		{"DELETE", "/acr/v1/a", "", "DeleteRepository"},
		{"GET", "/acr/v1/a/_tags", "", "Tags:101"},
		{"GET", "/acr/v1/a/_tags?orderby=timedesc", "", "Tags:0"},
		{"GET", "/acr/v1/a/_tags/v1", "", "Tag"},
		{"PATCH", "/acr/v1/a/_tags/v1", "{}", "UpdateTag"},
		{"DELETE", "/acr/v1/a/_tags/v1", "", "DeleteTag"},
		{"GET", "/acr/v1/a/_manifests", "", "ManifestList:"},
		{"GET", "/acr/v1/a/_manifests/" + d, "", "Manifest"},
		{"PATCH", "/acr/v1/a/_manifests/" + d, "{}", "UpdateManifest"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			e := newEnv(t)
			e.regs.fail[tt.fail] = errdefs.Internalf(errors.New("secret detail"), "store")
			rec := e.do(tt.method, tt.path, authAll, strings.NewReader(tt.body))
			if tt.method == "HEAD" {
				wantStatus(t, rec, http.StatusInternalServerError)
				return
			}
			got := wantError(t, rec, http.StatusInternalServerError, "UNKNOWN")
			if got.Message != "internal error" {
				t.Errorf("message %q", got.Message)
			}
		})
	}
	t.Run("bad patch bodies", func(t *testing.T) {
		e := newEnv(t)
		for _, p := range []string{"/acr/v1/a/_tags/v1", "/acr/v1/a/_manifests/" + d} {
			wantError(t, e.do("PATCH", p, authAll, strings.NewReader("[")), http.StatusBadRequest, "UNSUPPORTED")
		}
		wantError(t, e.do("PATCH", "/acr/v1/a/_tags/.x", authAll, strings.NewReader("{}")), http.StatusBadRequest, "TAG_INVALID")
		wantError(t, e.do("DELETE", "/acr/v1/a/_tags/.x", authAll, nil), http.StatusBadRequest, "TAG_INVALID")
		wantError(t, e.do("PATCH", "/acr/v1/a/_manifests/x", authAll, strings.NewReader("{}")), http.StatusBadRequest, "DIGEST_INVALID")
		wantError(t, e.do("GET", "/acr/v1/_catalog?n=x", authAll, nil), http.StatusBadRequest, "PAGINATION_NUMBER_INVALID")
	})
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	got := truncate(long)
	if len(got) > maxEcho+len("…") || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("truncate = %q", got)
	}
	if truncate("short") != "short" {
		t.Error("short strings stay")
	}
}
