package storetest

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store"
)

func newContainerGroup(sub, group, name string, ip string) containergroup.Group {
	g := containergroup.Group{
		ID:   resourceid.ForResource(sub, group, "Microsoft.ContainerInstance", "containerGroups", name),
		Name: name, Location: "eastus", Tags: map[string]string{"env": "test"},
		InstanceID: guid(), SealedSpec: []byte{0x01, 0x00, 0xff, 's'}, ProvisioningState: containergroup.StatePending,
		Images:    map[string]containergroup.ResolvedImage{"web": {Ref: "r/app:v1", Digest: "sha256:aa", DigestRef: "r/app@sha256:aa"}},
		Events:    map[string][]containergroup.Event{"web": {{Name: "Pulling", Message: "pulling image", Type: "Normal", Count: 2, First: at(1), Last: at(2)}}},
		CreatedAt: at(1), CreatedBy: "creator", ChangedAt: at(2), ChangedBy: "changer",
	}
	if ip != "" {
		g.IP = netip.MustParseAddr(ip)
	}
	return g
}

func mkContainerGroupScope(t *testing.T, s store.Store) string {
	t.Helper()
	sub := mkSubscription(t, s)
	mkGroup(t, s, newGroup(sub.ID, "rg"))
	return sub.ID
}

func testContainerGroupRoundTrip(t *testing.T, s store.Store) {
	ctx, cgs := t.Context(), s.ContainerGroups()
	sub := mkContainerGroupScope(t, s)
	g := newContainerGroup(sub, "rg", "web", "127.1.0.1")
	g.DNSNameLabel = "my-label"
	must(t, cgs.CreateGroup(ctx, g), "CreateGroup")
	got, err := cgs.GetGroup(ctx, g.ID)
	must(t, err, "GetGroup")
	if !reflect.DeepEqual(got, g) {
		t.Fatalf("GetGroup:\n got %+v\nwant %+v", got, g)
	}
	// Ids are case-insensitive.
	upper := g.ID
	upper.ResourceGroup, upper.Names = "RG", []string{"WEB"}
	if _, err := cgs.GetGroup(ctx, upper); err != nil {
		t.Fatalf("GetGroup with another case: %v", err)
	}
	list, err := cgs.ListGroups(ctx, sub, "")
	must(t, err, "ListGroups")
	if len(list) != 1 || list[0].Name != "web" {
		t.Fatalf("ListGroups = %+v", list)
	}
	// The group joins the generic resource index.
	rs, err := s.Resources().ListResources(ctx, sub, "rg")
	must(t, err, "ListResources")
	if len(rs) != 1 || !rs[0].ID.Equal(g.ID) {
		t.Fatalf("resource index = %+v", rs)
	}
	if err := cgs.CreateGroup(ctx, g); !errdefs.IsKind(err, errdefs.AlreadyExists) {
		t.Fatalf("CreateGroup twice: %v, want AlreadyExists", err)
	}
	missing := newContainerGroup(sub, "nogroup", "x", "")
	if err := cgs.CreateGroup(ctx, missing); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("CreateGroup in a missing resource group: %v, want NotFound", err)
	}
}

func testContainerGroupUniqueness(t *testing.T, s store.Store) {
	ctx, cgs := t.Context(), s.ContainerGroups()
	sub := mkContainerGroupScope(t, s)
	a := newContainerGroup(sub, "rg", "a", "127.1.0.1")
	a.DNSNameLabel = "label-one"
	must(t, cgs.CreateGroup(ctx, a), "CreateGroup a")
	b := newContainerGroup(sub, "rg", "b", "127.1.0.1")
	if err := cgs.CreateGroup(ctx, b); !errors.Is(err, errdefs.New(errdefs.Conflict, containergroup.ReasonIPTaken, "")) {
		t.Fatalf("same IP: %v, want Conflict %s", err, containergroup.ReasonIPTaken)
	}
	b.IP = netip.MustParseAddr("127.1.0.2")
	b.DNSNameLabel = "LABEL-ONE"
	if err := cgs.CreateGroup(ctx, b); !errors.Is(err, errdefs.New(errdefs.Conflict, containergroup.ReasonDNSLabelTaken, "")) {
		t.Fatalf("same DNS label: %v, want Conflict %s", err, containergroup.ReasonDNSLabelTaken)
	}
	b.Location = "westus" // labels are unique per location
	must(t, cgs.CreateGroup(ctx, b), "CreateGroup b in another location")
	c := newContainerGroup(sub, "rg", "c", "")
	d := newContainerGroup(sub, "rg", "d", "")
	must(t, cgs.CreateGroup(ctx, c), "CreateGroup c without IP")
	must(t, cgs.CreateGroup(ctx, d), "CreateGroup d without IP")
	_, err := cgs.UpdateGroup(ctx, d.ID, func(g *containergroup.Group) error {
		g.IP = a.IP
		return nil
	})
	if !errors.Is(err, errdefs.New(errdefs.Conflict, containergroup.ReasonIPTaken, "")) {
		t.Fatalf("update to a taken IP: %v", err)
	}
}

