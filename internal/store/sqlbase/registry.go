package sqlbase

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// registryStore implements registry.Store (and registry.LinkFinder).
// Registry names are matched case-insensitively through name_key;
// repositories, digests and tags exactly.
type registryStore struct{ s *Store }

var (
	_ registry.Store                    = registryStore{}
	_ registry.LinkFinder               = registryStore{}
	_ registry.ManifestResolver         = registryStore{}
	_ registry.RegistryManifestResolver = registryStore{}
)

// Registry returns the container registry store.
func (s *Store) Registry() registry.Store { return registryStore{s} }

type scanner interface{ Scan(...any) error }

// ---- registries

// passwordJSON is one admin password in registries.admin_passwords.
type passwordJSON struct {
	Name      string `json:"name"`
	Sealed    []byte `json:"sealed"`
	CreatedAt string `json:"created_at"`
}

func encodePasswords(ps []registry.AdminPassword) string {
	out := make([]passwordJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, passwordJSON{Name: p.Name, Sealed: p.Sealed, CreatedAt: formatTime(p.CreatedAt)})
	}
	b, _ := json.Marshal(out) // cannot fail for these types
	return string(b)
}

var passwordsMemo = newMemo(func(ps []registry.AdminPassword) []registry.AdminPassword {
	ps = slices.Clone(ps)
	for i := range ps {
		ps[i].Sealed = slices.Clone(ps[i].Sealed)
	}
	return ps
})

func decodePasswords(s string) ([]registry.AdminPassword, error) {
	return passwordsMemo.decode(s, decodePasswordsJSON)
}

func decodePasswordsJSON(s string) ([]registry.AdminPassword, error) {
	var in []passwordJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	out := make([]registry.AdminPassword, 0, len(in))
	for _, p := range in {
		t, err := parseTime(p.CreatedAt)
		if err != nil {
			return nil, err
		}
		out = append(out, registry.AdminPassword{Name: p.Name, Sealed: p.Sealed, CreatedAt: t})
	}
	return out, nil
}

const registrySelect = `SELECT id, name, location, tags, sku, admin_user_enabled, anonymous_pull_enabled,
	login_server, provisioning_state, admin_passwords, created_at, created_by, changed_at, changed_by, instance_id
	FROM registries`

func scanRegistry(sc scanner) (registry.Registry, error) {
	var (
		r                       registry.Registry
		id, pws, created, chang string
		tags                    sql.NullString
	)
	if err := sc.Scan(&id, &r.Name, &r.Location, &tags, &r.SKU, &r.AdminUserEnabled, &r.AnonymousPullEnabled,
		&r.LoginServer, &r.ProvisioningState, &pws, &created, &r.CreatedBy, &chang, &r.ChangedBy, &r.InstanceID); err != nil {
		return r, err
	}
	var err error
	if r.ID, err = resourceid.Parse(id); err != nil {
		return r, err
	}
	if r.Tags, err = decodeTags(tags); err != nil {
		return r, err
	}
	if r.AdminPasswords, err = decodePasswords(pws); err != nil {
		return r, err
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return r, err
	}
	r.ChangedAt, err = parseTime(chang)
	return r, err
}

