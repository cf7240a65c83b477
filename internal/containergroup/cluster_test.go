package containergroup

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/resourceid"
)

// newPeer is a service named id on a shared store, with its own runner.
func newPeer(t *testing.T, store *memStore, id string) *env {
	t.Helper()
	e := &env{store: store, images: &fakeImages{}, runner: newFakeRunner()}
	e.svc = NewService(Config{Store: store, Images: e.images, Runner: e.runner, Sealer: plainSealer{},
		ReconcileEvery: time.Hour, ServerID: id, Advertise: id + ".example:8443"})
	e.svc.heartbeat(context.Background())
	return e
}

// storeGroup puts a provisioned group owned by owner straight into the
// store, as another server would have created it.
func storeGroup(t *testing.T, store *memStore, name, owner string) Group {
	t.Helper()
	sealed, err := (plainSealer{}).Seal([]byte(`{"Containers":[{"Name":"c1","Image":"r.example/app:v1"}],"RestartPolicy":"Always"}`))
	if err != nil {
		t.Fatal(err)
	}
	g := Group{ID: groupID(name), Name: name, Location: "eastus", InstanceID: newID(), SealedSpec: sealed,
		ProvisioningState: StateSucceeded, Images: map[string]ResolvedImage{}, Events: map[string][]Event{}, Owner: owner}
	if err := store.CreateGroup(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	return g
}

func ownerOf(t *testing.T, store *memStore, id resourceid.ID) string {
	t.Helper()
	g, err := store.GetGroup(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return g.Owner
}

func TestCreateOwnsTheGroup(t *testing.T) {
	a := newPeer(t, newMemStore(), "a")
	if _, _, _, err := a.svc.CreateOrUpdate(context.Background(), CreateInput{ID: groupID("g1"), Location: "eastus", Spec: validSpec()}); err != nil {
		t.Fatal(err)
	}
	<-a.runner.startCh
	if got := ownerOf(t, a.store, groupID("g1")); got != "a" {
		t.Fatalf("owner %q, want a", got)
	}
}

func TestReconcileIgnoresGroupsOfLivePeers(t *testing.T) {
	store := newMemStore()
	a, b := newPeer(t, store, "a"), newPeer(t, store, "b")
	_ = b
	g := storeGroup(t, store, "theirs", "b")
	a.svc.reconcile(context.Background())
	if len(a.runner.started) != 0 || len(a.svc.working) != 0 {
		t.Fatalf("a started %v, working %v: the group is b's", a.runner.started, a.svc.working)
	}
	if got := ownerOf(t, store, g.ID); got != "b" {
		t.Fatalf("owner %q, want b", got)
	}
	addr, err := a.svc.Route(context.Background(), g.ID)
	if err != nil || addr != "b.example:8443" {
		t.Fatalf("route %q, %v; want b's address", addr, err)
	}
}

func TestClaimsGroupsOfDeadPeersOnce(t *testing.T) {
	store := newMemStore()
	// The dead server's last heartbeat is older than the lease.
	if err := store.PutServer(context.Background(), Server{ID: "dead", Address: "dead.example:8443", Heartbeat: time.Now().Add(-2 * DefaultLease)}); err != nil {
		t.Fatal(err)
	}
	g := storeGroup(t, store, "orphan", "dead")
	peers := []*env{newPeer(t, store, "a"), newPeer(t, store, "b")}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, p := range peers {
		wg.Go(func() { <-start; p.svc.reconcile(context.Background()) })
	}
	close(start)
	wg.Wait()

	owner := ownerOf(t, store, g.ID)
	var winner, loser *env
	switch owner {
	case "a":
		winner, loser = peers[0], peers[1]
	case "b":
		winner, loser = peers[1], peers[0]
	default:
		t.Fatalf("owner %q after the race, want a or b", owner)
	}
	if run := <-winner.runner.startCh; run.ID != g.InstanceID {
		t.Fatalf("the winner started %s, want %s", run.ID, g.InstanceID)
	}
	winner.waitState(t, g.ID, StateSucceeded)
	loser.svc.mu.Lock()
	busy := len(loser.svc.working)
	loser.svc.mu.Unlock()
	loser.runner.mu.Lock()
	started := len(loser.runner.started)
	loser.runner.mu.Unlock()
	if busy != 0 || started != 0 {
		t.Fatalf("the loser provisions %d and runs %d groups: the group runs twice", busy, started)
	}
	// Requests reaching the loser go to the winner.
	if addr, err := loser.svc.Route(context.Background(), g.ID); err != nil || addr != owner+".example:8443" {
		t.Fatalf("route at the loser %q, %v", addr, err)
	}
}

func TestRouteClaimsTheGroupOfADeadOwner(t *testing.T) {
	store := newMemStore()
	a := newPeer(t, store, "a")
	g := storeGroup(t, store, "orphan", "gone") // no heartbeat at all
	addr, err := a.svc.Route(context.Background(), g.ID)
	if err != nil || addr != "" {
		t.Fatalf("route %q, %v; want here", addr, err)
	}
	if got := ownerOf(t, store, g.ID); got != "a" {
		t.Fatalf("owner %q, want a", got)
	}
	// A group that does not exist is served here (a PUT creates it).
	if addr, err := a.svc.Route(context.Background(), groupID("new")); err != nil || addr != "" {
		t.Fatalf("route of a new group %q, %v", addr, err)
	}
}

func TestGroupsWithoutOwnerAreAdopted(t *testing.T) {
	store := newMemStore()
	a := newPeer(t, store, "a")
	g := storeGroup(t, store, "old", "")
	a.svc.reconcile(context.Background())
	if run := <-a.runner.startCh; run.ID != g.InstanceID {
		t.Fatalf("started %s, want %s", run.ID, g.InstanceID)
	}
	if got := ownerOf(t, store, g.ID); got != "a" {
		t.Fatalf("owner %q, want a", got)
	}
}

func TestReconcileRemovesGroupsItNoLongerOwns(t *testing.T) {
	store := newMemStore()
	a := newPeer(t, store, "a")
	ctx := context.Background()
	if _, _, _, err := a.svc.CreateOrUpdate(ctx, CreateInput{ID: groupID("g1"), Location: "eastus", Spec: validSpec()}); err != nil {
		t.Fatal(err)
	}
	run := <-a.runner.startCh
	a.waitState(t, groupID("g1"), StateSucceeded)
	// b took the group over while a was taken for dead.
	newPeer(t, store, "b")
	if ok, err := store.ClaimGroup(ctx, groupID("g1"), "a", "b"); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	a.svc.reconcile(ctx)
	if len(a.runner.removed) != 1 || a.runner.removed[0] != run.ID {
		t.Fatalf("removed %v, want [%s]", a.runner.removed, run.ID)
	}
	if got := ownerOf(t, store, groupID("g1")); got != "b" {
		t.Fatalf("owner %q, want b", got)
	}
}

// TestReconcileStopsWhatTheStoreStopped: a stop served by a server that
// does not own the group (one that could not or would not forward it)
// only marks the group stopped in the store; the owner's next reconcile
// stops it on its machine.
func TestReconcileStopsWhatTheStoreStopped(t *testing.T) {
	store := newMemStore()
	a, b := newPeer(t, store, "a"), newPeer(t, store, "b")
	ctx := context.Background()
	if _, _, _, err := a.svc.CreateOrUpdate(ctx, CreateInput{ID: groupID("g1"), Location: "eastus", Spec: validSpec()}); err != nil {
		t.Fatal(err)
	}
	run := <-a.runner.startCh
	a.waitState(t, groupID("g1"), StateSucceeded)
	if err := b.svc.Stop(ctx, groupID("g1"), "someone"); err != nil {
		t.Fatal(err)
	}
	if len(a.runner.stopped) != 0 {
		t.Fatal("a's runner stopped before a reconciled")
	}
	a.svc.reconcile(ctx)
	if len(a.runner.stopped) != 1 || a.runner.stopped[0] != run.ID {
		t.Fatalf("a's runner stopped %v, want [%s]", a.runner.stopped, run.ID)
	}
	a.svc.reconcile(ctx) // nothing runs any more: nothing more to stop
	if len(a.runner.stopped) != 1 {
		t.Fatalf("stopped again: %v", a.runner.stopped)
	}
}

func TestSessionIDsNameTheirServer(t *testing.T) {
	store := newMemStore()
	a, b := newPeer(t, store, "a"), newPeer(t, store, "b")
	ctx := context.Background()
	if _, _, _, err := b.svc.CreateOrUpdate(ctx, CreateInput{ID: groupID("g1"), Location: "eastus", Spec: validSpec()}); err != nil {
		t.Fatal(err)
	}
	<-b.runner.startCh
	b.waitState(t, groupID("g1"), StateSucceeded)
	sess, err := b.svc.Attach(ctx, groupID("g1"), "web")
	if err != nil {
		t.Fatal(err)
	}
	if addr, err := a.svc.RouteSession(ctx, sess.ID); err != nil || addr != "b.example:8443" {
		t.Fatalf("a routes b's session to %q, %v", addr, err)
	}
	if addr, err := b.svc.RouteSession(ctx, sess.ID); err != nil || addr != "" {
		t.Fatalf("b routes its own session to %q, %v", addr, err)
	}
	if addr, err := a.svc.RouteSession(ctx, "gone.123"); err != nil || addr != "" {
		t.Fatalf("a session of no live server routes to %q, %v", addr, err)
	}
}
