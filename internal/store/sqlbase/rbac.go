package sqlbase

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// rbacStore implements rbac.Store. Scopes are stored in their canonical
// spelling (resourceid.ID.String) and matched through scope_key
// (resourceid.ID.Key).
type rbacStore struct{ s *Store }

func (st rbacStore) CreateRoleAssignment(ctx context.Context, ra rbac.RoleAssignment) error {
	return st.s.write(ctx, func(tx querier) error {
		// Check both constraints first: they map to different kinds.
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM role_assignments WHERE name_key = ?`, key(ra.Name)).Scan(&n)
		if err != nil {
			return errdefs.Internalf(err, "store: check role assignment name")
		}
		if n > 0 {
			return errAlreadyExists("role assignment '%s' already exists", ra.Name)
		}
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM role_assignments
			WHERE principal_key = ? AND role_definition_key = ? AND scope_key = ?`,
			key(ra.PrincipalID), key(ra.RoleDefinitionID), ra.Scope.Key()).Scan(&n)
		if err != nil {
			return errdefs.Internalf(err, "store: check role assignment")
		}
		if n > 0 {
			return errConflict("the role assignment already exists")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO role_assignments (name_key, name, scope_key, scope,
			role_definition_key, role_definition_id, principal_key, principal_id, principal_type,
			description, condition, condition_version, created_on, updated_on, created_by, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			key(ra.Name), ra.Name, ra.Scope.Key(), ra.Scope.String(),
			key(ra.RoleDefinitionID), ra.RoleDefinitionID, key(ra.PrincipalID), ra.PrincipalID, string(ra.PrincipalType),
			ra.Description, ra.Condition, ra.ConditionVersion,
			formatTime(ra.CreatedOn), formatTime(ra.UpdatedOn), ra.CreatedBy, ra.UpdatedBy)
		switch {
		case st.s.d.IsUnique(err):
			return errAlreadyExists("role assignment '%s' already exists", ra.Name)
		case err != nil:
			return errdefs.Internalf(err, "store: insert role assignment")
		}
		return nil
	})
}

const roleAssignmentSelect = `SELECT name, scope, role_definition_id, principal_id, principal_type,
	description, condition, condition_version, created_on, updated_on, created_by, updated_by
	FROM role_assignments`

func scanRoleAssignment(sc interface{ Scan(...any) error }) (rbac.RoleAssignment, error) {
	var (
		ra                     rbac.RoleAssignment
		scope, ptype, cre, upd string
	)
	if err := sc.Scan(&ra.Name, &scope, &ra.RoleDefinitionID, &ra.PrincipalID, &ptype,
		&ra.Description, &ra.Condition, &ra.ConditionVersion, &cre, &upd, &ra.CreatedBy, &ra.UpdatedBy); err != nil {
		return ra, err
	}
	var err error
	if ra.Scope, err = resourceid.Parse(scope); err != nil {
		return ra, err
	}
	ra.PrincipalType = principal.Type(ptype)
	if ra.CreatedOn, err = parseTime(cre); err != nil {
		return ra, err
	}
	ra.UpdatedOn, err = parseTime(upd)
	return ra, err
}

func (st rbacStore) GetRoleAssignment(ctx context.Context, name string) (rbac.RoleAssignment, error) {
	ra, err := scanRoleAssignment(st.s.q.QueryRowContext(ctx, roleAssignmentSelect+` WHERE name_key = ?`, key(name)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return rbac.RoleAssignment{}, errNotFound("role assignment '%s' not found", name)
	case err != nil:
		return rbac.RoleAssignment{}, errdefs.Internalf(err, "store: get role assignment")
	}
	return ra, nil
}

func (st rbacStore) DeleteRoleAssignment(ctx context.Context, name string) error {
	return st.s.write(ctx, func(tx querier) error {
		return execOne(ctx, tx, errNotFound("role assignment '%s' not found", name), "delete role assignment",
			`DELETE FROM role_assignments WHERE name_key = ?`, key(name))
	})
}

// belowScope returns a condition matching scopes strictly below id.
func belowScope(id resourceid.ID) (string, []any) {
	if id.Level() == resourceid.Root {
		return "scope_key <> '/'", nil
	}
	// prefix ≤ k < prefix with '/' bumped to '0' is exactly "k starts with
	// prefix" in byte order (the column compares bytes: not NOCASE in
	// SQLite, COLLATE "C" in PostgreSQL); the range lets the planner use the
	// scope index, which SQLite's LIKE optimization would not.
	prefix := id.Key() + "/"
	return `(scope_key >= ? AND scope_key < ? AND scope_key LIKE ? ESCAPE '\')`,
		[]any{prefix, id.Key() + "0", escapeLike(prefix) + "%"}
}

func (st rbacStore) ListRoleAssignments(ctx context.Context, q rbac.Query) ([]rbac.RoleAssignment, error) {
	var conds, scopeConds []string
	var args []any
	if q.PrincipalID != "" {
		conds = append(conds, "principal_key = ?")
		args = append(args, key(q.PrincipalID))
	}
	var scopeArgs []any
	if len(q.Scopes) > 0 {
		// One placeholder per scope: faster than a JSON list on this hot
		// path, and the lists (a scope's ancestors) are short, so the
		// statement cache holds few variants.
		scopeConds = append(scopeConds, "scope_key IN (?"+strings.Repeat(", ?", len(q.Scopes)-1)+")")
		for _, sc := range q.Scopes {
			scopeArgs = append(scopeArgs, sc.Key())
		}
	}
	if q.Below != nil {
		c, a := belowScope(*q.Below)
		scopeConds = append(scopeConds, c)
		scopeArgs = append(scopeArgs, a...)
	}
	if len(scopeConds) > 0 {
		conds = append(conds, "("+strings.Join(scopeConds, " OR ")+")")
		args = append(args, scopeArgs...)
	}
	query := roleAssignmentSelect
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	rows, err := st.s.q.QueryContext(ctx, query+" ORDER BY created_on, name_key", args...)
	if err != nil {
		return nil, errdefs.Internalf(err, "store: list role assignments")
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := []rbac.RoleAssignment{}
	for rows.Next() {
		ra, err := scanRoleAssignment(rows)
		if err != nil {
			return nil, errdefs.Internalf(err, "store: scan role assignment")
		}
		out = append(out, ra)
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "store: list role assignments")
	}
	return out, nil
}
