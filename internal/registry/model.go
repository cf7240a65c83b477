// Package registry is Azure Container Registry: registry resources (the
// management plane) and what they hold — repositories, manifests, tags,
// referrers, blob links and upload sessions (the data plane) — with the
// rules of the OCI Distribution Specification 1.1 and ACR's own API, and
// online garbage collection of blobs nobody references.
//
// Blob bytes live in a blob.Store (content-addressed, one copy for every
// registry); which repository may see which blob, and everything else, is
// metadata in the registry Store, changed in transactions.
package registry

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/resourceid"
)

// The SKUs ACR offers.
const (
	SKUBasic    = "Basic"
	SKUStandard = "Standard"
	SKUPremium  = "Premium"
)

// Registry is a Microsoft.ContainerRegistry/registries resource. Names are
// global (they are DNS labels of the login server) and case-insensitive.
type Registry struct {
	ID                   resourceid.ID // …/providers/Microsoft.ContainerRegistry/registries/{name}
	Name                 string        // as created
	Location             string
	Tags                 map[string]string
	SKU                  string
	AdminUserEnabled     bool
	AnonymousPullEnabled bool
	// LoginServer is "<lower-cased name>.<registry domain>[:port]" of the
	// server's current configuration (Service.AdoptLoginServers keeps the
	// stored value in step when the domain or port changes).
	LoginServer       string
	ProvisioningState string
	// InstanceID tells this registry from any other that had or will have
	// its name: 128 random bits (hex) drawn at creation and never reused.
	// Tokens carry it, so a registry deleted and re-created under the same
	// name — within the same second, even — refuses the old one's tokens.
	InstanceID string
	// AdminPasswords are "password" and "password2". ACR shows them in
	// listCredentials, so they are kept sealed (encrypted), not hashed.
	AdminPasswords []AdminPassword
	CreatedAt      time.Time
	CreatedBy      string
	ChangedAt      time.Time
	ChangedBy      string
}

// LoginServerMove is a registry whose login server changed.
type LoginServerMove struct {
	Name     string // as created
	From, To string // login servers
}

// AdminPassword is one of the admin user's two passwords.
type AdminPassword struct {
	Name      string // "password" or "password2"
	Sealed    []byte // the value, encrypted with the server's sealing key
	CreatedAt time.Time
}

// Attributes are ACR's changeable attributes of a repository, tag or
// manifest (the /acr/v1 API).
type Attributes struct {
	DeleteEnabled bool
	WriteEnabled  bool
	ReadEnabled   bool
	ListEnabled   bool
}

// DefaultAttributes allow everything.
var DefaultAttributes = Attributes{DeleteEnabled: true, WriteEnabled: true, ReadEnabled: true, ListEnabled: true}

