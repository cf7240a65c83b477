package sqlbase

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/registry"
)

// ---- manifests

const manifestSelect = `SELECT registry_key, repository, digest, media_type, artifact_type, config_media_type, size,
	subject, annotations, blobs, children, architecture, os, delete_enabled, write_enabled, read_enabled,
	list_enabled, created_at, updated_at FROM manifests`

func scanManifest(sc scanner) (registry.Manifest, error) {
	var (
		m                             registry.Manifest
		dig, subject, blobs, children string
		created, updated              string
		annotations                   sql.NullString
	)
	a := &m.Attributes
	if err := sc.Scan(&m.Registry, &m.Repository, &dig, &m.MediaType, &m.ArtifactType, &m.ConfigMediaType, &m.Size,
		&subject, &annotations, &blobs, &children, &m.Architecture, &m.OS,
		&a.DeleteEnabled, &a.WriteEnabled, &a.ReadEnabled, &a.ListEnabled, &created, &updated); err != nil {
		return m, err
	}
	m.Digest, m.Subject = digest.Digest(dig), digest.Digest(subject)
	var err error
	if m.Annotations, err = decodeTags(annotations); err != nil {
		return m, err
	}
	if m.Blobs, err = decodeDigests(blobs); err != nil {
		return m, err
	}
	if m.Manifests, err = decodeDigests(children); err != nil {
		return m, err
	}
	if m.CreatedAt, err = parseTime(created); err != nil {
		return m, err
	}
	m.UpdatedAt, err = parseTime(updated)
	return m, err
}

func getManifest(ctx context.Context, q querier, reg, repo string, d digest.Digest) (registry.Manifest, error) {
	m, err := scanManifest(q.QueryRowContext(ctx, manifestSelect+` WHERE registry_key = ? AND repository = ? AND digest = ?`,
		key(reg), repo, string(d)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Manifest{}, errNotFound("manifest %s not found in repository '%s'", d, repo)
	case err != nil:
		return registry.Manifest{}, errdefs.Internalf(err, "store: get manifest")
	}
	return m, nil
}

// resolveByTag and resolveByDigest are ResolveManifest's queries: a
// manifest GET's tag, manifest and repository rows in one statement.
const (
	resolvedManifestColumns = `SELECT m.registry_key, m.repository, m.digest, m.media_type, m.artifact_type,
	m.config_media_type, m.size, m.subject, m.annotations, m.blobs, m.children, m.architecture, m.os, m.delete_enabled,
	m.write_enabled, m.read_enabled, m.list_enabled, m.created_at, m.updated_at, r.delete_enabled, r.write_enabled,
	r.read_enabled, r.list_enabled`
	resolveByTag = resolvedManifestColumns + `, t.delete_enabled, t.write_enabled, t.read_enabled, t.list_enabled
	FROM tags t
	JOIN manifests m ON m.registry_key = t.registry_key AND m.repository = t.repository AND m.digest = t.digest
	JOIN repositories r ON r.registry_key = t.registry_key AND r.name = t.repository
	WHERE t.registry_key = ? AND t.repository = ? AND t.name = ?`
	resolveByDigest = resolvedManifestColumns + `
	FROM manifests m
	JOIN repositories r ON r.registry_key = m.registry_key AND r.name = m.repository
	WHERE m.registry_key = ? AND m.repository = ? AND m.digest = ?`
)

// resolvedScanner splits one row of resolveByTag or resolveByDigest into
// scanManifest's columns and the attributes after them.
type resolvedScanner struct {
	row   *sql.Row
	extra []any
}

func (r resolvedScanner) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra...)...) }

