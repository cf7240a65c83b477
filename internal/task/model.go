package task

import (
	"context"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/principal"
)

// Status is a run's status, as ACR spells it.
type Status string

// The run statuses. A run is Queued when scheduled, Running once a
// server starts it, and ends in one of the others.
const (
	StatusQueued    Status = "Queued"
	StatusRunning   Status = "Running"
	StatusSucceeded Status = "Succeeded"
	StatusFailed    Status = "Failed"
	StatusCanceled  Status = "Canceled"
	StatusError     Status = "Error"
	StatusTimeout   Status = "Timeout"
)

// Finished reports whether s is a final status.
func (s Status) Finished() bool { return s != StatusQueued && s != StatusRunning && s != "" }

// RunType is ACR's runType.
type RunType string

// The run types Cerulean makes.
const (
	QuickBuild RunType = "QuickBuild"
	QuickRun   RunType = "QuickRun"
)

// The values of a finished log's Complete metadata (az tells failure
// from success by them).
const (
	completeSuccess  = "successful"
	completeFailed   = "failed"
	completeTimedOut = "timedout"
	completeCanceled = "canceled"
	completeInternal = "internalerror"
)

// Run is one quick build or quick run of a registry.
type Run struct {
	// Registry is the registry's lower-cased name: runs are the
	// registry's and go with it.
	Registry string
	ID       string // "ca1"
	Seq      int64  // the number in the id: 1 for ca1
	Type     RunType
	Status   Status
	Platform Platform
	// Server is the id of the server that runs it.
	Server       string
	CreatedAt    time.Time
	StartedAt    time.Time // zero until Running
	FinishedAt   time.Time // zero until finished
	UpdatedAt    time.Time
	OutputImages []OutputImage
	ErrorMessage string
	// ArchiveEnabled is ACR's isArchiveEnabled (recorded, nothing more).
	ArchiveEnabled bool
	// Timeout is the run's limit in seconds.
	Timeout int
	// LogSize is the length of the log so far; LogComplete its Complete
	// metadata once the run has finished ("" before).
	LogSize     int64
	LogComplete string
}

// RunFilter selects runs of a registry for List.
type RunFilter struct {
	Status Status // "" for any
	Top    int    // at most this many, newest first; 0 for all
	// Image is "<repository>@<digest>": only runs that output that
	// manifest (az acr task list-runs --image). Service.List evaluates
	// it; stores ignore it.
	Image string
}

// Source is an uploaded build context (a blob in the blob store).
type Source struct {
	Registry  string
	Path      string // the relative path ACR hands out: source/<yyyymmddhhmm>/<uuid>.tar.gz
	Digest    string // "sha256:…"
	Size      int64
	CreatedAt time.Time
}

// SourceBlock is one uploaded block of a source not yet committed.
type SourceBlock struct {
	ID     string // the blockid as the client sent it (URL-decoded)
	Digest string
	Size   int64
}

