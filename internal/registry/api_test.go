package registry_test

import (
	"context"
	"io"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// serviceAPI is the registry.Service API the OCI, token and ARM adapters
// are written against; this keeps it from drifting.
type serviceAPI interface {
	Create(ctx context.Context, in registry.CreateInput) (registry.Registry, bool, error)
	Get(ctx context.Context, group resourceid.ID, name string) (registry.Registry, error)
	ByName(ctx context.Context, name string) (registry.Registry, error)
	ByLoginServer(ctx context.Context, host string) (registry.Registry, error)
	Update(ctx context.Context, group resourceid.ID, name string, in registry.UpdateInput) (registry.Registry, error)
	Delete(ctx context.Context, group resourceid.ID, name string) error
	List(ctx context.Context, subscriptionID, group string) ([]registry.Registry, error)
	CheckName(ctx context.Context, name string) (registry.NameAvailability, error)
	Credentials(ctx context.Context, group resourceid.ID, name string) (registry.Credentials, error)
	RegenerateCredential(ctx context.Context, group resourceid.ID, name, passwordName string) (registry.Credentials, error)
	CheckAdmin(ctx context.Context, r registry.Registry, username, password string) bool

	StatBlob(ctx context.Context, reg, repo string, d digest.Digest) (blob.Info, error)
	OpenBlob(ctx context.Context, reg, repo string, d digest.Digest) (blob.Reader, error)
	DeleteBlob(ctx context.Context, reg, repo string, d digest.Digest) error
	MountBlob(ctx context.Context, reg, repo, from string, d digest.Digest) (blob.Info, error)
	StartUpload(ctx context.Context, reg, repo string) (registry.UploadState, error)
	WriteUpload(ctx context.Context, reg, repo, id string, start int64, r io.Reader) (registry.UploadState, error)
	UploadStatus(ctx context.Context, reg, repo, id string) (registry.UploadState, error)
	CompleteUpload(ctx context.Context, reg, repo, id string, start int64, r io.Reader, d digest.Digest) (blob.Info, error)
	CancelUpload(ctx context.Context, reg, repo, id string) error
	PutBlob(ctx context.Context, reg, repo string, d digest.Digest, size int64, r io.Reader) (blob.Info, error)
	GetManifest(ctx context.Context, reg, repo, ref string) (registry.Manifest, blob.Reader, error)
	PutManifest(ctx context.Context, reg, repo, ref, contentType string, body []byte) (registry.Manifest, error)
	DeleteManifest(ctx context.Context, reg, repo, ref string) error
	Tags(ctx context.Context, reg, repo string, p registry.Page) ([]registry.Tag, error)
	Catalog(ctx context.Context, reg string, p registry.Page) ([]string, error)
	Referrers(ctx context.Context, reg, repo string, d digest.Digest, artifactType string) ([]registry.Manifest, error)
	Repository(ctx context.Context, reg, repo string) (registry.RepositoryInfo, error)
	UpdateRepository(ctx context.Context, reg, repo string, p registry.AttributesPatch) (registry.RepositoryInfo, error)
	DeleteRepository(ctx context.Context, reg, repo string) (manifests []digest.Digest, tags []string, err error)
	Tag(ctx context.Context, reg, repo, tag string) (registry.Tag, error)
	UpdateTag(ctx context.Context, reg, repo, tag string, p registry.AttributesPatch) (registry.Tag, error)
	DeleteTag(ctx context.Context, reg, repo, tag string) error
	ManifestList(ctx context.Context, reg, repo string, p registry.Page, orderby string) ([]registry.ManifestInfo, error)
	Manifest(ctx context.Context, reg, repo string, d digest.Digest) (registry.ManifestInfo, error)
	UpdateManifest(ctx context.Context, reg, repo string, d digest.Digest, p registry.AttributesPatch) (registry.ManifestInfo, error)
	CollectGarbage(ctx context.Context) (registry.GCStats, error)
	RunGC(ctx context.Context, every time.Duration)
}

var _ serviceAPI = (*registry.Service)(nil)

// Compile-time checks of the value types' fields.
var (
	_ = registry.UploadState{ID: "", Offset: 0, StartedAt: time.Time{}}
	_ = registry.RepositoryInfo{Repository: registry.Repository{}, ManifestCount: 0, TagCount: 0}
	_ = registry.ManifestInfo{Manifest: registry.Manifest{}, Tags: []string{}}
	_ = registry.GCStats{BlobsDeleted: 0, UploadsExpired: 0, BytesFreed: 0}
	_ = registry.NameAvailability{Available: true, Reason: "", Message: ""}
	_ = registry.Credentials{Username: "", Passwords: []registry.Password{{Name: "", Value: ""}}}
	_ = registry.AttributesPatch{DeleteEnabled: nil, WriteEnabled: nil, ReadEnabled: nil, ListEnabled: nil}
	_ = registry.UpdateInput{SKU: nil, AdminUserEnabled: nil, AnonymousPullEnabled: nil, Tags: nil, SetTags: false, ChangedBy: ""}
	_ = registry.CreateInput{Group: resourceid.ID{}, Name: "", Location: "", SKU: "", AdminUserEnabled: false,
		AnonymousPullEnabled: false, Tags: nil, CreatedBy: ""}
	_ = registry.Config{Store: nil, Blobs: nil, Sealer: nil, Domain: "", Port: "", Logger: nil, Now: nil, Rand: nil,
		GCGrace: 0, UploadTTL: 0, Locks: registry.SharedLocks{Uploads: nil, Digests: nil}}
)
