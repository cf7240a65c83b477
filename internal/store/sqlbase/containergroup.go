package sqlbase

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"net/netip"
	"strings"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// containerGroupStore implements containergroup.Store.
type containerGroupStore struct{ s *Store }

var _ containergroup.Store = containerGroupStore{}

// ContainerGroups returns the container group store.
func (s *Store) ContainerGroups() containergroup.Store { return containerGroupStore{s} }

const containerGroupSelect = `SELECT id, name, location, tags, instance_id, spec, provisioning_state, stopped,
	ip, dns_label_key, images, events, owner, created_at, created_by, changed_at, changed_by FROM container_groups`

func scanContainerGroup(sc scanner) (containergroup.Group, error) {
	var (
		g                            containergroup.Group
		id, images, events, crt, chg string
		tags, ip, dnsKey             sql.NullString
	)
	if err := sc.Scan(&id, &g.Name, &g.Location, &tags, &g.InstanceID, &g.SealedSpec, &g.ProvisioningState, &g.Stopped,
		&ip, &dnsKey, &images, &events, &g.Owner, &crt, &g.CreatedBy, &chg, &g.ChangedBy); err != nil {
		return g, err
	}
	var err error
	if g.ID, err = resourceid.Parse(id); err != nil {
		return g, err
	}
	if g.Tags, err = decodeTags(tags); err != nil {
		return g, err
	}
	if ip.Valid {
		if g.IP, err = netip.ParseAddr(ip.String); err != nil {
			return g, err
		}
	}
	if dnsKey.Valid {
		_, g.DNSNameLabel, _ = strings.Cut(dnsKey.String, "/")
	}
	if err := json.Unmarshal([]byte(images), &g.Images); err != nil {
		return g, err
	}
	if err := json.Unmarshal([]byte(events), &g.Events); err != nil {
		return g, err
	}
	if g.CreatedAt, err = parseTime(crt); err != nil {
		return g, err
	}
	g.ChangedAt, err = parseTime(chg)
	return g, err
}

func getContainerGroup(ctx context.Context, q querier, id resourceid.ID) (containergroup.Group, error) {
	g, err := scanContainerGroup(q.QueryRowContext(ctx, containerGroupSelect+` WHERE id_key = ?`, id.Key()))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return containergroup.Group{}, errNotFound("container group '%s' not found", id.Name())
	case err != nil:
		return containergroup.Group{}, errdefs.Internalf(err, "store: get container group")
	}
	return g, nil
}

// groupColumns are the values of the mutable columns, in the order of
// the INSERT and UPDATE statements below.
func groupColumns(g containergroup.Group) []any {
	images, _ := json.Marshal(nonNilMap(g.Images)) // cannot fail for these types
	events, _ := json.Marshal(nonNilMap(g.Events))
	var ip, dnsKey sql.NullString
	if g.IP.IsValid() {
		ip = sql.NullString{String: g.IP.String(), Valid: true}
	}
	if g.DNSNameLabel != "" {
		dnsKey = sql.NullString{String: key(g.Location) + "/" + key(g.DNSNameLabel), Valid: true}
	}
	return []any{g.Location, encodeTags(g.Tags), g.SealedSpec, g.ProvisioningState, g.Stopped, ip, dnsKey,
		string(images), string(events), formatTime(g.ChangedAt), g.ChangedBy}
}

func nonNilMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// groupConflict maps a uniqueness failure to the column that caused it.
func groupConflict(d *Dialect, err error, g containergroup.Group) error {
	switch d.UniqueColumn(err) {
	case "ip":
		return errdefs.Newf(errdefs.Conflict, containergroup.ReasonIPTaken, "address %s is taken", g.IP)
	case "dns_label_key":
		return errdefs.Newf(errdefs.Conflict, containergroup.ReasonDNSLabelTaken, "DNS name label '%s' is taken", g.DNSNameLabel)
	}
	return errAlreadyExists("container group '%s' already exists", g.Name)
}

