package registry

import "github.com/cerulean/cerulean/internal/errdefs"

// Management-plane errors (ARM).
var (
	ErrRegistryNotFound   = errdefs.New(errdefs.NotFound, "ResourceNotFound", "registry not found")
	ErrRegistryNameTaken  = errdefs.New(errdefs.AlreadyExists, "RegistryNameNotAvailable", "registry name not available")
	ErrInvalidName        = errdefs.New(errdefs.InvalidArgument, "InvalidRegistryName", "invalid registry name")
	ErrInvalidSKU         = errdefs.New(errdefs.InvalidArgument, "InvalidSku", "invalid SKU")
	ErrInvalidLocation    = errdefs.New(errdefs.InvalidArgument, "LocationRequired", "location required")
	ErrAdminUserDisabled  = errdefs.New(errdefs.InvalidArgument, "UnAuthorizedForCredentialOperations", "admin user disabled")
	ErrInvalidPassword    = errdefs.New(errdefs.InvalidArgument, "InvalidPasswordName", "invalid password name")
	ErrRegistryImmutable  = errdefs.New(errdefs.InvalidArgument, "RegistryPropertyNotUpdatable", "property cannot be changed")
	ErrLocationMismatched = errdefs.New(errdefs.Conflict, "InvalidResourceLocation", "location cannot be changed")
	// ErrAnonymousPullNotSupported is ARM's 400 for anonymous pull on a
	// Basic registry, in Azure's words (it names the SKU internally
	// "Managed_Basic").
	ErrAnonymousPullNotSupported = errdefs.New(errdefs.InvalidArgument, "BadRequest",
		"Anonymous pull is not supported for SKU Managed_Basic. For more information on SKU tiers, please visit https://aka.ms/acr/tiers.")
)

// Data-plane errors. Their reasons are the OCI Distribution Specification's
// error codes, which the OCI surface sends as they are.
var (
	ErrBlobUnknown         = errdefs.New(errdefs.NotFound, "BLOB_UNKNOWN", "blob unknown to registry")
	ErrBlobUploadUnknown   = errdefs.New(errdefs.NotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
	ErrBlobUploadInvalid   = errdefs.New(errdefs.InvalidArgument, "BLOB_UPLOAD_INVALID", "blob upload invalid")
	ErrRangeInvalid        = errdefs.New(errdefs.InvalidArgument, "RANGE_INVALID", "invalid content range") // 416
	ErrDigestInvalid       = errdefs.New(errdefs.InvalidArgument, "DIGEST_INVALID", "provided digest did not match uploaded content")
	ErrSizeInvalid         = errdefs.New(errdefs.InvalidArgument, "SIZE_INVALID", "provided length did not match content length")
	ErrManifestUnknown     = errdefs.New(errdefs.NotFound, "MANIFEST_UNKNOWN", "manifest unknown")
	ErrManifestInvalid     = errdefs.New(errdefs.InvalidArgument, "MANIFEST_INVALID", "manifest invalid")
	ErrManifestBlobUnknown = errdefs.New(errdefs.InvalidArgument, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry")
	ErrManifestTooLarge    = errdefs.New(errdefs.ResourceExhausted, "MANIFEST_TOO_LARGE", "manifest too large") // 413
	ErrNameInvalid         = errdefs.New(errdefs.InvalidArgument, "NAME_INVALID", "invalid repository name")
	ErrNameUnknown         = errdefs.New(errdefs.NotFound, "NAME_UNKNOWN", "repository name not known to registry")
	ErrTagInvalid          = errdefs.New(errdefs.InvalidArgument, "TAG_INVALID", "manifest tag did not match URI")
	ErrUnsupported         = errdefs.New(errdefs.NotImplemented, "UNSUPPORTED", "the operation is unsupported")
	ErrOperationDisabled   = errdefs.New(errdefs.PermissionDenied, "DENIED", "the operation is disabled by the item's attributes")
	ErrPaginationInvalid   = errdefs.New(errdefs.InvalidArgument, "PAGINATION_NUMBER_INVALID", "invalid number of results requested")
)
