package oci

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/cerulean/cerulean/api/oci"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
)

// This file is the only place where errors become data-plane responses.
// Every error uses the distribution body {"errors":[{code,message,detail}]}.

// The errors this adapter raises itself; the registry's come from
// internal/registry (their reasons are the OCI codes).
var (
	errUnauthorized      = errdefs.New(errdefs.Unauthenticated, "UNAUTHORIZED", acrtoken.AuthenticationRequired)
	errRouteUnknown      = errdefs.New(errdefs.NotFound, reasonRouteUnknown, "the requested endpoint does not exist")
	errMethodNotAllowed  = errdefs.New(errdefs.NotImplemented, "UNSUPPORTED", "the method is not allowed on this route")
	errNameInvalid       = registry.ErrNameInvalid.WithMessage("invalid repository name")
	errRegistryUnknown   = errdefs.New(errdefs.NotFound, "NAME_UNKNOWN", "registry not found: no registry has this login server")
	errTagUnknown        = errdefs.New(errdefs.NotFound, "TAG_UNKNOWN", "the specified tag does not exist")
	errDigestInvalid     = registry.ErrDigestInvalid.WithMessage("invalid digest")
	errTagInvalid        = registry.ErrTagInvalid.WithMessage("invalid tag")
	errRangeInvalid      = registry.ErrRangeInvalid
	errUploadUnknown     = registry.ErrBlobUploadUnknown
	errPaginationInvalid = registry.ErrPaginationInvalid.WithMessage("the n parameter must be a non-negative integer")
)

// reasonRouteUnknown is the reason of errRouteUnknown: sent as UNSUPPORTED
// with 404 (distribution answers unknown paths with a bare 404).
const reasonRouteUnknown = "ROUTE_UNKNOWN"

// wireError is the status and code a reason is sent with.
type wireError struct {
	status int
	code   string
}

