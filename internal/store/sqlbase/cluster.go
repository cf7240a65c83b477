package sqlbase

import (
	"context"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// The servers sharing the store and the owners of container groups
// (containergroup.Cluster).

func (st containerGroupStore) PutServer(ctx context.Context, srv containergroup.Server) error {
	return st.s.write(ctx, func(tx querier) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO servers (id, address, heartbeat_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET address = excluded.address, heartbeat_at = excluded.heartbeat_at`,
			srv.ID, srv.Address, formatTime(srv.Heartbeat))
		if err != nil {
			return errdefs.Internalf(err, "store: put server")
		}
		return nil
	})
}

func scanServer(sc scanner) (containergroup.Server, error) {
	var (
		srv containergroup.Server
		hb  string
	)
	if err := sc.Scan(&srv.ID, &srv.Address, &hb); err != nil {
		return srv, err
	}
	var err error
	srv.Heartbeat, err = parseTime(hb)
	return srv, err
}

func (st containerGroupStore) ListServers(ctx context.Context) ([]containergroup.Server, error) {
	return queryList(ctx, st.s.q, "servers", scanServer, `SELECT id, address, heartbeat_at FROM servers ORDER BY id`)
}

// ClaimGroup is one conditional UPDATE: of servers claiming the same group
// from the same dead owner, exactly one changes a row.
func (st containerGroupStore) ClaimGroup(ctx context.Context, id resourceid.ID, from, to string) (bool, error) {
	claimed := false
	err := st.s.write(ctx, func(tx querier) error {
		res, err := tx.ExecContext(ctx, `UPDATE container_groups SET owner = ? WHERE id_key = ? AND owner = ?`, to, id.Key(), from)
		if err != nil {
			return errdefs.Internalf(err, "store: claim container group")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return errdefs.Internalf(err, "store: claim container group")
		}
		if n == 1 {
			claimed = true
			return nil
		}
		_, err = getContainerGroup(ctx, tx, id)
		return err
	})
	return claimed, err
}