// Store is the tasks' part of the metadata store. Registries are named by
// their lower-cased name; a registry's runs, logs and sources go with it.
type Store interface {
	// NextRunSeq allocates the registry's next run number (1, 2, …),
	// atomically: servers sharing the store never get the same one.
	NextRunSeq(ctx context.Context, registry string) (int64, error)
	// CreateRun stores a new run; AlreadyExists if its id is taken.
	CreateRun(ctx context.Context, r Run) error
	// GetRun returns a run; NotFound when there is none.
	GetRun(ctx context.Context, registry, id string) (Run, error)
	// ListRuns lists a registry's runs, newest (highest Seq) first.
	ListRuns(ctx context.Context, registry string, f RunFilter) ([]Run, error)
	// ListUnfinishedRuns lists the Queued and Running runs of every
	// registry.
	ListUnfinishedRuns(ctx context.Context) ([]Run, error)
	// UpdateRun applies fn to the stored run in a write transaction;
	// fn's error aborts it. Registry, ID and Seq cannot change.
	UpdateRun(ctx context.Context, registry, id string, fn func(*Run) error) (Run, error)
	// AppendLog appends data to a run's log, adding len(data) to LogSize;
	// NotFound when the run is gone.
	AppendLog(ctx context.Context, registry, id string, data []byte) error
	// ReadLog returns up to limit bytes of a run's log from offset.
	ReadLog(ctx context.Context, registry, id string, offset, limit int64) ([]byte, error)

	// PutSource records an uploaded source, replacing one at its path,
	// and removes the path's uncommitted blocks.
	PutSource(ctx context.Context, s Source) error
	// GetSource returns the source at a path; NotFound when there is none.
	GetSource(ctx context.Context, registry, path string) (Source, error)
	// PutSourceBlock records an uncommitted block of the source at path,
	// replacing one of the same id.
	PutSourceBlock(ctx context.Context, registry, path string, b SourceBlock) error
	// SourceBlocks lists the uncommitted blocks of path.
	SourceBlocks(ctx context.Context, registry, path string) ([]SourceBlock, error)
}

// Caller is who schedules a run: its runs pull and push with the caller's
// own rights.
type Caller struct {
	Principal principal.Principal
	// KeyID is the client secret the caller's token was issued for (ACR
	// tokens minted for the caller carry it, so removing the secret
	// revokes them).
	KeyID string
}

// Credentials mints registry credentials for a caller.
type Credentials interface {
	// ForCaller returns credentials for the caller at host (host[:port]):
	// for this server's registries the null-GUID user and an ACR refresh
	// token minted for the caller; ok is false for any other host.
	ForCaller(ctx context.Context, caller Caller, host string) (username, password string, ok bool, err error)
}

// Cluster tells which servers sharing the store are alive.
type Cluster interface {
	// Live reports the ids of the servers whose lease holds.
	Live(ctx context.Context) (map[string]bool, error)
}

// The errors the tasks raise. Messages follow ACR's where it has them.
var (
	ErrRunNotFound    = errdefs.New(errdefs.NotFound, "RunNotFound", "The run was not found.")
	ErrSourceNotFound = errdefs.New(errdefs.InvalidArgument, "InvalidSourceLocation", "The source location was not found.")
	ErrInvalidRequest = errdefs.New(errdefs.InvalidArgument, "InvalidRunRequest", "The run request is invalid.")
	ErrUnsupported    = errdefs.New(errdefs.InvalidArgument, "RunRequestNotSupported", "The run request is not supported.")
	ErrRunFinished    = errdefs.New(errdefs.Conflict, "RunAlreadyFinished", "The run has already finished.")
	ErrSASInvalid     = errdefs.New(errdefs.Unauthenticated, "AuthenticationFailed",
		"Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.")
	ErrSASExpired    = errdefs.New(errdefs.Unauthenticated, "AuthenticationFailed", "Signed expiry time has passed.")
	ErrSASPermission = errdefs.New(errdefs.PermissionDenied, "AuthorizationPermissionMismatch",
		"This request is not authorized to perform this operation using this permission.")
	ErrBlobNotFound  = errdefs.New(errdefs.NotFound, "BlobNotFound", "The specified blob does not exist.")
	ErrBlobTooLarge  = errdefs.New(errdefs.InvalidArgument, "RequestBodyTooLarge", "The request body is too large.")
	ErrInvalidBlocks = errdefs.New(errdefs.InvalidArgument, "InvalidBlockList", "The specified block list is invalid.")
	// ErrSourceExists refuses a second upload through one upload URL.
	ErrSourceExists = errdefs.New(errdefs.Conflict, "BlobAlreadyExists", "The specified blob already exists: an upload URL of ACR Tasks takes one upload.")
	// ErrBlockExists refuses a block id uploaded before.
	ErrBlockExists = errdefs.New(errdefs.Conflict, "InvalidBlockId", "The specified block was already uploaded.")
)
