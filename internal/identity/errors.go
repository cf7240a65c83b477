package identity

import "github.com/cerulean/cerulean/internal/errdefs"

// The identity errors. Each surface maps the Reason to its wire code (the
// login surface to an OAuth2 error and AADSTS number); the messages are
// filled in where the error is raised.
var (
	ErrTenantNotFound      = errdefs.New(errdefs.NotFound, "TenantNotFound", "tenant not found")
	ErrApplicationNotFound = errdefs.New(errdefs.NotFound, "ApplicationNotFound", "application not found")
	ErrPrincipalNotFound   = errdefs.New(errdefs.NotFound, "ServicePrincipalNotFound", "service principal not found")
	ErrPasswordNotFound    = errdefs.New(errdefs.NotFound, "PasswordNotFound", "password credential not found")
	ErrAppIDTaken          = errdefs.New(errdefs.AlreadyExists, "ServicePrincipalExists", "the application already has a service principal")
	ErrInvalidObject       = errdefs.New(errdefs.InvalidArgument, "InvalidObject", "invalid directory object")
	ErrObjectConflict      = errdefs.New(errdefs.InvalidArgument, "ObjectConflict", "another object holds the same unique value")
	ErrAppNotReferenced    = errdefs.New(errdefs.InvalidArgument, "AppIDNotReferenced", "the app id does not reference an application")
	ErrUnknownClient       = errdefs.New(errdefs.Unauthenticated, "UnknownClient", "unknown client")
	ErrMissingPrincipal    = errdefs.New(errdefs.Unauthenticated, "MissingServicePrincipal", "the client has no service principal")
	ErrInvalidClientSecret = errdefs.New(errdefs.Unauthenticated, "InvalidClientSecret", "invalid client secret")
	ErrExpiredClientSecret = errdefs.New(errdefs.Unauthenticated, "ExpiredClientSecret", "expired client secret")
	ErrDisabledPrincipal   = errdefs.New(errdefs.Unauthenticated, "DisabledServicePrincipal", "the service principal is disabled")
	ErrInvalidResource     = errdefs.New(errdefs.InvalidArgument, "InvalidResource", "unknown resource")
	ErrTokenMissing        = errdefs.New(errdefs.Unauthenticated, "TokenMissing", "no access token")
	ErrTokenInvalid        = errdefs.New(errdefs.Unauthenticated, "TokenInvalid", "the access token is invalid")
	ErrTokenExpired        = errdefs.New(errdefs.Unauthenticated, "TokenExpired", "the access token has expired")
	ErrTokenAudience       = errdefs.New(errdefs.Unauthenticated, "TokenAudience", "the access token is for another audience")
	ErrTokenRevoked        = errdefs.New(errdefs.Unauthenticated, "TokenRevoked", "the access token's credential or principal is gone")
)
