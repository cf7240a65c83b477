package registry_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// inStore reports whether the blob store holds d.
func (e *env) inStore(d digest.Digest) bool {
	_, err := e.blobs.Stat(e.t.Context(), d)
	return err == nil
}

func (e *env) gc() registry.GCStats {
	e.t.Helper()
	st, err := e.svc.CollectGarbage(e.t.Context())
	must(e.t, err)
	return st
}

func TestGCBlobs(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	m := e.pushImage("app", "v1", content(1))
	orphan := []byte("orphaned blob")
	od := e.pushBlob("app", orphan)
	must(t, e.svc.DeleteBlob(ctx, regName, "app", od))

	// Young: kept through the grace window.
	if st := e.gc(); st.BlobsDeleted != 0 || !e.inStore(od) {
		t.Fatalf("GC within the grace window: %+v, orphan kept %v", st, e.inStore(od))
	}
	e.advance(2 * time.Hour)
	st := e.gc()
	if st.BlobsDeleted != 1 || st.BytesFreed != int64(len(orphan)) || e.inStore(od) {
		t.Fatalf("GC after the grace window: %+v, orphan kept %v", st, e.inStore(od))
	}
	// Everything referenced stays pullable.
	if _, _, err := e.readManifest("app", "v1"); err != nil {
		t.Errorf("manifest after GC: %v", err)
	}
	for _, d := range m.Blobs {
		if _, err := e.readBlob("app", d); err != nil {
			t.Errorf("blob %s after GC: %v", d, err)
		}
	}

	// A layer unlinked from the repository is kept while a manifest
	// references it.
	layer := digestOf(content(1))
	must(t, e.svc.DeleteBlob(ctx, regName, "app", layer))
	if st := e.gc(); st.BlobsDeleted != 0 || !e.inStore(layer) {
		t.Errorf("GC of a layer a manifest references: %+v", st)
	}
	// With the manifest gone, the layer and the manifest's bytes go; the
	// config, still linked, stays.
	must(t, e.svc.DeleteManifest(ctx, regName, "app", m.Digest.String()))
	st = e.gc()
	if st.BlobsDeleted != 2 || e.inStore(layer) || e.inStore(m.Digest) || !e.inStore(m.Blobs[0]) {
		t.Errorf("GC after manifest delete: %+v", st)
	}
}

func TestGCDeletedRegistry(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	second, _, err := e.svc.Create(ctx, registry.CreateInput{Group: resourceid.ForResourceGroup(subID, "rg2"), Name: "second01", Location: "eastus", SKU: "Basic"})
	must(t, err)
	shared, own := []byte("shared"), []byte("own")
	e.pushBlob("app", shared)
	e.pushBlob("app", own)
	_, err = e.svc.PutBlob(ctx, second.Name, "other", digestOf(shared), -1, bytes.NewReader(shared))
	must(t, err)
	m := e.pushImage("app", "v1", content(5))

	must(t, e.svc.Delete(ctx, e.group, regName))
	e.advance(2 * time.Hour)
	e.gc()
	if e.inStore(digestOf(own)) || e.inStore(m.Digest) || e.inStore(digestOf(content(5))) {
		t.Error("blobs of the deleted registry survive GC")
	}
	if !e.inStore(digestOf(shared)) {
		t.Error("a blob another registry links was collected")
	}
	if got, err := func() ([]byte, error) {
		rd, err := e.svc.OpenBlob(ctx, second.Name, "other", digestOf(shared))
		if err != nil {
			return nil, err
		}
		defer func() { _ = rd.Close() }()
		b := make([]byte, 100)
		n, _ := rd.Read(b)
		return b[:n], nil
	}(); err != nil || !bytes.Equal(got, shared) {
		t.Errorf("shared blob: %q %v", got, err)
	}
}