func (s *Store) putContainerGroupIndex(ctx context.Context, tx querier, g containergroup.Group) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO resources (id_key, id, subscription_key, group_key, type_key,
		location, kind, sku, tags, created_at, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, '', '', ?, ?, ?)
		ON CONFLICT (id_key) DO UPDATE SET location = excluded.location, tags = excluded.tags, changed_at = excluded.changed_at`,
		g.ID.Key(), g.ID.String(), key(g.ID.SubscriptionID), key(g.ID.ResourceGroup), key(containergroup.ResourceType),
		g.Location, encodeTags(g.Tags), formatTime(g.CreatedAt), formatTime(g.ChangedAt))
	switch {
	case s.d.IsForeignKey(err):
		return errNotFound("resource group '%s' not found", g.ID.ResourceGroup)
	case err != nil:
		return errdefs.Internalf(err, "store: put container group index entry")
	}
	return nil
}

func (st containerGroupStore) CreateGroup(ctx context.Context, g containergroup.Group) error {
	if g.ID.Level() != resourceid.Resource || !strings.EqualFold(g.ID.ResourceType(), containergroup.ResourceType) {
		return errdefs.Newf(errdefs.InvalidArgument, "", "'%s' is not a container group id", g.ID)
	}
	return st.s.write(ctx, func(tx querier) error {
		// The id first: a group that exists is AlreadyExists, whichever
		// unique column the database would name.
		if _, err := getContainerGroup(ctx, tx, g.ID); err == nil {
			return errAlreadyExists("container group '%s' already exists", g.Name)
		}
		args := append([]any{g.ID.Key(), g.ID.String(), key(g.ID.SubscriptionID), key(g.ID.ResourceGroup), g.Name,
			g.InstanceID, formatTime(g.CreatedAt), g.CreatedBy, g.Owner}, groupColumns(g)...)
		_, err := tx.ExecContext(ctx, `INSERT INTO container_groups (id_key, id, subscription_key, group_key, name,
			instance_id, created_at, created_by, owner, location, tags, spec, provisioning_state, stopped, ip, dns_label_key,
			images, events, changed_at, changed_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		switch {
		case st.s.d.IsUnique(err):
			return groupConflict(st.s.d, err, g)
		case st.s.d.IsForeignKey(err):
			return errNotFound("resource group '%s' not found", g.ID.ResourceGroup)
		case err != nil:
			return errdefs.Internalf(err, "store: insert container group")
		}
		return st.s.putContainerGroupIndex(ctx, tx, g)
	})
}

func (st containerGroupStore) GetGroup(ctx context.Context, id resourceid.ID) (containergroup.Group, error) {
	return getContainerGroup(ctx, st.s.q, id)
}

func (st containerGroupStore) UpdateGroup(ctx context.Context, id resourceid.ID, fn func(*containergroup.Group) error) (containergroup.Group, error) {
	var out containergroup.Group
	err := st.s.write(ctx, func(tx querier) error {
		cur, err := getContainerGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		g := cur
		g.Tags = maps.Clone(cur.Tags)
		g.Images = maps.Clone(cur.Images)
		g.Events = maps.Clone(cur.Events)
		if err := fn(&g); err != nil {
			return err
		}
		g.Owner = cur.Owner // ClaimGroup alone changes it
		if !g.ID.Equal(cur.ID) || g.Name != cur.Name || g.InstanceID != cur.InstanceID {
			return errImmutable("container group id, name and instance id cannot change")
		}
		_, err = tx.ExecContext(ctx, `UPDATE container_groups SET location = ?, tags = ?, spec = ?, provisioning_state = ?,
			stopped = ?, ip = ?, dns_label_key = ?, images = ?, events = ?, changed_at = ?, changed_by = ?
			WHERE id_key = ?`, append(groupColumns(g), id.Key())...)
		switch {
		case st.s.d.IsUnique(err):
			return groupConflict(st.s.d, err, g)
		case err != nil:
			return errdefs.Internalf(err, "store: update container group")
		}
		if err := st.s.putContainerGroupIndex(ctx, tx, g); err != nil {
			return err
		}
		out = g
		return nil
	})
	return out, err
}

