package rbac_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
)

const (
	tenant = "aaaaaaaa-0000-0000-0000-000000000000"
	sub    = "bbbbbbbb-0000-0000-0000-000000000000"
	alice  = "cccccccc-0000-0000-0000-00000000000a"
	bob    = "cccccccc-0000-0000-0000-00000000000b"
)

// directory is a fake rbac.Directory holding a fixed set of principals.
type directory map[string]principal.Type

func (d directory) PrincipalType(_ context.Context, _, id string) (principal.Type, error) {
	if t, ok := d[id]; ok {
		return t, nil
	}
	return "", errdefs.New(errdefs.NotFound, "", "no such principal")
}

func newService(t *testing.T) *rbac.Service {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), t.TempDir()+"/db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return rbac.NewService(st.RBAC(), directory{alice: principal.ServicePrincipal, bob: principal.ServicePrincipal}, nil)
}

var (
	subScope = resourceid.ForSubscription(sub)
	rg1      = resourceid.ForResourceGroup(sub, "rg1")
	rg10     = resourceid.ForResourceGroup(sub, "rg10")
	reg      = resourceid.ForResource(sub, "rg1", "Microsoft.ContainerRegistry", "registries", "r1")
)

func assign(t *testing.T, s *rbac.Service, name, who, role string, scope resourceid.ID) rbac.RoleAssignment {
	t.Helper()
	ra, created, err := s.Create(t.Context(), rbac.CreateInput{TenantID: tenant, Scope: scope, Name: name, RoleDefinitionID: role, PrincipalID: who})
	if err != nil || !created {
		t.Fatalf("assign %s %s: created=%v err=%v", role, scope, created, err)
	}
	return ra
}

func TestCheckInheritsDownward(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	assign(t, s, "11111111-0000-0000-0000-000000000001", alice, rbac.ReaderID, rg1)
	assign(t, s, "11111111-0000-0000-0000-000000000002", bob, rbac.AcrPushID, subScope)
	a := principal.Principal{ObjectID: alice}
	b := principal.Principal{ObjectID: bob}
	const read, write = "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Resources/subscriptions/resourceGroups/write"
	const push = "Microsoft.ContainerRegistry/registries/push/write"
	tests := []struct {
		name   string
		p      principal.Principal
		action string
		scope  resourceid.ID
		ok     bool
	}{
		{"reader reads its group", a, read, rg1, true},
		{"reader reads below its group", a, "Microsoft.ContainerRegistry/registries/read", reg, true},
		{"reader cannot write", a, write, rg1, false},
		{"reader not above its group", a, "Microsoft.Resources/subscriptions/read", subScope, false},
		{"no sibling with a shared prefix", a, read, rg10, false},
		{"acrpush from the subscription down", b, push, reg, true},
		{"acrpush cannot read groups", b, read, rg1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Check(ctx, tt.p, tt.action, tt.scope)
			if tt.ok != (err == nil) {
				t.Fatalf("Check = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, rbac.ErrAuthorizationFailed) {
				t.Fatalf("wrong error %v", err)
			}
		})
	}
}

