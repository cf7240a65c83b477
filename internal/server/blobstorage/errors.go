package blobstorage

import (
	"encoding/xml"
	"net/http"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/server"
)

// This file is the only place where errors become Azure Storage's
// responses: <Error><Code>…</Code><Message>…</Message></Error>, the code
// also in x-ms-error-code, the request id and time at the message's end.

type storageError struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
}

// statuses override the Kind's status for a Reason.
var statuses = map[string]int{
	"AuthenticationFailed":            http.StatusForbidden,
	"AuthorizationPermissionMismatch": http.StatusForbidden,
	"RequestBodyTooLarge":             http.StatusRequestEntityTooLarge,
	"InvalidRange":                    http.StatusRequestedRangeNotSatisfiable,
	"UnsupportedHttpVerb":             http.StatusMethodNotAllowed,
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := errdefs.As(err)
	status := errdefs.HTTPStatus(e.Kind)
	if s, ok := statuses[e.Reason]; ok {
		status = s
	}
	code, msg := e.Reason, e.Message
	if e.Kind == errdefs.Internal || code == "" {
		code, msg = "InternalError", "Server encountered an internal error. Please try again after some time."
	}
	id := server.RequestID(r.Context())
	h := w.Header()
	h.Set("x-ms-error-code", code)
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	body, _ := xml.Marshal(storageError{Code: code, Message: msg + "\nRequestId:" + id + "\nTime:" + time.Now().UTC().Format("2006-01-02T15:04:05.0000000Z")})
	h.Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
