package storetest

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store"
)

func testNotFound(t *testing.T, s store.Store) {
	ctx, id, res, rb := t.Context(), s.Identity(), s.Resources(), s.RBAC()
	tn := mkTenant(t, s)
	sub := mkSubscription(t, s)
	missing := guid()

	_, err := id.GetTenant(ctx, missing)
	mustKind(t, err, errdefs.NotFound, "GetTenant")
	_, err = id.GetApplication(ctx, tn.ID, missing)
	mustKind(t, err, errdefs.NotFound, "GetApplication")
	_, err = id.GetApplicationByAppID(ctx, tn.ID, missing)
	mustKind(t, err, errdefs.NotFound, "GetApplicationByAppID")
	_, err = id.UpdateApplication(ctx, tn.ID, missing, func(*identity.Application) error {
		t.Error("UpdateApplication called the update function for a missing application")
		return nil
	})
	mustKind(t, err, errdefs.NotFound, "UpdateApplication")
	mustKind(t, id.DeleteApplication(ctx, tn.ID, missing), errdefs.NotFound, "DeleteApplication")
	_, err = id.GetServicePrincipal(ctx, tn.ID, missing)
	mustKind(t, err, errdefs.NotFound, "GetServicePrincipal")
	_, err = id.GetServicePrincipalByAppID(ctx, tn.ID, missing)
	mustKind(t, err, errdefs.NotFound, "GetServicePrincipalByAppID")
	_, err = id.UpdateServicePrincipal(ctx, tn.ID, missing, func(*identity.ServicePrincipal) error {
		t.Error("UpdateServicePrincipal called the update function for a missing service principal")
		return nil
	})
	mustKind(t, err, errdefs.NotFound, "UpdateServicePrincipal")
	mustKind(t, id.DeleteServicePrincipal(ctx, tn.ID, missing), errdefs.NotFound, "DeleteServicePrincipal")

	_, err = res.GetSubscription(ctx, missing)
	mustKind(t, err, errdefs.NotFound, "GetSubscription")
	_, err = res.GetGroup(ctx, sub.ID, "missing")
	mustKind(t, err, errdefs.NotFound, "GetGroup")
	mustKind(t, res.DeleteGroup(ctx, sub.ID, "missing"), errdefs.NotFound, "DeleteGroup")

	_, err = rb.GetRoleAssignment(ctx, missing)
	mustKind(t, err, errdefs.NotFound, "GetRoleAssignment")
	mustKind(t, rb.DeleteRoleAssignment(ctx, missing), errdefs.NotFound, "DeleteRoleAssignment")

	// Lists of nothing are empty, not errors.
	apps, err := id.ListApplications(ctx, missing, identity.Filter{})
	must(t, err, "ListApplications")
	sps, err := id.ListServicePrincipals(ctx, missing, identity.Filter{})
	must(t, err, "ListServicePrincipals")
	groups, err := res.ListGroups(ctx, missing)
	must(t, err, "ListGroups")
	resources, err := res.ListResources(ctx, sub.ID, "missing")
	must(t, err, "ListResources")
	ras, err := rb.ListRoleAssignments(ctx, rbac.Query{PrincipalID: missing})
	must(t, err, "ListRoleAssignments")
	if len(apps)+len(sps)+len(groups)+len(resources)+len(ras) != 0 {
		t.Errorf("lists of missing things are not empty")
	}
}

