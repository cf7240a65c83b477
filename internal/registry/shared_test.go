package registry_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob/s3blob"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/sealbox"
	"github.com/cerulean/cerulean/internal/store/pgstore"
	"github.com/cerulean/cerulean/internal/store/pgstore/pgtest"
)

// servers is two registry Services, as two Cerulean servers would run
// them: each with its own PostgreSQL store, S3 client and lockers, on one
// schema and one bucket prefix, with a registry "MyRegistry".
type servers struct {
	t      *testing.T
	a, b   *registry.Service
	blobs  *s3blob.Store // a client of the shared bucket prefix
	upLock *pgstore.Locker
	skew   atomic.Int64
}

// s3Options returns CERULEAN_TEST_S3 under a fresh prefix, emptied when
// the test ends; without the variable the test is skipped, or failed
// when CERULEAN_E2E_REQUIRE=1.
func s3Options(t *testing.T) s3blob.Options {
	t.Helper()
	raw := os.Getenv("CERULEAN_TEST_S3")
	if raw == "" {
		if os.Getenv("CERULEAN_E2E_REQUIRE") == "1" {
			t.Fatal("CERULEAN_TEST_S3 is not set (CERULEAN_E2E_REQUIRE=1); see scripts/seaweedfs.sh")
		}
		t.Skip("CERULEAN_TEST_S3 is not set; see scripts/seaweedfs.sh")
	}
	o, err := s3blob.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	o.Prefix = strings.TrimPrefix(o.Prefix+"/"+hex.EncodeToString(b[:]), "/")
	c, err := minio.New(o.Endpoint.Host, &minio.Options{
		Creds: credentials.NewEnvAWS(), Secure: o.Endpoint.Scheme == "https", Region: o.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for obj := range c.ListObjects(ctx, o.Bucket, minio.ListObjectsOptions{Prefix: o.Prefix + "/", Recursive: true}) {
			if obj.Err == nil {
				_ = c.RemoveObject(ctx, o.Bucket, obj.Key, minio.RemoveObjectOptions{})
			}
		}
		for mu := range c.ListIncompleteUploads(ctx, o.Bucket, o.Prefix+"/", true) {
			if mu.Err == nil {
				_ = c.RemoveIncompleteUpload(ctx, o.Bucket, mu.Key)
			}
		}
	})
	return o
}

func newServers(t *testing.T) *servers {
	t.Helper()
	o := s3Options(t)
	dsn := pgtest.Schema(t, "r_")
	ctx := t.Context()
	s := &servers{t: t}
	box, err := sealbox.LoadOrCreate(filepath.Join(t.TempDir(), "sealing-key")) // shared, as issue 9 wants
	must(t, err)
	var stores []*pgstore.Store
	for i := range 2 {
		st, err := pgstore.Open(ctx, dsn, nil)
		must(t, err)
		t.Cleanup(func() { _ = st.Close() })
		stores = append(stores, st)
		bs, err := s3blob.Open(ctx, o)
		must(t, err)
		uploads, err := pgstore.OpenLocker(ctx, dsn, 4)
		must(t, err)
		t.Cleanup(func() { _ = uploads.Close() })
		digests, err := pgstore.OpenLocker(ctx, dsn, 4)
		must(t, err)
		t.Cleanup(func() { _ = digests.Close() })
		svc := registry.NewService(registry.Config{
			Store: st.Registry(), Blobs: bs, Sealer: box, Domain: domain, Port: "8443",
			Now:   func() time.Time { return time.Now().Add(time.Duration(s.skew.Load())) },
			Locks: registry.SharedLocks{Uploads: uploads, Digests: digests},
		})
		if i == 0 {
			s.a, s.blobs, s.upLock = svc, bs, uploads
		} else {
			s.b = svc
		}
	}
	st := stores[0]
	must(t, st.Identity().CreateTenant(ctx, identity.Tenant{ID: tenantID, DisplayName: "T", DefaultDomain: "t.example", CreatedAt: time.Now()}))
	must(t, st.Resources().CreateSubscription(ctx, resource.Subscription{ID: subID, DisplayName: "S", TenantID: tenantID, State: "Enabled", CreatedAt: time.Now()}))
	_, _, err = st.Resources().PutGroup(ctx, subID, "rg", func(*resource.Group) (resource.Group, error) {
		return resource.Group{SubscriptionID: subID, Name: "rg", Location: "eastus", ProvisioningState: "Succeeded", CreatedAt: time.Now(), ChangedAt: time.Now()}, nil
	})
	must(t, err)
	_, _, err = s.a.Create(ctx, registry.CreateInput{Group: resourceid.ForResourceGroup(subID, "rg"), Name: regName, Location: "East US", SKU: "basic", CreatedBy: "creator"})
	must(t, err)
	return s
}

