package sqlbase

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
)

// identityStore implements identity.Store. Object ids, app ids and tenant
// ids are matched case-insensitively, as Entra matches GUIDs.
type identityStore struct{ s *Store }

// ---- tenants

func (st identityStore) CreateTenant(ctx context.Context, t identity.Tenant) error {
	return st.s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenants (id_key, id, display_name, default_domain, created_at)
			VALUES (?, ?, ?, ?, ?)`, key(t.ID), t.ID, t.DisplayName, t.DefaultDomain, formatTime(t.CreatedAt))
		switch {
		case st.s.d.IsUnique(err):
			return errAlreadyExists("tenant '%s' already exists", t.ID)
		case err != nil:
			return errdefs.Internalf(err, "store: insert tenant")
		}
		return nil
	})
}

const tenantColumns = `id, display_name, default_domain, created_at`

func scanTenant(sc interface{ Scan(...any) error }) (identity.Tenant, error) {
	var t identity.Tenant
	var created string
	if err := sc.Scan(&t.ID, &t.DisplayName, &t.DefaultDomain, &created); err != nil {
		return t, err
	}
	var err error
	t.CreatedAt, err = parseTime(created)
	return t, err
}

func (st identityStore) GetTenant(ctx context.Context, id string) (identity.Tenant, error) {
	t, err := scanTenant(st.s.q.QueryRowContext(ctx,
		`SELECT `+tenantColumns+` FROM tenants WHERE id_key = ?`, key(id)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return identity.Tenant{}, errNotFound("tenant '%s' not found", id)
	case err != nil:
		return identity.Tenant{}, errdefs.Internalf(err, "store: get tenant")
	}
	return t, nil
}

func (st identityStore) ListTenants(ctx context.Context) ([]identity.Tenant, error) {
	rows, err := st.s.q.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY created_at, id_key`)
	if err != nil {
		return nil, errdefs.Internalf(err, "store: list tenants")
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := []identity.Tenant{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, errdefs.Internalf(err, "store: scan tenant")
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "store: list tenants")
	}
	return out, nil
}

// ---- filters

// filterWhere builds the WHERE clause of a filter over the table aliased t;
// every set field adds a condition, AND-ed.
func filterWhere(d *Dialect, tenantID string, f identity.Filter, sp bool) (string, []any) {
	conds := []string{"t.tenant_key = ?"}
	args := []any{key(tenantID)}
	if f.DisplayName != "" {
		conds = append(conds, "t.display_name_key = ?")
		args = append(args, key(f.DisplayName))
	}
	if f.DisplayNamePrefix != "" {
		conds = append(conds, `t.display_name_key LIKE ? ESCAPE '\'`)
		args = append(args, escapeLike(key(f.DisplayNamePrefix))+"%")
	}
	if f.AppID != "" {
		conds = append(conds, "t.app_id_key = ?")
		args = append(args, key(f.AppID))
	}
	if len(f.IDs) > 0 {
		// One JSON argument keeps the statement text (and so the cached
		// prepared statement) independent of the list's length.
		conds = append(conds, "t.id_key IN (SELECT value FROM "+d.JSONValues+")")
		args = append(args, encodeList(lowerList(f.IDs)))
	}
	if sp && f.ServicePrincipalName != "" {
		conds = append(conds, d.HasServicePrincipalName)
		args = append(args, key(f.ServicePrincipalName))
	}
	return strings.Join(conds, " AND "), args
}

// ---- objects with password credentials