func (st containerGroupStore) DeleteGroup(ctx context.Context, id resourceid.ID) error {
	return st.s.write(ctx, func(tx querier) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM resources WHERE id_key = ?`, id.Key()); err != nil {
			return errdefs.Internalf(err, "store: delete container group index entry")
		}
		return execOne(ctx, tx, errNotFound("container group '%s' not found", id.Name()), "delete container group",
			`DELETE FROM container_groups WHERE id_key = ?`, id.Key())
	})
}

func (st containerGroupStore) ListGroups(ctx context.Context, subscriptionID, group string) ([]containergroup.Group, error) {
	switch {
	case subscriptionID == "":
		return queryList(ctx, st.s.q, "container groups", scanContainerGroup, containerGroupSelect+` ORDER BY id_key`)
	case group == "":
		return queryList(ctx, st.s.q, "container groups", scanContainerGroup,
			containerGroupSelect+` WHERE subscription_key = ? ORDER BY id_key`, key(subscriptionID))
	}
	return queryList(ctx, st.s.q, "container groups", scanContainerGroup,
		containerGroupSelect+` WHERE subscription_key = ? AND group_key = ? ORDER BY id_key`, key(subscriptionID), key(group))
}

// deleteGroupContainerGroups removes a resource group's container groups
// (their operations go with them); the runner's reconciler then stops
// what they ran.
func deleteGroupContainerGroups(ctx context.Context, tx querier, subscriptionID, group string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM container_groups WHERE subscription_key = ? AND group_key = ?`,
		key(subscriptionID), key(group)); err != nil {
		return errdefs.Internalf(err, "store: delete container groups of group")
	}
	return nil
}

func (st containerGroupStore) PutOperation(ctx context.Context, op containergroup.Operation) error {
	return st.s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO container_group_operations (id, group_id_key, group_id, location,
			status, start_time, end_time, error_code, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET status = excluded.status, end_time = excluded.end_time,
			error_code = excluded.error_code, error_message = excluded.error_message`,
			op.ID, op.Group.Key(), op.Group.String(), op.Location, op.Status, formatTime(op.StartTime),
			optionalTime(op), op.ErrorCode, op.ErrorMessage)
		switch {
		case st.s.d.IsForeignKey(err):
			return errNotFound("container group '%s' not found", op.Group.Name())
		case err != nil:
			return errdefs.Internalf(err, "store: put container group operation")
		}
		return nil
	})
}

func optionalTime(op containergroup.Operation) string {
	if op.EndTime.IsZero() {
		return ""
	}
	return formatTime(op.EndTime)
}

func (st containerGroupStore) GetOperation(ctx context.Context, id string) (containergroup.Operation, error) {
	var (
		op                containergroup.Operation
		group, start, end string
	)
	err := st.s.q.QueryRowContext(ctx, `SELECT id, group_id, location, status, start_time, end_time, error_code,
		error_message FROM container_group_operations WHERE id = ?`, id).
		Scan(&op.ID, &group, &op.Location, &op.Status, &start, &end, &op.ErrorCode, &op.ErrorMessage)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return op, errNotFound("operation '%s' not found", id)
	case err != nil:
		return op, errdefs.Internalf(err, "store: get operation")
	}
	if op.Group, err = resourceid.Parse(group); err != nil {
		return op, errdefs.Internalf(err, "store: operation group id")
	}
	if op.StartTime, err = parseTime(start); err != nil {
		return op, errdefs.Internalf(err, "store: operation start time")
	}
	if end != "" {
		if op.EndTime, err = parseTime(end); err != nil {
			return op, errdefs.Internalf(err, "store: operation end time")
		}
	}
	return op, nil
}
