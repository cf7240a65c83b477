package registry_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
)

func digestOf(b []byte) digest.Digest { return digest.FromBytes(b) }

func TestUploadChunked(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	data := bytes.Repeat([]byte("0123456789"), 300)
	d := digestOf(data)

	st, err := e.svc.StartUpload(ctx, regName, "app")
	must(t, err)
	if len(st.ID) < 32 || st.Offset != 0 || st.StartedAt.IsZero() {
		t.Errorf("StartUpload: %+v", st)
	}
	st, err = e.svc.WriteUpload(ctx, regName, "app", st.ID, 0, bytes.NewReader(data[:1000]))
	must(t, err)
	if st.Offset != 1000 {
		t.Errorf("offset after first chunk %d", st.Offset)
	}
	// A chunk out of order is refused without writing anything.
	for _, start := range []int64{0, 999, 1001, 2000} {
		_, err = e.svc.WriteUpload(ctx, regName, "app", st.ID, start, bytes.NewReader(data[start:]))
		mustReason(t, err, "RANGE_INVALID", "chunk out of order")
	}
	st, err = e.svc.UploadStatus(ctx, regName, "app", st.ID)
	must(t, err)
	if st.Offset != 1000 {
		t.Errorf("offset after refused chunks %d", st.Offset)
	}
	st, err = e.svc.WriteUpload(ctx, regName, "app", st.ID, 1000, bytes.NewReader(data[1000:2000]))
	must(t, err)
	_, err = e.svc.CompleteUpload(ctx, regName, "app", st.ID, 1500, bytes.NewReader(data[2000:]), d)
	mustReason(t, err, "RANGE_INVALID", "final chunk out of order")
	info, err := e.svc.CompleteUpload(ctx, regName, "app", st.ID, 2000, bytes.NewReader(data[2000:]), d)
	must(t, err)
	if info.Digest != d || info.Size != int64(len(data)) {
		t.Errorf("CompleteUpload: %+v", info)
	}
	got, err := e.readBlob("app", d)
	must(t, err)
	if !bytes.Equal(got, data) {
		t.Error("blob content differs")
	}
	_, err = e.svc.UploadStatus(ctx, regName, "app", st.ID)
	mustReason(t, err, "BLOB_UPLOAD_UNKNOWN", "status of a completed upload")
}

func TestUploadStreamedAndResumed(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	data := []byte(strings.Repeat("streamed ", 500))
	st, err := e.svc.StartUpload(ctx, regName, "app")
	must(t, err)
	_, err = e.svc.WriteUpload(ctx, regName, "app", st.ID, -1, bytes.NewReader(data[:100]))
	must(t, err)

	// Another service over the same stores (a restart, another replica)
	// resumes the session where it stopped.
	other := registry.NewService(registry.Config{Store: e.store.Registry(), Blobs: e.blobs, Sealer: nil, Domain: domain})
	st2, err := other.UploadStatus(ctx, regName, "app", st.ID)
	must(t, err)
	if st2.Offset != 100 || !st2.StartedAt.Equal(st.StartedAt) {
		t.Errorf("resumed status %+v, started %v", st2, st.StartedAt)
	}
	_, err = other.WriteUpload(ctx, regName, "app", st.ID, -1, bytes.NewReader(data[100:]))
	must(t, err)
	// Completing with no final chunk.
	info, err := other.CompleteUpload(ctx, regName, "app", st.ID, -1, nil, digestOf(data))
	must(t, err)
	if info.Size != int64(len(data)) {
		t.Errorf("size %d", info.Size)
	}
	if got, _ := e.readBlob("app", digestOf(data)); !bytes.Equal(got, data) {
		t.Error("streamed blob differs")
	}
}

