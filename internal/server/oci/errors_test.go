package oci

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server"
)

func TestToWire(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"blob unknown", registry.ErrBlobUnknown, 404, "BLOB_UNKNOWN"},
		{"upload unknown", registry.ErrBlobUploadUnknown, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"upload invalid", registry.ErrBlobUploadInvalid, 400, "BLOB_UPLOAD_INVALID"},
		{"range invalid", registry.ErrRangeInvalid, 416, "BLOB_UPLOAD_INVALID"},
		{"digest invalid", registry.ErrDigestInvalid, 400, "DIGEST_INVALID"},
		{"size invalid", registry.ErrSizeInvalid, 400, "SIZE_INVALID"},
		{"manifest unknown", registry.ErrManifestUnknown, 404, "MANIFEST_UNKNOWN"},
		{"manifest invalid", registry.ErrManifestInvalid, 400, "MANIFEST_INVALID"},
		{"manifest blob unknown", registry.ErrManifestBlobUnknown, 400, "MANIFEST_BLOB_UNKNOWN"},
		{"manifest too large", registry.ErrManifestTooLarge, 413, "MANIFEST_INVALID"},
		{"name invalid", registry.ErrNameInvalid, 400, "NAME_INVALID"},
		{"name unknown", registry.ErrNameUnknown, 404, "NAME_UNKNOWN"},
		{"tag invalid", registry.ErrTagInvalid, 400, "TAG_INVALID"},
		{"unsupported", registry.ErrUnsupported, 405, "UNSUPPORTED"},
		{"operation disabled", registry.ErrOperationDisabled, 403, "DENIED"},
		{"pagination", registry.ErrPaginationInvalid, 400, "PAGINATION_NUMBER_INVALID"},
		{"unauthorized", errUnauthorized, 401, "UNAUTHORIZED"},
		{"route unknown", errRouteUnknown, 404, "UNSUPPORTED"},
		{"method not allowed", errMethodNotAllowed, 405, "UNSUPPORTED"},
		{"tag unknown", errTagUnknown, 404, "TAG_UNKNOWN"},
		{"registry unknown", errRegistryUnknown, 404, "NAME_UNKNOWN"},
		{"body too large", server.ErrBodyTooLarge, 413, "UNSUPPORTED"},
		{"unsupported media type", server.ErrUnsupportedCT, 415, "UNSUPPORTED"},
		{"invalid json", server.ErrInvalidJSON, 400, "UNSUPPORTED"},
		{"invalid argument", errdefs.New(errdefs.InvalidArgument, "", "m"), 400, "UNSUPPORTED"},
		{"failed precondition", errdefs.New(errdefs.FailedPrecondition, "", "m"), 400, "UNSUPPORTED"},
		{"unauthenticated", errdefs.New(errdefs.Unauthenticated, "TokenInvalid", "m"), 401, "UNAUTHORIZED"},
		{"permission denied", errdefs.New(errdefs.PermissionDenied, "", "m"), 403, "DENIED"},
		{"not found", errdefs.New(errdefs.NotFound, "", "m"), 404, "NAME_UNKNOWN"},
		{"registry not found", registry.ErrRegistryNotFound, 404, "NAME_UNKNOWN"},
		{"conflict", errdefs.New(errdefs.Conflict, "", "m"), 409, "DENIED"},
		{"already exists", errdefs.New(errdefs.AlreadyExists, "", "m"), 409, "DENIED"},
		{"exhausted", errdefs.New(errdefs.ResourceExhausted, "", "m"), 429, "TOOMANYREQUESTS"},
		{"not implemented", errdefs.New(errdefs.NotImplemented, "", "m"), 405, "UNSUPPORTED"},
		{"unavailable", context.DeadlineExceeded, 503, "UNAVAILABLE"},
		{"internal", errdefs.Internalf(errors.New("secret detail"), "db"), 500, "UNKNOWN"},
		{"plain error", errors.New("secret detail"), 500, "UNKNOWN"},
		{"internal with a listed reason stays internal", &errdefs.Error{Kind: errdefs.Internal, Reason: "BLOB_UNKNOWN", Message: "secret detail"}, 500, "UNKNOWN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := toWire(errdefs.As(tt.err))
			if status != tt.status || body.Code != tt.code {
				t.Errorf("got %d %s, want %d %s", status, body.Code, tt.status, tt.code)
			}
			if strings.Contains(body.Message, "secret detail") {
				t.Error("cause leaked")
			}
			// Every code is an OCI code: upper-case letters and underscores.
			if strings.Trim(body.Code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
				t.Errorf("code %q", body.Code)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	t.Run("head has headers and no body", func(t *testing.T) {
		rec := httptest.NewRecorder()
		writeError(rec, httptest.NewRequest(http.MethodHead, "/v2/a/manifests/x", nil), &state{}, registry.ErrManifestUnknown)
		wantStatus(t, rec, 404)
		if rec.Body.Len() != 0 {
			t.Errorf("body %q", rec.Body.String())
		}
		if rec.Header().Get("Content-Length") == "" {
			t.Error("no Content-Length")
		}
	})
	t.Run("success headers are dropped", func(t *testing.T) {
		rec := httptest.NewRecorder()
		rec.Header().Set("Location", "/v2/a/blobs/uploads/x")
		rec.Header().Set("Docker-Content-Digest", "sha256:x")
		writeError(rec, httptest.NewRequest(http.MethodPut, "/", nil), &state{}, registry.ErrDigestInvalid)
		wantHeaders(t, rec, "Location", "", "Docker-Content-Digest", "")
	})
	t.Run("message is the error's", func(t *testing.T) {
		rec := httptest.NewRecorder()
		writeError(rec, httptest.NewRequest(http.MethodGet, "/", nil), &state{}, registry.ErrNameUnknown.WithMessage(`repository "x" is not found`))
		if got := rec.Body.String(); got != `{"errors":[{"code":"NAME_UNKNOWN","message":"repository \"x\" is not found"}]}` {
			t.Errorf("body %s", got)
		}
	})
	t.Run("no challenge without a registry", func(t *testing.T) {
		rec := httptest.NewRecorder()
		writeError(rec, httptest.NewRequest(http.MethodGet, "/", nil), &state{}, errUnauthorized)
		wantStatus(t, rec, http.StatusUnauthorized)
		wantHeaders(t, rec, "Www-Authenticate", "")
	})
}

func TestRoutingErrors(t *testing.T) {
	tests := []struct {
		name, method, path string
		status             int
		code, allow        string
	}{
		{"unknown route", "GET", "/v2/a/unknown/x", 404, "UNSUPPORTED", ""},
		{"unknown root", "GET", "/favicon.ico", 404, "UNSUPPORTED", ""},
		{"invalid name", "GET", "/v2/Upper/manifests/x", 400, "NAME_INVALID", ""},
		{"method on manifests", "POST", "/v2/a/manifests/x", 405, "UNSUPPORTED", "GET, HEAD, PUT, DELETE"},
		{"method on blobs", "PUT", "/v2/a/blobs/sha256:x", 405, "UNSUPPORTED", "GET, HEAD, DELETE"},
		{"method on uploads", "GET", "/v2/a/blobs/uploads/", 405, "UNSUPPORTED", "POST"},
		{"method on catalog", "DELETE", "/v2/_catalog", 405, "UNSUPPORTED", "GET"},
		{"method on acr manifest", "DELETE", "/acr/v1/a/_manifests/sha256:x", 405, "UNSUPPORTED", "GET, PATCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(tt.method, tt.path, authAll, nil)
			wantError(t, rec, tt.status, tt.code)
			wantHeaders(t, rec, "Allow", tt.allow)
			if got := e.log.list(); len(got) != 1 {
				t.Errorf("calls %v: routing errors need no authentication", got)
			}
		})
	}
}
