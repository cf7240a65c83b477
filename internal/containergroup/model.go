// Package containergroup is Azure Container Instances: container groups
// (the Microsoft.ContainerInstance/containerGroups resource), their
// validation with ACI's rules and error texts, the synchronous image
// accessibility check, the asynchronous provisioning that pulls images and
// starts the group, the lifecycle operations (start, stop, restart,
// delete), the instance view assembled from what the runner records, logs,
// exec sessions, and a reconciler that keeps what runs on this machine
// equal to what the store says.
//
// Images and Runner (runtime.go) are the backends that make a group real;
// this package decides what should run and when.
package containergroup

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/cerulean/cerulean/internal/resourceid"
)

// ResourceType is the ARM type of container groups.
const ResourceType = "Microsoft.ContainerInstance/containerGroups"

// Provisioning states (ACI's values).
const (
	StatePending   = "Pending"
	StateCreating  = "Creating"
	StateSucceeded = "Succeeded"
	StateFailed    = "Failed"
)

// Group is a container group resource.
type Group struct {
	ID       resourceid.ID
	Name     string
	Location string
	Tags     map[string]string
	// InstanceID names this group on the runner. It is random, set at
	// creation and never reused, so a deleted and re-created group of the
	// same name never meets its predecessor's containers, logs or state.
	InstanceID string
	// Spec is the group as requested, secrets included. The store keeps
	// only SealedSpec, its encrypted form.
	Spec       Spec
	SealedSpec []byte
	// ProvisioningState is Pending or Creating while the group is being
	// provisioned, then Succeeded or Failed.
	ProvisioningState string
	// Stopped is set by stop and cleared by start: the group should not
	// run.
	Stopped bool
	// IP is the group's loopback address when Spec.IPAddress is set.
	IP netip.Addr
	// DNSNameLabel is Spec.IPAddress.DNSNameLabel, kept in clear so that
	// the store can keep labels unique per location.
	DNSNameLabel string
	// Images are the resolved images of the containers and init
	// containers, by container name.
	Images map[string]ResolvedImage
	// Events are the domain's own container events (Pulling, Pulled,
	// Failed), by container name; the runner's are merged in on read.
	Events map[string][]Event
	// Owner is the id of the server whose runner runs the group ("" for
	// a group stored before servers had ids: the first server to look
	// adopts it). Only Store.ClaimGroup changes it.
	Owner     string
	CreatedAt time.Time
	CreatedBy string
	ChangedAt time.Time
	ChangedBy string
}

// Spec is what a PUT asks for.
type Spec struct {
	OSType         string
	RestartPolicy  RestartPolicy
	SKU            string
	Containers     []Container
	InitContainers []Container
	Credentials    []Credential
	IPAddress      *IPAddress
	Volumes        []VolumeSpec
}

// all returns the init containers, then the containers.
func (s Spec) all() []Container { return slices.Concat(s.InitContainers, s.Containers) }

// Container is a container or init container of a spec.
type Container struct {
	Name     string
	Image    string
	Command  []string
	Ports    []Port
	Env      []Env
	Requests *Resources // nil: not specified
	Limits   *Resources
	Mounts   []Mount
}

// Env is an environment variable; Secure values are never shown.
type Env struct {
	Name   string
	Value  string
	Secure bool
}

// Resources are CPU cores and memory in GB.
type Resources struct {
	CPU      float64
	MemoryGB float64
}

// IPAddress is the group's address and its open ports.
type IPAddress struct {
	Type         string // "Public" or "Private"
	Ports        []Port
	DNSNameLabel string
}

// VolumeSpec is a group volume as requested.
type VolumeSpec struct {
	Name     string
	EmptyDir bool
	// Secret maps file names to base64-encoded contents, as ACI takes them.
	Secret map[string]string
}

// Operation is an asynchronous operation on a group (create, start), as
// its Azure-AsyncOperation URL reports it.
type Operation struct {
	ID        string
	Group     resourceid.ID
	Location  string
	Status    string // InProgress, Succeeded, Failed
	StartTime time.Time
	EndTime   time.Time
	// Error is the failure of a Failed operation (code and message only).
	ErrorCode    string
	ErrorMessage string
}

// Operation statuses.
const (
	OpInProgress = "InProgress"
	OpSucceeded  = "Succeeded"
	OpFailed     = "Failed"
)

// Store keeps container groups and their operations, and the servers
// that share them (Cluster).
type Store interface {
	Cluster
	// CreateGroup stores a new group and its entry in the generic resource
	// index in one transaction. AlreadyExists when the id is taken,
	// NotFound when the resource group does not exist, Conflict with
	// Reason ReasonIPTaken or ReasonDNSLabelTaken when another group holds
	// the IP or the DNS name label (in the same location).
	CreateGroup(ctx context.Context, g Group) error
	// GetGroup returns a group by id (case-insensitive).
	GetGroup(ctx context.Context, id resourceid.ID) (Group, error)
	// UpdateGroup changes a group in a transaction; fn may not change ID,
	// Name or InstanceID, and a change of Owner is not stored. The
	// uniqueness rules of CreateGroup apply.
	UpdateGroup(ctx context.Context, id resourceid.ID, fn func(*Group) error) (Group, error)
	// DeleteGroup removes a group, its index entry and its operations.
	DeleteGroup(ctx context.Context, id resourceid.ID) error
	// ListGroups lists a subscription's groups, or one resource group's
	// when group is not empty, or every group when subscriptionID is
	// empty, ordered by id.
	ListGroups(ctx context.Context, subscriptionID, group string) ([]Group, error)
	// PutOperation creates or replaces an operation.
	PutOperation(ctx context.Context, op Operation) error
	// GetOperation returns an operation by id.
	GetOperation(ctx context.Context, id string) (Operation, error)
}

// Conflict reasons the store reports.
const (
	ReasonIPTaken       = "IPAddressTaken"
	ReasonDNSLabelTaken = "DnsNameLabelAlreadyTaken"
)

// Sealer encrypts the group spec (registry passwords, secure values,
// secret volumes) at rest; sealbox.Box satisfies it.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}
