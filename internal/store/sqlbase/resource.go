package sqlbase

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// resourceStore implements resource.Store. Subscription ids and group names
// are matched case-insensitively; the spelling first stored is returned.
type resourceStore struct{ s *Store }

// ---- subscriptions

func (st resourceStore) CreateSubscription(ctx context.Context, sub resource.Subscription) error {
	return st.s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (id_key, id, tenant_key, tenant_id, display_name, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			key(sub.ID), sub.ID, key(sub.TenantID), sub.TenantID, sub.DisplayName, sub.State, formatTime(sub.CreatedAt))
		switch {
		case st.s.d.IsUnique(err):
			return errAlreadyExists("subscription '%s' already exists", sub.ID)
		case st.s.d.IsForeignKey(err):
			return errNotFound("tenant '%s' not found", sub.TenantID)
		case err != nil:
			return errdefs.Internalf(err, "store: insert subscription")
		}
		return nil
	})
}

const subscriptionSelect = `SELECT id, display_name, tenant_id, state, created_at FROM subscriptions`

func scanSubscription(sc interface{ Scan(...any) error }) (resource.Subscription, error) {
	var sub resource.Subscription
	var created string
	if err := sc.Scan(&sub.ID, &sub.DisplayName, &sub.TenantID, &sub.State, &created); err != nil {
		return sub, err
	}
	var err error
	sub.CreatedAt, err = parseTime(created)
	return sub, err
}

func (st resourceStore) GetSubscription(ctx context.Context, id string) (resource.Subscription, error) {
	sub, err := scanSubscription(st.s.q.QueryRowContext(ctx, subscriptionSelect+` WHERE id_key = ?`, key(id)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return resource.Subscription{}, errNotFound("subscription '%s' not found", id)
	case err != nil:
		return resource.Subscription{}, errdefs.Internalf(err, "store: get subscription")
	}
	return sub, nil
}

func (st resourceStore) ListSubscriptions(ctx context.Context) ([]resource.Subscription, error) {
	rows, err := st.s.q.QueryContext(ctx, subscriptionSelect+` ORDER BY created_at, id_key`)
	if err != nil {
		return nil, errdefs.Internalf(err, "store: list subscriptions")
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := []resource.Subscription{}
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, errdefs.Internalf(err, "store: scan subscription")
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "store: list subscriptions")
	}
	return out, nil
}

// ---- resource groups

const groupSelect = `SELECT subscription_id, name, location, tags, managed_by, provisioning_state, created_at, changed_at
	FROM resource_groups`

func scanGroup(sc interface{ Scan(...any) error }) (resource.Group, error) {
	var (
		g              resource.Group
		tags           sql.NullString
		created, chang string
	)
	if err := sc.Scan(&g.SubscriptionID, &g.Name, &g.Location, &tags, &g.ManagedBy, &g.ProvisioningState,
		&created, &chang); err != nil {
		return g, err
	}
	var err error
	if g.Tags, err = decodeTags(tags); err != nil {
		return g, err
	}
	if g.CreatedAt, err = parseTime(created); err != nil {
		return g, err
	}
	g.ChangedAt, err = parseTime(chang)
	return g, err
}

