package storetest

import (
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store"
)

func testRoleAssignmentCreateGetDelete(t *testing.T, s store.Store) {
	ctx, rb := t.Context(), s.RBAC()
	sub := guid()
	ra := newRA(resourceid.ForResourceGroup(sub, "rg"), guid(), roleContributor, at(1))
	ra.Condition = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'c'"
	ra.ConditionVersion = "2.0"
	ra.UpdatedOn, ra.UpdatedBy = at(2), "updater"
	mkRA(t, s, ra)

	got, err := rb.GetRoleAssignment(ctx, ra.Name)
	must(t, err, "GetRoleAssignment")
	equalRA(t, "GetRoleAssignment", got, ra)

	all, err := rb.ListRoleAssignments(ctx, rbac.Query{})
	must(t, err, "ListRoleAssignments")
	if len(all) != 1 {
		t.Fatalf("ListRoleAssignments: %d assignments, want 1", len(all))
	}
	equalRA(t, "ListRoleAssignments", all[0], ra)

	must(t, rb.DeleteRoleAssignment(ctx, ra.Name), "DeleteRoleAssignment")
	_, err = rb.GetRoleAssignment(ctx, ra.Name)
	mustKind(t, err, errdefs.NotFound, "GetRoleAssignment after delete")
	mustKind(t, rb.DeleteRoleAssignment(ctx, ra.Name), errdefs.NotFound, "DeleteRoleAssignment again")

	// The grant is free again.
	again := ra
	again.Name = guid()
	mkRA(t, s, again)
}

func testRoleAssignmentDuplicates(t *testing.T, s store.Store) {
	ctx, rb := t.Context(), s.RBAC()
	sub := guid()
	scope := resourceid.ForResourceGroup(sub, "MyGroup")
	p := guid()
	ra := mkRA(t, s, newRA(scope, p, roleOwner, at(1)))

	sameName := newRA(resourceid.ForSubscription(sub), guid(), roleReader, at(2))
	sameName.Name = ra.Name
	mustKind(t, rb.CreateRoleAssignment(ctx, sameName), errdefs.AlreadyExists, "duplicate name")

	sameGrant := newRA(scope, p, roleOwner, at(3))
	mustKind(t, rb.CreateRoleAssignment(ctx, sameGrant), errdefs.Conflict, "duplicate principal, role and scope")
	sameGrant.Scope = resourceid.ForResourceGroup(strings.ToUpper(sub), "MYGROUP")
	mustKind(t, rb.CreateRoleAssignment(ctx, sameGrant), errdefs.Conflict, "duplicate grant at a differently spelled scope")

	// Changing any one of principal, role or scope makes a new grant.
	mkRA(t, s, newRA(scope, p, roleReader, at(4)))
	mkRA(t, s, newRA(scope, guid(), roleOwner, at(5)))
	mkRA(t, s, newRA(resourceid.ForSubscription(sub), p, roleOwner, at(6)))

	all, err := rb.ListRoleAssignments(ctx, rbac.Query{})
	must(t, err, "ListRoleAssignments")
	if len(all) != 4 {
		t.Errorf("ListRoleAssignments: %d assignments, want 4", len(all))
	}
}

