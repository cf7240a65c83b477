package registry

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/blob"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// GCStats is what one collection pass did.
type GCStats struct {
	BlobsDeleted, UploadsExpired int
	BytesFreed                   int64
}

// CollectGarbage runs one pass of online garbage collection:
//
//  1. upload sessions idle longer than UploadTTL are discarded: their rows
//     and their bytes, and the bytes of sessions that have no row any more;
//  2. every blob committed longer than GCGrace ago that no repository of
//     any registry links or stores as a manifest, and that no manifest
//     references, is deleted.
//
// Pushes go on meanwhile, on this server and on the others sharing the
// Store: a push holds a digest's lock from commit to link, and the pass
// checks and deletes a digest under the same lock, skipping digests that
// are busy (they are being pushed, so they are wanted). Likewise a session
// is expired under its upload's lock, and skipped while a request holds it. The
// grace window covers the time between a layer's commit and the push of
// the manifest that references it.
func (s *Service) CollectGarbage(ctx context.Context) (GCStats, error) {
	var st GCStats
	now := s.clock()
	n, err := s.expireUploads(ctx, now.Add(-s.uploadTTL))
	st.UploadsExpired = n
	if err != nil {
		return st, err
	}

	cutoff := now.Add(-s.gcGrace)
	var candidates []blob.Info
	err = s.blobs.Walk(ctx, func(info blob.Info) error {
		if info.CreatedAt.Before(cutoff) {
			candidates = append(candidates, info)
		}
		return ctx.Err()
	})
	if err != nil {
		return st, err
	}
	for _, info := range candidates {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		deleted, err := s.collect(ctx, info.Digest)
		if err != nil {
			return st, err
		}
		if deleted {
			st.BlobsDeleted++
			st.BytesFreed += info.Size
		}
	}
	return st, nil
}

// collect deletes one blob if nothing references it.
func (s *Service) collect(ctx context.Context, d digest.Digest) (bool, error) {
	unlock, ok, err := s.digests.tryLock(ctx, d.String())
	if err != nil || !ok {
		return false, err // !ok: being pushed right now, here or on another server
	}
	defer unlock()
	used, err := s.store.BlobReferenced(ctx, d)
	if err != nil || used {
		return false, err
	}
	err = s.blobs.Delete(ctx, d)
	if isBlobErr(err, blob.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.log.DebugContext(ctx, "blob collected", "digest", d.String())
	return true, nil
}

// expireUploads discards sessions idle since before cutoff.
func (s *Service) expireUploads(ctx context.Context, cutoff time.Time) (int, error) {
	stale, err := s.store.StaleUploads(ctx, cutoff)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range stale {
		unlock, ok, err := s.uploads.tryLock(ctx, u.ID)
		if err != nil {
			return n, err
		}
		if !ok {
			continue // a request of some server is writing to it: not idle after all
		}
		expired, err := s.expireUpload(ctx, u, cutoff)
		unlock()
		if err != nil {
			return n, err
		}
		if expired {
			n++
		}
	}
	// Bytes of sessions whose rows are gone (a deleted registry, a crash
	// between the two deletes) expire by their own age.
	live, err := s.store.StaleUploads(ctx, cutoff.Add(100*365*24*time.Hour)) // every session left
	if err != nil {
		return n, err
	}
	rows := make(map[string]bool, len(live))
	for _, u := range live {
		rows[u.ID] = true
	}
	var orphans []string
	err = s.blobs.WalkUploads(ctx, func(id string, modified time.Time) error {
		if !rows[id] && modified.Before(cutoff) {
			orphans = append(orphans, id)
		}
		return ctx.Err()
	})
	if err != nil {
		return n, err
	}
	for _, id := range orphans {
		unlock, ok, err := s.uploads.tryLock(ctx, id)
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		err = s.blobs.DeleteUpload(ctx, id)
		unlock()
		if err != nil && !isBlobErr(err, blob.ErrUploadNotFound) {
			return n, err
		}
	}
	return n, nil
}

// expireUpload discards a session listed as idle since before cutoff,
// unless a request wrote to it since (and let go of its lock before the
// caller took it). The caller holds the upload's lock.
func (s *Service) expireUpload(ctx context.Context, u Upload, cutoff time.Time) (bool, error) {
	row, err := s.store.GetUpload(ctx, u.Registry, u.Repository, u.ID)
	switch {
	case errdefs.IsKind(err, errdefs.NotFound):
		return false, nil // gone already
	case err != nil:
		return false, err
	case !row.UpdatedAt.Before(cutoff):
		return false, nil
	}
	err = s.blobs.DeleteUpload(ctx, u.ID)
	if err == nil || isBlobErr(err, blob.ErrUploadNotFound) {
		err = s.store.DeleteUpload(ctx, u.ID)
	}
	if err != nil && !errdefs.IsKind(err, errdefs.NotFound) {
		return false, err
	}
	return true, nil
}

// RunGC collects garbage every interval until ctx ends, on one server of
// those sharing the Store at a time: the first to try the "gc" lock keeps
// it between passes, and the others skip their passes while it lives. The
// holder lets go and retakes the lock at each pass, so that a holder whose
// lock was lost without its knowing (the database restarted) stops
// competing with the new holder; two passes at once are safe anyway, only
// wasted work.
func (s *Service) RunGC(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var release func()
	defer func() {
		if release != nil {
			release()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var ok bool
		release, ok = s.gcTurn(ctx, release)
		if !ok {
			continue
		}
		start := time.Now()
		st, err := s.CollectGarbage(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.ErrorContext(ctx, "garbage collection failed", "error", err,
				"blobs_deleted", st.BlobsDeleted, "uploads_expired", st.UploadsExpired)
		case st.BlobsDeleted > 0 || st.UploadsExpired > 0:
			s.log.InfoContext(ctx, "garbage collected", "blobs_deleted", st.BlobsDeleted,
				"bytes_freed", st.BytesFreed, "uploads_expired", st.UploadsExpired, "duration", time.Since(start))
		default:
			s.log.DebugContext(ctx, "garbage collection found nothing", "duration", time.Since(start))
		}
	}
}

// gcTurn lets go of the "gc" lock if held and tries to take it again; ok
// is whether this server collects now.
func (s *Service) gcTurn(ctx context.Context, held func()) (release func(), ok bool) {
	if held != nil {
		held()
	}
	release, ok, err := s.gc.tryLock(ctx, "gc")
	switch {
	case err != nil:
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "garbage collection lock failed", "error", err)
		}
		return nil, false
	case !ok:
		if held != nil {
			s.log.InfoContext(ctx, "garbage collection moved to another server")
		}
		s.log.DebugContext(ctx, "garbage collection runs on another server")
		return nil, false
	}
	return release, true
}
