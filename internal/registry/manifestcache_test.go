package registry_test

import (
	"io"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
)

// TestGetManifestSeesOtherServers runs two services on one store, as two
// servers share one database: whatever server B changes — a tag moved, a
// tag's or repository's readEnabled turned off, a manifest deleted — server
// A's next GET sees, although A has served (and keeps in memory) the bytes
// before.
func TestGetManifestSeesOtherServers(t *testing.T) {
	var cfg *registry.Config
	e := newEnv(t, func(c *registry.Config) { cfg = c })
	a, b := e.svc, registry.NewService(*cfg)
	ctx := t.Context()
	off, on := new(bool), new(bool)
	*on = true

	// read reads a GET's bytes and checks them against the manifest.
	read := func(m registry.Manifest, rd blob.Reader, err error) (registry.Manifest, []byte, error) {
		t.Helper()
		if err != nil {
			return m, nil, err
		}
		defer func() { _ = rd.Close() }()
		body, err := io.ReadAll(rd)
		if err != nil {
			t.Fatal(err)
		}
		if digest.FromBytes(body) != m.Digest || int64(len(body)) != m.Size || rd.Size() != m.Size {
			t.Fatalf("%d bytes of digest %s, manifest %s of %d bytes", len(body), digest.FromBytes(body), m.Digest, m.Size)
		}
		return m, body, nil
	}

	// get GETs ref through server A both ways a GET may take — the
	// service's GetManifest and the data plane's LookupManifest and
	// GetLookedUpManifest (one store query) — which must agree.
	get := func(ref string) (registry.Manifest, []byte, error) {
		t.Helper()
		m, body, err := read(a.GetManifest(ctx, regName, "app", ref))
		reg, l, lerr := a.LookupManifest(ctx, "MyRegistry."+domain+":8443", "app", ref)
		if lerr != nil || reg.Name != e.reg.Name {
			t.Fatalf("LookupManifest: %v %v", reg.Name, lerr)
		}
		m2, body2, err2 := read(a.GetLookedUpManifest(ctx, l))
		if m.Digest != m2.Digest || string(body) != string(body2) || (err == nil) != (err2 == nil) || err != nil && errdefs.As(err).Reason != errdefs.As(err2).Reason {
			t.Fatalf("GET %s: GetManifest %s %v, LookupManifest %s %v", ref, m.Digest, err, m2.Digest, err2)
		}
		return m, body, err
	}
	m1 := e.pushImage("app", "v1", content(1))
	for range 2 { // the second GET is served from memory
		if m, _, err := get("v1"); err != nil || m.Digest != m1.Digest {
			t.Fatalf("GET v1: %v %v, want %s", m.Digest, err, m1.Digest)
		}
	}
	_, _, err := a.LookupManifest(ctx, "nope."+domain, "app", "v1")
	mustReason(t, err, registry.ErrRegistryNotFound.Reason, "LookupManifest of a missing registry")

	body2 := e.image("app", "arm64", content(2))
	if _, err := b.PutManifest(ctx, regName, "app", "v1", registry.MediaTypeOCIManifest, body2); err != nil {
		t.Fatal(err)
	}
	if m, body, err := get("v1"); err != nil || m.Digest != digest.FromBytes(body2) || string(body) != string(body2) {
		t.Fatalf("GET v1 after B moved it: %s %v, want %s", m.Digest, err, digest.FromBytes(body2))
	}

	_, err = b.UpdateTag(ctx, regName, "app", "v1", registry.AttributesPatch{ReadEnabled: off})
	must(t, err)
	_, _, err = get("v1")
	mustReason(t, err, "DENIED", "GET v1 after B disabled reading the tag")
	_, err = b.UpdateTag(ctx, regName, "app", "v1", registry.AttributesPatch{ReadEnabled: on})
	must(t, err)

	_, err = b.UpdateRepository(ctx, regName, "app", registry.AttributesPatch{ReadEnabled: off})
	must(t, err)
	_, _, err = get(m1.Digest.String())
	mustReason(t, err, "DENIED", "GET by digest after B disabled reading the repository")
	_, err = b.UpdateRepository(ctx, regName, "app", registry.AttributesPatch{ReadEnabled: on})
	must(t, err)

	if _, _, err := get(m1.Digest.String()); err != nil {
		t.Fatal(err)
	}
	must(t, b.DeleteManifest(ctx, regName, "app", m1.Digest.String()))
	_, _, err = get(m1.Digest.String())
	mustReason(t, err, "MANIFEST_UNKNOWN", "GET by digest after B deleted the manifest")
	_, _, err = get("nope")
	mustReason(t, err, "MANIFEST_UNKNOWN", "GET of a missing tag")
	_, _, err = a.GetManifest(ctx, regName, "other", "v1")
	mustReason(t, err, "NAME_UNKNOWN", "GET in a missing repository")
}