func getRegistry(ctx context.Context, q querier, name string) (registry.Registry, error) {
	r, err := scanRegistry(q.QueryRowContext(ctx, registrySelect+` WHERE name_key = ?`, key(name)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Registry{}, errNotFound("registry '%s' not found", name)
	case err != nil:
		return registry.Registry{}, errdefs.Internalf(err, "store: get registry")
	}
	return r, nil
}

// checkRegistryID rejects an id that is not this registry's resource id: a
// bug in the caller.
func checkRegistryID(r registry.Registry) error {
	if r.ID.Level() != resourceid.Resource || len(r.ID.Types) != 1 ||
		!strings.EqualFold(r.ID.ResourceType(), registry.ResourceType) || !strings.EqualFold(r.ID.Name(), r.Name) {
		return errdefs.Newf(errdefs.InvalidArgument, "", "'%s' is not the resource id of registry '%s'", r.ID, r.Name)
	}
	return nil
}

// putRegistryIndex writes the registry's entry in the generic resource
// index.
func (s *Store) putRegistryIndex(ctx context.Context, tx querier, r registry.Registry) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO resources (id_key, id, subscription_key, group_key, type_key,
		location, kind, sku, tags, created_at, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?)
		ON CONFLICT (id_key) DO UPDATE SET location = excluded.location, sku = excluded.sku,
			tags = excluded.tags, changed_at = excluded.changed_at`,
		r.ID.Key(), r.ID.String(), key(r.ID.SubscriptionID), key(r.ID.ResourceGroup), key(registry.ResourceType),
		r.Location, r.SKU, encodeTags(r.Tags), formatTime(r.CreatedAt), formatTime(r.ChangedAt))
	switch {
	case s.d.IsForeignKey(err):
		return errNotFound("resource group '%s' not found", r.ID.ResourceGroup)
	case err != nil:
		return errdefs.Internalf(err, "store: put registry index entry")
	}
	return nil
}

func (st registryStore) CreateRegistry(ctx context.Context, r registry.Registry) error {
	if err := checkRegistryID(r); err != nil {
		return err
	}
	return st.s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO registries (name_key, name, id, subscription_key, group_key,
			location, tags, sku, admin_user_enabled, anonymous_pull_enabled, login_server, provisioning_state,
			admin_passwords, created_at, created_by, changed_at, changed_by, instance_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			key(r.Name), r.Name, r.ID.String(), key(r.ID.SubscriptionID), key(r.ID.ResourceGroup),
			r.Location, encodeTags(r.Tags), r.SKU, r.AdminUserEnabled, r.AnonymousPullEnabled, r.LoginServer,
			r.ProvisioningState, encodePasswords(r.AdminPasswords), formatTime(r.CreatedAt), r.CreatedBy,
			formatTime(r.ChangedAt), r.ChangedBy, r.InstanceID)
		switch {
		case st.s.d.IsUnique(err):
			return errAlreadyExists("registry '%s' already exists", r.Name)
		case st.s.d.IsForeignKey(err):
			return errNotFound("resource group '%s' not found", r.ID.ResourceGroup)
		case err != nil:
			return errdefs.Internalf(err, "store: insert registry")
		}
		return st.s.putRegistryIndex(ctx, tx, r)
	})
}

func (st registryStore) GetRegistry(ctx context.Context, name string) (registry.Registry, error) {
	return getRegistry(ctx, st.s.q, name)
}

func (st registryStore) UpdateRegistry(ctx context.Context, name string, fn func(*registry.Registry) error) (registry.Registry, error) {
	var out registry.Registry
	err := st.s.write(ctx, func(tx querier) error {
		cur, err := getRegistry(ctx, tx, name)
		if err != nil {
			return err
		}
		r := cur
		r.Tags = maps.Clone(cur.Tags)
		r.AdminPasswords = slices.Clone(cur.AdminPasswords)
		if err := fn(&r); err != nil {
			return err
		}
		if r.ID.String() != cur.ID.String() || r.Name != cur.Name || r.LoginServer != cur.LoginServer || r.InstanceID != cur.InstanceID {
			return errImmutable("registry id, name, login server and instance id cannot change")
		}
		_, err = tx.ExecContext(ctx, `UPDATE registries SET location = ?, tags = ?, sku = ?, admin_user_enabled = ?,
			anonymous_pull_enabled = ?, provisioning_state = ?, admin_passwords = ?, created_at = ?, created_by = ?,
			changed_at = ?, changed_by = ? WHERE name_key = ?`,
			r.Location, encodeTags(r.Tags), r.SKU, r.AdminUserEnabled, r.AnonymousPullEnabled, r.ProvisioningState,
			encodePasswords(r.AdminPasswords), formatTime(r.CreatedAt), r.CreatedBy, formatTime(r.ChangedAt),
			r.ChangedBy, key(name))
		if err != nil {
			return errdefs.Internalf(err, "store: update registry")
		}
		if err := st.s.putRegistryIndex(ctx, tx, r); err != nil {
			return err
		}
		out, err = getRegistry(ctx, tx, name)
		return err
	})
	return out, err
}

func (st registryStore) DeleteRegistry(ctx context.Context, name string) error {
	return st.s.write(ctx, func(tx querier) error {
		r, err := getRegistry(ctx, tx, name)
		if err != nil {
			return err
		}
		below, args := belowScope(r.ID)
		if _, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE scope_key = ? OR `+below,
			append([]any{r.ID.Key()}, args...)...); err != nil {
			return errdefs.Internalf(err, "store: delete role assignments of registry")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM resources WHERE id_key = ?`, r.ID.Key()); err != nil {
			return errdefs.Internalf(err, "store: delete registry index entry")
		}
		// Repositories, manifests, tags, links and uploads go by cascade.
		return execOne(ctx, tx, errNotFound("registry '%s' not found", name), "delete registry",
			`DELETE FROM registries WHERE name_key = ?`, key(name))
	})
}

func (st registryStore) ListRegistries(ctx context.Context, subscriptionID, group string) ([]registry.Registry, error) {
	query := registrySelect + ` WHERE subscription_key = ?`
	args := []any{key(subscriptionID)}
	if group != "" {
		query += ` AND group_key = ?`
		args = append(args, key(group))
	}
	rows, err := st.s.q.QueryContext(ctx, query+` ORDER BY name_key`, args...)
	if err != nil {
		return nil, errdefs.Internalf(err, "store: list registries")
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := []registry.Registry{}
	for rows.Next() {
		r, err := scanRegistry(rows)
		if err != nil {
			return nil, errdefs.Internalf(err, "store: scan registry")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "store: list registries")
	}
	return out, nil
}

func (st registryStore) MoveLoginServers(ctx context.Context, loginServer func(name string) string) ([]registry.LoginServerMove, error) {
	moved := []registry.LoginServerMove{}
	err := st.s.write(ctx, func(tx querier) error {
		moved = moved[:0]
		rows, err := queryList(ctx, tx, "registries", func(sc scanner) (registry.LoginServerMove, error) {
			var m registry.LoginServerMove
			err := sc.Scan(&m.Name, &m.From)
			return m, err
		}, `SELECT name, login_server FROM registries ORDER BY name_key`)
		if err != nil {
			return err
		}
		for _, m := range rows {
			if m.To = loginServer(m.Name); m.To == m.From {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE registries SET login_server = ? WHERE name_key = ?`, m.To, key(m.Name)); err != nil {
				return errdefs.Internalf(err, "store: move login server")
			}
			moved = append(moved, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return moved, nil
}

