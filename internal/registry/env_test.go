package registry_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob/fileblob"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/sealbox"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
)

const (
	domain   = "azurecr.test"
	regName  = "MyRegistry"
	subID    = "22222222-2222-4222-8222-222222222222"
	tenantID = "11111111-1111-4111-8111-111111111111"
)

// env is a Service over a real SQLite store and a real file blob store,
// with a subscription, a group "rg" and a registry "MyRegistry".
type env struct {
	t      testing.TB
	svc    *registry.Service
	store  *sqlstore.Store
	blobs  *fileblob.Store
	dbPath string
	skew   atomic.Int64 // added to the real clock, in nanoseconds
	group  resourceid.ID
	reg    registry.Registry
}

func newEnv(t testing.TB, configure ...func(*registry.Config)) *env {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	e := &env{t: t, dbPath: filepath.Join(dir, "cerulean.db"), group: resourceid.ForResourceGroup(subID, "rg")}
	st, err := sqlstore.Open(ctx, e.dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.store = st
	bs, err := fileblob.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bs.Close() })
	e.blobs = bs
	box, err := sealbox.LoadOrCreate(filepath.Join(dir, "sealing-key"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, st.Identity().CreateTenant(ctx, identity.Tenant{ID: tenantID, DisplayName: "T", DefaultDomain: "t.example", CreatedAt: time.Now()}))
	must(t, st.Resources().CreateSubscription(ctx, resource.Subscription{ID: subID, DisplayName: "S", TenantID: tenantID, State: "Enabled", CreatedAt: time.Now()}))
	for _, g := range []string{"rg", "rg2"} {
		_, _, err := st.Resources().PutGroup(ctx, subID, g, func(*resource.Group) (resource.Group, error) {
			return resource.Group{SubscriptionID: subID, Name: g, Location: "eastus", ProvisioningState: "Succeeded", CreatedAt: time.Now(), ChangedAt: time.Now()}, nil
		})
		must(t, err)
	}
	cfg := registry.Config{
		Store: st.Registry(), Blobs: bs, Sealer: box, Domain: domain, Port: "8443",
		Now: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) },
	}
	for _, c := range configure {
		c(&cfg)
	}
	e.svc = registry.NewService(cfg)
	e.reg, _, err = e.svc.Create(ctx, registry.CreateInput{Group: e.group, Name: regName, Location: "East US", SKU: "basic", CreatedBy: "creator"})
	must(t, err)
	return e
}

// advance moves the service's clock.
func (e *env) advance(d time.Duration) { e.skew.Add(int64(d)) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustReason fails unless err carries the reason.
func mustReason(t testing.TB, err error, reason, what string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want %s", what, reason)
		return
	}
	if got := errdefs.As(err).Reason; got != reason {
		t.Errorf("%s: %v, want reason %s", what, err, reason)
	}
}

// pushBlob uploads content monolithically to repo.
func (e *env) pushBlob(repo string, content []byte) digest.Digest {
	e.t.Helper()
	d := digest.FromBytes(content)
	_, err := e.svc.PutBlob(e.t.Context(), regName, repo, d, int64(len(content)), bytes.NewReader(content))
	must(e.t, err)
	return d
}

type descJSON struct {
	MediaType    string            `json:"mediaType"`
	Digest       digest.Digest     `json:"digest"`
	Size         int64             `json:"size"`
	Platform     map[string]string `json:"platform,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
}

type manifestJSON struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        *descJSON         `json:"config,omitempty"`
	Layers        []descJSON        `json:"layers,omitempty"`
	Manifests     []descJSON        `json:"manifests,omitempty"`
	Subject       *descJSON         `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

func descOf(mt string, content []byte) descJSON {
	return descJSON{MediaType: mt, Digest: digest.FromBytes(content), Size: int64(len(content))}
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return b
}

// image pushes a config and layers to repo and returns an OCI image
// manifest body referencing them (not pushed).
func (e *env) image(repo, arch string, layers ...[]byte) []byte {
	e.t.Helper()
	cfg := marshal(e.t, map[string]any{"architecture": arch, "os": "linux", "rootfs": map[string]any{"type": "layers"}})
	e.pushBlob(repo, cfg)
	m := manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIManifest, Config: ptr(descOf("application/vnd.oci.image.config.v1+json", cfg))}
	for _, l := range layers {
		e.pushBlob(repo, l)
		m.Layers = append(m.Layers, descOf("application/vnd.oci.image.layer.v1.tar", l))
	}
	return marshal(e.t, m)
}

// pushImage pushes an image under ref (a tag, or "" for its digest).
func (e *env) pushImage(repo, ref string, layers ...[]byte) registry.Manifest {
	e.t.Helper()
	body := e.image(repo, "amd64", layers...)
	if ref == "" {
		ref = digest.FromBytes(body).String()
	}
	m, err := e.svc.PutManifest(e.t.Context(), regName, repo, ref, registry.MediaTypeOCIManifest, body)
	must(e.t, err)
	return m
}

func ptr[T any](v T) *T { return &v }

// readManifest pulls a manifest and returns its bytes.
func (e *env) readManifest(repo, ref string) (registry.Manifest, []byte, error) {
	m, rd, err := e.svc.GetManifest(e.t.Context(), regName, repo, ref)
	if err != nil {
		return m, nil, err
	}
	defer func() { _ = rd.Close() }()
	b, err := io.ReadAll(rd)
	return m, b, err
}

func (e *env) readBlob(repo string, d digest.Digest) ([]byte, error) {
	rd, err := e.svc.OpenBlob(e.t.Context(), regName, repo, d)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rd.Close() }()
	return io.ReadAll(rd)
}

func content(i int) []byte { return []byte(fmt.Sprintf("layer content %d", i)) }