func TestGCUploads(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	stale, err := e.svc.StartUpload(ctx, regName, "app")
	must(t, err)
	_, err = e.svc.WriteUpload(ctx, regName, "app", stale.ID, 0, bytes.NewReader([]byte("partial")))
	must(t, err)
	if st := e.gc(); st.UploadsExpired != 0 {
		t.Fatalf("fresh upload expired: %+v", st)
	}
	e.advance(25 * time.Hour)
	fresh, err := e.svc.StartUpload(ctx, regName, "app")
	must(t, err)
	if st := e.gc(); st.UploadsExpired != 1 {
		t.Errorf("GC: %+v, want one upload expired", st)
	}
	_, err = e.svc.UploadStatus(ctx, regName, "app", stale.ID)
	mustReason(t, err, "BLOB_UPLOAD_UNKNOWN", "expired upload")
	if _, err := e.svc.UploadStatus(ctx, regName, "app", fresh.ID); err != nil {
		t.Errorf("fresh upload after GC: %v", err)
	}
	var ids []string
	must(t, e.blobs.WalkUploads(ctx, func(id string, _ time.Time) error { ids = append(ids, id); return nil }))
	if len(ids) != 1 || ids[0] != fresh.ID {
		t.Errorf("upload sessions left in the blob store: %v", ids)
	}
}

// TestGCDuringPushes runs collection in a loop, with no grace window at
// all, while images are pushed: every pushed image must stay pullable,
// and the garbage made meanwhile must go.
func TestGCDuringPushes(t *testing.T) {
	e := newEnv(t, func(c *registry.Config) { c.GCGrace = time.Nanosecond })
	ctx := t.Context()
	const images = 30
	type pushed struct {
		tag  string
		body []byte
		refs []digest.Digest
	}
	var (
		done    = make(chan struct{})
		wg      sync.WaitGroup
		results []pushed
		junk    []digest.Digest
		gcErr   error
		deleted int
	)
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			st, err := e.svc.CollectGarbage(ctx)
			if err != nil {
				gcErr = err
				return
			}
			deleted += st.BlobsDeleted
		}
	})
	for i := range images {
		layer := make([]byte, 4096)
		_, _ = rand.Read(layer)
		d := digestOf(layer)
		if i%2 == 0 {
			_, err := e.svc.PutBlob(ctx, regName, "app", d, int64(len(layer)), bytes.NewReader(layer))
			must(t, err)
		} else {
			st, err := e.svc.StartUpload(ctx, regName, "app")
			must(t, err)
			_, err = e.svc.WriteUpload(ctx, regName, "app", st.ID, 0, bytes.NewReader(layer[:1000]))
			must(t, err)
			_, err = e.svc.CompleteUpload(ctx, regName, "app", st.ID, 1000, bytes.NewReader(layer[1000:]), d)
			must(t, err)
		}
		cfg := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","n":%d}`, i))
		cd := e.pushBlob("app", cfg)
		body := marshal(t, manifestJSON{SchemaVersion: 2, MediaType: registry.MediaTypeOCIManifest,
			Config: ptr(descOf("application/vnd.oci.image.config.v1+json", cfg)),
			Layers: []descJSON{descOf("application/vnd.oci.image.layer.v1.tar", layer)}})
		tag := fmt.Sprintf("v%d", i)
		_, err := e.svc.PutManifest(ctx, regName, "app", tag, registry.MediaTypeOCIManifest, body)
		must(t, err)
		results = append(results, pushed{tag, body, []digest.Digest{cd, d}})

		// Garbage: pushed, then unlinked.
		j := []byte(fmt.Sprintf("junk %d", i))
		jd := e.pushBlob("junk", j)
		must(t, e.svc.DeleteBlob(ctx, regName, "junk", jd))
		junk = append(junk, jd)
	}
	close(done)
	wg.Wait()
	must(t, gcErr)
	e.gc()

	for _, p := range results {
		_, b, err := e.readManifest("app", p.tag)
		if err != nil || !bytes.Equal(b, p.body) {
			t.Errorf("manifest %s after concurrent GC: %v", p.tag, err)
			continue
		}
		for _, d := range p.refs {
			if _, err := e.readBlob("app", d); err != nil {
				t.Errorf("blob %s of %s after concurrent GC: %v", d, p.tag, err)
			}
		}
	}
	for _, d := range junk {
		if e.inStore(d) {
			t.Errorf("junk blob %s survived", d)
		}
	}
	t.Logf("collected %d blobs during the pushes", deleted)
}

func TestRunGC(t *testing.T) {
	e := newEnv(t)
	od := e.pushBlob("app", []byte("orphan"))
	must(t, e.svc.DeleteBlob(t.Context(), regName, "app", od))
	e.advance(2 * time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() { e.svc.RunGC(ctx, 5*time.Millisecond); close(stopped) }()
	deadline := time.Now().Add(5 * time.Second)
	for e.inStore(od) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("RunGC did not return after its context ended")
	}
	if e.inStore(od) {
		t.Error("RunGC did not collect the orphan")
	}
}