func getGroup(ctx context.Context, q querier, subscriptionID, name string) (resource.Group, error) {
	g, err := scanGroup(q.QueryRowContext(ctx, groupSelect+` WHERE subscription_key = ? AND name_key = ?`,
		key(subscriptionID), key(name)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return resource.Group{}, errNotFound("resource group '%s' not found", name)
	case err != nil:
		return resource.Group{}, errdefs.Internalf(err, "store: get resource group")
	}
	return g, nil
}

func (st resourceStore) PutGroup(ctx context.Context, subscriptionID, name string, fn func(cur *resource.Group) (resource.Group, error)) (resource.Group, bool, error) {
	var (
		out     resource.Group
		created bool
	)
	err := st.s.write(ctx, func(tx querier) error {
		var curp *resource.Group
		cur, err := getGroup(ctx, tx, subscriptionID, name)
		switch {
		case errdefs.IsKind(err, errdefs.NotFound):
			created = true
		case err != nil:
			return err
		default:
			curp = &cur
		}
		g, err := fn(curp)
		if err != nil {
			return err
		}
		if g.SubscriptionID == "" {
			g.SubscriptionID = subscriptionID
		}
		if g.Name == "" {
			g.Name = name
		}
		if !strings.EqualFold(g.SubscriptionID, subscriptionID) || !strings.EqualFold(g.Name, name) {
			return errImmutable("resource group subscription and name cannot change")
		}
		if created {
			_, err = tx.ExecContext(ctx, `INSERT INTO resource_groups (subscription_key, name_key, subscription_id,
				name, location, tags, managed_by, provisioning_state, created_at, changed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				key(g.SubscriptionID), key(g.Name), g.SubscriptionID, g.Name, g.Location, encodeTags(g.Tags),
				g.ManagedBy, g.ProvisioningState, formatTime(g.CreatedAt), formatTime(g.ChangedAt))
			if st.s.d.IsForeignKey(err) {
				return errNotFound("subscription '%s' not found", subscriptionID)
			}
		} else {
			// The name keeps the spelling it was created with.
			_, err = tx.ExecContext(ctx, `UPDATE resource_groups SET location = ?, tags = ?, managed_by = ?,
				provisioning_state = ?, created_at = ?, changed_at = ?
				WHERE subscription_key = ? AND name_key = ?`,
				g.Location, encodeTags(g.Tags), g.ManagedBy, g.ProvisioningState,
				formatTime(g.CreatedAt), formatTime(g.ChangedAt), key(subscriptionID), key(name))
		}
		if err != nil {
			return errdefs.Internalf(err, "store: put resource group")
		}
		out, err = getGroup(ctx, tx, subscriptionID, name)
		return err
	})
	if err != nil {
		return resource.Group{}, false, err
	}
	return out, created, nil
}

func (st resourceStore) GetGroup(ctx context.Context, subscriptionID, name string) (resource.Group, error) {
	return getGroup(ctx, st.s.q, subscriptionID, name)
}

func (st resourceStore) ListGroups(ctx context.Context, subscriptionID string) ([]resource.Group, error) {
	rows, err := st.s.q.QueryContext(ctx, groupSelect+` WHERE subscription_key = ? ORDER BY name_key, name`,
		key(subscriptionID))
	if err != nil {
		return nil, errdefs.Internalf(err, "store: list resource groups")
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := []resource.Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, errdefs.Internalf(err, "store: scan resource group")
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "store: list resource groups")
	}
	return out, nil
}

func (st resourceStore) DeleteGroup(ctx context.Context, subscriptionID, name string) error {
	return st.s.write(ctx, func(tx querier) error {
		// Registries first: they reference the group, and take their
		// repositories, manifests, tags, links and uploads with them.
		if err := deleteGroupRegistries(ctx, tx, subscriptionID, name); err != nil {
			return err
		}
		if err := deleteGroupContainerGroups(ctx, tx, subscriptionID, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM resources WHERE subscription_key = ? AND group_key = ?`,
			key(subscriptionID), key(name)); err != nil {
			return errdefs.Internalf(err, "store: delete resources of group")
		}
		scope := resourceid.ForResourceGroup(subscriptionID, name)
		below, args := belowScope(scope)
		if _, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE scope_key = ? OR `+below,
			append([]any{scope.Key()}, args...)...); err != nil {
			return errdefs.Internalf(err, "store: delete role assignments of group")
		}
		// A missing group rolls the transaction back.
		return execOne(ctx, tx, errNotFound("resource group '%s' not found", name), "delete resource group",
			`DELETE FROM resource_groups WHERE subscription_key = ? AND name_key = ?`, key(subscriptionID), key(name))
	})
}

// ---- generic resources

// PutGenericResource creates or replaces an entry of the generic resource
// index. The id keeps the spelling it was first stored with, and CreatedAt
// its first value. It fails with InvalidArgument for an id that is not a
// resource and with NotFound when the resource group does not exist.
//
// It is not part of resource.Store: resource providers will write the index
// in their own transactions; tests use it directly.
func (s *Store) PutGenericResource(ctx context.Context, r resource.Generic) error {
	if r.ID.Level() != resourceid.Resource {
		return errdefs.Newf(errdefs.InvalidArgument, "", "'%s' is not a resource id", r.ID)
	}
	return s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO resources (id_key, id, subscription_key, group_key, type_key,
			location, kind, sku, tags, created_at, changed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id_key) DO UPDATE SET location = excluded.location, kind = excluded.kind,
				sku = excluded.sku, tags = excluded.tags, changed_at = excluded.changed_at`,
			r.ID.Key(), r.ID.String(), key(r.ID.SubscriptionID), key(r.ID.ResourceGroup), key(r.ID.ResourceType()),
			r.Location, r.Kind, r.SKU, encodeTags(r.Tags), formatTime(r.CreatedAt), formatTime(r.ChangedAt))
		switch {
		case s.d.IsForeignKey(err):
			return errNotFound("resource group '%s' not found", r.ID.ResourceGroup)
		case err != nil:
			return errdefs.Internalf(err, "store: put resource")
		}
		return nil
	})
}

func (st resourceStore) ListResources(ctx context.Context, subscriptionID, group string) ([]resource.Generic, error) {
	query := `SELECT id, location, kind, sku, tags, created_at, changed_at FROM resources WHERE subscription_key = ?`
	args := []any{key(subscriptionID)}
	if group != "" {
		query += ` AND group_key = ?`
		args = append(args, key(group))
	}
	rows, err := st.s.q.QueryContext(ctx, query+` ORDER BY id_key`, args...)
	if err != nil {
		return nil, errdefs.Internalf(err, "store: list resources")
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := []resource.Generic{}
	for rows.Next() {
		var (
			r                    resource.Generic
			id, created, changed string
			tags                 sql.NullString
		)
		if err := rows.Scan(&id, &r.Location, &r.Kind, &r.SKU, &tags, &created, &changed); err != nil {
			return nil, errdefs.Internalf(err, "store: scan resource")
		}
		if r.ID, err = resourceid.Parse(id); err != nil {
			return nil, errdefs.Internalf(err, "store: parse resource id %q", id)
		}
		if r.Tags, err = decodeTags(tags); err != nil {
			return nil, errdefs.Internalf(err, "store: decode resource tags")
		}
		if r.CreatedAt, err = parseTime(created); err != nil {
			return nil, errdefs.Internalf(err, "store: decode resource created time")
		}
		if r.ChangedAt, err = parseTime(changed); err != nil {
			return nil, errdefs.Internalf(err, "store: decode resource changed time")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, errdefs.Internalf(err, "store: list resources")
	}
	return out, nil
}
