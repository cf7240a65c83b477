package sqlbase

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/task"
)

// taskStore implements task.Store.
type taskStore struct{ s *Store }

var _ task.Store = taskStore{}

// Tasks returns the ACR Tasks store.
func (s *Store) Tasks() task.Store { return taskStore{s} }

// NextRunSeq is one upsert: of servers asking at once, each gets its own
// number (SQLite serializes writers; PostgreSQL locks the row).
func (st taskStore) NextRunSeq(ctx context.Context, registry string) (int64, error) {
	var n int64
	err := st.s.write(ctx, func(tx querier) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO task_counters (registry_key, last_seq) VALUES (?, 1)
			ON CONFLICT (registry_key) DO UPDATE SET last_seq = task_counters.last_seq + 1
			RETURNING last_seq`, key(registry)).Scan(&n)
		switch {
		case err != nil && st.s.d.IsForeignKey(err):
			return errNotFound("registry '%s' not found", registry)
		case err != nil:
			return errdefs.Internalf(err, "store: next run number")
		}
		return nil
	})
	return n, err
}

// runDetails is task_runs.details.
type runDetails struct {
	Platform       task.Platform      `json:"platform"`
	OutputImages   []task.OutputImage `json:"outputImages,omitempty"`
	ErrorMessage   string             `json:"errorMessage,omitempty"`
	ArchiveEnabled bool               `json:"archiveEnabled,omitempty"`
	Timeout        int                `json:"timeout,omitempty"`
}

const runSelect = `SELECT registry_key, run_id, seq, run_type, status, server, details, created_at, started_at,
	finished_at, updated_at, log_size, log_complete FROM task_runs`

func formatOptTime(r *task.Run) (started, finished string) {
	if !r.StartedAt.IsZero() {
		started = formatTime(r.StartedAt)
	}
	if !r.FinishedAt.IsZero() {
		finished = formatTime(r.FinishedAt)
	}
	return started, finished
}

func scanRun(sc scanner) (task.Run, error) {
	var (
		r                               task.Run
		typ, status, details            string
		created, started, finished, upd string
	)
	if err := sc.Scan(&r.Registry, &r.ID, &r.Seq, &typ, &status, &r.Server, &details, &created, &started,
		&finished, &upd, &r.LogSize, &r.LogComplete); err != nil {
		return r, err
	}
	r.Type, r.Status = task.RunType(typ), task.Status(status)
	var d runDetails
	if err := json.Unmarshal([]byte(details), &d); err != nil {
		return r, err
	}
	r.Platform, r.OutputImages, r.ErrorMessage, r.ArchiveEnabled, r.Timeout = d.Platform, d.OutputImages, d.ErrorMessage, d.ArchiveEnabled, d.Timeout
	var err error
	if r.CreatedAt, err = parseTime(created); err != nil {
		return r, err
	}
	if r.UpdatedAt, err = parseTime(upd); err != nil {
		return r, err
	}
	if started != "" {
		if r.StartedAt, err = parseTime(started); err != nil {
			return r, err
		}
	}
	if finished != "" {
		if r.FinishedAt, err = parseTime(finished); err != nil {
			return r, err
		}
	}
	return r, nil
}

func runColumns(r task.Run) []any {
	d, _ := json.Marshal(runDetails{ // cannot fail for these types
		Platform: r.Platform, OutputImages: r.OutputImages, ErrorMessage: r.ErrorMessage,
		ArchiveEnabled: r.ArchiveEnabled, Timeout: r.Timeout,
	})
	started, finished := formatOptTime(&r)
	return []any{string(r.Type), string(r.Status), r.Server, string(d), started, finished, formatTime(r.UpdatedAt), r.LogSize, r.LogComplete}
}

func (st taskStore) CreateRun(ctx context.Context, r task.Run) error {
	return st.s.write(ctx, func(tx querier) error {
		args := append([]any{key(r.Registry), r.ID, r.Seq, formatTime(r.CreatedAt)}, runColumns(r)...)
		_, err := tx.ExecContext(ctx, `INSERT INTO task_runs (registry_key, run_id, seq, created_at, run_type, status,
			server, details, started_at, finished_at, updated_at, log_size, log_complete)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		switch {
		case err != nil && st.s.d.IsUnique(err):
			return errAlreadyExists("run '%s' exists", r.ID)
		case err != nil && st.s.d.IsForeignKey(err):
			return errNotFound("registry '%s' not found", r.Registry)
		case err != nil:
			return errdefs.Internalf(err, "store: create run")
		}
		return nil
	})
}

