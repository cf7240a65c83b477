// Package storetest is the conformance suite every metadata backend passes.
// A backend's test calls Run with a factory for fresh, empty stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { … })
//	}
//
// The suite checks the contracts documented on identity.Store, rbac.Store,
// resource.Store and registry.Store; it does not depend on behaviour the
// contracts leave open (such as the order of ListTenants, or whether a
// store checks that a tenant exists before creating an application in it:
// the fixtures always create parents first).
package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store"
)

// Factory returns a new, empty store; it registers cleanup with t.Cleanup.
type Factory func(t *testing.T) store.Store

// ResourceWriter is implemented by backends that let tests write the generic
// resource index directly. PutGenericResource creates or replaces the entry
// for r.ID. Subtests that need it are skipped for backends without it.
type ResourceWriter interface {
	PutGenericResource(ctx context.Context, r resource.Generic) error
}

type conformanceTest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

var tests = []conformanceTest{
	{"Tenants", testTenants},
	{"ApplicationCreateGet", testApplicationCreateGet},
	{"ApplicationDuplicate", testApplicationDuplicate},
	{"ApplicationListFilters", testApplicationListFilters},
	{"ApplicationUpdate", testApplicationUpdate},
	{"ApplicationUpdateErrorRollsBack", testApplicationUpdateErrorRollsBack},
	{"PasswordsRoundTrip", testPasswordsRoundTrip},
	{"ApplicationDeleteCascades", testApplicationDeleteCascades},
	{"ServicePrincipalCreateGet", testServicePrincipalCreateGet},
	{"ServicePrincipalFilters", testServicePrincipalFilters},
	{"ServicePrincipalUpdateDelete", testServicePrincipalUpdateDelete},
	{"NotFound", testNotFound},
	{"Subscriptions", testSubscriptions},
	{"GroupPut", testGroupPut},
	{"GroupList", testGroupList},
	{"GroupTags", testGroupTags},
	{"GroupCallbackError", testGroupCallbackError},
	{"GroupDeleteCascades", testGroupDeleteCascades},
	{"ListResources", testListResources},
	{"RoleAssignmentCreateGetDelete", testRoleAssignmentCreateGetDelete},
	{"RoleAssignmentDuplicates", testRoleAssignmentDuplicates},
	{"RoleAssignmentQuery", testRoleAssignmentQuery},
	{"RoleAssignmentScopeRoundTrip", testRoleAssignmentScopeRoundTrip},
	{"TimesUTC", testTimesUTC},
	{"ConcurrentUpdates", testConcurrentUpdates},
	{"RegistryCreateGet", testRegistryCreateGet},
	{"RegistryUpdate", testRegistryUpdate},
	{"RegistryMoveLoginServers", testRegistryMoveLoginServers},
	{"RegistryDelete", testRegistryDelete},
	{"RegistryGroupDeleteCascades", testRegistryGroupDeleteCascades},
	{"RegistryRepositories", testRegistryRepositories},
	{"RegistryManifestRoundTrip", testManifestRoundTrip},
	{"RegistryResolveManifest", testResolveManifest},
	{"RegistryResolveRegistryManifest", testResolveRegistryManifest},
	{"RegistryManifestPutAtomic", testManifestPutAtomic},
	{"RegistryTags", testTags},
	{"RegistryReferrers", testReferrers},
	{"RegistryDeleteRepository", testDeleteRepository},
	{"RegistryBlobReferenced", testBlobReferenced},
	{"RegistryUploads", testUploads},
	{"RegistryTimesUTC", testRegistryTimesUTC},
	{"ContainerGroupRoundTrip", testContainerGroupRoundTrip},
	{"ContainerGroupUniqueness", testContainerGroupUniqueness},
	{"ContainerGroupUpdateDelete", testContainerGroupUpdateDelete},
	{"ContainerGroupGroupDeleteCascades", testContainerGroupGroupDeleteCascades},
	{"ContainerGroupOperations", testContainerGroupOperations},
	{"ServerHeartbeats", testServerHeartbeats},
	{"ContainerGroupOwner", testContainerGroupOwner},
	{"ContainerGroupClaimRace", testContainerGroupClaimRace},
	{"TaskRunSeq", testTaskRunSeq},
	{"TaskRunSeqConcurrent", testTaskRunSeqConcurrent},
	{"TaskRunRoundTrip", testTaskRunRoundTrip},
	{"TaskRunList", testTaskRunList},
	{"TaskLog", testTaskLog},
	{"TaskSources", testTaskSources},
	{"TaskRegistryDeleteCascades", testTaskRegistryDeleteCascades},
}

// Run runs every conformance test as a named subtest, each on a fresh store.
func Run(t *testing.T, newStore Factory) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// ---- fixtures

