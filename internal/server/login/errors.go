package login

import (
	"net/http"
	"strconv"
	"time"

	"github.com/cerulean/cerulean/api/oauth2"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

// The protocol-level errors this adapter raises itself; the domain errors
// come from identity. Messages are filled in where they are raised.
var (
	errMissingParameter   = errdefs.New(errdefs.InvalidArgument, "MissingParameter", "a required parameter is missing")
	errDuplicateParameter = errdefs.New(errdefs.InvalidArgument, "DuplicateParameter", "a parameter is repeated")
	errMalformedRequest   = errdefs.New(errdefs.InvalidArgument, "MalformedRequest", "the request is malformed")
	errBodyTooLarge       = errdefs.New(errdefs.InvalidArgument, "RequestBodyTooLarge", "The request body exceeds the maximum size of 64 KiB.")
	errMultipleClientAuth = errdefs.New(errdefs.InvalidArgument, "MultipleClientAuthentication", "The request uses more than one client authentication method.")
	errAssertion          = errdefs.New(errdefs.InvalidArgument, "ClientAssertionNotSupported", "Cerulean supports client secrets only; client_assertion is not supported.")
	errMissingSecret      = errdefs.New(errdefs.Unauthenticated, "MissingClientSecret", "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	errUnsupportedGrant   = errdefs.New(errdefs.InvalidArgument, "UnsupportedGrantType", "unsupported grant type")
	errResourceParameter  = errdefs.New(errdefs.InvalidArgument, "ResourceParameterNotSupported", "The 'resource' request parameter is not supported.")
	errScopeNotDefault    = errdefs.New(errdefs.InvalidArgument, "ScopeNotDefault", "scope without /.default")
	errInvalidScope       = errdefs.New(errdefs.InvalidArgument, "InvalidScope", "invalid scope")
	errInvalidTenantName  = errdefs.New(errdefs.InvalidArgument, "InvalidTenantName", "invalid tenant identifier")
	errTenantlessGrant    = errdefs.New(errdefs.InvalidArgument, "GrantNotSupportedOnEndpoint", "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.")
	errMethodNotAllowed   = errdefs.New(errdefs.InvalidArgument, "MethodNotAllowed", "method not allowed")
	errEndpointNotFound   = errdefs.New(errdefs.NotFound, "EndpointNotFound", "endpoint not found")
	errInvalidInstance    = errdefs.New(errdefs.InvalidArgument, "InvalidInstance", "Unknown or invalid instance.")
	errMalformedDiscovery = errdefs.New(errdefs.InvalidArgument, "MalformedDiscoveryRequest", "Request is malformed.")
)

// endpointKind selects the few codes that differ between the token
// endpoints and the discovery documents (Entra answers an unknown tenant
// with invalid_request on the former and invalid_tenant on the latter).
type endpointKind int

const (
	tokenEndpoint endpointKind = iota
	discoveryEndpoint
)

// wireError is an Entra error: HTTP status, OAuth2 error code and AADSTS
// number. discoveryError, when set, replaces error on discovery endpoints.
type wireError struct {
	status         int
	error          string
	aadsts         int
	discoveryError string
}

// reasons maps every Reason this surface can see to Entra's answer. The
// codes were checked against captured Entra responses (see the package
// tests and the report that introduced this file).
var reasons = map[string]wireError{
	identity.ErrInvalidClientSecret.Reason: {http.StatusUnauthorized, "invalid_client", 7000215, ""},
	identity.ErrExpiredClientSecret.Reason: {http.StatusUnauthorized, "invalid_client", 7000222, ""},
	identity.ErrUnknownClient.Reason:       {http.StatusBadRequest, "unauthorized_client", 700016, ""},
	identity.ErrMissingPrincipal.Reason:    {http.StatusUnauthorized, "invalid_client", 7000229, ""},
	identity.ErrDisabledPrincipal.Reason:   {http.StatusBadRequest, "unauthorized_client", 7000112, ""},
	identity.ErrTenantNotFound.Reason:      {http.StatusBadRequest, "invalid_request", 90002, "invalid_tenant"},
	identity.ErrInvalidResource.Reason:     {http.StatusBadRequest, "invalid_resource", 500011, ""},

	errMissingParameter.Reason:   {http.StatusBadRequest, "invalid_request", 900144, ""},
	errDuplicateParameter.Reason: {http.StatusBadRequest, "invalid_request", 90023, ""},
	errMalformedRequest.Reason:   {http.StatusBadRequest, "invalid_request", 90004, ""},
	errBodyTooLarge.Reason:       {http.StatusBadRequest, "invalid_request", 90004, ""},
	errMultipleClientAuth.Reason: {http.StatusBadRequest, "invalid_request", 90023, ""},
	errAssertion.Reason:          {http.StatusBadRequest, "invalid_request", 90023, ""},
	errMissingSecret.Reason:      {http.StatusUnauthorized, "invalid_client", 7000216, ""},
	errUnsupportedGrant.Reason:   {http.StatusBadRequest, "unsupported_grant_type", 70003, ""},
	errResourceParameter.Reason:  {http.StatusBadRequest, "invalid_request", 901002, ""},
	errScopeNotDefault.Reason:    {http.StatusBadRequest, "invalid_scope", 1002012, ""},
	errInvalidScope.Reason:       {http.StatusBadRequest, "invalid_scope", 70011, ""},
	errInvalidTenantName.Reason:  {http.StatusBadRequest, "invalid_request", 900023, "invalid_tenant"},
	errTenantlessGrant.Reason:    {http.StatusBadRequest, "invalid_request", 9001023, ""},
	errMethodNotAllowed.Reason:   {http.StatusMethodNotAllowed, "invalid_request", 900561, ""},
	errEndpointNotFound.Reason:   {http.StatusNotFound, "invalid_request", 90023, ""},
	errInvalidInstance.Reason:    {http.StatusBadRequest, "invalid_instance", 50049, ""},
	errMalformedDiscovery.Reason: {http.StatusBadRequest, "invalid_request", 50050, ""},
}

// byKind is the fallback for reasons the table does not name.
func byKind(k errdefs.Kind) wireError {
	switch k {
	case errdefs.InvalidArgument, errdefs.FailedPrecondition, errdefs.AlreadyExists, errdefs.Conflict:
		return wireError{http.StatusBadRequest, "invalid_request", 90023, ""}
	case errdefs.Unauthenticated:
		return wireError{http.StatusUnauthorized, "invalid_client", 7000215, ""}
	case errdefs.PermissionDenied:
		return wireError{http.StatusBadRequest, "unauthorized_client", 700016, ""}
	case errdefs.NotFound:
		return wireError{http.StatusBadRequest, "invalid_request", 90023, ""}
	case errdefs.ResourceExhausted:
		return wireError{http.StatusTooManyRequests, "temporarily_unavailable", 90055, ""}
	case errdefs.NotImplemented:
		return wireError{http.StatusBadRequest, "unsupported_grant_type", 70003, ""}
	case errdefs.Unavailable:
		return wireError{http.StatusServiceUnavailable, "temporarily_unavailable", 90033, ""}
	}
	return wireError{http.StatusInternalServerError, "server_error", 50000, ""}
}

// internalMessage is what a client sees for an unexpected failure.
const internalMessage = "There was an error issuing a token or an issue with our sign-in service."

// errorWriter returns the ErrorWriter of one kind of endpoint.
func errorWriter(kind endpointKind) server.ErrorWriter {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		e := errdefs.As(err)
		we, ok := reasons[e.Reason]
		if !ok {
			we = byKind(e.Kind)
		}
		code := we.error
		if kind == discoveryEndpoint && we.discoveryError != "" {
			code = we.discoveryError
		}
		msg := e.Message
		if e.Kind == errdefs.Internal || e.Kind == errdefs.Unavailable {
			msg = internalMessage
		}
		writeOAuthError(w, r, we.status, code, we.aadsts, msg)
	}
}

// writeOAuthError writes Entra's error body.
func writeOAuthError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, msg string) {
	trace := server.RequestID(r.Context())
	if trace == "" {
		trace = server.NewID()
	}
	corr := correlationID(r)
	now := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	n := strconv.Itoa(aadsts)
	noStore(w)
	server.WriteJSON(w, status, oauth2.ErrorResponse{
		Error:            code,
		ErrorDescription: "AADSTS" + n + ": " + msg + "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + corr + "\r\nTimestamp: " + now,
		ErrorCodes:       []int{aadsts},
		Timestamp:        now,
		TraceID:          trace,
		CorrelationID:    corr,
		ErrorURI:         "https://" + r.Host + "/error?code=" + n,
	})
}

// correlationID is the client's client-request-id when it is a GUID (MSAL
// sends one and Entra echoes it as the correlation id), else a new id.
func correlationID(r *http.Request) string {
	if c := r.Header.Get("client-request-id"); resourceid.IsGUID(c) {
		return c
	}
	return server.NewID()
}

// noStore marks a response as not cacheable, as RFC 6749 §5.1 requires of
// token responses.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
}