func getRun(ctx context.Context, q querier, registry, id string) (task.Run, error) {
	r, err := scanRun(q.QueryRowContext(ctx, runSelect+` WHERE registry_key = ? AND run_id = ?`, key(registry), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return task.Run{}, errNotFound("run '%s' not found", id)
	case err != nil:
		return task.Run{}, errdefs.Internalf(err, "store: get run")
	}
	return r, nil
}

func (st taskStore) GetRun(ctx context.Context, registry, id string) (task.Run, error) {
	return getRun(ctx, st.s.q, registry, id)
}

func (st taskStore) ListRuns(ctx context.Context, registry string, f task.RunFilter) ([]task.Run, error) {
	limit := st.s.d.NoLimit
	if f.Top > 0 {
		limit = f.Top
	}
	if f.Status != "" {
		return queryList(ctx, st.s.q, "runs", scanRun, runSelect+` WHERE registry_key = ? AND status = ? ORDER BY seq DESC LIMIT ?`,
			key(registry), string(f.Status), limit)
	}
	return queryList(ctx, st.s.q, "runs", scanRun, runSelect+` WHERE registry_key = ? ORDER BY seq DESC LIMIT ?`, key(registry), limit)
}

func (st taskStore) ListUnfinishedRuns(ctx context.Context) ([]task.Run, error) {
	return queryList(ctx, st.s.q, "runs", scanRun, runSelect+` WHERE status IN (?, ?) ORDER BY registry_key, seq`,
		string(task.StatusQueued), string(task.StatusRunning))
}

func (st taskStore) UpdateRun(ctx context.Context, registry, id string, fn func(*task.Run) error) (task.Run, error) {
	var out task.Run
	err := st.s.write(ctx, func(tx querier) error {
		r, err := getRun(ctx, tx, registry, id)
		if err != nil {
			return err
		}
		orig := r
		if err := fn(&r); err != nil {
			return err
		}
		if r.Registry != orig.Registry || r.ID != orig.ID || r.Seq != orig.Seq {
			return errImmutable("run identity")
		}
		args := append(runColumns(r), key(registry), id)
		if err := execOne(ctx, tx, errNotFound("run '%s' not found", id), "update run", `UPDATE task_runs SET run_type = ?,
			status = ?, server = ?, details = ?, started_at = ?, finished_at = ?, updated_at = ?, log_size = ?, log_complete = ?
			WHERE registry_key = ? AND run_id = ?`, args...); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

func (st taskStore) AppendLog(ctx context.Context, registry, id string, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	return st.s.write(ctx, func(tx querier) error {
		var size int64
		err := tx.QueryRowContext(ctx, `SELECT log_size FROM task_runs WHERE registry_key = ? AND run_id = ?`, key(registry), id).Scan(&size)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return errNotFound("run '%s' not found", id)
		case err != nil:
			return errdefs.Internalf(err, "store: append log")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO task_run_logs (registry_key, run_id, start_offset, size, data) VALUES (?, ?, ?, ?, ?)`,
			key(registry), id, size, len(data), data); err != nil {
			return errdefs.Internalf(err, "store: append log")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE task_runs SET log_size = ? WHERE registry_key = ? AND run_id = ?`,
			size+int64(len(data)), key(registry), id); err != nil {
			return errdefs.Internalf(err, "store: append log")
		}
		return nil
	})
}

func (st taskStore) ReadLog(ctx context.Context, registry, id string, offset, limit int64) ([]byte, error) {
	if limit <= 0 || offset < 0 {
		return []byte{}, nil
	}
	end := offset + limit
	rows, err := st.s.q.QueryContext(ctx, `SELECT start_offset, data FROM task_run_logs
		WHERE registry_key = ? AND run_id = ? AND start_offset + size > ? AND start_offset < ? ORDER BY start_offset`,
		key(registry), id, offset, end)
	if err != nil {
		return nil, errdefs.Internalf(err, "store: read log")
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := make([]byte, 0, limit)
	for rows.Next() {
		var (
			start int64
			data  []byte
		)
		if err := rows.Scan(&start, &data); err != nil {
			return nil, errdefs.Internalf(err, "store: read log")
		}
		lo, hi := max(offset-start, 0), min(end-start, int64(len(data)))
		if start+lo != offset+int64(len(out)) { // a gap: never written
			break
		}
		out = append(out, data[lo:hi]...)
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "store: read log")
	}
	return out, nil
}

func (st taskStore) PutSource(ctx context.Context, s task.Source) error {
	return st.s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO task_sources (registry_key, path, digest, size, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (registry_key, path) DO UPDATE SET digest = excluded.digest, size = excluded.size, created_at = excluded.created_at`,
			key(s.Registry), s.Path, s.Digest, s.Size, formatTime(s.CreatedAt))
		switch {
		case err != nil && st.s.d.IsForeignKey(err):
			return errNotFound("registry '%s' not found", s.Registry)
		case err != nil:
			return errdefs.Internalf(err, "store: put source")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM task_source_blocks WHERE registry_key = ? AND path = ?`, key(s.Registry), s.Path); err != nil {
			return errdefs.Internalf(err, "store: put source")
		}
		return nil
	})
}

func (st taskStore) GetSource(ctx context.Context, registry, path string) (task.Source, error) {
	s := task.Source{Registry: key(registry), Path: path}
	var created string
	err := st.s.q.QueryRowContext(ctx, `SELECT digest, size, created_at FROM task_sources WHERE registry_key = ? AND path = ?`,
		key(registry), path).Scan(&s.Digest, &s.Size, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return task.Source{}, errNotFound("source '%s' not found", path)
	case err != nil:
		return task.Source{}, errdefs.Internalf(err, "store: get source")
	}
	if s.CreatedAt, err = parseTime(created); err != nil {
		return task.Source{}, errdefs.Internalf(err, "store: get source")
	}
	return s, nil
}

func (st taskStore) PutSourceBlock(ctx context.Context, registry, path string, b task.SourceBlock) error {
	return st.s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO task_source_blocks (registry_key, path, block_id, digest, size) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (registry_key, path, block_id) DO UPDATE SET digest = excluded.digest, size = excluded.size`,
			key(registry), path, b.ID, b.Digest, b.Size)
		switch {
		case err != nil && st.s.d.IsForeignKey(err):
			return errNotFound("registry '%s' not found", registry)
		case err != nil:
			return errdefs.Internalf(err, "store: put source block")
		}
		return nil
	})
}

func (st taskStore) SourceBlocks(ctx context.Context, registry, path string) ([]task.SourceBlock, error) {
	return queryList(ctx, st.s.q, "source blocks", func(sc scanner) (task.SourceBlock, error) {
		var b task.SourceBlock
		err := sc.Scan(&b.ID, &b.Digest, &b.Size)
		return b, err
	}, `SELECT block_id, digest, size FROM task_source_blocks WHERE registry_key = ? AND path = ? ORDER BY block_id`, key(registry), path)
}