// base is the fixtures' clock: a time with nanoseconds, in UTC.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// at returns base plus i seconds.
func at(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }

// otherZone is a non-UTC zone for round-trip checks.
var otherZone = time.FixedZone("UTC+05:45", 5*3600+45*60)

// guid returns a random lower-case GUID.
func guid() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// fixedGUID returns a GUID whose order among fixedGUIDs follows n.
func fixedGUID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func mkTenant(t *testing.T, s store.Store) identity.Tenant {
	t.Helper()
	tn := identity.Tenant{ID: guid(), DisplayName: "Contoso", DefaultDomain: "contoso.onmicrosoft.com", CreatedAt: base}
	if err := s.Identity().CreateTenant(t.Context(), tn); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	return tn
}

func newApp(tenantID, name string, created time.Time) identity.Application {
	return identity.Application{
		ID: guid(), TenantID: tenantID, AppID: guid(), DisplayName: name,
		SignInAudience: "AzureADMyOrg", CreatedAt: created,
	}
}

func mkApp(t *testing.T, s store.Store, app identity.Application) identity.Application {
	t.Helper()
	if err := s.Identity().CreateApplication(t.Context(), app); err != nil {
		t.Fatalf("CreateApplication(%s): %v", app.DisplayName, err)
	}
	return app
}

func newSP(tenantID, appID, name string, created time.Time) identity.ServicePrincipal {
	return identity.ServicePrincipal{
		ID: guid(), TenantID: tenantID, AppID: appID, DisplayName: name, AccountEnabled: true,
		ServicePrincipalNames: []string{appID}, CreatedAt: created,
	}
}

func mkSP(t *testing.T, s store.Store, sp identity.ServicePrincipal) identity.ServicePrincipal {
	t.Helper()
	if err := s.Identity().CreateServicePrincipal(t.Context(), sp); err != nil {
		t.Fatalf("CreateServicePrincipal(%s): %v", sp.DisplayName, err)
	}
	return sp
}

func password(n int) identity.PasswordCredential {
	salt := []byte{0x00, byte(n), 0xff, 0x80, 0x7f}
	hash := make([]byte, 32)
	for i := range hash {
		hash[i] = byte(i*7 + n)
	}
	return identity.PasswordCredential{
		KeyID: guid(), DisplayName: fmt.Sprintf("secret %d", n), Hint: "abc", Salt: salt, Hash: hash,
		StartDateTime: at(n).Add(time.Nanosecond).In(otherZone), EndDateTime: at(n).AddDate(1, 0, 0).In(otherZone),
	}
}

// mkSubscription creates a tenant and a subscription in it.
func mkSubscription(t *testing.T, s store.Store) resource.Subscription {
	t.Helper()
	tn := mkTenant(t, s)
	sub := resource.Subscription{ID: guid(), DisplayName: "Pay-As-You-Go", TenantID: tn.ID, State: "Enabled", CreatedAt: base}
	if err := s.Resources().CreateSubscription(t.Context(), sub); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	return sub
}

func newGroup(sub, name string) resource.Group {
	return resource.Group{
		SubscriptionID: sub, Name: name, Location: "westeurope", Tags: map[string]string{"env": "test"},
		ProvisioningState: "Succeeded", CreatedAt: base, ChangedAt: base,
	}
}

func mkGroup(t *testing.T, s store.Store, g resource.Group) resource.Group {
	t.Helper()
	got, _, err := s.Resources().PutGroup(t.Context(), g.SubscriptionID, g.Name, func(*resource.Group) (resource.Group, error) {
		return g, nil
	})
	if err != nil {
		t.Fatalf("PutGroup(%s): %v", g.Name, err)
	}
	return got
}

func newRA(scope resourceid.ID, principalID, role string, created time.Time) rbac.RoleAssignment {
	return rbac.RoleAssignment{
		Name: guid(), Scope: scope, RoleDefinitionID: role, PrincipalID: principalID,
		PrincipalType: "ServicePrincipal", Description: "test", CreatedOn: created, UpdatedOn: created,
		CreatedBy: "creator", UpdatedBy: "creator",
	}
}

func mkRA(t *testing.T, s store.Store, ra rbac.RoleAssignment) rbac.RoleAssignment {
	t.Helper()
	if err := s.RBAC().CreateRoleAssignment(t.Context(), ra); err != nil {
		t.Fatalf("CreateRoleAssignment(%s at %s): %v", ra.Name, ra.Scope, err)
	}
	return ra
}

// Built-in role ids.
const (
	roleOwner       = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	roleContributor = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	roleReader      = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
)

// ---- assertions

