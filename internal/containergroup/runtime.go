package containergroup

// The contracts between the container-group domain and the two backends
// that make a group real on this machine: Images (resolve, pull and unpack
// an image with a group's registry credentials) and Runner (run a group's
// containers under an OCI runtime, isolated, with a monitor that outlives
// the server). internal/image and internal/runner implement them; app
// wires them. Neither backend knows about ARM, the store or RBAC.

import (
	"context"
	"io"
	"net/netip"
	"time"
)

// Credential is one entry of a group's imageRegistryCredentials.
type Credential struct {
	Server   string // host[:port], no scheme
	Username string
	Password string
}

// ImageCheck names the accessibility check an image failed. It becomes the
// `details` entry of ARM's InaccessibleImage error, so that a user learns
// which of the many causes Azure folds into one message applies.
type ImageCheck string

// The checks, in the order a pull meets them.
const (
	CheckReference    ImageCheck = "InvalidImageReference" // the reference does not parse
	CheckHostUnknown  ImageCheck = "RegistryHostUnknown"   // the registry host does not resolve
	CheckUnreachable  ImageCheck = "RegistryUnreachable"   // connection refused, timed out, not a registry
	CheckTLS          ImageCheck = "RegistryTLSUntrusted"  // the registry's certificate is not trusted
	CheckUnauthorized ImageCheck = "RegistryUnauthorized"  // 401: credentials missing or refused
	CheckDenied       ImageCheck = "RegistryAccessDenied"  // 403 or a token without pull on the repository
	CheckNotFound     ImageCheck = "ImageNotFound"         // repository, tag or digest unknown
	CheckPlatform     ImageCheck = "ImagePlatformMissing"  // no linux/amd64 image in the index
	CheckRegistry     ImageCheck = "RegistryError"         // any other registry error (5xx, bad manifest)
)

// ImageError is how Images reports an inaccessible image. The domain turns
// it into errdefs' InaccessibleImage with a detail; Message is safe to show
// (it never contains a password) and says what failed in plain words, e.g.
// "the registry 'r.azurecr.localhost:8443' refused the credentials of user
// '1f…' (401 Unauthorized)".
type ImageError struct {
	Check   ImageCheck
	Message string
	Cause   error // for logs only
}

func (e *ImageError) Error() string { return string(e.Check) + ": " + e.Message }
func (e *ImageError) Unwrap() error { return e.Cause }

// ResolvedImage is an image reference resolved to one linux/amd64 image
// manifest.
type ResolvedImage struct {
	Ref       string // as the user wrote it, e.g. "myreg.azurecr.localhost:8443/app:v1"
	Digest    string // the linux/amd64 image manifest's digest, "sha256:…"
	DigestRef string // "<registry>/<repository>@<digest>", for ACI's Pulling/Pulled events
}

// ImageConfig is the part of an OCI image config the runtime uses.
type ImageConfig struct {
	Entrypoint []string
	Cmd        []string
	Env        []string // "NAME=value"
	WorkingDir string
	User       string
	StopSignal string
}

// Image is a pulled image, ready to be stacked into a root filesystem.
type Image struct {
	Digest string      // the image manifest's digest
	Config ImageConfig // from the image config blob
	// Layers are the directories of the unpacked layers in the local
	// layer cache, bottom (first layer) first, ready to be overlayfs
	// lower dirs. They are shared by every container using the layer and
	// must never be written to.
	Layers []string
}

// Images resolves and fetches images with registry credentials, through
// the registries' normal token flows.
type Images interface {
	// Resolve checks that ref can be pulled with cred (nil: anonymously)
	// and resolves it to its linux/amd64 manifest, without fetching
	// layers. An inaccessible image is an *ImageError.
	Resolve(ctx context.Context, ref string, cred *Credential) (ResolvedImage, error)
	// Pull fetches the image's config and every layer not yet cached (in
	// parallel, each verified against its digest), unpacks each layer once
	// per diffID into the layer cache, and returns what the runtime needs.
	// An inaccessible image is an *ImageError.
	Pull(ctx context.Context, img ResolvedImage, cred *Credential) (Image, error)
	// Prune removes cached layers and images that none of the image
	// digests in keep uses.
	Prune(ctx context.Context, keep []string) error
}

// RestartPolicy is a group's restart policy.
type RestartPolicy string

// The restart policies (ACI's values).
const (
	RestartAlways    RestartPolicy = "Always"
	RestartOnFailure RestartPolicy = "OnFailure"
	RestartNever     RestartPolicy = "Never"
)

// Port is a port of the group's IP address, forwarded into the group.
type Port struct {
	Port     int
	Protocol string // "TCP" or "UDP"
}

// EnvVar is one environment variable of a container (plain and secure
// values alike: the runner sees them all and logs none).
type EnvVar struct {
	Name  string
	Value string
}