func TestUploadFailures(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	data := []byte("some bytes")

	// A wrong digest ends the session and links nothing.
	st, err := e.svc.StartUpload(ctx, regName, "app")
	must(t, err)
	_, err = e.svc.CompleteUpload(ctx, regName, "app", st.ID, 0, bytes.NewReader(data), digestOf([]byte("other")))
	mustReason(t, err, "DIGEST_INVALID", "CompleteUpload with a wrong digest")
	_, err = e.svc.UploadStatus(ctx, regName, "app", st.ID)
	mustReason(t, err, "BLOB_UPLOAD_UNKNOWN", "status after a failed commit")
	_, err = e.svc.StatBlob(ctx, regName, "app", digestOf([]byte("other")))
	mustReason(t, err, "BLOB_UNKNOWN", "blob of a failed commit")
	_, err = e.svc.StatBlob(ctx, regName, "app", digestOf(data))
	mustReason(t, err, "BLOB_UNKNOWN", "content of a failed commit")

	// An invalid digest is refused before anything happens.
	st, err = e.svc.StartUpload(ctx, regName, "app")
	must(t, err)
	_, err = e.svc.CompleteUpload(ctx, regName, "app", st.ID, 0, bytes.NewReader(data), "sha256:nothex")
	mustReason(t, err, "DIGEST_INVALID", "CompleteUpload with a malformed digest")
	if s, err := e.svc.UploadStatus(ctx, regName, "app", st.ID); err != nil || s.Offset != 0 {
		t.Errorf("session after a malformed digest: %+v %v", s, err)
	}

	// A session is reachable only through its own repository and registry.
	_, err = e.svc.WriteUpload(ctx, regName, "other", st.ID, 0, bytes.NewReader(data))
	mustReason(t, err, "BLOB_UPLOAD_UNKNOWN", "upload through another repository")
	second, _, err := e.svc.Create(ctx, registry.CreateInput{Group: resourceid.ForResourceGroup(subID, "rg2"), Name: "second01", Location: "eastus", SKU: "Basic"})
	must(t, err)
	_, err = e.svc.UploadStatus(ctx, second.Name, "app", st.ID)
	mustReason(t, err, "BLOB_UPLOAD_UNKNOWN", "upload through another registry")
	for _, id := range []string{"nope", "../../etc", strings.Repeat("a", 500), ""} {
		_, err = e.svc.WriteUpload(ctx, regName, "app", id, 0, bytes.NewReader(data))
		mustReason(t, err, "BLOB_UPLOAD_UNKNOWN", "upload id "+id)
	}

	// Cancel.
	must(t, e.svc.CancelUpload(ctx, regName, "app", st.ID))
	mustReason(t, e.svc.CancelUpload(ctx, regName, "app", st.ID), "BLOB_UPLOAD_UNKNOWN", "cancel again")
	_, err = e.svc.WriteUpload(ctx, regName, "app", st.ID, -1, bytes.NewReader(data))
	mustReason(t, err, "BLOB_UPLOAD_UNKNOWN", "write after cancel")

	_, err = e.svc.StartUpload(ctx, regName, "Bad_Repo")
	mustReason(t, err, "NAME_INVALID", "StartUpload with a bad repository")
}

