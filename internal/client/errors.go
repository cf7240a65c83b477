package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// Surface names the protocol a response came from; each has its own error
// envelope.
type Surface int

// The surfaces.
const (
	SurfaceARM   Surface = iota // {"error":{"code","message","target","details"}}
	SurfaceGraph                // {"error":{"code","message","innerError"}}
	SurfaceLogin                // {"error","error_description","error_codes",...}
)

func (s Surface) String() string {
	switch s {
	case SurfaceARM:
		return "arm"
	case SurfaceGraph:
		return "graph"
	case SurfaceLogin:
		return "login"
	}
	return fmt.Sprintf("Surface(%d)", int(s))
}

// ResponseError is the decoded body of a non-2xx response. It is the Cause
// of the *errdefs.Error the client returns, so callers can recover the wire
// code, status and details.
type ResponseError struct {
	Surface    Surface
	StatusCode int
	Method     string
	URL        string
	// Code is the wire code: ARM/Graph error.code, or the OAuth2 "error".
	Code string
	// Message is error.message (ARM, Graph) or error_description (OAuth2).
	Message string
	// Target is ARM's error.target.
	Target string
	// Details are ARM's error.details.
	Details []arm.ErrorDetail
	// ErrorCodes are Entra's AADSTS numbers.
	ErrorCodes []int
	// Body is the raw response body.
	Body []byte
}

func (e *ResponseError) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, redactURL(e.URL), e.StatusCode, code, e.Message)
}

// AsResponseError returns the *ResponseError in err's chain, if any.
func AsResponseError(err error) (*ResponseError, bool) {
	var re *ResponseError
	ok := errors.As(err, &re)
	return re, ok
}

// StatusCode returns the HTTP status of the response behind err, or 0.
func StatusCode(err error) int {
	if re, ok := AsResponseError(err); ok {
		return re.StatusCode
	}
	return 0
}

// KindForStatus maps an HTTP status (and, for 409, the wire code) back to an
// errdefs.Kind: the reverse of errdefs.HTTPStatus.
func KindForStatus(status int, code string) errdefs.Kind {
	switch status {
	case http.StatusBadRequest:
		return errdefs.InvalidArgument
	case http.StatusUnauthorized:
		return errdefs.Unauthenticated
	case http.StatusForbidden:
		return errdefs.PermissionDenied
	case http.StatusNotFound:
		return errdefs.NotFound
	case http.StatusConflict:
		if strings.HasSuffix(code, "Exists") || strings.HasSuffix(code, "AlreadyExists") {
			return errdefs.AlreadyExists
		}
		return errdefs.Conflict
	case http.StatusPreconditionFailed:
		return errdefs.FailedPrecondition
	case http.StatusTooManyRequests:
		return errdefs.ResourceExhausted
	case http.StatusNotImplemented, http.StatusMethodNotAllowed:
		return errdefs.NotImplemented
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return errdefs.Unavailable
	}
	if status >= 400 && status < 500 {
		return errdefs.InvalidArgument
	}
	return errdefs.Internal
}

// DecodeError turns a non-2xx response into an *errdefs.Error: Kind from
// the status, Reason the wire code, Message the wire message (ARM, Graph) or
// error_description (OAuth2), Target ARM's target, and a *ResponseError as
// the Cause.
func DecodeError(s Surface, method, rawURL string, status int, header http.Header, body []byte) *errdefs.Error {
	re := &ResponseError{Surface: s, StatusCode: status, Method: method, URL: rawURL, Body: body}
	switch s {
	case SurfaceLogin:
		var o oauth2.ErrorResponse
		if json.Unmarshal(body, &o) == nil && o.Error != "" {
			re.Code, re.Message, re.ErrorCodes = o.Error, o.ErrorDescription, o.ErrorCodes
		}
	default:
		// ARM and Graph share the OData v4 shape {"error":{code,message}};
		// azcore also unwraps "odata.error" and prefers x-ms-error-code.
		var env struct {
			Error      *arm.ErrorDetail `json:"error"`
			ODataError *struct {
				Code    string `json:"code"`
				Message struct {
					Value string `json:"value"`
				} `json:"message"`
			} `json:"odata.error"`
		}
		if json.Unmarshal(body, &env) == nil {
			switch {
			case env.Error != nil:
				re.Code, re.Message, re.Target, re.Details = env.Error.Code, env.Error.Message, env.Error.Target, env.Error.Details
			case env.ODataError != nil:
				re.Code, re.Message = env.ODataError.Code, env.ODataError.Message.Value
			}
		}
		if s == SurfaceARM && header != nil {
			if c := header.Get("x-ms-error-code"); c != "" {
				re.Code = c
			}
		}
	}
	if re.Message == "" && re.Code == "" {
		// Not an envelope we know: azure-core's generic message; the body
		// stays in ResponseError.Body.
		re.Message = fmt.Sprintf("Operation returned an invalid status '%s'", http.StatusText(status))
	}
	return &errdefs.Error{
		Kind:    KindForStatus(status, re.Code),
		Reason:  re.Code,
		Message: re.Message,
		Target:  re.Target,
		Cause:   re,
	}
}
