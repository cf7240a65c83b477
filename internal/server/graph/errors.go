package graph

import (
	"errors"
	"net/http"
	"time"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/token"
)

// The protocol-level errors this adapter raises itself. Messages are
// filled in where they are raised.
var (
	errUnknownSegment      = errdefs.New(errdefs.InvalidArgument, "UnknownSegment", "unknown segment")
	errMethodNotAllowed    = errdefs.New(errdefs.InvalidArgument, "MethodNotAllowed", "Specified HTTP method is not allowed for the request target.")
	errInvalidObjectID     = errdefs.New(errdefs.InvalidArgument, "InvalidObjectIdentifier", "invalid object identifier")
	errUnknownProperty     = errdefs.New(errdefs.InvalidArgument, "UnknownProperty", "unknown property")
	errUnsupportedProperty = errdefs.New(errdefs.InvalidArgument, "UnsupportedProperty", "unsupported property")
	errInvalidValue        = errdefs.New(errdefs.InvalidArgument, "InvalidValue", "invalid value")
	errInvalidFilter       = errdefs.New(errdefs.InvalidArgument, "InvalidFilter", "Invalid filter clause")
	errUnsupportedQuery    = errdefs.New(errdefs.InvalidArgument, "UnsupportedQuery", "Unsupported Query.")
	errInvalidQuery        = errdefs.New(errdefs.InvalidArgument, "InvalidQuery", "invalid query")
	errDuplicateOption     = errdefs.New(errdefs.InvalidArgument, "DuplicateQueryOption", "duplicate query option")
	errDenied              = errdefs.New(errdefs.PermissionDenied, "InsufficientPrivileges", "Insufficient privileges to complete the operation.")
	// errDelegatedOnly is Graph's answer to /me with an app-only token.
	errDelegatedOnly = errdefs.New(errdefs.InvalidArgument, "DelegatedOnly", "/me request is only valid with delegated authentication flow.")
	errUserNotFound  = errdefs.New(errdefs.NotFound, "UserNotFound", "user not found")
)

// wireError is Graph's answer to a Reason: status, code and, when set, a
// fixed message that replaces the error's own.
type wireError struct {
	status  int
	code    string
	message string
}

const invalidToken = "InvalidAuthenticationToken"