func testSubscriptions(t *testing.T, s store.Store) {
	ctx, res := t.Context(), s.Resources()
	tn := mkTenant(t, s)
	s1 := resource.Subscription{ID: guid(), DisplayName: "One", TenantID: tn.ID, State: "Enabled", CreatedAt: at(1).In(otherZone)}
	s2 := resource.Subscription{ID: guid(), DisplayName: "Two", TenantID: tn.ID, State: "Disabled", CreatedAt: at(2)}
	must(t, res.CreateSubscription(ctx, s1), "CreateSubscription")
	must(t, res.CreateSubscription(ctx, s2), "CreateSubscription")
	s1.CreatedAt = s1.CreatedAt.UTC()

	got, err := res.GetSubscription(ctx, s1.ID)
	must(t, err, "GetSubscription")
	assertUTC(t, "GetSubscription", got.CreatedAt)
	equal(t, "GetSubscription", got, s1)

	all, err := res.ListSubscriptions(ctx)
	must(t, err, "ListSubscriptions")
	slices.SortFunc(all, func(a, b resource.Subscription) int { return a.CreatedAt.Compare(b.CreatedAt) })
	equal(t, "ListSubscriptions", all, []resource.Subscription{s1, s2})

	dup := s1
	dup.DisplayName = "Dup"
	mustKind(t, res.CreateSubscription(ctx, dup), errdefs.AlreadyExists, "CreateSubscription duplicate")
}

func testGroupPut(t *testing.T, s store.Store) {
	ctx, res := t.Context(), s.Resources()
	sub := mkSubscription(t, s)

	want := newGroup(sub.ID, "MyGroup")
	got, created, err := res.PutGroup(ctx, sub.ID, "MyGroup", func(cur *resource.Group) (resource.Group, error) {
		if cur != nil {
			t.Errorf("PutGroup create: current group %+v, want nil", *cur)
		}
		return want, nil
	})
	must(t, err, "PutGroup create")
	if !created {
		t.Error("PutGroup create: created = false")
	}
	equalGroup(t, "PutGroup create", got, want)

	// Replace, addressed in another case; the name keeps its first spelling.
	replaced := want
	replaced.Tags = map[string]string{"env": "prod", "owner": "me"}
	replaced.ChangedAt = at(10)
	got, created, err = res.PutGroup(ctx, sub.ID, "MYGROUP", func(cur *resource.Group) (resource.Group, error) {
		if cur == nil {
			t.Fatal("PutGroup replace: current group is nil")
		}
		equalGroup(t, "PutGroup replace: current group", *cur, want)
		g := *cur
		g.Name = "MYGROUP"
		g.Tags = maps.Clone(replaced.Tags)
		g.ChangedAt = at(10)
		return g, nil
	})
	must(t, err, "PutGroup replace")
	if created {
		t.Error("PutGroup replace: created = true")
	}
	equalGroup(t, "PutGroup replace", got, replaced)

	for _, name := range []string{"MyGroup", "mygroup", "MYGROUP"} {
		got, err := res.GetGroup(ctx, sub.ID, name)
		must(t, err, "GetGroup "+name)
		equalGroup(t, "GetGroup "+name, got, replaced)
	}
	all, err := res.ListGroups(ctx, sub.ID)
	must(t, err, "ListGroups")
	if len(all) != 1 {
		t.Errorf("ListGroups: %d groups, want 1", len(all))
	}
}

func testGroupList(t *testing.T, s store.Store) {
	ctx, res := t.Context(), s.Resources()
	sub := mkSubscription(t, s)
	other := mkSubscription(t, s)
	for _, name := range []string{"rg-b", "rg-c", "rg-a"} {
		mkGroup(t, s, newGroup(sub.ID, name))
	}
	mkGroup(t, s, newGroup(other.ID, "rg-0"))

	all, err := res.ListGroups(ctx, sub.ID)
	must(t, err, "ListGroups")
	var names []string
	for _, g := range all {
		names = append(names, g.Name)
	}
	equal(t, "ListGroups", names, []string{"rg-a", "rg-b", "rg-c"})
}

func testGroupTags(t *testing.T, s store.Store) {
	ctx, res := t.Context(), s.Resources()
	sub := mkSubscription(t, s)
	for _, tc := range []struct {
		name string
		tags map[string]string
	}{
		{"nil", nil},
		{"empty", map[string]string{}},
		{"some", map[string]string{"a": "1", "B": "", "with space": "ü"}},
	} {
		g := newGroup(sub.ID, tc.name)
		g.Tags = tc.tags
		mkGroup(t, s, g)
		got, err := res.GetGroup(ctx, sub.ID, tc.name)
		must(t, err, "GetGroup")
		if (got.Tags == nil) != (tc.tags == nil) {
			t.Errorf("group %s: tags %#v, want %#v", tc.name, got.Tags, tc.tags)
		}
		equalGroup(t, "group "+tc.name, got, g)
	}
}

