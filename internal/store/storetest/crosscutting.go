package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store"
)

// testTimesUTC stores every kind of time in a non-UTC zone and expects the
// same instants back, in UTC, to the nanosecond.
func testTimesUTC(t *testing.T, s store.Store) {
	ctx, id, res, rb := t.Context(), s.Identity(), s.Resources(), s.RBAC()
	when := func(i int) time.Time { return at(i).Add(987654321 * time.Nanosecond).In(otherZone) }
	check := func(what string, got, want time.Time) {
		t.Helper()
		if got.Location() != time.UTC || !got.Equal(want) || got.Nanosecond() != want.Nanosecond() {
			t.Errorf("%s: got %v, want %v in UTC", what, got, want.UTC())
		}
	}

	tn := identity.Tenant{ID: guid(), DisplayName: "T", DefaultDomain: "t.example", CreatedAt: when(1)}
	must(t, id.CreateTenant(ctx, tn), "CreateTenant")
	gotTn, err := id.GetTenant(ctx, tn.ID)
	must(t, err, "GetTenant")
	check("tenant CreatedAt", gotTn.CreatedAt, tn.CreatedAt)

	app := newApp(tn.ID, "App", when(2))
	pw := password(1)
	pw.StartDateTime, pw.EndDateTime = when(3), when(4)
	app.Passwords = []identity.PasswordCredential{pw}
	mkApp(t, s, app)
	gotApp, err := id.GetApplication(ctx, tn.ID, app.ID)
	must(t, err, "GetApplication")
	check("application CreatedAt", gotApp.CreatedAt, app.CreatedAt)
	if len(gotApp.Passwords) == 1 {
		check("password StartDateTime", gotApp.Passwords[0].StartDateTime, pw.StartDateTime)
		check("password EndDateTime", gotApp.Passwords[0].EndDateTime, pw.EndDateTime)
	}

	sp := mkSP(t, s, newSP(tn.ID, app.AppID, "App", when(5)))
	gotSP, err := id.GetServicePrincipal(ctx, tn.ID, sp.ID)
	must(t, err, "GetServicePrincipal")
	check("service principal CreatedAt", gotSP.CreatedAt, sp.CreatedAt)

	sub := resource.Subscription{ID: guid(), DisplayName: "S", TenantID: tn.ID, State: "Enabled", CreatedAt: when(6)}
	must(t, res.CreateSubscription(ctx, sub), "CreateSubscription")
	gotSub, err := res.GetSubscription(ctx, sub.ID)
	must(t, err, "GetSubscription")
	check("subscription CreatedAt", gotSub.CreatedAt, sub.CreatedAt)

	g := newGroup(sub.ID, "rg")
	g.CreatedAt, g.ChangedAt = when(7), when(8)
	gotG := mkGroup(t, s, g)
	check("PutGroup CreatedAt", gotG.CreatedAt, g.CreatedAt)
	check("PutGroup ChangedAt", gotG.ChangedAt, g.ChangedAt)
	gotG, err = res.GetGroup(ctx, sub.ID, "rg")
	must(t, err, "GetGroup")
	check("group CreatedAt", gotG.CreatedAt, g.CreatedAt)
	check("group ChangedAt", gotG.ChangedAt, g.ChangedAt)

	ra := newRA(g.ID(), sp.ID, roleReader, when(9))
	ra.UpdatedOn = when(10)
	mkRA(t, s, ra)
	gotRA, err := rb.GetRoleAssignment(ctx, ra.Name)
	must(t, err, "GetRoleAssignment")
	check("role assignment CreatedOn", gotRA.CreatedOn, ra.CreatedOn)
	check("role assignment UpdatedOn", gotRA.UpdatedOn, ra.UpdatedOn)

	// Ordering is by instant, not by the zone-local wall clock: an earlier
	// instant in a zone ahead of UTC still sorts first.
	early := newRA(g.ID(), guid(), roleReader, at(100).In(otherZone))
	late := newRA(g.ID(), guid(), roleReader, at(101).UTC())
	mkRA(t, s, late)
	mkRA(t, s, early)
	list, err := rb.ListRoleAssignments(ctx, rbac.Query{Scopes: []resourceid.ID{g.ID()}})
	must(t, err, "ListRoleAssignments")
	if len(list) != 3 || list[1].Name != early.Name || list[2].Name != late.Name {
		t.Errorf("ListRoleAssignments: not ordered by creation instant: %+v", list)
	}

	if w, ok := s.(ResourceWriter); ok {
		r := generic(sub.ID, "rg", "registries", "r")
		r.CreatedAt, r.ChangedAt = when(11), when(12)
		must(t, w.PutGenericResource(ctx, r), "PutGenericResource")
		all, err := res.ListResources(ctx, sub.ID, "rg")
		must(t, err, "ListResources")
		if len(all) == 1 {
			check("resource CreatedAt", all[0].CreatedAt, r.CreatedAt)
			check("resource ChangedAt", all[0].ChangedAt, r.ChangedAt)
		}
	}
}

// testConcurrentUpdates runs read-modify-write updates of one application
// in parallel; none may be lost.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	ctx, id := t.Context(), s.Identity()
	tn := mkTenant(t, s)
	app := mkApp(t, s, newApp(tn.ID, "Hot", at(1)))

	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	want := make([]string, n)
	for i := range n {
		tag := fmt.Sprintf("tag-%d", i)
		want[i] = tag
		wg.Go(func() {
			_, err := id.UpdateApplication(ctx, tn.ID, app.ID, func(a *identity.Application) error {
				a.Tags = append(slices.Clip(a.Tags), tag)
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateApplication: %v", err)
		}
	}
	got, err := id.GetApplication(ctx, tn.ID, app.ID)
	must(t, err, "GetApplication")
	tags := slices.Clone(got.Tags)
	slices.Sort(tags)
	equal(t, "tags after concurrent updates", tags, want)
}
