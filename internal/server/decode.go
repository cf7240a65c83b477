package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// MaxJSONBody is the largest JSON request body the management surfaces
// accept (ARM's own limit is 4 MiB).
const MaxJSONBody = 4 << 20

// The decoding errors; each surface maps them to its own code.
var (
	ErrBodyTooLarge  = errdefs.New(errdefs.InvalidArgument, "RequestBodyTooLarge", "The request content length exceeds the maximum of 4 MiB.")
	ErrInvalidJSON   = errdefs.New(errdefs.InvalidArgument, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
	ErrUnknownField  = errdefs.New(errdefs.InvalidArgument, "InvalidRequestContent", "unknown property")
	ErrEmptyBody     = errdefs.New(errdefs.InvalidArgument, "InvalidRequestContent", "The request content was empty.")
	ErrUnsupportedCT = errdefs.New(errdefs.InvalidArgument, "UnsupportedMediaType", "The content media type is not supported. Use 'application/json'.")
)

// DecodeJSON reads a JSON body of at most MaxJSONBody bytes into dst. With
// strict set, properties dst does not declare are refused. The body must be
// one JSON value.
func DecodeJSON(r *http.Request, dst any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt := strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") && mt != "text/json" {
			return ErrUnsupportedCT
		}
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
	if err != nil {
		return ErrInvalidJSON.WithCause(err)
	}
	if len(data) > MaxJSONBody {
		return ErrBodyTooLarge
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return ErrEmptyBody
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return ErrInvalidJSON.WithMessage("The request content was invalid and could not be deserialized: 'Invalid JSON at position %d.'", syn.Offset)
		case errors.As(err, &typ):
			return ErrInvalidJSON.WithMessage("The request content was invalid and could not be deserialized: 'Error converting value to type %s. Path '%s'.'", typ.Type, typ.Field).WithTarget(typ.Field)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return ErrUnknownField.WithMessage("Could not find member '%s' on the request object.", field).WithTarget(field)
		}
		return ErrInvalidJSON.WithMessage("The request content was invalid and could not be deserialized: '%s'", sanitize(err))
	}
	if dec.More() {
		return ErrInvalidJSON.WithMessage("The request content was invalid and could not be deserialized: 'Additional text found in JSON after the value.'")
	}
	return nil
}

func sanitize(err error) string {
	return strings.TrimPrefix(fmt.Sprint(err), "json: ")
}

// WriteJSON writes v as JSON with a status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
