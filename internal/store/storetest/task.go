package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/store"
	"github.com/cerulean/cerulean/internal/task"
)

func newRun(reg string, seq int64) task.Run {
	return task.Run{
		Registry: reg, ID: fmt.Sprintf("ca%d", seq), Seq: seq, Type: task.QuickBuild, Status: task.StatusQueued,
		Platform: task.Platform{OS: "linux", Architecture: "amd64"}, Server: "server-a",
		CreatedAt: at(int(seq)).In(otherZone), UpdatedAt: at(int(seq)), Timeout: 3600,
	}
}

func testTaskRunSeq(t *testing.T, s store.Store) {
	ctx, ts := t.Context(), s.Tasks()
	mkRegistry(t, s, "first")
	for want := int64(1); want <= 3; want++ {
		n, err := ts.NextRunSeq(ctx, "FIRST")
		must(t, err, "NextRunSeq")
		equal(t, "run number", n, want)
	}
	// Each registry counts on its own.
	mkRegistry(t, s, "second")
	n, err := ts.NextRunSeq(ctx, "second")
	must(t, err, "NextRunSeq second")
	equal(t, "second registry's first number", n, int64(1))
	_, err = ts.NextRunSeq(ctx, "nosuchregistry")
	mustKind(t, err, errdefs.NotFound, "NextRunSeq of a missing registry")
}

