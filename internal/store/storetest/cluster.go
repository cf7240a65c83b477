package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/store"
)

func testServerHeartbeats(t *testing.T, s store.Store) {
	ctx, cgs := t.Context(), s.ContainerGroups()
	list, err := cgs.ListServers(ctx)
	must(t, err, "ListServers")
	if len(list) != 0 {
		t.Fatalf("ListServers on an empty store = %+v", list)
	}
	b := containergroup.Server{ID: fixedGUID(2), Address: "10.0.0.2:8443", Heartbeat: at(1)}
	a := containergroup.Server{ID: fixedGUID(1), Address: "10.0.0.1:8443", Heartbeat: at(2).In(otherZone)}
	must(t, cgs.PutServer(ctx, b), "PutServer b")
	must(t, cgs.PutServer(ctx, a), "PutServer a")
	// A heartbeat replaces the address and the time.
	b.Address, b.Heartbeat = "b.example:443", at(3)
	must(t, cgs.PutServer(ctx, b), "PutServer b again")
	list, err = cgs.ListServers(ctx)
	must(t, err, "ListServers")
	a.Heartbeat = a.Heartbeat.UTC()
	if want := []containergroup.Server{a, b}; !reflect.DeepEqual(list, want) {
		t.Fatalf("ListServers:\n got %+v\nwant %+v", list, want)
	}
}

func testContainerGroupOwner(t *testing.T, s store.Store) {
	ctx, cgs := t.Context(), s.ContainerGroups()
	sub := mkContainerGroupScope(t, s)
	g := newContainerGroup(sub, "rg", "owned", "")
	g.Owner = "server-a"
	must(t, cgs.CreateGroup(ctx, g), "CreateGroup")
	owner := func() string {
		t.Helper()
		got, err := cgs.GetGroup(ctx, g.ID)
		must(t, err, "GetGroup")
		return got.Owner
	}
	if o := owner(); o != "server-a" {
		t.Fatalf("owner after create %q", o)
	}
	// UpdateGroup does not move a group.
	_, err := cgs.UpdateGroup(ctx, g.ID, func(g *containergroup.Group) error {
		g.Owner, g.ChangedBy = "server-x", "someone"
		return nil
	})
	must(t, err, "UpdateGroup")
	if o := owner(); o != "server-a" {
		t.Fatalf("UpdateGroup changed the owner to %q", o)
	}
	// A claim from an owner the group no longer has changes nothing.
	ok, err := cgs.ClaimGroup(ctx, g.ID, "server-b", "server-c")
	if err != nil || ok {
		t.Fatalf("ClaimGroup from the wrong owner = %v, %v", ok, err)
	}
	ok, err = cgs.ClaimGroup(ctx, g.ID, "server-a", "server-b")
	if err != nil || !ok {
		t.Fatalf("ClaimGroup = %v, %v", ok, err)
	}
	if o := owner(); o != "server-b" {
		t.Fatalf("owner after claim %q", o)
	}
	if list, _ := cgs.ListGroups(ctx, "", ""); len(list) != 1 || list[0].Owner != "server-b" {
		t.Fatalf("ListGroups after claim = %+v", list)
	}
	missing := newContainerGroup(sub, "rg", "missing", "")
	if _, err := cgs.ClaimGroup(ctx, missing.ID, "", "server-b"); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("ClaimGroup of a missing group: %v, want NotFound", err)
	}
	// A group without owner is claimed from "".
	orphan := newContainerGroup(sub, "rg", "orphan", "")
	must(t, cgs.CreateGroup(ctx, orphan), "CreateGroup orphan")
	if ok, err := cgs.ClaimGroup(ctx, orphan.ID, "", "server-a"); err != nil || !ok {
		t.Fatalf("ClaimGroup of a group without owner = %v, %v", ok, err)
	}
}

// testContainerGroupClaimRace: servers claiming one group from the same
// dead owner at once; exactly one wins.
func testContainerGroupClaimRace(t *testing.T, s store.Store) {
	ctx, cgs := t.Context(), s.ContainerGroups()
	sub := mkContainerGroupScope(t, s)
	g := newContainerGroup(sub, "rg", "contested", "")
	g.Owner = "dead"
	must(t, cgs.CreateGroup(ctx, g), "CreateGroup")
	const n = 8
	wins := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { wins[i], errs[i] = cgs.ClaimGroup(ctx, g.ID, "dead", fmt.Sprintf("server-%d", i)) })
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("ClaimGroup %d: %v", i, errs[i])
		}
		if wins[i] {
			if winner >= 0 {
				t.Fatalf("servers %d and %d both claimed the group", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no server claimed the group")
	}
	got, err := cgs.GetGroup(ctx, g.ID)
	must(t, err, "GetGroup")
	if want := fmt.Sprintf("server-%d", winner); got.Owner != want {
		t.Fatalf("owner %q, the winner was %q", got.Owner, want)
	}
}
