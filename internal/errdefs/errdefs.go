// Package errdefs defines the one error type of Cerulean.
//
// Every failure a client may see is an *Error carrying a Kind (what the
// caller can do about it), a stable Reason owned by the domain package that
// raised it, a message that is safe to show, and an internal cause that is
// only ever logged. Each protocol surface (ARM, Graph, OAuth2, OCI) maps
// Kind and Reason to its own envelope in exactly one place.
package errdefs

import (
	"context"
	"errors"
	"strconv"
)

// Kind classifies an error by what the caller can do about it. Each Kind has
// exactly one default HTTP status (see HTTPStatus).
type Kind uint8

// The kinds. The zero value is Internal so that an unclassified error never
// looks like a client mistake.
const (
	Internal           Kind = iota // a bug or unexpected failure; the message is generic
	InvalidArgument                // the request is malformed or a value is out of range
	Unauthenticated                // no valid credential was presented
	PermissionDenied               // the caller is known but may not do this
	NotFound                       // the addressed object does not exist
	AlreadyExists                  // an object with this identity exists
	Conflict                       // the request conflicts with the current state
	FailedPrecondition             // the current state forbids the operation
	ResourceExhausted              // a quota or size limit was hit
	NotImplemented                 // the operation is not supported
	Unavailable                    // retry later
)

var kindNames = [...]string{
	Internal:           "Internal",
	InvalidArgument:    "InvalidArgument",
	Unauthenticated:    "Unauthenticated",
	PermissionDenied:   "PermissionDenied",
	NotFound:           "NotFound",
	AlreadyExists:      "AlreadyExists",
	Conflict:           "Conflict",
	FailedPrecondition: "FailedPrecondition",
	ResourceExhausted:  "ResourceExhausted",
	NotImplemented:     "NotImplemented",
	Unavailable:        "Unavailable",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// HTTPStatus is the single Kind → HTTP status table. Surfaces may override a
// status for a specific Reason, never for a whole Kind. (Plain numbers keep
// this leaf free of net/http, which domain packages must not pull in.)
func HTTPStatus(k Kind) int {
	switch k {
	case InvalidArgument:
		return 400
	case Unauthenticated:
		return 401
	case PermissionDenied:
		return 403
	case NotFound:
		return 404
	case AlreadyExists, Conflict:
		return 409
	case FailedPrecondition:
		return 412
	case ResourceExhausted:
		return 429
	case NotImplemented:
		return 501
	case Unavailable:
		return 503
	default:
		return 500
	}
}

// Error is the one error type. Message is shown to clients; Cause is logged
// and never serialized.
type Error struct {
	Kind    Kind
	Reason  string // stable PascalCase code, e.g. "ResourceGroupNotFound"
	Message string // safe to show; never contains Cause text
	Target  string // the offending field or resource id, if any
	// Details are more specific errors behind this one (ARM's `details`),
	// each with its own client-safe Reason and Message.
	Details []*Error
	Cause   error // internal detail, for logs only
}

// New returns an error of kind k with a reason and a client-safe message.
func New(k Kind, reason, msg string) *Error {
	return &Error{Kind: k, Reason: reason, Message: msg}
}

// Newf is New with fmt-style formatting of the message.
func Newf(k Kind, reason, format string, args ...any) *Error {
	return &Error{Kind: k, Reason: reason, Message: sprintf(format, args...)}
}

// Internalf wraps an unexpected failure. Its message is generic; the cause
// carries the detail for the log.
func Internalf(cause error, format string, args ...any) *Error {
	return &Error{Kind: Internal, Message: "internal error", Cause: wrapf(cause, format, args...)}
}

func (e *Error) Error() string {
	s := e.Message
	if e.Reason != "" {
		s = e.Reason + ": " + s
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is reports whether target is an *Error of the same Kind and, when the
// target names one, the same Reason. It lets callers write
// errors.Is(err, identity.ErrInvalidSecret).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return e.Kind == t.Kind && (t.Reason == "" || e.Reason == t.Reason)
}

// WithTarget returns a copy of e naming the offending field or resource.
func (e *Error) WithTarget(target string) *Error {
	c := *e
	c.Target = target
	return &c
}

// WithMessage returns a copy of e with another client-safe message; use it to
// add context to a prototype error exported by a domain package.
func (e *Error) WithMessage(format string, args ...any) *Error {
	c := *e
	c.Message = sprintf(format, args...)
	return &c
}

// WithDetails returns a copy of e carrying more specific errors.
func (e *Error) WithDetails(details ...*Error) *Error {
	c := *e
	c.Details = append([]*Error(nil), details...)
	return &c
}

// WithCause returns a copy of e carrying an internal cause.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// As returns the *Error in err's chain. An error that is not an *Error is
// reported as Internal (context.DeadlineExceeded as Unavailable); the
// original error becomes the cause.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: Unavailable, Message: "the operation timed out", Cause: err}
	}
	return &Error{Kind: Internal, Message: "internal error", Cause: err}
}

// KindOf returns the Kind of err (see As).
func KindOf(err error) Kind { return As(err).Kind }

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Kind == k
}