func testTaskRunSeqConcurrent(t *testing.T, s store.Store) {
	ctx, ts := t.Context(), s.Tasks()
	mkRegistry(t, s, "busy")
	const workers, each = 4, 10
	var (
		mu   sync.Mutex
		seen = map[int64]bool{}
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for range each {
				n, err := ts.NextRunSeq(ctx, "busy")
				if err != nil {
					t.Errorf("NextRunSeq: %v", err)
					return
				}
				mu.Lock()
				if seen[n] {
					t.Errorf("number %d handed out twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for n := int64(1); n <= workers*each; n++ {
		if !seen[n] {
			t.Errorf("number %d never handed out", n)
		}
	}
}

func testTaskRunRoundTrip(t *testing.T, s store.Store) {
	ctx, ts := t.Context(), s.Tasks()
	mkRegistry(t, s, "runs")
	r := newRun("runs", 1)
	must(t, ts.CreateRun(ctx, r), "CreateRun")
	mustKind(t, ts.CreateRun(ctx, r), errdefs.AlreadyExists, "CreateRun again")
	got, err := ts.GetRun(ctx, "RUNS", "ca1")
	must(t, err, "GetRun")
	want := r
	want.CreatedAt, want.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	equal(t, "stored run", got, want)
	_, err = ts.GetRun(ctx, "runs", "ca2")
	mustKind(t, err, errdefs.NotFound, "GetRun missing")

	upd, err := ts.UpdateRun(ctx, "runs", "ca1", func(r *task.Run) error {
		r.Status, r.StartedAt, r.FinishedAt = task.StatusSucceeded, at(10), at(20)
		r.OutputImages = []task.OutputImage{{Registry: "runs.azurecr.test", Repository: "app", Tag: "v1", Digest: "sha256:" + fmt.Sprintf("%064d", 1)}}
		r.ErrorMessage, r.ArchiveEnabled, r.LogComplete = "", true, "successful"
		return nil
	})
	must(t, err, "UpdateRun")
	got, err = ts.GetRun(ctx, "runs", "ca1")
	must(t, err, "GetRun after update")
	equal(t, "updated run", got, upd)
	boom := errdefs.New(errdefs.Conflict, "X", "no")
	_, err = ts.UpdateRun(ctx, "runs", "ca1", func(r *task.Run) error { r.Status = task.StatusFailed; return boom })
	mustKind(t, err, errdefs.Conflict, "UpdateRun with a failing fn")
	got, _ = ts.GetRun(ctx, "runs", "ca1")
	equal(t, "status after a failed update", got.Status, task.StatusSucceeded)
	_, err = ts.UpdateRun(ctx, "runs", "ca9", func(*task.Run) error { return nil })
	mustKind(t, err, errdefs.NotFound, "UpdateRun missing")
	_, err = ts.UpdateRun(ctx, "runs", "ca1", func(r *task.Run) error { r.ID = "ca7"; return nil })
	if err == nil {
		t.Error("UpdateRun changing the id: no error")
	}
}

func testTaskRunList(t *testing.T, s store.Store) {
	ctx, ts := t.Context(), s.Tasks()
	mkRegistry(t, s, "listed")
	for seq := int64(1); seq <= 12; seq++ { // ca10 sorts before ca9 as text: order is by number
		r := newRun("listed", seq)
		if seq%3 == 0 {
			r.Status = task.StatusFailed
		}
		must(t, ts.CreateRun(ctx, r), "CreateRun")
	}
	ids := func(rs []task.Run) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	all, err := ts.ListRuns(ctx, "listed", task.RunFilter{})
	must(t, err, "ListRuns")
	equal(t, "all, newest first", ids(all), []string{"ca12", "ca11", "ca10", "ca9", "ca8", "ca7", "ca6", "ca5", "ca4", "ca3", "ca2", "ca1"})
	top, err := ts.ListRuns(ctx, "listed", task.RunFilter{Top: 2})
	must(t, err, "ListRuns top")
	equal(t, "top 2", ids(top), []string{"ca12", "ca11"})
	failed, err := ts.ListRuns(ctx, "listed", task.RunFilter{Status: task.StatusFailed, Top: 3})
	must(t, err, "ListRuns failed")
	equal(t, "failed", ids(failed), []string{"ca12", "ca9", "ca6"})
	unfinished, err := ts.ListUnfinishedRuns(ctx)
	must(t, err, "ListUnfinishedRuns")
	equal(t, "unfinished", len(unfinished), 8)
	none, err := ts.ListRuns(ctx, "other", task.RunFilter{})
	must(t, err, "ListRuns other")
	equal(t, "another registry's runs", len(none), 0)
}

func testTaskLog(t *testing.T, s store.Store) {
	ctx, ts := t.Context(), s.Tasks()
	mkRegistry(t, s, "logged")
	must(t, ts.CreateRun(ctx, newRun("logged", 1)), "CreateRun")
	var all []byte
	for i := range 5 {
		chunk := bytes.Repeat([]byte{byte('a' + i)}, 10+i)
		must(t, ts.AppendLog(ctx, "logged", "ca1", chunk), "AppendLog")
		all = append(all, chunk...)
	}
	must(t, ts.AppendLog(ctx, "logged", "ca1", nil), "AppendLog empty")
	r, err := ts.GetRun(ctx, "logged", "ca1")
	must(t, err, "GetRun")
	equal(t, "log size", r.LogSize, int64(len(all)))
	for _, c := range []struct{ off, n int64 }{{0, 1000}, {0, 5}, {3, 20}, {10, 11}, {int64(len(all)) - 1, 10}, {int64(len(all)), 10}, {500, 10}} {
		got, err := ts.ReadLog(ctx, "logged", "ca1", c.off, c.n)
		must(t, err, "ReadLog")
		lo, hi := min(c.off, int64(len(all))), min(c.off+c.n, int64(len(all)))
		if !bytes.Equal(got, all[lo:hi]) {
			t.Errorf("ReadLog(%d, %d) = %q, want %q", c.off, c.n, got, all[lo:hi])
		}
	}
	mustKind(t, ts.AppendLog(ctx, "logged", "ca2", []byte("x")), errdefs.NotFound, "AppendLog to a missing run")
}

func testTaskSources(t *testing.T, s store.Store) {
	ctx, ts := t.Context(), s.Tasks()
	mkRegistry(t, s, "sourced")
	const path = "source/202501010000/abc.tar.gz"
	_, err := ts.GetSource(ctx, "sourced", path)
	mustKind(t, err, errdefs.NotFound, "GetSource before upload")
	must(t, ts.PutSourceBlock(ctx, "sourced", path, task.SourceBlock{ID: "b2", Digest: "sha256:2", Size: 2}), "PutSourceBlock")
	must(t, ts.PutSourceBlock(ctx, "sourced", path, task.SourceBlock{ID: "b1", Digest: "sha256:1", Size: 1}), "PutSourceBlock")
	must(t, ts.PutSourceBlock(ctx, "sourced", path, task.SourceBlock{ID: "b1", Digest: "sha256:11", Size: 11}), "PutSourceBlock again")
	bl, err := ts.SourceBlocks(ctx, "sourced", path)
	must(t, err, "SourceBlocks")
	equal(t, "blocks", bl, []task.SourceBlock{{ID: "b1", Digest: "sha256:11", Size: 11}, {ID: "b2", Digest: "sha256:2", Size: 2}})
	src := task.Source{Registry: "sourced", Path: path, Digest: "sha256:x", Size: 13, CreatedAt: at(3)}
	must(t, ts.PutSource(ctx, src), "PutSource")
	got, err := ts.GetSource(ctx, "SOURCED", path)
	must(t, err, "GetSource")
	equal(t, "source", got, src)
	bl, err = ts.SourceBlocks(ctx, "sourced", path)
	must(t, err, "SourceBlocks after commit")
	equal(t, "blocks after commit", len(bl), 0)
	mustKind(t, ts.PutSource(ctx, task.Source{Registry: "missing", Path: path, CreatedAt: at(1)}), errdefs.NotFound, "PutSource of a missing registry")
}

func testTaskRegistryDeleteCascades(t *testing.T, s store.Store) {
	ctx, ts := t.Context(), s.Tasks()
	mkRegistry(t, s, "gone")
	_, err := ts.NextRunSeq(ctx, "gone")
	must(t, err, "NextRunSeq")
	must(t, ts.CreateRun(ctx, newRun("gone", 1)), "CreateRun")
	must(t, ts.AppendLog(ctx, "gone", "ca1", []byte("log")), "AppendLog")
	must(t, ts.PutSource(ctx, task.Source{Registry: "gone", Path: "p", Digest: "d", Size: 1, CreatedAt: at(1)}), "PutSource")
	must(t, s.Registry().DeleteRegistry(ctx, "gone"), "DeleteRegistry")
	_, err = ts.GetRun(ctx, "gone", "ca1")
	mustKind(t, err, errdefs.NotFound, "run after the registry's delete")
	_, err = ts.GetSource(ctx, "gone", "p")
	mustKind(t, err, errdefs.NotFound, "source after the registry's delete")
	// A registry re-created under the name starts again at ca1.
	mkRegistry(t, s, "gone")
	n, err := ts.NextRunSeq(ctx, "gone")
	must(t, err, "NextRunSeq after re-create")
	equal(t, "first number of the new registry", n, int64(1))
}