func TestPutBlob(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	data := []byte("monolithic")
	info, err := e.svc.PutBlob(ctx, regName, "app", digestOf(data), int64(len(data)), bytes.NewReader(data))
	must(t, err)
	if info.Size != int64(len(data)) {
		t.Errorf("PutBlob: %+v", info)
	}
	// Again, unknown size: idempotent.
	_, err = e.svc.PutBlob(ctx, regName, "app", digestOf(data), -1, bytes.NewReader(data))
	must(t, err)

	_, err = e.svc.PutBlob(ctx, regName, "app", digestOf([]byte("x")), -1, bytes.NewReader(data))
	mustReason(t, err, "DIGEST_INVALID", "PutBlob with a wrong digest")
	_, err = e.svc.PutBlob(ctx, regName, "app", digestOf(data), 3, bytes.NewReader(data))
	mustReason(t, err, "SIZE_INVALID", "PutBlob with a wrong size")
	_, err = e.svc.PutBlob(ctx, regName, "app", "sha384:"+digest.Digest(strings.Repeat("0", 96)), -1, bytes.NewReader(data))
	mustReason(t, err, "DIGEST_INVALID", "PutBlob sha384")

	// sha512 and the empty blob.
	d512 := digest.SHA512.FromBytes(data)
	_, err = e.svc.PutBlob(ctx, regName, "app", d512, int64(len(data)), bytes.NewReader(data))
	must(t, err)
	if got, err := e.readBlob("app", d512); err != nil || !bytes.Equal(got, data) {
		t.Errorf("sha512 blob: %q %v", got, err)
	}
	empty := digestOf(nil)
	_, err = e.svc.PutBlob(ctx, regName, "app", empty, 0, bytes.NewReader(nil))
	must(t, err)
	if info, err := e.svc.StatBlob(ctx, regName, "app", empty); err != nil || info.Size != 0 {
		t.Errorf("empty blob: %+v %v", info, err)
	}

	// Visible only in the repository it was pushed to.
	_, err = e.svc.StatBlob(ctx, regName, "other", digestOf(data))
	mustReason(t, err, "BLOB_UNKNOWN", "blob in another repository")
	_, err = e.svc.OpenBlob(ctx, regName, "other", digestOf(data))
	mustReason(t, err, "BLOB_UNKNOWN", "open blob in another repository")

	must(t, e.svc.DeleteBlob(ctx, regName, "app", digestOf(data)))
	mustReason(t, e.svc.DeleteBlob(ctx, regName, "app", digestOf(data)), "BLOB_UNKNOWN", "delete again")
	_, err = e.svc.StatBlob(ctx, regName, "app", digestOf(data))
	mustReason(t, err, "BLOB_UNKNOWN", "blob after delete")
}

func TestMountBlob(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	data := []byte("mountable")
	d := e.pushBlob("source", data)

	info, err := e.svc.MountBlob(ctx, regName, "target", "source", d)
	must(t, err)
	if info.Size != int64(len(data)) {
		t.Errorf("MountBlob: %+v", info)
	}
	if got, _ := e.readBlob("target", d); !bytes.Equal(got, data) {
		t.Error("mounted blob differs")
	}
	// Without from: any repository of the registry.
	_, err = e.svc.MountBlob(ctx, regName, "anon", "", d)
	must(t, err)
	_, err = e.svc.StatBlob(ctx, regName, "anon", d)
	must(t, err)
	// From a repository that lacks it, or an invalid name: not mountable.
	_, err = e.svc.MountBlob(ctx, regName, "target2", "empty", d)
	mustReason(t, err, "BLOB_UNKNOWN", "mount from a repository without the blob")
	_, err = e.svc.MountBlob(ctx, regName, "target2", "../source", d)
	mustReason(t, err, "BLOB_UNKNOWN", "mount from an invalid repository")
	_, err = e.svc.MountBlob(ctx, regName, "target2", "", digestOf([]byte("never pushed")))
	mustReason(t, err, "BLOB_UNKNOWN", "mount of an unknown blob")

	// Never from another registry, even with the same repository name.
	second, _, err := e.svc.Create(ctx, registry.CreateInput{Group: resourceid.ForResourceGroup(subID, "rg2"), Name: "second01", Location: "eastus", SKU: "Basic"})
	must(t, err)
	secret := []byte("only in the second registry")
	sd := digestOf(secret)
	_, err = e.svc.PutBlob(ctx, second.Name, "source", sd, -1, bytes.NewReader(secret))
	must(t, err)
	_, err = e.svc.MountBlob(ctx, regName, "target", "source", sd)
	mustReason(t, err, "BLOB_UNKNOWN", "mount from another registry's repository")
	_, err = e.svc.MountBlob(ctx, regName, "target", "", sd)
	mustReason(t, err, "BLOB_UNKNOWN", "mount without from of another registry's blob")
	_, err = e.svc.StatBlob(ctx, regName, "source", sd)
	mustReason(t, err, "BLOB_UNKNOWN", "another registry's blob")
}