// Repository is a named collection of manifests in a registry.
type Repository struct {
	Registry   string // registry name, lower-cased
	Name       string
	Attributes Attributes
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Manifest is a manifest or index stored in a repository. Its bytes are a
// blob in the blob store under Digest.
type Manifest struct {
	Registry        string
	Repository      string
	Digest          digest.Digest
	MediaType       string
	ArtifactType    string // the artifactType, else the config media type for OCI image manifests (referrers API rule)
	ConfigMediaType string
	Size            int64
	Subject         digest.Digest     // the subject's digest, "" when none
	Annotations     map[string]string // top-level annotations (for referrers)
	Blobs           []digest.Digest   // config and layers (and their sizes are checked at PUT)
	Manifests       []digest.Digest   // an index's children
	Architecture    string            // for ACR's manifest attributes
	OS              string
	Attributes      Attributes
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Tag points a name at a manifest of the same repository.
type Tag struct {
	Registry   string
	Repository string
	Name       string
	Digest     digest.Digest
	Attributes Attributes
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Upload is a blob upload session (its bytes are a blob.Upload of the same id).
type Upload struct {
	ID         string
	Registry   string
	Repository string
	StartedAt  time.Time
	UpdatedAt  time.Time
}

// Page asks for one page of an ordered listing: entries strictly after Last
// (lexical order), at most N (N ≤ 0 means no limit).
type Page struct {
	Last string
	N    int
}

// Store persists registries and their content. Implementations return
// errdefs NotFound, AlreadyExists and Conflict without a reason (the
// service adds it). Registry names and repository names are matched
// case-insensitively for registries and exactly for repositories (OCI
// repository names are lower-case by grammar). Update functions run inside
// the backend's transaction and must be pure.
type Store interface {
	// CreateRegistry stores a new registry and its entry in the generic
	// resource index, in one transaction; AlreadyExists if the name is taken
	// anywhere. The registry's resource group must exist.
	CreateRegistry(ctx context.Context, r Registry) error
	// GetRegistry finds a registry by name, in any subscription.
	GetRegistry(ctx context.Context, name string) (Registry, error)
	// UpdateRegistry changes a registry (and its generic index entry); fn
	// may not change ID, Name, LoginServer or InstanceID.
	UpdateRegistry(ctx context.Context, name string, fn func(*Registry) error) (Registry, error)
	// DeleteRegistry removes the registry, its index entry, and all its
	// repositories, manifests, tags, blob links and upload sessions.
	DeleteRegistry(ctx context.Context, name string) error
	// ListRegistries lists a subscription's registries, or one group's when
	// group is not empty, ordered by name.
	ListRegistries(ctx context.Context, subscriptionID, group string) ([]Registry, error)
	// MoveLoginServers sets the login server of every registry (of every
	// subscription) to loginServer(name), in one transaction, and returns
	// those whose login server changed, ordered by name.
	MoveLoginServers(ctx context.Context, loginServer func(name string) string) ([]LoginServerMove, error)

	// Repositories lists repository names in lexical order.
	Repositories(ctx context.Context, registry string, p Page) ([]string, error)
	GetRepository(ctx context.Context, registry, repo string) (Repository, error)
	UpdateRepository(ctx context.Context, registry, repo string, fn func(*Repository) error) (Repository, error)
	// DeleteRepository removes a repository with its manifests, tags and
	// blob links, and reports what it deleted.
	DeleteRepository(ctx context.Context, registry, repo string) (manifests []digest.Digest, tags []string, err error)

	// LinkBlob makes a committed blob visible in a repository (creating
	// the repository if needed).
	LinkBlob(ctx context.Context, registry, repo string, d digest.Digest, size int64) error
	// BlobLink returns the size of a blob linked to the repository.
	BlobLink(ctx context.Context, registry, repo string, d digest.Digest) (int64, error)
	// UnlinkBlob removes a blob from a repository.
	UnlinkBlob(ctx context.Context, registry, repo string, d digest.Digest) error
	// BlobReferenced reports whether any repository of any registry links
	// the blob or stores it as a manifest (garbage collection asks this).
	BlobReferenced(ctx context.Context, d digest.Digest) (bool, error)

	// PutManifest stores a manifest in a repository (creating the
	// repository if needed) and, when tag is not empty, points the tag at
	// it — one transaction. It fails with FailedPrecondition naming the
	// first referenced blob that is not linked to the repository or child
	// manifest that is not in it. Storing a manifest that exists updates
	// nothing but the tag.
	PutManifest(ctx context.Context, m Manifest, tag string) (Manifest, error)
	GetManifest(ctx context.Context, registry, repo string, d digest.Digest) (Manifest, error)
	UpdateManifest(ctx context.Context, registry, repo string, d digest.Digest, fn func(*Manifest) error) (Manifest, error)
	// DeleteManifest removes a manifest and the tags pointing at it.
	DeleteManifest(ctx context.Context, registry, repo string, d digest.Digest) error
	// Manifests lists a repository's manifests ordered by digest.
	Manifests(ctx context.Context, registry, repo string, p Page) ([]Manifest, error)
	// Referrers lists the manifests of the repository whose subject is d,
	// ordered by digest.
	Referrers(ctx context.Context, registry, repo string, d digest.Digest) ([]Manifest, error)

	GetTag(ctx context.Context, registry, repo, tag string) (Tag, error)
	UpdateTag(ctx context.Context, registry, repo, tag string, fn func(*Tag) error) (Tag, error)
	DeleteTag(ctx context.Context, registry, repo, tag string) error
	// Tags lists a repository's tags in lexical order of name.
	Tags(ctx context.Context, registry, repo string, p Page) ([]Tag, error)
	// TagsOf lists the tags that point at a manifest.
	TagsOf(ctx context.Context, registry, repo string, d digest.Digest) ([]Tag, error)

	CreateUpload(ctx context.Context, u Upload) error
	GetUpload(ctx context.Context, registry, repo, id string) (Upload, error)
	TouchUpload(ctx context.Context, id string, at time.Time) error
	DeleteUpload(ctx context.Context, id string) error
	// StaleUploads lists sessions not touched since before.
	StaleUploads(ctx context.Context, before time.Time) ([]Upload, error)
}
