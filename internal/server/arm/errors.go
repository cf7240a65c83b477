package arm

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/server"
)

// This file is the only place where errors become ARM responses.

// wireError overrides the ARM code, status or message of a Reason.
type wireError struct {
	status  int                         // 0: the Kind's status
	code    string                      // "": the Reason
	message func(*errdefs.Error) string // nil: the error's message
}

func fixed(msg string) func(*errdefs.Error) string {
	return func(*errdefs.Error) string { return msg }
}

// allowedAudiences is the list ARM prints in InvalidAuthenticationTokenAudience.
const allowedAudiences = "'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'"

// reasons maps the Reasons whose ARM form differs from the fallback below.
// Reasons not listed here keep their name as the ARM code.
var reasons = map[string]wireError{
	// identity.Verify
	"TokenMissing": {code: "AuthenticationFailed", message: fixed("Authentication failed. The 'Authorization' header is missing.")},
	"TokenInvalid": {code: "InvalidAuthenticationToken", message: fixed("The access token is invalid.")},
	"TokenRevoked": {code: "InvalidAuthenticationToken"},
	"TokenExpired": {code: "ExpiredAuthenticationToken"},
	"TokenAudience": {code: "InvalidAuthenticationTokenAudience", message: func(e *errdefs.Error) string {
		// identity puts the token's audience in the message.
		return fmt.Sprintf("The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the allowed audiences %s.", e.Message, allowedAudiences)
	}},
	// server.DecodeJSON
	"RequestBodyTooLarge":  {status: http.StatusRequestEntityTooLarge, code: "RequestContentTooLarge", message: fixed("The request content size exceeds the maximum size of 4 MB.")},
	"UnsupportedMediaType": {status: http.StatusUnsupportedMediaType},
	// this package
	reasonMethodNotAllowed: {status: http.StatusMethodNotAllowed},
}

// toWire turns any error into an HTTP status and ARM error body.
func toWire(e *errdefs.Error, requestID string) (int, arm.ErrorDetail) {
	status := errdefs.HTTPStatus(e.Kind)
	// ARM names a target only for a request it could not validate.
	d := arm.ErrorDetail{Code: e.Reason, Message: e.Message}
	switch e.Kind {
	case errdefs.InvalidArgument:
		d.Code = orDefault(e.Reason, "InvalidRequestContent")
		d.Target = e.Target
	case errdefs.Unauthenticated:
		d.Code = orDefault(e.Reason, "InvalidAuthenticationToken")
	case errdefs.PermissionDenied:
		d.Code = "AuthorizationFailed"
	case errdefs.NotFound:
		d.Code = orDefault(e.Reason, "ResourceNotFound")
	case errdefs.AlreadyExists, errdefs.Conflict:
		d.Code = orDefault(e.Reason, "Conflict")
	case errdefs.FailedPrecondition:
		d.Code = orDefault(e.Reason, "PreconditionFailed")
	case errdefs.ResourceExhausted:
		d.Code = orDefault(e.Reason, "TooManyRequests")
	case errdefs.NotImplemented:
		d.Code = orDefault(e.Reason, "NotImplemented")
	case errdefs.Unavailable:
		d = arm.ErrorDetail{Code: "ServiceUnavailable", Message: "The service is temporarily unavailable. Please retry the request."}
	default:
		status = http.StatusInternalServerError
		d = arm.ErrorDetail{Code: "InternalServerError", Message: fmt.Sprintf("The server encountered an internal error. Request id '%s'.", requestID)}
	}
	if w, ok := reasons[e.Reason]; ok && e.Kind != errdefs.Internal {
		if w.status != 0 {
			status = w.status
		}
		if w.code != "" {
			d.Code = w.code
		}
		if w.message != nil {
			d.Message = w.message(e)
		}
	}
	if e.Kind != errdefs.Internal && e.Kind != errdefs.Unavailable {
		for _, detail := range e.Details {
			_, dd := toWire(detail, requestID)
			d.Details = append(d.Details, dd)
		}
	}
	return status, d
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeError is the ARM surface's server.ErrorWriter.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := errdefs.As(err)
	status, d := toWire(e, server.RequestID(r.Context()))
	h := w.Header()
	switch {
	case status == http.StatusUnauthorized:
		desc := d.Message
		if e.Reason == "TokenMissing" {
			desc = "The authentication failed because of missing 'Authorization' header."
		}
		h.Set("WWW-Authenticate", challenge(r, stateFrom(r.Context()).tenantID, desc))
	case d.Code == "AuthorizationFailed":
		h.Set("x-ms-failure-cause", "gateway")
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	server.WriteJSON(w, status, arm.ErrorResponse{Error: d})
}

// challenge formats Azure's Bearer challenge. authorization_uri names this
// server's login endpoint (the request's host) and, when the path named a
// subscription, the tenant that owns it, which tools read to discover it.
func challenge(r *http.Request, tenantID, description string) string {
	uri := authority(r) + "/"
	if tenantID != "" {
		uri += tenantID
	}
	return fmt.Sprintf(`Bearer authorization_uri="%s", error="invalid_token", error_description="%s"`, uri, quoteSafe(description))
}

// authority returns https://{host} for the request's host, or Azure's
// login host when the Host header holds anything unexpected.
func authority(r *http.Request) string {
	host := r.Host
	if host == "" || len(host) > 255 || strings.IndexFunc(host, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c))
	}) >= 0 {
		host = "login.windows.net"
	}
	return "https://" + host
}

