package sqlstore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// TestOpenReadOnly: a reader beside a running writer sees its commits and
// cannot write; once the writer is gone, reading leaves the file as it was;
// a missing file is NotFound and is not created.
func TestOpenReadOnly(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "cerulean.db")

	if _, err := OpenReadOnly(ctx, path); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("missing file: got %v, want NotFound", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("OpenReadOnly created the file: %v", err)
	}

	w, err := Open(ctx, path, nil)
	mustNil(t, err)
	mustNil(t, w.Identity().CreateTenant(ctx, tenant))
	r, err := OpenReadOnly(ctx, path)
	mustNil(t, err)
	mustNil(t, w.Resources().CreateSubscription(ctx, sub)) // committed after the reader opened
	subs, err := r.Resources().ListSubscriptions(ctx)
	mustNil(t, err)
	if len(subs) != 1 || subs[0].ID != sub.ID {
		t.Fatalf("reader sees %+v, want the writer's subscription", subs)
	}
	other := tenant
	other.ID = "33333333-3333-4333-8333-333333333333"
	if err := r.Identity().CreateTenant(ctx, other); err == nil {
		t.Fatal("a write through the read-only store succeeded")
	} else {
		t.Logf("write refused: %v", err)
	}
	mustNil(t, r.Close())
	mustNil(t, w.Close())

	before, err := os.ReadFile(path)
	mustNil(t, err)
	r, err = OpenReadOnly(ctx, path)
	mustNil(t, err)
	if _, err := r.Resources().ListSubscriptions(ctx); err != nil {
		t.Fatal(err)
	}
	mustNil(t, r.Close())
	after, err := os.ReadFile(path)
	mustNil(t, err)
	if !bytes.Equal(before, after) {
		t.Fatal("reading changed the database file")
	}
}

// TestOpenReadOnlySchema: a database this binary would migrate, or one
// with a migration it does not know, is refused rather than misread.
func TestOpenReadOnlySchema(t *testing.T) {
	ctx := t.Context()
	migs, err := loadMigrations()
	mustNil(t, err)

	behind := filepath.Join(t.TempDir(), "behind.db")
	s := rawStore(t, behind)
	_, _, err = s.migrate(ctx, migs[:len(migs)-1])
	mustNil(t, err)
	if _, err := OpenReadOnly(ctx, behind); !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Fatalf("database missing a migration: got %v, want FailedPrecondition", err)
	}

	ahead := filepath.Join(t.TempDir(), "ahead.db")
	s = rawStore(t, ahead)
	_, _, err = s.migrate(ctx, append(migs[:len(migs):len(migs)], migration{Version: 9999, Name: "9999_future.sql", SQL: "CREATE TABLE future (x INTEGER);"}))
	mustNil(t, err)
	if _, err := OpenReadOnly(ctx, ahead); !errdefs.IsKind(err, errdefs.FailedPrecondition) {
		t.Fatalf("database from a newer binary: got %v, want FailedPrecondition", err)
	}
}