func testRoleAssignmentQuery(t *testing.T, s store.Store) {
	ctx, rb := t.Context(), s.RBAC()
	sub, otherSub := guid(), guid()
	p1, p2 := guid(), guid()
	res := func(group, name string) resourceid.ID {
		return resourceid.ForResource(sub, group, "Microsoft.ContainerRegistry", "registries", name)
	}
	root := resourceid.ID{}
	subScope := resourceid.ForSubscription(sub)
	rg1 := resourceid.ForResourceGroup(sub, "rg1")
	rg1res := res("rg1", "reg")
	rg10 := resourceid.ForResourceGroup(sub, "rg10")
	aUb := resourceid.ForResourceGroup(sub, "a_b")

	mk := func(label string, scope resourceid.ID, p string, created int, name int) {
		ra := newRA(scope, p, roleReader, at(created))
		ra.Description = label
		ra.Name = fixedGUID(name)
		mkRA(t, s, ra)
	}
	mk("p1@root", root, p1, 1, 10)
	mk("p1@sub", subScope, p1, 2, 20)
	mk("p2@sub", subScope, p2, 2, 15) // same time as p1@sub, smaller name
	mk("p2@rg1", rg1, p2, 3, 30)
	mk("p1@rg1res", rg1res, p1, 4, 40)
	mk("p1@rg10", rg10, p1, 5, 50)
	mk("p2@rg10res", res("rg10", "reg"), p2, 6, 60)
	mk("p1@other", resourceid.ForResourceGroup(otherSub, "rg1"), p1, 7, 70)
	mk("p2@axbres", res("axb", "reg"), p2, 8, 80)
	mk("p1@a_bres", res("a_b", "reg"), p1, 9, 90)

	ptr := func(id resourceid.ID) *resourceid.ID { return &id }
	upperRG1 := resourceid.ForResourceGroup(strings.ToUpper(sub), "RG1")
	for _, tc := range []struct {
		name string
		q    rbac.Query
		want []string
	}{
		{"all", rbac.Query{}, []string{"p1@root", "p2@sub", "p1@sub", "p2@rg1", "p1@rg1res", "p1@rg10",
			"p2@rg10res", "p1@other", "p2@axbres", "p1@a_bres"}},
		{"principal", rbac.Query{PrincipalID: p1}, []string{"p1@root", "p1@sub", "p1@rg1res", "p1@rg10", "p1@other", "p1@a_bres"}},
		{"unknown principal", rbac.Query{PrincipalID: guid()}, []string{}},
		{"scopes", rbac.Query{Scopes: []resourceid.ID{subScope, upperRG1}}, []string{"p2@sub", "p1@sub", "p2@rg1"}},
		{"root scope", rbac.Query{Scopes: []resourceid.ID{root}}, []string{"p1@root"}},
		{"below group", rbac.Query{Below: ptr(rg1)}, []string{"p1@rg1res"}},
		{"below group spelled differently", rbac.Query{Below: &upperRG1}, []string{"p1@rg1res"}},
		{"below group with wildcard in name", rbac.Query{Below: ptr(aUb)}, []string{"p1@a_bres"}},
		{"below subscription", rbac.Query{Below: ptr(subScope)},
			[]string{"p2@rg1", "p1@rg1res", "p1@rg10", "p2@rg10res", "p2@axbres", "p1@a_bres"}},
		{"below root", rbac.Query{Below: ptr(root)}, []string{"p2@sub", "p1@sub", "p2@rg1", "p1@rg1res", "p1@rg10",
			"p2@rg10res", "p1@other", "p2@axbres", "p1@a_bres"}},
		{"below resource", rbac.Query{Below: ptr(rg1res)}, []string{}},
		{"principal and ancestors", rbac.Query{PrincipalID: p1, Scopes: rg1res.Ancestors()},
			[]string{"p1@root", "p1@sub", "p1@rg1res"}},
		{"principal, scopes or below", rbac.Query{PrincipalID: p2, Scopes: []resourceid.ID{rg1}, Below: ptr(rg10)},
			[]string{"p2@rg1", "p2@rg10res"}},
		{"principal and below", rbac.Query{PrincipalID: p1, Below: ptr(subScope)},
			[]string{"p1@rg1res", "p1@rg10", "p1@a_bres"}},
	} {
		got, err := rb.ListRoleAssignments(ctx, tc.q)
		must(t, err, "ListRoleAssignments "+tc.name)
		equal(t, "ListRoleAssignments "+tc.name, raNames(got), tc.want)
	}
}

func testRoleAssignmentScopeRoundTrip(t *testing.T, s store.Store) {
	ctx, rb := t.Context(), s.RBAC()
	sub := strings.ToUpper(guid())
	p := guid()
	for i, raw := range []string{
		"/",
		"/SUBSCRIPTIONS/" + sub,
		"/subscriptions/" + sub + "/RESOURCEGROUPS/My-RG/",
		"/Subscriptions/" + sub + "/resourcegroups/My-RG/PROVIDERS/Microsoft.ContainerRegistry/registries/Reg1",
		"/subscriptions/" + sub + "/resourceGroups/My-RG/providers/Microsoft.ContainerRegistry/registries/Reg1/replications/WestUS",
	} {
		scope := resourceid.MustParse(raw)
		ra := mkRA(t, s, newRA(scope, p, roleReader, at(i)))
		got, err := rb.GetRoleAssignment(ctx, ra.Name)
		must(t, err, "GetRoleAssignment")
		if got.Scope.String() != scope.String() {
			t.Errorf("scope %q came back as %q, want %q", raw, got.Scope, scope)
		}
		equalRA(t, "GetRoleAssignment "+raw, got, ra)
		list, err := rb.ListRoleAssignments(ctx, rbac.Query{Scopes: []resourceid.ID{scope}})
		must(t, err, "ListRoleAssignments")
		if len(list) != 1 || list[0].Scope.String() != scope.String() {
			t.Errorf("ListRoleAssignments at %q: %+v", raw, list)
		}
	}
}