// deleteGroupRegistries removes a resource group's registries with
// everything in them (DeleteGroup's cascade).
func deleteGroupRegistries(ctx context.Context, tx querier, subscriptionID, group string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM registries WHERE subscription_key = ? AND group_key = ?`,
		key(subscriptionID), key(group)); err != nil {
		return errdefs.Internalf(err, "store: delete registries of group")
	}
	return nil
}

// ---- helpers

// limit is a page size for LIMIT: the dialect's "no limit" for n ≤ 0.
func (s *Store) limit(n int) any {
	if n <= 0 {
		return s.d.NoLimit
	}
	return int64(n)
}

func boolsOf(a registry.Attributes) []any {
	return []any{a.DeleteEnabled, a.WriteEnabled, a.ReadEnabled, a.ListEnabled}
}

func encodeDigests(ds []digest.Digest) string {
	if len(ds) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ds) // cannot fail for strings
	return string(b)
}

var digestsMemo = newMemo(slices.Clone[[]digest.Digest])

func decodeDigests(s string) ([]digest.Digest, error) {
	if s == "[]" {
		return []digest.Digest{}, nil
	}
	return digestsMemo.decode(s, decodeDigestsJSON)
}

func decodeDigestsJSON(s string) ([]digest.Digest, error) {
	v := []digest.Digest{}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if v == nil {
		v = []digest.Digest{}
	}
	return v, nil
}

// queryList runs a query and scans every row with scan.
func queryList[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, errdefs.Internalf(err, "store: list %s", what)
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, errdefs.Internalf(err, "store: scan %s", what)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "store: list %s", what)
	}
	return out, nil
}

func scanString(sc scanner) (string, error) {
	var s string
	err := sc.Scan(&s)
	return s, err
}

// ---- repositories

const repositorySelect = `SELECT registry_key, name, delete_enabled, write_enabled, read_enabled, list_enabled,
	created_at, updated_at FROM repositories`

func scanRepository(sc scanner) (registry.Repository, error) {
	var (
		r                registry.Repository
		created, updated string
	)
	a := &r.Attributes
	if err := sc.Scan(&r.Registry, &r.Name, &a.DeleteEnabled, &a.WriteEnabled, &a.ReadEnabled, &a.ListEnabled,
		&created, &updated); err != nil {
		return r, err
	}
	var err error
	if r.CreatedAt, err = parseTime(created); err != nil {
		return r, err
	}
	r.UpdatedAt, err = parseTime(updated)
	return r, err
}

func getRepository(ctx context.Context, q querier, reg, repo string) (registry.Repository, error) {
	r, err := scanRepository(q.QueryRowContext(ctx, repositorySelect+` WHERE registry_key = ? AND name = ?`, key(reg), repo))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Repository{}, errNotFound("repository '%s' not found", repo)
	case err != nil:
		return registry.Repository{}, errdefs.Internalf(err, "store: get repository")
	}
	return r, nil
}

// ensureRepository creates a repository with the default attributes unless
// it exists; touch marks an existing one updated at (pushing a manifest
// does, linking a layer does not).
func (s *Store) ensureRepository(ctx context.Context, tx querier, reg, repo string, at time.Time, touch bool) error {
	query := `INSERT INTO repositories (registry_key, name, delete_enabled, write_enabled,
		read_enabled, list_enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (registry_key, name) DO NOTHING`
	if touch {
		query = `INSERT INTO repositories (registry_key, name, delete_enabled, write_enabled,
		read_enabled, list_enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (registry_key, name) DO UPDATE SET updated_at = excluded.updated_at
			WHERE excluded.updated_at > repositories.updated_at`
	}
	_, err := tx.ExecContext(ctx, query,
		append(append([]any{key(reg), repo}, boolsOf(registry.DefaultAttributes)...), formatTime(at), formatTime(at))...)
	switch {
	case s.d.IsForeignKey(err):
		return errNotFound("registry '%s' not found", reg)
	case err != nil:
		return errdefs.Internalf(err, "store: create repository")
	}
	return nil
}

func (st registryStore) Repositories(ctx context.Context, reg string, p registry.Page) ([]string, error) {
	return queryList(ctx, st.s.q, "repositories", scanString,
		`SELECT name FROM repositories WHERE registry_key = ? AND name > ? ORDER BY name LIMIT ?`,
		key(reg), p.Last, st.s.limit(p.N))
}

func (st registryStore) GetRepository(ctx context.Context, reg, repo string) (registry.Repository, error) {
	return getRepository(ctx, st.s.q, reg, repo)
}

func (st registryStore) UpdateRepository(ctx context.Context, reg, repo string, fn func(*registry.Repository) error) (registry.Repository, error) {
	var out registry.Repository
	err := st.s.write(ctx, func(tx querier) error {
		cur, err := getRepository(ctx, tx, reg, repo)
		if err != nil {
			return err
		}
		r := cur
		if err := fn(&r); err != nil {
			return err
		}
		if r.Registry != cur.Registry || r.Name != cur.Name {
			return errImmutable("repository registry and name cannot change")
		}
		_, err = tx.ExecContext(ctx, `UPDATE repositories SET delete_enabled = ?, write_enabled = ?, read_enabled = ?,
			list_enabled = ?, created_at = ?, updated_at = ? WHERE registry_key = ? AND name = ?`,
			append(boolsOf(r.Attributes), formatTime(r.CreatedAt), formatTime(r.UpdatedAt), key(reg), repo)...)
		if err != nil {
			return errdefs.Internalf(err, "store: update repository")
		}
		out, err = getRepository(ctx, tx, reg, repo)
		return err
	})
	return out, err
}

func (st registryStore) DeleteRepository(ctx context.Context, reg, repo string) ([]digest.Digest, []string, error) {
	var (
		manifests []digest.Digest
		tags      []string
	)
	err := st.s.write(ctx, func(tx querier) error {
		if _, err := getRepository(ctx, tx, reg, repo); err != nil {
			return err
		}
		ds, err := queryList(ctx, tx, "manifests", scanString,
			`SELECT digest FROM manifests WHERE registry_key = ? AND repository = ? ORDER BY digest`, key(reg), repo)
		if err != nil {
			return err
		}
		manifests = make([]digest.Digest, 0, len(ds))
		for _, d := range ds {
			manifests = append(manifests, digest.Digest(d))
		}
		if tags, err = queryList(ctx, tx, "tags", scanString,
			`SELECT name FROM tags WHERE registry_key = ? AND repository = ? ORDER BY name`, key(reg), repo); err != nil {
			return err
		}
		// Manifests, tags and links go by cascade.
		return execOne(ctx, tx, errNotFound("repository '%s' not found", repo), "delete repository",
			`DELETE FROM repositories WHERE registry_key = ? AND name = ?`, key(reg), repo)
	})
	if err != nil {
		return nil, nil, err
	}
	return manifests, tags, nil
}

// ---- blob links

func (st registryStore) LinkBlob(ctx context.Context, reg, repo string, d digest.Digest, size int64) error {
	return st.s.write(ctx, func(tx querier) error {
		if err := st.s.ensureRepository(ctx, tx, reg, repo, time.Now(), false); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO blob_links (registry_key, repository, digest, size) VALUES (?, ?, ?, ?)
			ON CONFLICT (registry_key, repository, digest) DO UPDATE SET size = excluded.size`,
			key(reg), repo, string(d), size)
		if err != nil {
			return errdefs.Internalf(err, "store: link blob")
		}
		return nil
	})
}