// ResolveManifest reads a manifest by tag (or by digest when tag is "")
// with its repository's and tag's attributes, in one query.
func (st registryStore) ResolveManifest(ctx context.Context, reg, repo, tag string, d digest.Digest) (registry.ResolvedManifest, error) {
	var (
		out    registry.ResolvedManifest
		ra, ta = &out.RepositoryAttributes, &registry.Attributes{}
		extra  = []any{&ra.DeleteEnabled, &ra.WriteEnabled, &ra.ReadEnabled, &ra.ListEnabled}
		row    *sql.Row
	)
	if tag != "" {
		extra = append(extra, &ta.DeleteEnabled, &ta.WriteEnabled, &ta.ReadEnabled, &ta.ListEnabled)
		out.TagAttributes = ta
		row = st.s.q.QueryRowContext(ctx, resolveByTag, key(reg), repo, tag)
	} else {
		row = st.s.q.QueryRowContext(ctx, resolveByDigest, key(reg), repo, string(d))
	}
	m, err := scanManifest(resolvedScanner{row, extra})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.ResolvedManifest{}, errNotFound("manifest %s not found in repository '%s'", cmp.Or(tag, string(d)), repo)
	case err != nil:
		return registry.ResolvedManifest{}, errdefs.Internalf(err, "store: resolve manifest")
	}
	out.Manifest = m
	return out, nil
}

// registryManifestColumns are a registry's columns, a flag telling
// whether the manifest, its repository (and tag) were found, and then
// resolvedManifestColumns' values, defaulted where the outer joins found
// nothing (they are not read then).
const registryManifestColumns = `SELECT g.id, g.name, g.location, g.tags, g.sku, g.admin_user_enabled,
	g.anonymous_pull_enabled, g.login_server, g.provisioning_state, g.admin_passwords, g.created_at, g.created_by,
	g.changed_at, g.changed_by, g.instance_id, m.digest IS NOT NULL AND r.name IS NOT NULL,
	COALESCE(m.registry_key, ''), COALESCE(m.repository, ''), COALESCE(m.digest, ''), COALESCE(m.media_type, ''),
	COALESCE(m.artifact_type, ''), COALESCE(m.config_media_type, ''), COALESCE(m.size, 0), COALESCE(m.subject, ''),
	m.annotations, COALESCE(m.blobs, ''), COALESCE(m.children, ''), COALESCE(m.architecture, ''), COALESCE(m.os, ''),
	COALESCE(m.delete_enabled, FALSE), COALESCE(m.write_enabled, FALSE), COALESCE(m.read_enabled, FALSE),
	COALESCE(m.list_enabled, FALSE), COALESCE(m.created_at, ''), COALESCE(m.updated_at, ''),
	COALESCE(r.delete_enabled, FALSE), COALESCE(r.write_enabled, FALSE), COALESCE(r.read_enabled, FALSE),
	COALESCE(r.list_enabled, FALSE)`

const (
	registryManifestByTag = registryManifestColumns + `, COALESCE(t.delete_enabled, FALSE),
	COALESCE(t.write_enabled, FALSE), COALESCE(t.read_enabled, FALSE), COALESCE(t.list_enabled, FALSE)
	FROM registries g
	LEFT JOIN tags t ON t.registry_key = g.name_key AND t.repository = ? AND t.name = ?
	LEFT JOIN manifests m ON m.registry_key = t.registry_key AND m.repository = t.repository AND m.digest = t.digest
	LEFT JOIN repositories r ON r.registry_key = g.name_key AND r.name = ?
	WHERE g.name_key = ?`
	registryManifestByDigest = registryManifestColumns + `
	FROM registries g
	LEFT JOIN manifests m ON m.registry_key = g.name_key AND m.repository = ? AND m.digest = ?
	LEFT JOIN repositories r ON r.registry_key = g.name_key AND r.name = ?
	WHERE g.name_key = ?`
)

// errNoManifest stops scanManifest when the outer joins found no manifest.
var errNoManifest = errors.New("no manifest")

