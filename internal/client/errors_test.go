package client

import (
	"errors"
	"net/http"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// TestDecodeError is the reverse mapping: each surface's error body and
// status back to an *errdefs.Error with the wire code kept.
func TestDecodeError(t *testing.T) {
	tests := []struct {
		name    string
		surface Surface
		status  int
		header  http.Header
		body    string
		kind    errdefs.Kind
		reason  string
		message string
		target  string
		codes   []int
	}{
		{
			name: "arm not found", surface: SurfaceARM, status: 404,
			body: `{"error":{"code":"ResourceGroupNotFound","message":"Resource group 'x' could not be found."}}`,
			kind: errdefs.NotFound, reason: "ResourceGroupNotFound", message: "Resource group 'x' could not be found.",
		},
		{
			name: "arm forbidden", surface: SurfaceARM, status: 403,
			body: `{"error":{"code":"AuthorizationFailed","message":"The client 'a' does not have authorization."}}`,
			kind: errdefs.PermissionDenied, reason: "AuthorizationFailed", message: "The client 'a' does not have authorization.",
		},
		{
			name: "arm conflict exists", surface: SurfaceARM, status: 409,
			body: `{"error":{"code":"RoleAssignmentExists","message":"The role assignment already exists."}}`,
			kind: errdefs.AlreadyExists, reason: "RoleAssignmentExists", message: "The role assignment already exists.",
		},
		{
			name: "arm conflict", surface: SurfaceARM, status: 409,
			body: `{"error":{"code":"ResourceGroupBeingDeleted","message":"busy"}}`,
			kind: errdefs.Conflict, reason: "ResourceGroupBeingDeleted", message: "busy",
		},
		{
			name: "arm bad request with target", surface: SurfaceARM, status: 400,
			body: `{"error":{"code":"InvalidRequestContent","message":"bad","target":"location"}}`,
			kind: errdefs.InvalidArgument, reason: "InvalidRequestContent", message: "bad", target: "location",
		},
		{
			name: "arm x-ms-error-code wins", surface: SurfaceARM, status: 401,
			header: http.Header{"X-Ms-Error-Code": {"InvalidAuthenticationToken"}},
			body:   `{"error":{"code":"AuthenticationFailed","message":"expired"}}`,
			kind:   errdefs.Unauthenticated, reason: "InvalidAuthenticationToken", message: "expired",
		},
		{
			name: "arm odata.error", surface: SurfaceARM, status: 500,
			body: `{"odata.error":{"code":"InternalError","message":{"lang":"en","value":"boom"}}}`,
			kind: errdefs.Internal, reason: "InternalError", message: "boom",
		},
		{
			name: "arm not json", surface: SurfaceARM, status: 502, body: `<html>bad gateway</html>`,
			kind: errdefs.Unavailable, reason: "", message: "Operation returned an invalid status 'Bad Gateway'",
		},
		{
			name: "arm empty body", surface: SurfaceARM, status: 404, body: ``,
			kind: errdefs.NotFound, reason: "", message: "Operation returned an invalid status 'Not Found'",
		},
		{
			name: "graph not found", surface: SurfaceGraph, status: 404,
			body: `{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist or one of its queried reference-property objects are not present.","innerError":{"date":"d","request-id":"r","client-request-id":"c"}}}`,
			kind: errdefs.NotFound, reason: "Request_ResourceNotFound", message: "Resource 'x' does not exist or one of its queried reference-property objects are not present.",
		},
		{
			name: "graph denied", surface: SurfaceGraph, status: 403,
			body: `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`,
			kind: errdefs.PermissionDenied, reason: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation.",
		},
		{
			name: "oauth2 invalid client", surface: SurfaceLogin, status: 401,
			body: `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"timestamp":"t","trace_id":"x","correlation_id":"y"}`,
			kind: errdefs.Unauthenticated, reason: "invalid_client", message: "AADSTS7000215: Invalid client secret provided.", codes: []int{7000215},
		},
		{
			name: "oauth2 unknown tenant", surface: SurfaceLogin, status: 400,
			body: `{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found.","error_codes":[90002]}`,
			kind: errdefs.InvalidArgument, reason: "invalid_request", message: "AADSTS90002: Tenant 'x' not found.", codes: []int{90002},
		},
		{
			name: "throttled", surface: SurfaceARM, status: 429,
			body: `{"error":{"code":"TooManyRequests","message":"slow down"}}`,
			kind: errdefs.ResourceExhausted, reason: "TooManyRequests", message: "slow down",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DecodeError(tt.surface, "GET", "https://h/x", tt.status, tt.header, []byte(tt.body))
			if err.Kind != tt.kind || err.Reason != tt.reason || err.Message != tt.message || err.Target != tt.target {
				t.Errorf("got kind=%v reason=%q message=%q target=%q; want kind=%v reason=%q message=%q target=%q",
					err.Kind, err.Reason, err.Message, err.Target, tt.kind, tt.reason, tt.message, tt.target)
			}
			re, ok := AsResponseError(err)
			if !ok {
				t.Fatal("no ResponseError cause")
			}
			if re.StatusCode != tt.status || re.Surface != tt.surface || re.Code != tt.reason {
				t.Errorf("ResponseError = %+v", re)
			}
			if len(tt.codes) > 0 && (len(re.ErrorCodes) != len(tt.codes) || re.ErrorCodes[0] != tt.codes[0]) {
				t.Errorf("ErrorCodes = %v, want %v", re.ErrorCodes, tt.codes)
			}
			if !errors.Is(err, errdefs.New(tt.kind, "", "")) {
				t.Errorf("errors.Is by kind failed")
			}
			if StatusCode(err) != tt.status {
				t.Errorf("StatusCode = %d", StatusCode(err))
			}
		})
	}
}

func TestKindForStatusInvertsHTTPStatus(t *testing.T) {
	for k := errdefs.Internal; k <= errdefs.Unavailable; k++ {
		status := errdefs.HTTPStatus(k)
		got := KindForStatus(status, "")
		if errdefs.HTTPStatus(got) != status {
			t.Errorf("kind %v -> %d -> %v", k, status, got)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		`{"secretText":"abc","keyId":"k"}`:                     `{"secretText":"REDACTED","keyId":"k"}`,
		`{"access_token": "eyJ.x.y", "expires_in": 3599}`:      `{"access_token": "REDACTED", "expires_in": 3599}`,
		`client_id=a&client_secret=s3cr%2Bt&grant_type=client`: `client_id=a&client_secret=REDACTED&grant_type=client`,
		`client_secret=x`:                 `client_secret=REDACTED`,
		`{"password":"p\"q","appId":"a"}`: `{"password":"REDACTED","appId":"a"}`,
		// listCredentials: admin passwords are "value"s; ARM lists' "value" arrays stay.
		`{"passwords":[{"name":"password","value":"s3cret"}]}`: `{"passwords":[{"name":"password","value":"REDACTED"}]}`,
		`{"value":[{"id":"x"}]}`:                               `{"value":[{"id":"x"}]}`,
		`{"identitytoken":"eyJ"}`:                              `{"identitytoken":"REDACTED"}`,
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%s) = %s, want %s", in, got, want)
		}
	}
}