func (st registryStore) BlobLink(ctx context.Context, reg, repo string, d digest.Digest) (int64, error) {
	var size int64
	err := st.s.q.QueryRowContext(ctx, `SELECT size FROM blob_links WHERE registry_key = ? AND repository = ? AND digest = ?`,
		key(reg), repo, string(d)).Scan(&size)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, errNotFound("blob %s not linked to repository '%s'", d, repo)
	case err != nil:
		return 0, errdefs.Internalf(err, "store: get blob link")
	}
	return size, nil
}

// FindBlobLink returns the size of a blob linked to any repository of the
// registry.
func (st registryStore) FindBlobLink(ctx context.Context, reg string, d digest.Digest) (int64, error) {
	var size int64
	err := st.s.q.QueryRowContext(ctx, `SELECT size FROM blob_links WHERE digest = ? AND registry_key = ? LIMIT 1`,
		string(d), key(reg)).Scan(&size)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, errNotFound("blob %s not linked in registry '%s'", d, reg)
	case err != nil:
		return 0, errdefs.Internalf(err, "store: find blob link")
	}
	return size, nil
}

func (st registryStore) UnlinkBlob(ctx context.Context, reg, repo string, d digest.Digest) error {
	return st.s.write(ctx, func(tx querier) error {
		return execOne(ctx, tx, errNotFound("blob %s not linked to repository '%s'", d, repo), "unlink blob",
			`DELETE FROM blob_links WHERE registry_key = ? AND repository = ? AND digest = ?`, key(reg), repo, string(d))
	})
}

func (st registryStore) BlobReferenced(ctx context.Context, d digest.Digest) (bool, error) {
	var used bool
	err := st.s.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM blob_links WHERE digest = ?)
		OR EXISTS (SELECT 1 FROM manifests WHERE digest = ?)
		OR EXISTS (SELECT 1 FROM manifest_blobs WHERE blob = ?)`, string(d), string(d), string(d)).Scan(&used)
	if err != nil {
		return false, errdefs.Internalf(err, "store: blob referenced")
	}
	return used, nil
}