// ResolveRegistryManifest reads a registry by name and, in the same query,
// what ResolveManifest reads: a manifest GET's whole store read.
func (st registryStore) ResolveRegistryManifest(ctx context.Context, name, repo, tag string, d digest.Digest) (registry.Registry, registry.ResolvedManifest, bool, error) {
	var (
		out    registry.ResolvedManifest
		found  bool
		ra, ta = &out.RepositoryAttributes, &registry.Attributes{}
		extra  = []any{&ra.DeleteEnabled, &ra.WriteEnabled, &ra.ReadEnabled, &ra.ListEnabled}
		row    *sql.Row
	)
	if tag != "" {
		extra = append(extra, &ta.DeleteEnabled, &ta.WriteEnabled, &ta.ReadEnabled, &ta.ListEnabled)
		out.TagAttributes = ta
		row = st.s.q.QueryRowContext(ctx, registryManifestByTag, repo, tag, repo, key(name))
	} else {
		row = st.s.q.QueryRowContext(ctx, registryManifestByDigest, repo, string(d), repo, key(name))
	}
	// One Scan fills both scanners' columns: scanRegistry's Scan runs
	// scanManifest, whose Scan reads the row into both sets of
	// destinations; each scanner then parses its own.
	reg, err := scanRegistry(scanFunc(func(regDest ...any) error {
		m, err := scanManifest(scanFunc(func(mDest ...any) error {
			dest := append(append(append(regDest, &found), mDest...), extra...)
			if err := row.Scan(dest...); err != nil {
				return err
			}
			if !found {
				return errNoManifest
			}
			return nil
		}))
		out.Manifest = m
		if errors.Is(err, errNoManifest) {
			return nil
		}
		return err
	}))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Registry{}, registry.ResolvedManifest{}, false, errNotFound("registry '%s' not found", name)
	case err != nil:
		return registry.Registry{}, registry.ResolvedManifest{}, false, errdefs.Internalf(err, "store: resolve registry and manifest")
	}
	if !found {
		return reg, registry.ResolvedManifest{}, false, nil
	}
	return reg, out, true, nil
}

// scanFunc is a scanner made of a function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// firstMissing returns the first of a JSON list of digests that the
// query, run with each as its last argument, does not find; "" if none.
func firstMissing(ctx context.Context, d *Dialect, tx querier, list string, exists string, args ...any) (string, error) {
	var missing string
	err := tx.QueryRowContext(ctx, `SELECT j.value FROM `+d.JSONOrdered+` WHERE NOT EXISTS (`+exists+`)
		ORDER BY j.ord LIMIT 1`, append([]any{list}, args...)...).Scan(&missing)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", errdefs.Internalf(err, "store: check manifest references")
	}
	return missing, nil
}

