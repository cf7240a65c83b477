package sqlbase

import (
	"context"
	"database/sql"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
)

// Owner kinds in password_credentials.
const (
	ownerApplication      = "application"
	ownerServicePrincipal = "servicePrincipal"
)

// passwordColumns are selected through a LEFT JOIN aliased p, so an object
// and its credentials come back from one statement (one snapshot).
const passwordColumns = `p.key_id, p.display_name, p.hint, p.salt, p.hash, p.start_date_time, p.end_date_time`

// passwordRow scans the nullable password columns of a joined row.
type passwordRow struct {
	keyID, displayName, hint, start, end sql.NullString
	salt, hash                           []byte
}

func (p *passwordRow) dest() []any {
	return []any{&p.keyID, &p.displayName, &p.hint, &p.salt, &p.hash, &p.start, &p.end}
}

// credential returns the scanned credential; ok is false for the NULL row
// of an object without credentials.
func (p *passwordRow) credential() (c identity.PasswordCredential, ok bool, err error) {
	if !p.keyID.Valid {
		return c, false, nil
	}
	c = identity.PasswordCredential{
		KeyID:       p.keyID.String,
		DisplayName: p.displayName.String,
		Hint:        p.hint.String,
		Salt:        nonNil(p.salt),
		Hash:        nonNil(p.hash),
	}
	if c.StartDateTime, err = parseTime(p.start.String); err != nil {
		return c, false, err
	}
	if c.EndDateTime, err = parseTime(p.end.String); err != nil {
		return c, false, err
	}
	return c, true, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// putPasswords replaces the owner's credentials.
func (s *Store) putPasswords(ctx context.Context, tx querier, kind, ownerKey string, pws []identity.PasswordCredential, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_credentials WHERE owner_kind = ? AND owner_id = ?`,
			kind, ownerKey); err != nil {
			return errdefs.Internalf(err, "store: delete password credentials")
		}
	}
	for i, p := range pws {
		_, err := tx.ExecContext(ctx, `INSERT INTO password_credentials
			(owner_kind, owner_id, key_id, position, display_name, hint, salt, hash, start_date_time, end_date_time)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			kind, ownerKey, p.KeyID, i, p.DisplayName, p.Hint, nonNil(p.Salt), nonNil(p.Hash),
			formatTime(p.StartDateTime), formatTime(p.EndDateTime))
		switch {
		case s.d.IsUnique(err):
			return errConflict("password credential key id '%s' is used twice", p.KeyID)
		case err != nil:
			return errdefs.Internalf(err, "store: insert password credential")
		}
	}
	return nil
}

func deletePasswords(ctx context.Context, tx querier, kind, ownerKey string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM password_credentials WHERE owner_kind = ? AND owner_id = ?`,
		kind, ownerKey); err != nil {
		return errdefs.Internalf(err, "store: delete password credentials")
	}
	return nil
}
