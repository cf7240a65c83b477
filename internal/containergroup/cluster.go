package containergroup

// Several Cerulean servers may share one store (PostgreSQL). Each group is
// run by exactly one server's runner at a time, its owner: the server
// that created it, until that server stops renewing its heartbeat for
// longer than the lease; then the first live server to notice claims the
// group with a conditional write (only if the owner is still the dead
// one) and starts it on its own runner. A server only manages the groups
// it owns and removes from its runner every group it does not own, so a
// server that comes back after being taken for dead ends the split brain
// by letting go. Requests about a group owned by another live server are
// served by that server: Route tells the HTTP layer where.

import (
	"context"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// Server is a Cerulean server sharing the store.
type Server struct {
	ID string
	// Address is the host:port other servers reach it at (HTTPS).
	Address string
	// Heartbeat is when it last renewed its lease.
	Heartbeat time.Time
}

// Cluster is the part of the Store that knows the servers sharing it and
// who owns each group.
type Cluster interface {
	// PutServer records a server's heartbeat: its row is created the
	// first time and its address and heartbeat replaced after.
	PutServer(ctx context.Context, srv Server) error
	// ListServers lists every server that ever recorded a heartbeat,
	// ordered by id.
	ListServers(ctx context.Context) ([]Server, error)
	// ClaimGroup makes to the owner of a group if its owner is still from
	// ("" for none), atomically, and reports whether it did. NotFound when
	// the group does not exist.
	ClaimGroup(ctx context.Context, id resourceid.ID, from, to string) (bool, error)
}

// Defaults of the server lease.
const (
	DefaultLease     = 30 * time.Second
	DefaultHeartbeat = 5 * time.Second
)

// ServerID is this server's id.
func (s *Service) ServerID() string { return s.id }

// heartbeat renews this server's lease.
func (s *Service) heartbeat(ctx context.Context) {
	if err := s.store.PutServer(ctx, Server{ID: s.id, Address: s.advertise, Heartbeat: s.now().UTC()}); err != nil {
		s.log.WarnContext(ctx, "server heartbeat", "err", err)
	}
}

// heartbeats renews the lease until ctx ends.
func (s *Service) heartbeats(ctx context.Context) {
	t := time.NewTicker(s.beat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.heartbeat(ctx)
		}
	}
}

// liveServers are the servers whose lease holds, by id. This server is
// always live to itself: a server that missed its own heartbeats still
// serves its groups until another claims them.
func (s *Service) liveServers(ctx context.Context) (map[string]Server, error) {
	all, err := s.store.ListServers(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	live := map[string]Server{s.id: {ID: s.id, Address: s.advertise, Heartbeat: now}}
	for _, srv := range all {
		if srv.ID != s.id && now.Sub(srv.Heartbeat) <= s.lease {
			live[srv.ID] = srv
		}
	}
	return live, nil
}

// claim takes a group whose owner is not live for this server.
func (s *Service) claim(ctx context.Context, g Group) (bool, error) {
	ok, err := s.store.ClaimGroup(ctx, g.ID, g.Owner, s.id)
	if err != nil || !ok {
		return false, err
	}
	if g.Owner == "" {
		s.log.InfoContext(ctx, "adopted a container group without owner", "group", g.ID.String(), "instance", g.InstanceID)
	} else {
		s.log.InfoContext(ctx, "took over a container group of a dead server", "group", g.ID.String(), "instance", g.InstanceID, "dead_server", g.Owner)
	}
	return true, nil
}

// Route says where requests about a group are served: "" here — the group
// is this server's, or has no live owner (it is claimed for this server
// first), or does not exist (a PUT creates it here) — or else the address
// of the live server that owns it.
func (s *Service) Route(ctx context.Context, id resourceid.ID) (string, error) {
	for range 2 {
		g, err := s.store.GetGroup(ctx, id)
		if errdefs.IsKind(err, errdefs.NotFound) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		if g.Owner == s.id {
			return "", nil
		}
		live, err := s.liveServers(ctx)
		if err != nil {
			return "", err
		}
		if srv, ok := live[g.Owner]; ok {
			return srv.Address, nil
		}
		ok, err := s.claim(ctx, g)
		switch {
		case errdefs.IsKind(err, errdefs.NotFound):
			return "", nil // deleted meanwhile: served here, as a missing group
		case err != nil:
			return "", err
		case ok:
			return "", nil
		}
		// Another server claimed it first: look again.
	}
	return "", nil
}

// sessionSep separates the owning server's id from the random part of an
// exec session id, so that any server can send the websocket to the
// server that holds the session.
const sessionSep = "."

// RouteSession says where an exec or attach session is served: "" here
// (this server's session, an id of no live server, or one without a
// server part), or the address of the live server that made it.
func (s *Service) RouteSession(ctx context.Context, sessionID string) (string, error) {
	srv, _, ok := strings.Cut(sessionID, sessionSep)
	if !ok || srv == s.id {
		return "", nil
	}
	live, err := s.liveServers(ctx)
	if err != nil {
		return "", err
	}
	return live[srv].Address, nil
}