func TestCreateRules(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	first := assign(t, s, "22222222-0000-0000-0000-000000000001", alice, "/subscriptions/"+sub+"/providers/Microsoft.Authorization/roleDefinitions/"+rbac.ReaderID, rg1)
	if first.RoleDefinitionID != rbac.ReaderID || first.PrincipalType != principal.ServicePrincipal {
		t.Fatalf("stored %+v", first)
	}
	tests := []struct {
		name string
		in   rbac.CreateInput
		want error
	}{
		{"same PUT again is idempotent", rbac.CreateInput{Name: first.Name, RoleDefinitionID: rbac.ReaderID, PrincipalID: alice, Scope: rg1}, nil},
		{"duplicate under another name", rbac.CreateInput{Name: "22222222-0000-0000-0000-000000000002", RoleDefinitionID: rbac.ReaderID, PrincipalID: alice, Scope: rg1}, rbac.ErrRoleAssignmentExists},
		{"name reused for another grant", rbac.CreateInput{Name: first.Name, RoleDefinitionID: rbac.OwnerID, PrincipalID: alice, Scope: rg1}, rbac.ErrRoleAssignmentImmutable},
		{"name not a guid", rbac.CreateInput{Name: "x", RoleDefinitionID: rbac.ReaderID, PrincipalID: alice, Scope: rg1}, rbac.ErrInvalidRoleAssignment},
		{"unknown role", rbac.CreateInput{Name: "22222222-0000-0000-0000-000000000003", RoleDefinitionID: "99999999-0000-0000-0000-000000000000", PrincipalID: alice, Scope: rg1}, rbac.ErrRoleDefinitionNotFound},
		{"role by name is not an id", rbac.CreateInput{Name: "22222222-0000-0000-0000-000000000004", RoleDefinitionID: "Reader", PrincipalID: alice, Scope: rg1}, rbac.ErrRoleDefinitionNotFound},
		{"unknown principal", rbac.CreateInput{Name: "22222222-0000-0000-0000-000000000005", RoleDefinitionID: rbac.ReaderID, PrincipalID: "dddddddd-0000-0000-0000-000000000000", Scope: rg1}, rbac.ErrPrincipalNotFound},
		{"principal type mismatch", rbac.CreateInput{Name: "22222222-0000-0000-0000-000000000006", RoleDefinitionID: rbac.ReaderID, PrincipalID: bob, PrincipalType: principal.User, Scope: rg1}, rbac.ErrPrincipalTypeMismatch},
		{"conditions unsupported", rbac.CreateInput{Name: "22222222-0000-0000-0000-000000000007", RoleDefinitionID: rbac.ReaderID, PrincipalID: bob, Scope: rg1, Condition: "true", ConditionVersion: "2.0"}, &errdefs.Error{Kind: errdefs.InvalidArgument}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.TenantID = tenant
			_, created, err := s.Create(ctx, tt.in)
			if tt.want == nil {
				if err != nil || created {
					t.Fatalf("created=%v err=%v", created, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestListGetDelete(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	atSub := assign(t, s, "33333333-0000-0000-0000-000000000001", alice, rbac.OwnerID, subScope)
	atRG := assign(t, s, "33333333-0000-0000-0000-000000000002", bob, rbac.ReaderID, rg1)
	atReg := assign(t, s, "33333333-0000-0000-0000-000000000003", bob, rbac.AcrPullID, reg)
	assign(t, s, "33333333-0000-0000-0000-000000000004", bob, rbac.ReaderID, rg10)

	names := func(ras []rbac.RoleAssignment) []string {
		var out []string
		for _, r := range ras {
			out = append(out, r.Name)
		}
		return out
	}
	tests := []struct {
		name  string
		scope resourceid.ID
		f     rbac.ListFilter
		want  []string
	}{
		{"rg: above, at and below", rg1, rbac.ListFilter{}, []string{atSub.Name, atRG.Name, atReg.Name}},
		{"rg atScope: at and above", rg1, rbac.ListFilter{AtScope: true}, []string{atSub.Name, atRG.Name}},
		{"rg by principal", rg1, rbac.ListFilter{PrincipalID: bob}, []string{atRG.Name, atReg.Name}},
		{"registry atScope inherits everything above", reg, rbac.ListFilter{AtScope: true}, []string{atSub.Name, atRG.Name, atReg.Name}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(ctx, tt.scope, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := names(got), tt.want; len(g) != len(w) || !sameSet(g, w) {
				t.Fatalf("got %v, want %v", g, w)
			}
		})
	}

	if _, err := s.Get(ctx, rg10, atRG.Name); !errors.Is(err, rbac.ErrRoleAssignmentNotFound) {
		t.Fatalf("get at the wrong scope: %v", err)
	}
	if got, err := s.Get(ctx, resourceid.MustParse("/SUBSCRIPTIONS/"+sub+"/RESOURCEGROUPS/RG1"), atRG.Name); err != nil || got.Name != atRG.Name {
		t.Fatalf("case-insensitive get: %v", err)
	}
	if _, err := s.Delete(ctx, rg1, atRG.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, rg1, atRG.Name); !errors.Is(err, rbac.ErrRoleAssignmentNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if ok, _ := s.Allowed(ctx, bob, "Microsoft.Resources/subscriptions/resourceGroups/read", rg1); ok {
		t.Fatal("deleted assignment still grants access")
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