// Volume is a group volume the runner materialises.
type Volume struct {
	Name     string
	EmptyDir bool
	// Secret holds the decoded files of a secret volume (file name →
	// content). The runner keeps them on tmpfs only, never on disk.
	Secret map[string][]byte
}

// Mount is a volume mounted into a container.
type Mount struct {
	Volume   string
	Path     string
	ReadOnly bool
}

// ContainerSpec is one container (or init container) to run.
type ContainerSpec struct {
	Name  string
	Image Image
	// Command, when set, replaces the image's Entrypoint and Cmd (ACI's
	// `command`, like `docker run --entrypoint`).
	Command []string
	Env     []EnvVar // the image's environment is applied first, these over it
	// CPU is the CPU limit in cores (0: none), MemoryBytes the memory
	// limit in bytes (0: none).
	CPU         float64
	MemoryBytes int64
	Mounts      []Mount
}

// RunSpec is everything the runner needs to run a group.
type RunSpec struct {
	// ID identifies this group instance on this machine; it is never
	// reused (a deleted and re-created group gets a new one).
	ID       string
	Hostname string // the group's name
	Restart  RestartPolicy
	// IP is the group's own loopback address (127.x.y.z); every port in
	// Ports is forwarded from IP:port to the same port inside the group's
	// network namespace.
	IP             netip.Addr
	Ports          []Port
	InitContainers []ContainerSpec // run to completion, in order, before Containers
	Containers     []ContainerSpec
	Volumes        []Volume
}

// ContainerState is one state of a container, as ACI reports it.
type ContainerState struct {
	State        string // "Waiting", "Running" or "Terminated"
	StartTime    time.Time
	FinishTime   time.Time
	ExitCode     int
	DetailStatus string // "" while running, "Completed" (exit 0), "Error", "OOMKilled", "CrashLoopBackOff"…
}

// Event is one coalesced container event ("Started", "Killing", …).
type Event struct {
	Name    string
	Message string
	Type    string // "Normal" or "Warning"
	Count   int
	First   time.Time
	Last    time.Time
}

// ContainerStatus is what the monitor last recorded for a container.
type ContainerStatus struct {
	Name         string
	Current      ContainerState
	Previous     *ContainerState
	RestartCount int
	Events       []Event
}

// GroupStatus is the runtime view of a group.
type GroupStatus struct {
	// Active is false once the group's monitor has ended (every
	// container terminated for good, or the group was stopped).
	Active         bool
	InitContainers []ContainerStatus
	Containers     []ContainerStatus
}

// LogOptions selects what Logs returns.
type LogOptions struct {
	Tail       int  // the last Tail lines only (0: all that is kept)
	Timestamps bool // prefix each line with its RFC 3339 time
	Follow     bool // keep the stream open and send new output until ctx ends or the container stops
}

// TerminalSize is an exec session's terminal.
type TerminalSize struct{ Rows, Cols uint16 }

// Process is a process started in a running container with a terminal.
type Process interface {
	// Stdin is the terminal's input; Output is its output (stdout and
	// stderr merged, as a terminal does).
	Stdin() io.WriteCloser
	Output() io.Reader
	Resize(TerminalSize) error
	// Wait returns the process's exit code once it has ended.
	Wait() (int, error)
	Close() error
}

// Runner runs container groups on this machine. Every method is safe for
// concurrent use and idempotent where it says so. A group unknown to the
// runner is an errdefs NotFound.
type Runner interface {
	// Start runs the group's containers: root filesystems from the images'
	// layers, namespaces, cgroup limits, volumes, port forwarding, and a
	// monitor that owns the containers' stdio, logs, exit codes and
	// restart policy and that outlives the server. It returns once the
	// monitor has taken over. Starting a group that is running is a
	// Conflict.
	Start(ctx context.Context, spec RunSpec) error
	// Stop kills the group's containers and its monitor and releases
	// everything the group held on the host (mounts, cgroups, namespaces,
	// forwarders). Logs and the last status stay until Remove. Idempotent.
	Stop(ctx context.Context, id string) error
	// Remove stops the group and deletes all it left, logs included.
	// Idempotent.
	Remove(ctx context.Context, id string) error
	// Status reports the group's containers as the monitor last recorded
	// them.
	Status(ctx context.Context, id string) (GroupStatus, error)
	// Logs returns a container's output, capped in size per run.
	Logs(ctx context.Context, id, container string, opts LogOptions) (io.ReadCloser, error)
	// Exec starts cmd in a running container with a terminal.
	Exec(ctx context.Context, id, container string, cmd []string, size TerminalSize) (Process, error)
	// Recover is called once when the server starts: it re-adopts groups
	// whose monitors still run, records dead ones as terminated with
	// their exit codes, and releases anything leaked. It returns the ids of
	// the groups it knows.
	Recover(ctx context.Context) ([]string, error)
}