func (st registryStore) PutManifest(ctx context.Context, m registry.Manifest, tag string) (registry.Manifest, error) {
	var out registry.Manifest
	reg := key(m.Registry)
	blobs, children := encodeDigests(m.Blobs), encodeDigests(m.Manifests)
	err := st.s.write(ctx, func(tx querier) error {
		if err := st.s.ensureRepository(ctx, tx, reg, m.Repository, m.UpdatedAt, true); err != nil {
			return err
		}
		missing, err := firstMissing(ctx, st.s.d, tx, blobs, `SELECT 1 FROM blob_links AS b
			WHERE b.registry_key = ? AND b.repository = ? AND b.digest = j.value`, reg, m.Repository)
		if err != nil {
			return err
		}
		if missing != "" {
			return errdefs.Newf(errdefs.FailedPrecondition, "", "blob %s is not linked to repository '%s'", missing, m.Repository)
		}
		missing, err = firstMissing(ctx, st.s.d, tx, children, `SELECT 1 FROM manifests AS c
			WHERE c.registry_key = ? AND c.repository = ? AND c.digest = j.value`, reg, m.Repository)
		if err != nil {
			return err
		}
		if missing != "" {
			return errdefs.Newf(errdefs.FailedPrecondition, "", "manifest %s is not in repository '%s'", missing, m.Repository)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO manifests (registry_key, repository, digest, media_type,
			artifact_type, config_media_type, size, subject, annotations, blobs, children, architecture, os,
			delete_enabled, write_enabled, read_enabled, list_enabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (registry_key, repository, digest) DO NOTHING`,
			append(append([]any{reg, m.Repository, string(m.Digest), m.MediaType, m.ArtifactType, m.ConfigMediaType,
				m.Size, string(m.Subject), encodeTags(m.Annotations), blobs, children, m.Architecture, m.OS},
				boolsOf(m.Attributes)...), formatTime(m.CreatedAt), formatTime(m.UpdatedAt))...)
		if err != nil {
			return errdefs.Internalf(err, "store: insert manifest")
		}
		if n, err := res.RowsAffected(); err != nil {
			return errdefs.Internalf(err, "store: insert manifest")
		} else if n == 1 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO manifest_blobs (registry_key, repository, manifest, blob)
				SELECT DISTINCT `+st.s.d.Text+`, `+st.s.d.Text+`, `+st.s.d.Text+`, value FROM `+st.s.d.JSONValues, reg, m.Repository, string(m.Digest), blobs); err != nil {
				return errdefs.Internalf(err, "store: insert manifest blobs")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO manifest_children (registry_key, repository, manifest, child)
				SELECT DISTINCT `+st.s.d.Text+`, `+st.s.d.Text+`, `+st.s.d.Text+`, value FROM `+st.s.d.JSONValues, reg, m.Repository, string(m.Digest), children); err != nil {
				return errdefs.Internalf(err, "store: insert manifest children")
			}
		}
		if tag != "" {
			_, err := tx.ExecContext(ctx, `INSERT INTO tags (registry_key, repository, name, digest, delete_enabled,
				write_enabled, read_enabled, list_enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (registry_key, repository, name) DO UPDATE SET digest = excluded.digest,
					updated_at = excluded.updated_at WHERE tags.digest <> excluded.digest`,
				append(append([]any{reg, m.Repository, tag, string(m.Digest)}, boolsOf(registry.DefaultAttributes)...),
					formatTime(m.UpdatedAt), formatTime(m.UpdatedAt))...)
			if err != nil {
				return errdefs.Internalf(err, "store: put tag")
			}
		}
		out, err = getManifest(ctx, tx, reg, m.Repository, m.Digest)
		return err
	})
	return out, err
}

func (st registryStore) GetManifest(ctx context.Context, reg, repo string, d digest.Digest) (registry.Manifest, error) {
	return getManifest(ctx, st.s.q, reg, repo, d)
}

func (st registryStore) UpdateManifest(ctx context.Context, reg, repo string, d digest.Digest, fn func(*registry.Manifest) error) (registry.Manifest, error) {
	var out registry.Manifest
	err := st.s.write(ctx, func(tx querier) error {
		cur, err := getManifest(ctx, tx, reg, repo, d)
		if err != nil {
			return err
		}
		m := cur
		m.Annotations = maps.Clone(cur.Annotations)
		m.Blobs, m.Manifests = slices.Clone(cur.Blobs), slices.Clone(cur.Manifests)
		if err := fn(&m); err != nil {
			return err
		}
		if m.Registry != cur.Registry || m.Repository != cur.Repository || m.Digest != cur.Digest ||
			m.MediaType != cur.MediaType || m.Size != cur.Size || m.Subject != cur.Subject ||
			!slices.Equal(m.Blobs, cur.Blobs) || !slices.Equal(m.Manifests, cur.Manifests) {
			return errImmutable("a manifest's identity and content cannot change")
		}
		_, err = tx.ExecContext(ctx, `UPDATE manifests SET artifact_type = ?, config_media_type = ?, annotations = ?,
			architecture = ?, os = ?, delete_enabled = ?, write_enabled = ?, read_enabled = ?, list_enabled = ?,
			created_at = ?, updated_at = ? WHERE registry_key = ? AND repository = ? AND digest = ?`,
			append(append([]any{m.ArtifactType, m.ConfigMediaType, encodeTags(m.Annotations), m.Architecture, m.OS},
				boolsOf(m.Attributes)...), formatTime(m.CreatedAt), formatTime(m.UpdatedAt), key(reg), repo, string(d))...)
		if err != nil {
			return errdefs.Internalf(err, "store: update manifest")
		}
		out, err = getManifest(ctx, tx, reg, repo, d)
		return err
	})
	return out, err
}

func (st registryStore) DeleteManifest(ctx context.Context, reg, repo string, d digest.Digest) error {
	return st.s.write(ctx, func(tx querier) error {
		// Its tags, blob references and children go by cascade.
		return execOne(ctx, tx, errNotFound("manifest %s not found in repository '%s'", d, repo), "delete manifest",
			`DELETE FROM manifests WHERE registry_key = ? AND repository = ? AND digest = ?`, key(reg), repo, string(d))
	})
}

func (st registryStore) Manifests(ctx context.Context, reg, repo string, p registry.Page) ([]registry.Manifest, error) {
	return queryList(ctx, st.s.q, "manifests", scanManifest,
		manifestSelect+` WHERE registry_key = ? AND repository = ? AND digest > ? ORDER BY digest LIMIT ?`,
		key(reg), repo, p.Last, st.s.limit(p.N))
}

func (st registryStore) Referrers(ctx context.Context, reg, repo string, d digest.Digest) ([]registry.Manifest, error) {
	return queryList(ctx, st.s.q, "referrers", scanManifest,
		manifestSelect+` WHERE registry_key = ? AND repository = ? AND subject = ? ORDER BY digest`,
		key(reg), repo, string(d))
}

// ---- tags

const tagSelect = `SELECT registry_key, repository, name, digest, delete_enabled, write_enabled, read_enabled,
	list_enabled, created_at, updated_at FROM tags`

func scanTag(sc scanner) (registry.Tag, error) {
	var (
		t                     registry.Tag
		dig, created, updated string
	)
	a := &t.Attributes
	if err := sc.Scan(&t.Registry, &t.Repository, &t.Name, &dig, &a.DeleteEnabled, &a.WriteEnabled, &a.ReadEnabled,
		&a.ListEnabled, &created, &updated); err != nil {
		return t, err
	}
	t.Digest = digest.Digest(dig)
	var err error
	if t.CreatedAt, err = parseTime(created); err != nil {
		return t, err
	}
	t.UpdatedAt, err = parseTime(updated)
	return t, err
}

func getTag(ctx context.Context, q querier, reg, repo, name string) (registry.Tag, error) {
	t, err := scanTag(q.QueryRowContext(ctx, tagSelect+` WHERE registry_key = ? AND repository = ? AND name = ?`,
		key(reg), repo, name))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Tag{}, errNotFound("tag '%s' not found in repository '%s'", name, repo)
	case err != nil:
		return registry.Tag{}, errdefs.Internalf(err, "store: get tag")
	}
	return t, nil
}

func (st registryStore) GetTag(ctx context.Context, reg, repo, name string) (registry.Tag, error) {
	return getTag(ctx, st.s.q, reg, repo, name)
}

func (st registryStore) UpdateTag(ctx context.Context, reg, repo, name string, fn func(*registry.Tag) error) (registry.Tag, error) {
	var out registry.Tag
	err := st.s.write(ctx, func(tx querier) error {
		cur, err := getTag(ctx, tx, reg, repo, name)
		if err != nil {
			return err
		}
		t := cur
		if err := fn(&t); err != nil {
			return err
		}
		if t.Registry != cur.Registry || t.Repository != cur.Repository || t.Name != cur.Name || t.Digest != cur.Digest {
			return errImmutable("a tag's identity and target cannot change")
		}
		_, err = tx.ExecContext(ctx, `UPDATE tags SET delete_enabled = ?, write_enabled = ?, read_enabled = ?,
			list_enabled = ?, created_at = ?, updated_at = ? WHERE registry_key = ? AND repository = ? AND name = ?`,
			append(boolsOf(t.Attributes), formatTime(t.CreatedAt), formatTime(t.UpdatedAt), key(reg), repo, name)...)
		if err != nil {
			return errdefs.Internalf(err, "store: update tag")
		}
		out, err = getTag(ctx, tx, reg, repo, name)
		return err
	})
	return out, err
}

func (st registryStore) DeleteTag(ctx context.Context, reg, repo, name string) error {
	return st.s.write(ctx, func(tx querier) error {
		return execOne(ctx, tx, errNotFound("tag '%s' not found in repository '%s'", name, repo), "delete tag",
			`DELETE FROM tags WHERE registry_key = ? AND repository = ? AND name = ?`, key(reg), repo, name)
	})
}

func (st registryStore) Tags(ctx context.Context, reg, repo string, p registry.Page) ([]registry.Tag, error) {
	return queryList(ctx, st.s.q, "tags", scanTag,
		tagSelect+` WHERE registry_key = ? AND repository = ? AND name > ? ORDER BY name LIMIT ?`,
		key(reg), repo, p.Last, st.s.limit(p.N))
}

func (st registryStore) TagsOf(ctx context.Context, reg, repo string, d digest.Digest) ([]registry.Tag, error) {
	return queryList(ctx, st.s.q, "tags", scanTag,
		tagSelect+` WHERE registry_key = ? AND repository = ? AND digest = ? ORDER BY name`, key(reg), repo, string(d))
}

// ---- uploads

const uploadSelect = `SELECT id, registry_key, repository, started_at, updated_at FROM uploads`

func scanUpload(sc scanner) (registry.Upload, error) {
	var (
		u                registry.Upload
		started, updated string
	)
	if err := sc.Scan(&u.ID, &u.Registry, &u.Repository, &started, &updated); err != nil {
		return u, err
	}
	var err error
	if u.StartedAt, err = parseTime(started); err != nil {
		return u, err
	}
	u.UpdatedAt, err = parseTime(updated)
	return u, err
}

func (st registryStore) CreateUpload(ctx context.Context, u registry.Upload) error {
	return st.s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO uploads (id, registry_key, repository, started_at, updated_at)
			VALUES (?, ?, ?, ?, ?)`, u.ID, key(u.Registry), u.Repository, formatTime(u.StartedAt), formatTime(u.UpdatedAt))
		switch {
		case st.s.d.IsUnique(err):
			return errAlreadyExists("upload '%s' already exists", u.ID)
		case st.s.d.IsForeignKey(err):
			return errNotFound("registry '%s' not found", u.Registry)
		case err != nil:
			return errdefs.Internalf(err, "store: insert upload")
		}
		return nil
	})
}

// GetUpload finds a session of the given registry and repository only:
// an id is no capability elsewhere.
func (st registryStore) GetUpload(ctx context.Context, reg, repo, id string) (registry.Upload, error) {
	u, err := scanUpload(st.s.q.QueryRowContext(ctx, uploadSelect+` WHERE id = ? AND registry_key = ? AND repository = ?`,
		id, key(reg), repo))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Upload{}, errNotFound("upload '%s' not found", id)
	case err != nil:
		return registry.Upload{}, errdefs.Internalf(err, "store: get upload")
	}
	return u, nil
}

func (st registryStore) TouchUpload(ctx context.Context, id string, at time.Time) error {
	return st.s.write(ctx, func(tx querier) error {
		return execOne(ctx, tx, errNotFound("upload '%s' not found", id), "touch upload",
			`UPDATE uploads SET updated_at = ? WHERE id = ?`, formatTime(at), id)
	})
}

func (st registryStore) DeleteUpload(ctx context.Context, id string) error {
	return st.s.write(ctx, func(tx querier) error {
		return execOne(ctx, tx, errNotFound("upload '%s' not found", id), "delete upload",
			`DELETE FROM uploads WHERE id = ?`, id)
	})
}

func (st registryStore) StaleUploads(ctx context.Context, before time.Time) ([]registry.Upload, error) {
	return queryList(ctx, st.s.q, "uploads", scanUpload,
		uploadSelect+` WHERE updated_at < ? ORDER BY updated_at, id`, formatTime(before))
}