// queryOwners runs query, which selects an object's id key, then the
// columns cols scan into, then passwordColumns, from objects LEFT JOINed
// with their password credentials in objectOrder (so an object's rows are
// adjacent). Every row is scanned into cols; on an object's first row,
// add decodes the object, keeps it, and says where its credentials go.
func queryOwners(ctx context.Context, q querier, what, query string, args, cols []any, add func() (*[]identity.PasswordCredential, error)) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return errdefs.Internalf(err, "store: query %ss", what)
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	var (
		idKey, last string
		p           passwordRow
		passwords   *[]identity.PasswordCredential
	)
	dest := append(append([]any{&idKey}, cols...), p.dest()...)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return errdefs.Internalf(err, "store: scan %s", what)
		}
		if passwords == nil || idKey != last {
			last = idKey
			if passwords, err = add(); err != nil {
				return err
			}
		}
		c, ok, err := p.credential()
		if err != nil {
			return errdefs.Internalf(err, "store: decode password credential")
		}
		if ok {
			*passwords = append(*passwords, c)
		}
	}
	if err := rows.Err(); err != nil {
		return errdefs.Internalf(err, "store: query %ss", what)
	}
	return nil
}

// update is a read-modify-write in one transaction: it reads an object with
// get, lets fn change a copy, has put check and store the change, and
// returns the object as stored.
func update[T any](ctx context.Context, s *Store, get func(querier) (T, error), fn func(*T) error, put func(tx querier, cur, next T) error) (T, error) {
	var out T
	err := s.write(ctx, func(tx querier) error {
		cur, err := get(tx)
		if err != nil {
			return err
		}
		next := cur
		if err := fn(&next); err != nil {
			return err
		}
		if err := put(tx, cur, next); err != nil {
			return err
		}
		out, err = get(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// ---- applications

const applicationSelect = `SELECT t.id_key, t.id, t.tenant_id, t.app_id, t.display_name, t.description,
	t.sign_in_audience, t.identifier_uris, t.tags, t.notes, t.owners, t.created_at, ` + passwordColumns + `
	FROM applications AS t
	LEFT JOIN password_credentials AS p ON p.owner_kind = 'application' AND p.owner_id = t.id_key
	WHERE `

const objectOrder = ` ORDER BY t.created_at, t.id_key, p.position`

// queryApplications returns the applications matching where, in order.
func queryApplications(ctx context.Context, q querier, where string, args ...any) ([]identity.Application, error) {
	out := []identity.Application{}
	var (
		a                           identity.Application
		uris, tags, owners, created string
	)
	cols := []any{&a.ID, &a.TenantID, &a.AppID, &a.DisplayName, &a.Description,
		&a.SignInAudience, &uris, &tags, &a.Notes, &owners, &created}
	err := queryOwners(ctx, q, "application", applicationSelect+where+objectOrder, args, cols, func() (*[]identity.PasswordCredential, error) {
		var err error
		if a.IdentifierURIs, err = decodeList(uris); err != nil {
			return nil, errdefs.Internalf(err, "store: decode application %s identifier uris", a.ID)
		}
		if a.Tags, err = decodeList(tags); err != nil {
			return nil, errdefs.Internalf(err, "store: decode application %s tags", a.ID)
		}
		if a.Owners, err = decodeList(owners); err != nil {
			return nil, errdefs.Internalf(err, "store: decode application %s owners", a.ID)
		}
		if a.CreatedAt, err = parseTime(created); err != nil {
			return nil, errdefs.Internalf(err, "store: decode application %s created time", a.ID)
		}
		a.Passwords = []identity.PasswordCredential{}
		out = append(out, a)
		return &out[len(out)-1].Passwords, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func getApplication(ctx context.Context, q querier, what, where string, args ...any) (identity.Application, error) {
	apps, err := queryApplications(ctx, q, where, args...)
	if err != nil {
		return identity.Application{}, err
	}
	if len(apps) == 0 {
		return identity.Application{}, errNotFound("application '%s' not found", what)
	}
	return apps[0], nil
}

func (st identityStore) CreateApplication(ctx context.Context, app identity.Application) error {
	return st.s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO applications (id_key, id, tenant_key, tenant_id, app_id_key, app_id,
			display_name_key, display_name, description, sign_in_audience, identifier_uris, tags, notes, owners, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			key(app.ID), app.ID, key(app.TenantID), app.TenantID, key(app.AppID), app.AppID,
			key(app.DisplayName), app.DisplayName, app.Description, app.SignInAudience,
			encodeList(app.IdentifierURIs), encodeList(app.Tags), app.Notes, encodeList(app.Owners), formatTime(app.CreatedAt))
		switch {
		case st.s.d.IsUnique(err):
			return errAlreadyExists("an application with object id '%s' or app id '%s' already exists", app.ID, app.AppID)
		case st.s.d.IsForeignKey(err):
			return errNotFound("tenant '%s' not found", app.TenantID)
		case err != nil:
			return errdefs.Internalf(err, "store: insert application")
		}
		if err := claim(ctx, st.s.d.ClaimIdentifierURIs, tx, app.TenantID, app.AppID, app.ID, app.IdentifierURIs); err != nil {
			return err
		}
		return st.s.putPasswords(ctx, tx, ownerApplication, key(app.ID), app.Passwords, false)
	})
}

func (st identityStore) GetApplication(ctx context.Context, tenantID, id string) (identity.Application, error) {
	return getApplication(ctx, st.s.q, id, "t.tenant_key = ? AND t.id_key = ?", key(tenantID), key(id))
}

func (st identityStore) GetApplicationByAppID(ctx context.Context, tenantID, appID string) (identity.Application, error) {
	return getApplication(ctx, st.s.q, appID, "t.tenant_key = ? AND t.app_id_key = ?", key(tenantID), key(appID))
}

func (st identityStore) ListApplications(ctx context.Context, tenantID string, f identity.Filter) ([]identity.Application, error) {
	where, args := filterWhere(st.s.d, tenantID, f, false)
	return queryApplications(ctx, st.s.q, where, args...)
}

func (st identityStore) UpdateApplication(ctx context.Context, tenantID, id string, fn func(*identity.Application) error) (identity.Application, error) {
	get := func(q querier) (identity.Application, error) {
		return getApplication(ctx, q, id, "t.tenant_key = ? AND t.id_key = ?", key(tenantID), key(id))
	}
	return update(ctx, st.s, get, fn, func(tx querier, cur, next identity.Application) error {
		if next.ID != cur.ID || next.TenantID != cur.TenantID || next.AppID != cur.AppID {
			return errImmutable("application id, tenant id and app id cannot change")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET display_name_key = ?, display_name = ?,
			description = ?, sign_in_audience = ?, identifier_uris = ?, tags = ?, notes = ?, owners = ?, created_at = ?
			WHERE id_key = ?`,
			key(next.DisplayName), next.DisplayName, next.Description, next.SignInAudience,
			encodeList(next.IdentifierURIs), encodeList(next.Tags), next.Notes, encodeList(next.Owners), formatTime(next.CreatedAt),
			key(cur.ID)); err != nil {
			return errdefs.Internalf(err, "store: update application")
		}
		if err := claim(ctx, st.s.d.ClaimIdentifierURIs, tx, cur.TenantID, cur.AppID, cur.ID, next.IdentifierURIs); err != nil {
			return err
		}
		return st.s.putPasswords(ctx, tx, ownerApplication, key(cur.ID), next.Passwords, true)
	})
}

func (st identityStore) DeleteApplication(ctx context.Context, tenantID, id string) error {
	return st.s.write(ctx, func(tx querier) error {
		var appIDKey string
		err := tx.QueryRowContext(ctx, `SELECT app_id_key FROM applications WHERE tenant_key = ? AND id_key = ?`,
			key(tenantID), key(id)).Scan(&appIDKey)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return errNotFound("application '%s' not found", id)
		case err != nil:
			return errdefs.Internalf(err, "store: get application")
		}
		// The tenant's service principal for the app, as Entra does.
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_credentials
			WHERE owner_kind = 'servicePrincipal' AND owner_id IN
			(SELECT id_key FROM service_principals WHERE tenant_key = ? AND app_id_key = ?)`,
			key(tenantID), appIDKey); err != nil {
			return errdefs.Internalf(err, "store: delete service principal credentials")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM service_principals WHERE tenant_key = ? AND app_id_key = ?`,
			key(tenantID), appIDKey); err != nil {
			return errdefs.Internalf(err, "store: delete service principal")
		}
		if err := deletePasswords(ctx, tx, ownerApplication, key(id)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM applications WHERE id_key = ?`, key(id)); err != nil {
			return errdefs.Internalf(err, "store: delete application")
		}
		return nil
	})
}

// ---- service principals

const servicePrincipalSelect = `SELECT t.id_key, t.id, t.tenant_id, t.app_id, t.display_name, t.description,
	t.notes, t.account_enabled, t.app_role_assignment_required, t.service_principal_names, t.tags, t.owners, t.created_at,
	` + passwordColumns + `
	FROM service_principals AS t
	LEFT JOIN password_credentials AS p ON p.owner_kind = 'servicePrincipal' AND p.owner_id = t.id_key
	WHERE `

// queryServicePrincipals returns the service principals matching where, in
// order.
func queryServicePrincipals(ctx context.Context, q querier, where string, args ...any) ([]identity.ServicePrincipal, error) {
	out := []identity.ServicePrincipal{}
	var (
		sp                          identity.ServicePrincipal
		spns, tags, owners, created string
	)
	cols := []any{&sp.ID, &sp.TenantID, &sp.AppID, &sp.DisplayName, &sp.Description,
		&sp.Notes, &sp.AccountEnabled, &sp.AppRoleAssignmentRequired, &spns, &tags, &owners, &created}
	err := queryOwners(ctx, q, "service principal", servicePrincipalSelect+where+objectOrder, args, cols, func() (*[]identity.PasswordCredential, error) {
		var err error
		if sp.ServicePrincipalNames, err = decodeList(spns); err != nil {
			return nil, errdefs.Internalf(err, "store: decode service principal %s names", sp.ID)
		}
		if sp.Tags, err = decodeList(tags); err != nil {
			return nil, errdefs.Internalf(err, "store: decode service principal %s tags", sp.ID)
		}
		if sp.Owners, err = decodeList(owners); err != nil {
			return nil, errdefs.Internalf(err, "store: decode service principal %s owners", sp.ID)
		}
		if sp.CreatedAt, err = parseTime(created); err != nil {
			return nil, errdefs.Internalf(err, "store: decode service principal %s created time", sp.ID)
		}
		sp.Passwords = []identity.PasswordCredential{}
		out = append(out, sp)
		return &out[len(out)-1].Passwords, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func getServicePrincipal(ctx context.Context, q querier, what, where string, args ...any) (identity.ServicePrincipal, error) {
	sps, err := queryServicePrincipals(ctx, q, where, args...)
	if err != nil {
		return identity.ServicePrincipal{}, err
	}
	if len(sps) == 0 {
		return identity.ServicePrincipal{}, errNotFound("service principal '%s' not found", what)
	}
	return sps[0], nil
}

func (st identityStore) CreateServicePrincipal(ctx context.Context, sp identity.ServicePrincipal) error {
	return st.s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO service_principals (id_key, id, tenant_key, tenant_id,
			app_id_key, app_id, display_name_key, display_name, description, notes, account_enabled,
			app_role_assignment_required, service_principal_names, service_principal_name_keys, tags, owners, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			key(sp.ID), sp.ID, key(sp.TenantID), sp.TenantID, key(sp.AppID), sp.AppID,
			key(sp.DisplayName), sp.DisplayName, sp.Description, sp.Notes, sp.AccountEnabled,
			sp.AppRoleAssignmentRequired, encodeList(sp.ServicePrincipalNames),
			encodeList(lowerList(sp.ServicePrincipalNames)), encodeList(sp.Tags), encodeList(sp.Owners), formatTime(sp.CreatedAt))
		switch {
		case st.s.d.IsUnique(err):
			return errAlreadyExists("a service principal with object id '%s' or for app id '%s' already exists", sp.ID, sp.AppID)
		case st.s.d.IsForeignKey(err):
			return errNotFound("tenant '%s' not found", sp.TenantID)
		case err != nil:
			return errdefs.Internalf(err, "store: insert service principal")
		}
		if err := claim(ctx, st.s.d.ClaimServicePrincipalNames, tx, sp.TenantID, sp.AppID, sp.ID, sp.ServicePrincipalNames); err != nil {
			return err
		}
		return st.s.putPasswords(ctx, tx, ownerServicePrincipal, key(sp.ID), sp.Passwords, false)
	})
}

func (st identityStore) GetServicePrincipal(ctx context.Context, tenantID, id string) (identity.ServicePrincipal, error) {
	return getServicePrincipal(ctx, st.s.q, id, "t.tenant_key = ? AND t.id_key = ?", key(tenantID), key(id))
}

func (st identityStore) GetServicePrincipalByAppID(ctx context.Context, tenantID, appID string) (identity.ServicePrincipal, error) {
	return getServicePrincipal(ctx, st.s.q, appID, "t.tenant_key = ? AND t.app_id_key = ?", key(tenantID), key(appID))
}

func (st identityStore) ListServicePrincipals(ctx context.Context, tenantID string, f identity.Filter) ([]identity.ServicePrincipal, error) {
	where, args := filterWhere(st.s.d, tenantID, f, true)
	return queryServicePrincipals(ctx, st.s.q, where, args...)
}

func (st identityStore) UpdateServicePrincipal(ctx context.Context, tenantID, id string, fn func(*identity.ServicePrincipal) error) (identity.ServicePrincipal, error) {
	get := func(q querier) (identity.ServicePrincipal, error) {
		return getServicePrincipal(ctx, q, id, "t.tenant_key = ? AND t.id_key = ?", key(tenantID), key(id))
	}
	return update(ctx, st.s, get, fn, func(tx querier, cur, next identity.ServicePrincipal) error {
		if next.ID != cur.ID || next.TenantID != cur.TenantID || next.AppID != cur.AppID {
			return errImmutable("service principal id, tenant id and app id cannot change")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE service_principals SET display_name_key = ?, display_name = ?,
			description = ?, notes = ?, account_enabled = ?, app_role_assignment_required = ?,
			service_principal_names = ?, service_principal_name_keys = ?, tags = ?, owners = ?, created_at = ?
			WHERE id_key = ?`,
			key(next.DisplayName), next.DisplayName, next.Description, next.Notes, next.AccountEnabled,
			next.AppRoleAssignmentRequired, encodeList(next.ServicePrincipalNames),
			encodeList(lowerList(next.ServicePrincipalNames)), encodeList(next.Tags), encodeList(next.Owners), formatTime(next.CreatedAt),
			key(cur.ID)); err != nil {
			return errdefs.Internalf(err, "store: update service principal")
		}
		if err := claim(ctx, st.s.d.ClaimServicePrincipalNames, tx, cur.TenantID, cur.AppID, cur.ID, next.ServicePrincipalNames); err != nil {
			return err
		}
		return st.s.putPasswords(ctx, tx, ownerServicePrincipal, key(cur.ID), next.Passwords, true)
	})
}

func (st identityStore) DeleteServicePrincipal(ctx context.Context, tenantID, id string) error {
	return st.s.write(ctx, func(tx querier) error {
		err := execOne(ctx, tx, errNotFound("service principal '%s' not found", id), "delete service principal",
			`DELETE FROM service_principals WHERE tenant_key = ? AND id_key = ?`, key(tenantID), key(id))
		if err != nil {
			return err
		}
		return deletePasswords(ctx, tx, ownerServicePrincipal, key(id))
	})
}
