package arm

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

func TestToWire(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
	}{
		{"token missing", identity.ErrTokenMissing, 401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."},
		{"token invalid", identity.ErrTokenInvalid.WithCause(errors.New("bad signature")), 401, "InvalidAuthenticationToken", "The access token is invalid."},
		{"token expired", identity.ErrTokenExpired.WithMessage("expired at x"), 401, "ExpiredAuthenticationToken", "expired at x"},
		{"token revoked", identity.ErrTokenRevoked.WithMessage("gone"), 401, "InvalidAuthenticationToken", "gone"},
		{"token audience", identity.ErrTokenAudience.WithMessage("https://vault.azure.net"), 401, "InvalidAuthenticationTokenAudience",
			"The access token has been obtained for wrong audience or resource 'https://vault.azure.net'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."},
		{"authorization failed", rbac.ErrAuthorizationFailed.WithMessage("no"), 403, "AuthorizationFailed", "no"},
		{"permission denied without reason", errdefs.New(errdefs.PermissionDenied, "", "no"), 403, "AuthorizationFailed", "no"},
		{"subscription not found", resource.ErrSubscriptionNotFound.WithMessage("m"), 404, "SubscriptionNotFound", "m"},
		{"group not found", resource.ErrGroupNotFound.WithMessage("m"), 404, "ResourceGroupNotFound", "m"},
		{"not found without reason", errdefs.New(errdefs.NotFound, "", "m"), 404, "ResourceNotFound", "m"},
		{"role assignment exists", rbac.ErrRoleAssignmentExists, 409, "RoleAssignmentExists", "The role assignment already exists."},
		{"conflict without reason", errdefs.New(errdefs.Conflict, "", "m"), 409, "Conflict", "m"},
		{"already exists without reason", errdefs.New(errdefs.AlreadyExists, "", "m"), 409, "Conflict", "m"},
		{"invalid subscription id", mustErr(resourceid.Parse("/subscriptions/x")), 400, "InvalidSubscriptionId", "The provided subscription identifier 'x' is malformed or invalid."},
		{"invalid argument without reason", errdefs.New(errdefs.InvalidArgument, "", "m"), 400, "InvalidRequestContent", "m"},
		{"body too large", server.ErrBodyTooLarge, 413, "RequestContentTooLarge", "The request content size exceeds the maximum size of 4 MB."},
		{"unsupported media type", server.ErrUnsupportedCT, 415, "UnsupportedMediaType", server.ErrUnsupportedCT.Message},
		{"method not allowed", errMethodNotAllowed("POST"), 405, "MethodNotAllowed", "The requested resource does not support http method 'POST'."},
		{"missing api-version", errMissingAPIVersion, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests."},
		{"failed precondition", errdefs.New(errdefs.FailedPrecondition, "", "m"), 412, "PreconditionFailed", "m"},
		{"exhausted", errdefs.New(errdefs.ResourceExhausted, "", "m"), 429, "TooManyRequests", "m"},
		{"unavailable", context.DeadlineExceeded, 503, "ServiceUnavailable", "The service is temporarily unavailable. Please retry the request."},
		{"internal hides its cause", errdefs.Internalf(errors.New("secret detail"), "db"), 500, "InternalServerError", "The server encountered an internal error. Request id 'rid'."},
		{"plain error is internal", errors.New("secret detail"), 500, "InternalServerError", "The server encountered an internal error. Request id 'rid'."},
		{"internal with a listed reason stays internal", &errdefs.Error{Kind: errdefs.Internal, Reason: "TokenMissing", Message: "x"}, 500, "InternalServerError", "The server encountered an internal error. Request id 'rid'."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, d := toWire(errdefs.As(tt.err), "rid")
			if status != tt.status || d.Code != tt.code || d.Message != tt.message {
				t.Errorf("got %d %q %q, want %d %q %q", status, d.Code, d.Message, tt.status, tt.code, tt.message)
			}
			if strings.Contains(d.Message, "secret detail") {
				t.Error("cause leaked")
			}
		})
	}
}

func mustErr(_ any, err error) error { return err }

