package registry

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
)

// Sealer encrypts secrets that must be shown again later (admin
// passwords); sealbox.Box satisfies it.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// LinkFinder is an optional Store extension: FindBlobLink returns the size
// of a blob linked to any repository of the registry (NotFound if none).
// Mounting without a source repository uses it when the Store has it, and
// otherwise asks every repository in turn.
type LinkFinder interface {
	FindBlobLink(ctx context.Context, registry string, d digest.Digest) (int64, error)
}

// Config configures a Service.
type Config struct {
	Store  Store
	Blobs  blob.Store
	Sealer Sealer // required: admin passwords are sealed with it
	// Domain is the registry domain: login servers are <name>.<Domain>.
	Domain string
	// Port is appended to login servers as ":port" unless "" or "443".
	Port   string
	Logger *slog.Logger
	// Now and Rand are injected for tests; nil means the real clock and
	// crypto/rand.
	Now  func() time.Time
	Rand io.Reader
	// GCGrace keeps unreferenced blobs younger than this (default 1h), so
	// that a blob committed by a push whose manifest is still to come is
	// not collected under it.
	GCGrace time.Duration
	// UploadTTL expires upload sessions idle longer than this (default 24h).
	UploadTTL time.Duration
	// Locks are shared with the other servers of the Store, when there
	// are any; the zero value locks in this process only.
	Locks SharedLocks
}

// Defaults for Config.
const (
	DefaultGCGrace   = time.Hour
	DefaultUploadTTL = 24 * time.Hour
)

// Service is Azure Container Registry: the registry resources of the
// management plane and the content of the data plane.
type Service struct {
	store     Store
	blobs     blob.Store
	sealer    Sealer
	domain    string
	port      string
	log       *slog.Logger
	now       func() time.Time
	rand      io.Reader
	gcGrace   time.Duration
	uploadTTL time.Duration

	// uploads serializes the requests of one upload session: blob.Store
	// allows one writer per session.
	uploads *lockSet
	// digests makes "commit or store, then link" (pushes) and "check
	// unreferenced, then delete" (garbage collection) mutually exclusive
	// per digest, so that collection never deletes a blob a push is about
	// to link.
	digests *lockSet
	// gc elects the server that runs periodic collection (RunGC).
	gc *lockSet

	// manifests keeps manifest bytes by digest (manifestcache.go).
	manifests manifestBodies
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	s := &Service{
		store: cfg.Store, blobs: cfg.Blobs, sealer: cfg.Sealer, domain: cfg.Domain, port: cfg.Port,
		log: cfg.Logger, now: cfg.Now, rand: cfg.Rand, gcGrace: cfg.GCGrace, uploadTTL: cfg.UploadTTL,
		uploads: newLockSet(cfg.Locks.Uploads, "upload:"), digests: newLockSet(cfg.Locks.Digests, "digest:"),
		gc: newLockSet(cfg.Locks.Uploads, ""),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.gcGrace <= 0 {
		s.gcGrace = DefaultGCGrace
	}
	if s.uploadTTL <= 0 {
		s.uploadTTL = DefaultUploadTTL
	}
	return s
}

func (s *Service) clock() time.Time { return s.now().UTC() }