func (s *servers) advance(d time.Duration) { s.skew.Add(int64(d)) }

func (s *servers) inStore(d digest.Digest) bool {
	_, err := s.blobs.Stat(s.t.Context(), d)
	return err == nil
}

// waitForUploadLock returns once a server waits in PostgreSQL for the
// upload's lock.
func (s *servers) waitForUploadLock(id string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := s.upLock.Waiters(s.t.Context(), "upload:"+id)
		must(s.t, err)
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatal("no server waits for the upload's lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// GC on one server skips a digest another server is committing or
// linking: only the shared lock can tell it, B's own being free.
func TestSharedGCSkipsDigestLockedElsewhere(t *testing.T) {
	s := newServers(t)
	ctx := t.Context()
	data := []byte("an orphan layer")
	d := digestOf(data)
	_, err := s.a.PutBlob(ctx, regName, "app", d, int64(len(data)), bytes.NewReader(data))
	must(t, err)
	must(t, s.a.DeleteBlob(ctx, regName, "app", d))
	s.advance(2 * registry.DefaultGCGrace)

	unlock, err := s.a.LockDigest(ctx, d)
	must(t, err)
	st, err := s.b.CollectGarbage(ctx)
	must(t, err)
	if st.BlobsDeleted != 0 || !s.inStore(d) {
		t.Fatalf("GC on B deleted %d blobs while A held the digest's lock (still there: %v)", st.BlobsDeleted, s.inStore(d))
	}
	unlock()
	st, err = s.b.CollectGarbage(ctx)
	must(t, err)
	if st.BlobsDeleted != 1 || s.inStore(d) {
		t.Fatalf("GC on B after A let go: %d deleted, still there: %v", st.BlobsDeleted, s.inStore(d))
	}
}

// An upload started on A is continued and committed on B, its hash state
// handed over through the bucket.
func TestSharedUploadHandOver(t *testing.T) {
	s := newServers(t)
	ctx := t.Context()
	first, second, last := randomBytes(9<<20), randomBytes(3<<20), randomBytes(1000)
	data := bytes.Join([][]byte{first, second, last}, nil)
	d := digestOf(data)

	up, err := s.a.StartUpload(ctx, regName, "app")
	must(t, err)
	st, err := s.a.WriteUpload(ctx, regName, "app", up.ID, 0, bytes.NewReader(first))
	must(t, err)
	st, err = s.b.WriteUpload(ctx, regName, "app", up.ID, st.Offset, bytes.NewReader(second))
	must(t, err)
	st, err = s.a.UploadStatus(ctx, regName, "app", up.ID)
	must(t, err)
	if st.Offset != int64(len(first)+len(second)) {
		t.Fatalf("A sees offset %d, want %d", st.Offset, len(first)+len(second))
	}
	info, err := s.b.CompleteUpload(ctx, regName, "app", up.ID, st.Offset, bytes.NewReader(last), d)
	must(t, err)
	if info.Digest != d || info.Size != int64(len(data)) {
		t.Fatalf("committed %s (%d bytes), want %s (%d)", info.Digest, info.Size, d, len(data))
	}
	rd, err := s.a.OpenBlob(ctx, regName, "app", d)
	must(t, err)
	defer func() { _ = rd.Close() }()
	got, err := io.ReadAll(rd)
	must(t, err)
	if !bytes.Equal(got, data) {
		t.Fatal("the blob read on A differs from what was pushed through A and B")
	}
}

// A PATCH on B of a session A is writing waits for A and then appends after
// A's bytes, or is refused when its range starts where A started: never
// interleaved, and the final digest verifies.
func TestSharedConcurrentPatch(t *testing.T) {
	for _, tc := range []struct {
		name   string
		start  int64 // B's Content-Range start; -1: streamed
		reason string
	}{
		{"streamed", -1, ""},
		{"same range", 0, "RANGE_INVALID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServers(t)
			ctx := t.Context()
			chunkA, chunkB := randomBytes(9<<20), randomBytes(1<<20)
			up, err := s.a.StartUpload(ctx, regName, "app")
			must(t, err)

			pr, pw := io.Pipe()
			aDone := make(chan error, 1)
			go func() {
				_, err := s.a.WriteUpload(ctx, regName, "app", up.ID, 0, pr)
				aDone <- err
			}()
			// A has read the first bytes: it holds the session.
			_, err = pw.Write(chunkA[:1<<20])
			must(t, err)
			type result struct {
				st  registry.UploadState
				err error
			}
			bDone := make(chan result, 1)
			go func() {
				st, err := s.b.WriteUpload(ctx, regName, "app", up.ID, tc.start, bytes.NewReader(chunkB))
				bDone <- result{st, err}
			}()
			s.waitForUploadLock(up.ID)
			_, err = pw.Write(chunkA[1<<20:])
			must(t, err)
			must(t, pw.Close())
			must(t, <-aDone)
			b := <-bDone

			want := chunkA
			if tc.reason == "" {
				must(t, b.err)
				want = append(append([]byte(nil), chunkA...), chunkB...)
				if b.st.Offset != int64(len(want)) {
					t.Fatalf("B's offset %d, want %d", b.st.Offset, len(want))
				}
			} else {
				mustReason(t, b.err, tc.reason, "B's PATCH of the range A wrote")
			}
			d := digestOf(want)
			info, err := s.a.CompleteUpload(ctx, regName, "app", up.ID, int64(len(want)), nil, d)
			must(t, err)
			if info.Size != int64(len(want)) {
				t.Fatalf("committed %d bytes, want %d", info.Size, len(want))
			}
		})
	}
}

// Expiry on B leaves alone a session A is writing, however idle its row
// says it is.
func TestSharedExpirySkipsSessionWrittenElsewhere(t *testing.T) {
	s := newServers(t)
	ctx := t.Context()
	up, err := s.a.StartUpload(ctx, regName, "app")
	must(t, err)
	pr, pw := io.Pipe()
	aDone := make(chan error, 1)
	go func() {
		_, err := s.a.WriteUpload(ctx, regName, "app", up.ID, 0, pr)
		aDone <- err
	}()
	_, err = pw.Write([]byte("first bytes"))
	must(t, err)
	s.advance(2 * registry.DefaultUploadTTL)
	st, err := s.b.CollectGarbage(ctx)
	must(t, err)
	if st.UploadsExpired != 0 {
		t.Fatalf("B expired %d sessions while A wrote to one", st.UploadsExpired)
	}
	_, err = pw.Write([]byte(" and more"))
	must(t, err)
	must(t, pw.Close())
	must(t, <-aDone)
	data := []byte("first bytes and more")
	_, err = s.b.CompleteUpload(ctx, regName, "app", up.ID, int64(len(data)), nil, digestOf(data))
	must(t, err)
}

// One server at a time collects periodically; the turn passes when its
// holder lets go.
func TestSharedGCTurns(t *testing.T) {
	s := newServers(t)
	ctx := t.Context()
	releaseA, ok := s.a.GCTurn(ctx, nil)
	if !ok {
		t.Fatal("A could not take the first turn")
	}
	if r, ok := s.b.GCTurn(ctx, nil); ok {
		r()
		t.Fatal("B took a turn while A holds it")
	}
	releaseA, ok = s.a.GCTurn(ctx, releaseA)
	if !ok {
		t.Fatal("A lost its turn retaking it")
	}
	releaseA()
	releaseB, ok := s.b.GCTurn(ctx, nil)
	if !ok {
		t.Fatal("B could not take the turn A let go")
	}
	if r, ok := s.a.GCTurn(ctx, nil); ok {
		r()
		t.Fatal("A took a turn while B holds it")
	}
	releaseB()
}