func mustKind(t *testing.T, err error, k errdefs.Kind, what string) {
	t.Helper()
	if !errdefs.IsKind(err, k) {
		t.Errorf("%s: got error %v, want kind %s", what, err, k)
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// errStop is what the update functions in the suite fail with. A store must
// return it unchanged: services return their own errdefs errors from update
// functions and expect them back.
var errStop = errdefs.New(errdefs.FailedPrecondition, "StopForTest", "the update function failed")

func mustStop(t *testing.T, err error, what string) {
	t.Helper()
	if got := errdefs.As(err); got != errStop {
		t.Errorf("%s: got error %v, want the update function's error unchanged", what, err)
	}
}

// assertUTC checks that times come back in UTC.
func assertUTC(t *testing.T, what string, ts ...time.Time) {
	t.Helper()
	for _, ts := range ts {
		if ts.Location() != time.UTC {
			t.Errorf("%s: time %v is in %v, want UTC", what, ts, ts.Location())
		}
	}
}

// The norm functions bring a value to the form a store returns: times in
// UTC, empty non-nil lists, canonical scopes. Applied to both sides of a
// comparison, they also hide representation differences that time.Equal
// would ignore.

func list(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func bytesOf(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func normPasswords(ps []identity.PasswordCredential) []identity.PasswordCredential {
	out := make([]identity.PasswordCredential, 0, len(ps))
	for _, p := range ps {
		p.Salt, p.Hash = bytesOf(p.Salt), bytesOf(p.Hash)
		p.StartDateTime, p.EndDateTime = p.StartDateTime.UTC(), p.EndDateTime.UTC()
		out = append(out, p)
	}
	return out
}

func passwordTimes(ps []identity.PasswordCredential) []time.Time {
	var ts []time.Time
	for _, p := range ps {
		ts = append(ts, p.StartDateTime, p.EndDateTime)
	}
	return ts
}

func normApp(a identity.Application) identity.Application {
	a.IdentifierURIs, a.Tags, a.Owners = list(a.IdentifierURIs), list(a.Tags), list(a.Owners)
	a.Passwords = normPasswords(a.Passwords)
	a.CreatedAt = a.CreatedAt.UTC()
	return a
}

func equalApp(t *testing.T, what string, got, want identity.Application) {
	t.Helper()
	assertUTC(t, what, append(passwordTimes(got.Passwords), got.CreatedAt)...)
	equal(t, what, normApp(got), normApp(want))
}

func normSP(sp identity.ServicePrincipal) identity.ServicePrincipal {
	sp.ServicePrincipalNames, sp.Tags, sp.Owners = list(sp.ServicePrincipalNames), list(sp.Tags), list(sp.Owners)
	sp.Passwords = normPasswords(sp.Passwords)
	sp.CreatedAt = sp.CreatedAt.UTC()
	return sp
}

func equalSP(t *testing.T, what string, got, want identity.ServicePrincipal) {
	t.Helper()
	assertUTC(t, what, append(passwordTimes(got.Passwords), got.CreatedAt)...)
	equal(t, what, normSP(got), normSP(want))
}

func normGroup(g resource.Group) resource.Group {
	g.CreatedAt, g.ChangedAt = g.CreatedAt.UTC(), g.ChangedAt.UTC()
	return g
}

func equalGroup(t *testing.T, what string, got, want resource.Group) {
	t.Helper()
	assertUTC(t, what, got.CreatedAt, got.ChangedAt)
	equal(t, what, normGroup(got), normGroup(want))
}

func normGeneric(r resource.Generic) resource.Generic {
	r.ID = resourceid.MustParse(r.ID.String())
	r.CreatedAt, r.ChangedAt = r.CreatedAt.UTC(), r.ChangedAt.UTC()
	return r
}

func normRA(ra rbac.RoleAssignment) rbac.RoleAssignment {
	ra.Scope = resourceid.MustParse(ra.Scope.String())
	ra.CreatedOn, ra.UpdatedOn = ra.CreatedOn.UTC(), ra.UpdatedOn.UTC()
	return ra
}

func equalRA(t *testing.T, what string, got, want rbac.RoleAssignment) {
	t.Helper()
	assertUTC(t, what, got.CreatedOn, got.UpdatedOn)
	if got.Scope.String() != want.Scope.String() {
		t.Errorf("%s: scope %q, want %q", what, got.Scope, want.Scope)
	}
	equal(t, what, normRA(got), normRA(want))
}

func appNames(apps []identity.Application) []string {
	out := []string{}
	for _, a := range apps {
		out = append(out, a.DisplayName)
	}
	return out
}

func spNames(sps []identity.ServicePrincipal) []string {
	out := []string{}
	for _, sp := range sps {
		out = append(out, sp.DisplayName)
	}
	return out
}

func raNames(ras []rbac.RoleAssignment) []string {
	out := []string{}
	for _, ra := range ras {
		out = append(out, ra.Description)
	}
	return out
}