func testGroupCallbackError(t *testing.T, s store.Store) {
	ctx, res := t.Context(), s.Resources()
	sub := mkSubscription(t, s)

	_, created, err := res.PutGroup(ctx, sub.ID, "new", func(*resource.Group) (resource.Group, error) {
		return newGroup(sub.ID, "new"), errStop
	})
	mustStop(t, err, "PutGroup create")
	if created {
		t.Error("PutGroup create: created = true after the update function failed")
	}
	_, err = res.GetGroup(ctx, sub.ID, "new")
	mustKind(t, err, errdefs.NotFound, "GetGroup after failed create")

	old := mkGroup(t, s, newGroup(sub.ID, "old"))
	_, _, err = res.PutGroup(ctx, sub.ID, "old", func(cur *resource.Group) (resource.Group, error) {
		g := *cur
		g.Location = "eastus"
		return g, errStop
	})
	mustStop(t, err, "PutGroup replace")
	got, err := res.GetGroup(ctx, sub.ID, "old")
	must(t, err, "GetGroup")
	equalGroup(t, "GetGroup after failed replace", got, old)
}

// generic returns a generic resource entry for a resource in sub/group.
func generic(sub, group, typ, name string) resource.Generic {
	return resource.Generic{
		ID:       resourceid.ForResource(sub, group, "Microsoft.ContainerRegistry", typ, name),
		Location: "westeurope", Kind: "", SKU: "Basic", Tags: map[string]string{"k": "v"},
		CreatedAt: at(1).In(otherZone), ChangedAt: at(2),
	}
}

func writer(t *testing.T, s store.Store) ResourceWriter {
	t.Helper()
	w, ok := s.(ResourceWriter)
	if !ok {
		t.Skipf("%T does not implement storetest.ResourceWriter", s)
	}
	return w
}

func resourceIDs(rs []resource.Generic) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID.String())
	}
	return out
}

func testGroupDeleteCascades(t *testing.T, s store.Store) {
	ctx, res, rb := t.Context(), s.Resources(), s.RBAC()
	w := writer(t, s)
	sub := mkSubscription(t, s)
	rg1 := mkGroup(t, s, newGroup(sub.ID, "rg1"))
	rg10 := mkGroup(t, s, newGroup(sub.ID, "rg10"))

	r1 := generic(sub.ID, "rg1", "registries", "one")
	r2 := generic(sub.ID, "rg1", "registries", "two")
	r10 := generic(sub.ID, "rg10", "registries", "ten")
	for _, r := range []resource.Generic{r1, r2, r10} {
		must(t, w.PutGenericResource(ctx, r), "PutGenericResource")
	}

	p := guid()
	atSub := mkRA(t, s, newRA(resourceid.ForSubscription(sub.ID), p, roleReader, at(1)))
	// The group's scope spelled in upper case still counts as the group's.
	atRG1 := mkRA(t, s, newRA(resourceid.ForResourceGroup(strings.ToUpper(sub.ID), "RG1"), p, roleOwner, at(2)))
	belowRG1 := mkRA(t, s, newRA(r1.ID, p, roleContributor, at(3)))
	nested := r2.ID
	nested.Types = append(nested.Types, "replications")
	nested.Names = append(nested.Names, "westus")
	deepRG1 := mkRA(t, s, newRA(nested, p, roleReader, at(4)))
	atRG10 := mkRA(t, s, newRA(rg10.ID(), p, roleOwner, at(5)))
	belowRG10 := mkRA(t, s, newRA(r10.ID, p, roleContributor, at(6)))

	must(t, res.DeleteGroup(ctx, sub.ID, "Rg1"), "DeleteGroup")

	_, err := res.GetGroup(ctx, sub.ID, rg1.Name)
	mustKind(t, err, errdefs.NotFound, "GetGroup after delete")
	left, err := res.ListResources(ctx, sub.ID, "")
	must(t, err, "ListResources")
	equal(t, "resources after DeleteGroup", resourceIDs(left), []string{r10.ID.String()})
	for _, ra := range []rbac.RoleAssignment{atRG1, belowRG1, deepRG1} {
		_, err := rb.GetRoleAssignment(ctx, ra.Name)
		mustKind(t, err, errdefs.NotFound, "role assignment at "+ra.Scope.String())
	}
	for _, ra := range []rbac.RoleAssignment{atSub, atRG10, belowRG10} {
		if _, err := rb.GetRoleAssignment(ctx, ra.Name); err != nil {
			t.Errorf("role assignment at %s: %v", ra.Scope, err)
		}
	}
	if _, err := res.GetGroup(ctx, sub.ID, "rg10"); err != nil {
		t.Errorf("sibling group: %v", err)
	}
	mustKind(t, res.DeleteGroup(ctx, sub.ID, "rg1"), errdefs.NotFound, "DeleteGroup again")

	// A group re-created under the same name starts empty.
	mkGroup(t, s, newGroup(sub.ID, "rg1"))
	left, err = res.ListResources(ctx, sub.ID, "rg1")
	must(t, err, "ListResources")
	equal(t, "resources of re-created group", resourceIDs(left), []string{})
}