func TestWriteErrorHeaders(t *testing.T) {
	tests := []struct {
		name, method, host string
		err                error
		tenant             string
		wantHeader         string
		wantValue          string
		wantBody           bool
	}{
		{"401 names our host", http.MethodGet, "cerulean.example:8443", identity.ErrTokenMissing, "",
			"WWW-Authenticate", `Bearer authorization_uri="https://cerulean.example:8443/", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`, true},
		{"401 names the tenant", http.MethodGet, "h", identity.ErrTokenInvalid, "t1",
			"WWW-Authenticate", `Bearer authorization_uri="https://h/t1", error="invalid_token", error_description="The access token is invalid."`, true},
		{"401 quotes are made safe", http.MethodGet, "h", identity.ErrTokenRevoked.WithMessage(`say "hi"\`), "",
			"WWW-Authenticate", `Bearer authorization_uri="https://h/", error="invalid_token", error_description="say 'hi' "`, true},
		{"odd host falls back", http.MethodGet, `h"x`, identity.ErrTokenMissing, "",
			"WWW-Authenticate", `Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`, true},
		{"403 failure cause", http.MethodGet, "h", rbac.ErrAuthorizationFailed, "", "x-ms-failure-cause", "gateway", true},
		{"HEAD has no body", http.MethodHead, "h", resource.ErrGroupNotFound, "", "Content-Type", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/x", nil)
			req.Host = tt.host
			req = req.WithContext(context.WithValue(req.Context(), stateKey{}, &requestState{tenantID: tt.tenant}))
			rec := httptest.NewRecorder()
			writeError(rec, req, tt.err)
			if got := rec.Header().Get(tt.wantHeader); got != tt.wantValue {
				t.Errorf("%s = %q, want %q", tt.wantHeader, got, tt.wantValue)
			}
			if (rec.Body.Len() > 0) != tt.wantBody {
				t.Errorf("body %q", rec.Body.String())
			}
		})
	}
}

// TestErrorsBoundEchoedInput: messages that repeat a client's $filter,
// $top, api-version, type, namespace or method cut it to maxEcho bytes.
func TestErrorsBoundEchoedInput(t *testing.T) {
	long := strings.Repeat("x", 10000)
	utf8Long := strings.Repeat("é", 5000)
	for name, err := range map[string]error{
		"filter":               errInvalidFilter(long),
		"unsupported filter":   errUnsupportedQuery(long, "'atScope()'"),
		"top":                  errInvalidTop(long),
		"type":                 errUnknownType("Microsoft.Resources", long, "2021-04-01"),
		"api-version":          errUnknownType("Microsoft.Resources", "", long),
		"namespace":            errUnknownNamespace(long),
		"namespace, multibyte": errUnknownNamespace(utf8Long),
		"method":               errMethodNotAllowed(long),
	} {
		msg := errdefs.As(err).Message
		if len(msg) > 2*maxEcho+300 || !strings.Contains(msg, "…") {
			t.Errorf("%s: message of %d bytes: %.80q…", name, len(msg), msg)
		}
		if !utf8.ValidString(msg) {
			t.Errorf("%s: message is not valid UTF-8", name)
		}
	}
	if msg := errdefs.As(errInvalidFilter("tagName eq 'a'")).Message; msg != "Invalid $filter 'tagName eq 'a'' specified in the query string." {
		t.Errorf("short filter changed: %q", msg)
	}
}

// TestLongQueryEchoBounded: the same over HTTP, for a long $filter and a
// long api-version.
func TestLongQueryEchoBounded(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("a", 5000)
	for _, path := range []string{
		e.subPath() + "/resourcegroups?api-version=2021-04-01&$filter=" + long,
		e.subPath() + "/providers/Microsoft.Nope/" + long + "?api-version=" + long,
		e.subPath() + "/resourcegroups/rg/" + long + "?api-version=" + long,
	} {
		r := e.do(t, http.MethodGet, path, e.owner.token, nil)
		// At most two values are echoed, each cut to maxEcho bytes.
		if r.status < 400 || r.errorMessage() == "" || len(r.errorMessage()) > 2*maxEcho+300 {
			t.Errorf("%.60s…: %d, message of %d bytes", path, r.status, len(r.errorMessage()))
		}
	}
}
