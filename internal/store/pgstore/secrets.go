package pgstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// The shared secrets are the few values every server on the database must
// hold the same of: keys that sign and seal, the CA, the bootstrap
// credentials. Whoever reads this table owns the system, as whoever reads
// a single server's data dir does; PostgreSQL's access control and
// encryption at rest protect it.

// SharedSecret returns the secret stored under name; NotFound when there
// is none. It works on a read-only store.
func (s *Store) SharedSecret(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM shared_secrets WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.Newf(errdefs.NotFound, "", "no shared secret %q", name)
	}
	if err != nil {
		return nil, errdefs.Internalf(err, "store: read shared secret %s", name)
	}
	return v, nil
}

// ClaimSharedSecret stores value under name unless a value is stored there
// already, and returns the stored value, with stored true when it is this
// call's. Of servers claiming one name at once, every one gets the value
// of the first to commit: the insert of a later one waits for the earlier
// one's row, skips (ON CONFLICT DO NOTHING), and the select that follows,
// a new snapshot under READ COMMITTED, reads that row.
func (s *Store) ClaimSharedSecret(ctx context.Context, name string, value []byte) ([]byte, bool, error) {
	if s.readOnly {
		return nil, false, errdefs.Newf(errdefs.FailedPrecondition, "", "store: the store is open read-only")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, errdefs.Internalf(err, "store: begin")
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, `INSERT INTO shared_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, value)
	if err != nil {
		return nil, false, errdefs.Internalf(err, "store: store shared secret %s", name)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, errdefs.Internalf(err, "store: store shared secret %s", name)
	}
	stored := value
	if n == 0 {
		if err := tx.QueryRowContext(ctx, `SELECT value FROM shared_secrets WHERE name = $1`, name).Scan(&stored); err != nil {
			return nil, false, errdefs.Internalf(err, "store: read shared secret %s", name)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, false, errdefs.Internalf(err, "store: commit")
	}
	return stored, n == 1, nil
}

// PutSharedSecret stores value under name, replacing any value there. The
// caller serializes replacements (the bootstrap credentials are replaced
// under the bootstrap lock).
func (s *Store) PutSharedSecret(ctx context.Context, name string, value []byte) error {
	if s.readOnly {
		return errdefs.Newf(errdefs.FailedPrecondition, "", "store: the store is open read-only")
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO shared_secrets (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()`, name, value); err != nil {
		return errdefs.Internalf(err, "store: store shared secret %s", name)
	}
	return nil
}