func testContainerGroupUpdateDelete(t *testing.T, s store.Store) {
	ctx, cgs := t.Context(), s.ContainerGroups()
	sub := mkContainerGroupScope(t, s)
	g := newContainerGroup(sub, "rg", "web", "")
	must(t, cgs.CreateGroup(ctx, g), "CreateGroup")
	boom := errors.New("boom")
	if _, err := cgs.UpdateGroup(ctx, g.ID, func(g *containergroup.Group) error {
		g.ProvisioningState = "Changed"
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("UpdateGroup callback error: %v", err)
	}
	got, _ := cgs.GetGroup(ctx, g.ID)
	if got.ProvisioningState != containergroup.StatePending {
		t.Fatal("a failed update changed the group")
	}
	up, err := cgs.UpdateGroup(ctx, g.ID, func(g *containergroup.Group) error {
		g.ProvisioningState, g.Stopped = containergroup.StateSucceeded, true
		g.Events["web"] = append(g.Events["web"], containergroup.Event{Name: "Pulled", Count: 1, First: at(3), Last: at(3)})
		return nil
	})
	must(t, err, "UpdateGroup")
	got, _ = cgs.GetGroup(ctx, g.ID)
	if !reflect.DeepEqual(got, up) || !got.Stopped || len(got.Events["web"]) != 2 {
		t.Fatalf("after update: %+v", got)
	}
	if _, err := cgs.UpdateGroup(ctx, g.ID, func(g *containergroup.Group) error {
		g.InstanceID = "other"
		return nil
	}); err == nil {
		t.Fatal("UpdateGroup changed the instance id")
	}
	must(t, cgs.DeleteGroup(ctx, g.ID), "DeleteGroup")
	if _, err := cgs.GetGroup(ctx, g.ID); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("GetGroup after delete: %v", err)
	}
	if err := cgs.DeleteGroup(ctx, g.ID); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("DeleteGroup twice: %v", err)
	}
	if rs, _ := s.Resources().ListResources(ctx, sub, "rg"); len(rs) != 0 {
		t.Fatalf("index entry left: %+v", rs)
	}
}

func testContainerGroupGroupDeleteCascades(t *testing.T, s store.Store) {
	ctx, cgs := t.Context(), s.ContainerGroups()
	sub := mkContainerGroupScope(t, s)
	g := newContainerGroup(sub, "rg", "web", "127.1.0.9")
	must(t, cgs.CreateGroup(ctx, g), "CreateGroup")
	must(t, cgs.PutOperation(ctx, containergroup.Operation{ID: "op1", Group: g.ID, Location: "eastus", Status: containergroup.OpInProgress, StartTime: at(1)}), "PutOperation")
	must(t, s.Resources().DeleteGroup(ctx, sub, "rg"), "delete resource group")
	if all, _ := cgs.ListGroups(ctx, "", ""); len(all) != 0 {
		t.Fatalf("container groups left after their resource group went: %+v", all)
	}
	if _, err := cgs.GetOperation(ctx, "op1"); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("operation left: %v", err)
	}
	// The address is free again.
	mkGroup(t, s, newGroup(sub, "rg"))
	must(t, cgs.CreateGroup(ctx, newContainerGroup(sub, "rg", "again", "127.1.0.9")), "CreateGroup with the freed IP")
}

func testContainerGroupOperations(t *testing.T, s store.Store) {
	ctx, cgs := t.Context(), s.ContainerGroups()
	sub := mkContainerGroupScope(t, s)
	g := newContainerGroup(sub, "rg", "web", "")
	must(t, cgs.CreateGroup(ctx, g), "CreateGroup")
	op := containergroup.Operation{ID: guid(), Group: g.ID, Location: "eastus", Status: containergroup.OpInProgress, StartTime: at(1)}
	must(t, cgs.PutOperation(ctx, op), "PutOperation")
	got, err := cgs.GetOperation(ctx, op.ID)
	must(t, err, "GetOperation")
	if !reflect.DeepEqual(got, op) {
		t.Fatalf("GetOperation:\n got %+v\nwant %+v", got, op)
	}
	op.Status, op.EndTime, op.ErrorCode, op.ErrorMessage = containergroup.OpFailed, at(5), "InaccessibleImage", "no"
	must(t, cgs.PutOperation(ctx, op), "PutOperation update")
	got, _ = cgs.GetOperation(ctx, op.ID)
	if !reflect.DeepEqual(got, op) {
		t.Fatalf("GetOperation after update:\n got %+v\nwant %+v", got, op)
	}
	if _, err := cgs.GetOperation(ctx, "nope"); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("GetOperation unknown: %v", err)
	}
	orphan := containergroup.Operation{ID: guid(), Group: newContainerGroup(sub, "rg", "missing", "").ID, Status: containergroup.OpInProgress, StartTime: at(1)}
	if err := cgs.PutOperation(ctx, orphan); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatalf("PutOperation of a missing group: %v", err)
	}
}