func testListResources(t *testing.T, s store.Store) {
	ctx, res := t.Context(), s.Resources()
	w := writer(t, s)
	sub := mkSubscription(t, s)
	other := mkSubscription(t, s)
	mkGroup(t, s, newGroup(sub.ID, "rg-a"))
	mkGroup(t, s, newGroup(sub.ID, "rg-b"))
	mkGroup(t, s, newGroup(other.ID, "rg-a"))

	a2 := generic(sub.ID, "rg-a", "registries", "r2")
	a1 := generic(sub.ID, "rg-a", "registries", "r1")
	a1.Tags = nil
	a1.Kind = "special"
	b1 := generic(sub.ID, "rg-b", "registries", "r1")
	b1.Tags = map[string]string{}
	x := generic(other.ID, "rg-a", "registries", "r1")
	for _, r := range []resource.Generic{a2, b1, a1, x} {
		must(t, w.PutGenericResource(ctx, r), "PutGenericResource")
	}

	all, err := res.ListResources(ctx, sub.ID, "")
	must(t, err, "ListResources subscription")
	equal(t, "ListResources subscription", resourceIDs(all),
		[]string{a1.ID.String(), a2.ID.String(), b1.ID.String()})
	if len(all) == 3 {
		want := []resource.Generic{a1, a2, b1}
		for i := range all {
			assertUTC(t, "ListResources", all[i].CreatedAt, all[i].ChangedAt)
			equal(t, "ListResources entry", normGeneric(all[i]), normGeneric(want[i]))
			if (all[i].Tags == nil) != (want[i].Tags == nil) {
				t.Errorf("resource %s: tags %#v, want %#v", all[i].ID, all[i].Tags, want[i].Tags)
			}
		}
	}

	inGroup, err := res.ListResources(ctx, sub.ID, "RG-A")
	must(t, err, "ListResources group")
	equal(t, "ListResources group", resourceIDs(inGroup), []string{a1.ID.String(), a2.ID.String()})

	// Writing an entry again replaces it.
	a2.SKU = "Premium"
	a2.ChangedAt = at(5)
	must(t, w.PutGenericResource(ctx, a2), "PutGenericResource replace")
	inGroup, err = res.ListResources(ctx, sub.ID, "rg-a")
	must(t, err, "ListResources group")
	if len(inGroup) != 2 || inGroup[1].SKU != "Premium" || !inGroup[1].ChangedAt.Equal(at(5)) {
		t.Errorf("ListResources after replace: %+v", inGroup)
	}
}