// quoteSafe makes s safe inside a quoted challenge parameter: azcore's
// parser ends a value at the first double quote.
func quoteSafe(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c == '"':
			return '\''
		case c == '\\' || c < 0x20 || c == 0x7f:
			return ' '
		}
		return c
	}, s)
}

// ---- errors raised by this adapter (protocol-level problems)

// maxEcho bounds how much of a client-supplied value (a $filter, an
// api-version, a type or namespace from the path, a method) an error
// message repeats, as on the Graph and login surfaces.
const maxEcho = 200

// clip returns s, cut to maxEcho bytes (on a rune boundary) with an
// ellipsis when longer.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return strings.ToValidUTF8(s[:maxEcho], "") + "…"
}

const reasonMethodNotAllowed = "MethodNotAllowed"

var (
	errMissingAPIVersion = errdefs.New(errdefs.InvalidArgument, "MissingApiVersionParameter",
		"The api-version query parameter (?api-version=) is required for all requests.")
	errMalformedAuthorization = errdefs.New(errdefs.Unauthenticated, "AuthenticationFailed",
		"Authentication failed. The 'Authorization' header is provided in an invalid format.")
	errRouteWithoutAuth = errdefs.Internalf(nil, "arm: route declares no authorization")
)

func errUnknownType(namespace, typ, apiVersion string) error {
	namespace, typ, apiVersion = clip(namespace), clip(typ), clip(apiVersion)
	if typ == "" {
		return errdefs.Newf(errdefs.NotFound, "InvalidResourceType",
			"The resource type could not be found in the namespace '%s' for api version '%s'.", namespace, apiVersion)
	}
	return errdefs.Newf(errdefs.NotFound, "InvalidResourceType",
		"The resource type '%s' could not be found in the namespace '%s' for api version '%s'.", typ, namespace, apiVersion)
}

func errUnknownNamespace(namespace string) error {
	return errdefs.Newf(errdefs.NotFound, "InvalidResourceNamespace", "The resource namespace '%s' is invalid.", clip(namespace))
}

func errMethodNotAllowed(method string) error {
	return errdefs.Newf(errdefs.InvalidArgument, reasonMethodNotAllowed, "The requested resource does not support http method '%s'.", clip(method))
}

func errWrongTenant(tokenTenant, subTenant, authority string) error {
	return errdefs.Newf(errdefs.Unauthenticated, "InvalidAuthenticationTokenTenant",
		"The access token is from the wrong issuer 'https://sts.windows.net/%s/'. It must match the tenant 'https://sts.windows.net/%s/' associated with this subscription. Please use the authority (URL) '%s/%s' to get the token.",
		tokenTenant, subTenant, authority, subTenant)
}

func errInvalidFilter(filter string) error {
	return errdefs.Newf(errdefs.InvalidArgument, "InvalidFilterInQueryString", "Invalid $filter '%s' specified in the query string.", clip(filter))
}

func errUnsupportedQuery(filter, supported string) error {
	return errdefs.Newf(errdefs.InvalidArgument, "UnsupportedQuery", "The filter '%s' is not supported. Supported filters are %s.", clip(filter), supported)
}

func errInvalidTop(top string) error {
	return errdefs.Newf(errdefs.InvalidArgument, "InvalidTopInQueryString", "Invalid $top '%s' specified in the query string. It must be a positive integer.", clip(top))
}