// reasons maps every reason this surface sends with a status other than
// its kind's, or under another code. The codes are the distribution-spec
// v1.1 "Error Codes" table (code-1…code-14); RANGE_INVALID and
// MANIFEST_TOO_LARGE are not in it, so they travel as BLOB_UPLOAD_INVALID
// and MANIFEST_INVALID with the statuses the spec prescribes (416 for an
// out-of-order chunk, 413 for a manifest over the limit).
var reasons = map[string]wireError{
	"BLOB_UNKNOWN":              {http.StatusNotFound, "BLOB_UNKNOWN"},
	"BLOB_UPLOAD_UNKNOWN":       {http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN"},
	"BLOB_UPLOAD_INVALID":       {http.StatusBadRequest, "BLOB_UPLOAD_INVALID"},
	"RANGE_INVALID":             {http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID"},
	"DIGEST_INVALID":            {http.StatusBadRequest, "DIGEST_INVALID"},
	"SIZE_INVALID":              {http.StatusBadRequest, "SIZE_INVALID"},
	"MANIFEST_UNKNOWN":          {http.StatusNotFound, "MANIFEST_UNKNOWN"},
	"MANIFEST_INVALID":          {http.StatusBadRequest, "MANIFEST_INVALID"},
	"MANIFEST_BLOB_UNKNOWN":     {http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN"},
	"MANIFEST_TOO_LARGE":        {http.StatusRequestEntityTooLarge, "MANIFEST_INVALID"},
	"NAME_INVALID":              {http.StatusBadRequest, "NAME_INVALID"},
	"NAME_UNKNOWN":              {http.StatusNotFound, "NAME_UNKNOWN"},
	"TAG_INVALID":               {http.StatusBadRequest, "TAG_INVALID"},
	"TAG_UNKNOWN":               {http.StatusNotFound, "TAG_UNKNOWN"},
	"UNSUPPORTED":               {http.StatusMethodNotAllowed, "UNSUPPORTED"},
	"DENIED":                    {http.StatusForbidden, "DENIED"},
	"UNAUTHORIZED":              {http.StatusUnauthorized, "UNAUTHORIZED"},
	"PAGINATION_NUMBER_INVALID": {http.StatusBadRequest, "PAGINATION_NUMBER_INVALID"},
	reasonRouteUnknown:          {http.StatusNotFound, "UNSUPPORTED"},
	// server.DecodeJSON (PATCH /acr/v1 bodies)
	server.ErrBodyTooLarge.Reason:  {http.StatusRequestEntityTooLarge, "UNSUPPORTED"},
	server.ErrUnsupportedCT.Reason: {http.StatusUnsupportedMediaType, "UNSUPPORTED"},
}

// byKind is the fallback for reasons the table does not name.
func byKind(k errdefs.Kind) wireError {
	switch k {
	case errdefs.InvalidArgument, errdefs.FailedPrecondition:
		return wireError{http.StatusBadRequest, "UNSUPPORTED"}
	case errdefs.Unauthenticated:
		return wireError{http.StatusUnauthorized, "UNAUTHORIZED"}
	case errdefs.PermissionDenied:
		return wireError{http.StatusForbidden, "DENIED"}
	case errdefs.NotFound:
		return wireError{http.StatusNotFound, "NAME_UNKNOWN"}
	case errdefs.AlreadyExists, errdefs.Conflict:
		return wireError{http.StatusConflict, "DENIED"}
	case errdefs.ResourceExhausted:
		return wireError{http.StatusTooManyRequests, "TOOMANYREQUESTS"}
	case errdefs.NotImplemented:
		return wireError{http.StatusMethodNotAllowed, "UNSUPPORTED"}
	case errdefs.Unavailable:
		return wireError{http.StatusServiceUnavailable, "UNAVAILABLE"}
	}
	return wireError{http.StatusInternalServerError, "UNKNOWN"}
}

// toWire turns any error into a status and an OCI error entry. Internal
// and Unavailable errors keep their generic message; a reason never makes
// an internal error look like a client's.
func toWire(e *errdefs.Error) (int, oci.Error) {
	we, ok := reasons[e.Reason]
	if !ok || e.Kind == errdefs.Internal || e.Kind == errdefs.Unavailable {
		we = byKind(e.Kind)
	}
	msg := e.Message
	switch e.Kind {
	case errdefs.Internal:
		msg = "internal error"
	case errdefs.Unavailable:
		msg = "the service is temporarily unavailable"
	}
	return we.status, oci.Error{Code: we.code, Message: msg}
}

// writeError writes err; a 401 carries the Bearer challenge for the scopes
// the route wanted and names them in the detail.
func writeError(w http.ResponseWriter, r *http.Request, st *state, err error) {
	status, body := toWire(errdefs.As(err))
	h := w.Header()
	if status == http.StatusUnauthorized && st.reg.LoginServer != "" {
		// ACR's challenge, byte for byte, as the token service formats it:
		// Bearer realm="https://<ls>/oauth2/token",service="<ls>"
		// [,scope="<s1> <s2>"][,error="<e>"], no spaces after the commas
		// (az and the Azure SDK split on them).
		h.Set("Www-Authenticate", acrtoken.Challenge(st.reg, st.want, st.challenge))
		if d := accessDetail(st.want); d != nil {
			body.Detail = d
		}
	}
	data, mErr := json.Marshal(oci.ErrorResponse{Errors: []oci.Error{body}})
	if mErr != nil {
		data = []byte(`{"errors":[{"code":"UNKNOWN","message":"internal error"}]}`)
	}
	// Headers set for a success that did not happen must not leak out.
	for _, k := range []string{"Location", "Docker-Content-Digest", "Docker-Upload-Uuid", "Range", "Etag", "Oci-Subject", "Link"} {
		h.Del(k)
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// unknownRegistry turns a failed login-server lookup into the surface's
// answer: Azure has no registry behind an unknown name at all (DNS does
// not resolve it), so a name nobody registered is 404 NAME_UNKNOWN.
func unknownRegistry(err error) error {
	if errdefs.IsKind(err, errdefs.NotFound) {
		return errRegistryUnknown.WithCause(err)
	}
	return err
}
