package acrtoken

import (
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/server"
)

// AuthenticationRequired is ACR's message for a request that needs
// credentials it did not get (observed in 401 bodies of real registries).
const AuthenticationRequired = "authentication required, visit https://aka.ms/acr/authorization for more information."

// ErrUnauthorized is every credential failure: a wrong password or
// secret, a forged, expired, malformed or other registry's token, a
// deleted or disabled principal, a removed secret. Its Reason is the OCI
// error code, so the data-plane surface can send it as it is.
var ErrUnauthorized = errdefs.New(errdefs.Unauthenticated, "UNAUTHORIZED", AuthenticationRequired)

// The request errors the token endpoints raise themselves.
var (
	errMissingParameter = errdefs.New(errdefs.InvalidArgument, "MissingParameter", "a required parameter is missing")
	errInvalidRequest   = errdefs.New(errdefs.InvalidArgument, "InvalidRequest", "the request is malformed")
	errUnsupportedGrant = errdefs.New(errdefs.InvalidArgument, "UnsupportedGrantType", "unsupported grant type")
	errTooManyScopes    = errdefs.Newf(errdefs.InvalidArgument, "TooManyScopes", "a token request may name at most %d resources", maxResources)
	errMethodNotAllowed = errdefs.New(errdefs.InvalidArgument, "MethodNotAllowed", "method not allowed")
	errNotFound         = errdefs.New(errdefs.NotFound, "EndpointNotFound", "the requested endpoint does not exist")
	errRegistryUnknown  = errdefs.New(errdefs.NotFound, "RegistryNotFound", "registry not found")
)

// wireError is an HTTP status and the OCI error code of the body.
type wireError struct {
	status int
	code   string
}

// reasons maps the reasons that need a status their kind does not give.
// The OCI Distribution Specification requires a 4xx JSON body's code to
// be one of its codes, so every malformed request is UNSUPPORTED.
var reasons = map[string]wireError{
	errMethodNotAllowed.Reason: {http.StatusMethodNotAllowed, "UNSUPPORTED"},
	errNotFound.Reason:         {http.StatusNotFound, "UNSUPPORTED"},
	errRegistryUnknown.Reason:  {http.StatusNotFound, "NAME_UNKNOWN"},
}

// byKind is the mapping for every other error, domain errors included
// (identity's token errors are Unauthenticated, scope errors
// InvalidArgument).
func byKind(k errdefs.Kind) wireError {
	switch k {
	case errdefs.Unauthenticated:
		return wireError{http.StatusUnauthorized, "UNAUTHORIZED"}
	case errdefs.PermissionDenied:
		return wireError{http.StatusForbidden, "DENIED"}
	case errdefs.InvalidArgument, errdefs.FailedPrecondition, errdefs.Conflict, errdefs.AlreadyExists, errdefs.NotImplemented:
		return wireError{http.StatusBadRequest, "UNSUPPORTED"}
	case errdefs.NotFound:
		return wireError{http.StatusNotFound, "NAME_UNKNOWN"}
	case errdefs.ResourceExhausted:
		return wireError{http.StatusTooManyRequests, "TOOMANYREQUESTS"}
	case errdefs.Unavailable:
		return wireError{http.StatusServiceUnavailable, "UNAVAILABLE"}
	}
	return wireError{http.StatusInternalServerError, "UNKNOWN"}
}

// errorBody is the OCI distribution error envelope, which ACR uses on its
// token endpoints too (its REST reference types their failures AcrErrors,
// and docker prints e.g. "unauthorized: Invalid clientid or client
// secret." from it).
type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError writes err as the OCI error body. A 401 from GET
// /oauth2/token (which takes HTTP Basic credentials) carries a Basic
// challenge.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := errdefs.As(err)
	we, ok := reasons[e.Reason]
	if !ok {
		we = byKind(e.Kind)
	}
	msg := e.Message
	if e.Kind == errdefs.Internal || e.Kind == errdefs.Unavailable {
		msg = "internal error"
	}
	h := w.Header()
	noStore(h)
	if we.status == http.StatusUnauthorized && r.Method == http.MethodGet {
		h.Set("WWW-Authenticate", `Basic realm="`+quote(r.Host)+`"`)
	}
	server.WriteJSON(w, we.status, errorBody{Errors: []errorEntry{{Code: we.code, Message: msg}}})
}

// noStore marks a response as not cacheable, as RFC 6749 §5.1 asks of
// token responses.
func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// quote escapes a value for a quoted-string of an auth challenge.
func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// maxEcho bounds how much of a client-supplied value a message repeats.
const maxEcho = 200

func truncate(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return strings.ToValidUTF8(s[:maxEcho], "") + "…"
}