// reasons maps each Reason this surface can see to Graph's status and
// code; the messages are Graph's where it has a fixed one.
var reasons = map[string]wireError{
	identity.ErrTokenMissing.Reason:  {http.StatusUnauthorized, invalidToken, "Access token is empty."},
	identity.ErrTokenExpired.Reason:  {http.StatusUnauthorized, invalidToken, "Lifetime validation failed, the token is expired."},
	identity.ErrTokenAudience.Reason: {http.StatusUnauthorized, invalidToken, "Access token validation failure. Invalid audience."},
	identity.ErrTokenInvalid.Reason:  {http.StatusUnauthorized, invalidToken, ""}, // see tokenInvalidMessage
	identity.ErrTokenRevoked.Reason:  {http.StatusUnauthorized, invalidToken, ""},

	identity.ErrApplicationNotFound.Reason: {http.StatusNotFound, "Request_ResourceNotFound", ""},
	identity.ErrPrincipalNotFound.Reason:   {http.StatusNotFound, "Request_ResourceNotFound", ""},
	identity.ErrPasswordNotFound.Reason:    {http.StatusNotFound, "Request_ResourceNotFound", ""},
	identity.ErrAppIDTaken.Reason:          {http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", ""},
	identity.ErrInvalidObject.Reason:       {http.StatusBadRequest, "Request_BadRequest", ""},
	identity.ErrObjectConflict.Reason:      {http.StatusBadRequest, "Request_BadRequest", ""},
	identity.ErrAppNotReferenced.Reason:    {http.StatusBadRequest, "Request_BadRequest", ""},
	"TooManyPasswords":                     {http.StatusBadRequest, "Request_BadRequest", ""}, // identity exports no prototype for it

	rbac.ErrAuthorizationFailed.Reason: {http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."},
	errDenied.Reason:                   {http.StatusForbidden, "Authorization_RequestDenied", ""},

	server.ErrBodyTooLarge.Reason:  {http.StatusRequestEntityTooLarge, "Request_EntityTooLarge", ""},
	server.ErrInvalidJSON.Reason:   {http.StatusBadRequest, "Request_BadRequest", ""},
	server.ErrUnsupportedCT.Reason: {http.StatusUnsupportedMediaType, "Request_BadRequest", ""},

	errUnknownSegment.Reason:      {http.StatusBadRequest, "BadRequest", ""},
	errMethodNotAllowed.Reason:    {http.StatusMethodNotAllowed, "Request_BadRequest", ""},
	errInvalidObjectID.Reason:     {http.StatusBadRequest, "Request_BadRequest", ""},
	errUnknownProperty.Reason:     {http.StatusBadRequest, "Request_BadRequest", ""},
	errUnsupportedProperty.Reason: {http.StatusBadRequest, "Request_BadRequest", ""},
	errInvalidValue.Reason:        {http.StatusBadRequest, "Request_BadRequest", ""},
	errInvalidFilter.Reason:       {http.StatusBadRequest, "BadRequest", ""},
	errUnsupportedQuery.Reason:    {http.StatusBadRequest, "Request_UnsupportedQuery", ""},
	errInvalidQuery.Reason:        {http.StatusBadRequest, "Request_BadRequest", ""},
	errDuplicateOption.Reason:     {http.StatusBadRequest, "BadRequest", ""},
	errDelegatedOnly.Reason:       {http.StatusBadRequest, "BadRequest", ""},
	errUserNotFound.Reason:        {http.StatusNotFound, "Request_ResourceNotFound", ""},
}

// byKind is the fallback for reasons the table does not name.
func byKind(k errdefs.Kind) wireError {
	switch k {
	case errdefs.InvalidArgument, errdefs.Conflict, errdefs.FailedPrecondition:
		return wireError{http.StatusBadRequest, "Request_BadRequest", ""}
	case errdefs.Unauthenticated:
		return wireError{http.StatusUnauthorized, invalidToken, ""}
	case errdefs.PermissionDenied:
		return wireError{http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."}
	case errdefs.NotFound:
		return wireError{http.StatusNotFound, "Request_ResourceNotFound", ""}
	case errdefs.AlreadyExists:
		return wireError{http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", ""}
	case errdefs.ResourceExhausted:
		return wireError{http.StatusTooManyRequests, "TooManyRequests", ""}
	case errdefs.NotImplemented:
		return wireError{http.StatusNotImplemented, "NotImplemented", ""}
	case errdefs.Unavailable:
		return wireError{http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Retry the request later."}
	}
	return wireError{http.StatusInternalServerError, "InternalServerError", "An internal server error occurred."}
}

// tokenInvalidMessage tells a token that is not a JWS at all from one whose
// signature fails, as Graph does; other failures get Graph's generic text.
func tokenInvalidMessage(err error, e *errdefs.Error) string {
	switch {
	case errors.Is(err, token.ErrMalformed):
		return "CompactToken parsing failed with error code: 80049217"
	case errors.Is(err, token.ErrSignature):
		return "Signature is invalid."
	case e.Cause != nil:
		return "Access token validation failure."
	}
	return e.Message
}

// writeError writes err in Graph's envelope.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := errdefs.As(err)
	we, ok := reasons[e.Reason]
	if !ok {
		we = byKind(e.Kind)
	}
	msg := we.message
	if msg == "" {
		msg = e.Message
		if e.Reason == identity.ErrTokenInvalid.Reason {
			msg = tokenInvalidMessage(err, e)
		}
	}
	writeJSON(w, we.status, graph.Error{Error: graph.ErrorBody{
		Code:    we.code,
		Message: msg,
		InnerError: graph.InnerError{
			Date:            time.Now().UTC().Format("2006-01-02T15:04:05"),
			RequestID:       w.Header().Get("request-id"),
			ClientRequestID: w.Header().Get("client-request-id"),
		},
	}})
}
