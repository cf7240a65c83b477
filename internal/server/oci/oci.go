// Package oci serves a registry's data plane on its login server
// (<name>.<registry domain>[:port]): the OCI Distribution Specification
// 1.1 under /v2/ and Azure Container Registry's own API under /acr/v1/.
//
// Every request passes the same pipeline, in this order: find the
// registry by the request's Host (404 NAME_UNKNOWN for none), route the
// path (404 for an unknown route, 400 NAME_INVALID for a malformed
// repository name, 405 for a method the route lacks), authenticate the
// caller and compare what it was granted with the scopes the route needs
// (401 with ACR's Bearer challenge naming them), and only then look at
// references, query parameters, bodies and the registry's content. So a
// caller without access learns nothing about what exists, and the Azure
// SDK, whose first attempt of every call carries no credentials and no
// body, gets the 401 it expects before any 404 or 400. Handlers decode,
// call one registry method and encode; errors.go is the only place that
// turns an error into a response.
//
// Blob bodies are never buffered: uploads hand the request body to the
// registry and downloads stream the blob (the blob store's WriteTo for a
// whole blob, http.ServeContent for ranges and preconditions).
package oci

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/server"
	"github.com/cerulean/cerulean/internal/server/acrtoken"
)

// Registries is the part of *registry.Service this surface calls.
type Registries interface {
	ByLoginServer(ctx context.Context, host string) (registry.Registry, error)

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
}

// Authenticator verifies a data-plane request's credentials (a Bearer
// access token, Basic credentials, or none) for one registry and returns
// what the caller was granted; want is what the route needs, so Basic
// callers can be granted it directly. A failed authentication is an
// Unauthenticated error. *acrtoken.Server implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request, reg registry.Registry, want []acrtoken.Scope) (acrtoken.Grant, error)
}

// Config configures the data-plane handler.
type Config struct {
	Logger     *slog.Logger
	Registries Registries
	Auth       Authenticator
	// Redirect, when set, is the blob store's presigned URLs: blob GETs
	// that pass authorization and the repository check are answered with a
	// 307 to it instead of the bytes (s3blob with ?redirect=true).
	Redirect blob.Redirector
}

type handler struct {
	logger   *slog.Logger
	regs     Registries
	auth     Authenticator
	redirect blob.Redirector
}

// New returns the data-plane handler. The composition root sends it every
// request whose Host is a registry login server, except the token
// endpoints (/oauth2/token, /oauth2/exchange). It expects full request
// paths and is meant to sit behind server.Middleware.
func New(cfg Config) http.Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &handler{logger: logger, regs: cfg.Registries, auth: cfg.Auth, redirect: cfg.Redirect}
}

// call is one routed, authorized request.
type call struct {
	reg   registry.Registry
	route route
	// lookup is a manifest GET's LookupManifest, when Registries has it.
	lookup *registry.ManifestLookup
}

// manifestLookuper is an optional Registries extension (registry.Service
// has it): a manifest GET's store reads in one query, split around the
// authorization.
type manifestLookuper interface {
	LookupManifest(ctx context.Context, host, repo, ref string) (registry.Registry, registry.ManifestLookup, error)
	GetLookedUpManifest(ctx context.Context, l registry.ManifestLookup) (registry.Manifest, blob.Reader, error)
}

// state is what the error writer needs to know about a failed request:
// whom to name in a 401 challenge and what to ask for.
type state struct {
	reg       registry.Registry // zero until the registry is known
	want      []acrtoken.Scope  // the scopes the route needs
	challenge string            // the challenge's error parameter, if any
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Docker-Distribution-Api-Version", "registry/2.0")
	hd.Set("X-Content-Type-Options", "nosniff") // blobs are content anyone with push wrote
	var st state
	if err := h.serve(w, r, &st); err != nil {
		server.LogError(r.Context(), h.logger, r, err)
		writeError(w, r, &st, err)
	}
}

// serve runs the pipeline described in the package comment.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, st *state) error {
	ctx := r.Context()
	rt, routeErr := parseRoute(r.URL.EscapedPath())
	var (
		reg    registry.Registry
		lookup *registry.ManifestLookup
		err    error
	)
	if ml, ok := h.regs.(manifestLookuper); ok && routeErr == nil && rt.kind == routeManifest &&
		(r.Method == http.MethodGet || r.Method == http.MethodHead) {
		// A manifest GET reads the registry and the manifest together;
		// the manifest is checked and served only once authorized.
		var l registry.ManifestLookup
		reg, l, err = ml.LookupManifest(ctx, r.Host, rt.name, rt.ref)
		lookup = &l
	} else {
		reg, err = h.regs.ByLoginServer(ctx, r.Host)
	}
	if err != nil {
		return unknownRegistry(err)
	}
	st.reg = reg
	if routeErr != nil {
		return routeErr
	}
	ep, err := pickEndpoint(w, rt.kind, r.Method)
	if err != nil {
		return err
	}
	st.want = ep.need(r, rt)
	if err := h.authorize(ctx, r, reg, st); err != nil {
		return err
	}
	return ep.serve(h, w, r, &call{reg: reg, route: rt, lookup: lookup})
}
