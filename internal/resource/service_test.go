package resource_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/store/sqlstore"
)

const sub = "bbbbbbbb-0000-0000-0000-000000000000"

func newService(t *testing.T) (*resource.Service, *sqlstore.Store) {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), t.TempDir()+"/db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Identity().CreateTenant(t.Context(), identity.Tenant{ID: "t", DisplayName: "t"}); err != nil {
		t.Fatal(err)
	}
	s := resource.NewService(st.Resources(), nil)
	if _, err := s.CreateSubscription(t.Context(), resource.Subscription{ID: strings.ToUpper(sub), DisplayName: "s", TenantID: "t"}); err != nil {
		t.Fatal(err)
	}
	return s, st
}

func TestPutGroup(t *testing.T) {
	s, _ := newService(t)
	ctx := t.Context()
	g, created, err := s.PutGroup(ctx, sub, "My-RG_(1).x", resource.GroupInput{Location: "East US", Tags: map[string]string{"env": "dev"}})
	if err != nil || !created || g.Location != "eastus" || g.ProvisioningState != "Succeeded" {
		t.Fatalf("create: %+v %v %v", g, created, err)
	}
	g, created, err = s.PutGroup(ctx, sub, "my-rg_(1).X", resource.GroupInput{Location: "eastus"})
	if err != nil || created || g.Name != "My-RG_(1).x" || g.Tags != nil {
		t.Fatalf("replace: %+v %v %v", g, created, err)
	}
	tests := []struct {
		name, group string
		in          resource.GroupInput
		want        error
	}{
		{"location change", "My-RG_(1).x", resource.GroupInput{Location: "westus"}, resource.ErrGroupLocationConflict},
		{"no location", "rg2", resource.GroupInput{}, resource.ErrLocationRequired},
		{"odd location", "rg2", resource.GroupInput{Location: "east-us!"}, resource.ErrInvalidLocation},
		{"unknown location", "rg2", resource.GroupInput{Location: "mars"}, resource.ErrInvalidLocation},
		{"trailing period", "rg.", resource.GroupInput{Location: "eastus"}, resource.ErrInvalidGroupName},
		{"slash", "a/b", resource.GroupInput{Location: "eastus"}, resource.ErrInvalidGroupName},
		{"too long", strings.Repeat("a", 91), resource.GroupInput{Location: "eastus"}, resource.ErrInvalidGroupName},
		{"bad tag name", "rg2", resource.GroupInput{Location: "eastus", Tags: map[string]string{"a/b": "x"}}, resource.ErrInvalidTags},
		{"long tag value", "rg2", resource.GroupInput{Location: "eastus", Tags: map[string]string{"a": strings.Repeat("v", 257)}}, resource.ErrInvalidTags},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.PutGroup(ctx, sub, tt.group, tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, _, err := s.PutGroup(ctx, "cccccccc-0000-0000-0000-000000000000", "rg", resource.GroupInput{Location: "eastus"}); !errors.Is(err, resource.ErrSubscriptionNotFound) {
		t.Fatalf("unknown subscription: %v", err)
	}
}

func TestPatchDeleteAndScopes(t *testing.T) {
	s, st := newService(t)
	ctx := t.Context()
	if _, _, err := s.PutGroup(ctx, sub, "rg1", resource.GroupInput{Location: "eastus"}); err != nil {
		t.Fatal(err)
	}
	g, err := s.PatchGroup(ctx, sub, "RG1", resource.GroupPatch{Tags: map[string]string{"a": "b"}, SetTags: true})
	if err != nil || g.Tags["a"] != "b" || g.Location != "eastus" {
		t.Fatalf("patch: %+v %v", g, err)
	}
	if _, err := s.PatchGroup(ctx, sub, "nope", resource.GroupPatch{SetTags: true}); !errors.Is(err, resource.ErrGroupNotFound) {
		t.Fatalf("patch missing: %v", err)
	}
	reg := resourceid.ForResource(sub, "rg1", "Microsoft.ContainerRegistry", "registries", "r1")
	if err := st.PutGenericResource(ctx, resource.Generic{ID: reg, Location: "eastus"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id   string
		want error
	}{
		{"/", nil},
		{"/subscriptions/" + sub, nil},
		{"/subscriptions/" + sub + "/resourceGroups/RG1", nil},
		{reg.String(), nil},
		{reg.String() + "/replications/x", nil},
		{"/subscriptions/cccccccc-0000-0000-0000-000000000000", resource.ErrSubscriptionNotFound},
		{"/subscriptions/" + sub + "/resourceGroups/rg2", resource.ErrGroupNotFound},
		{"/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.ContainerRegistry/registries/r2", resource.ErrResourceNotFound},
	} {
		err := s.CheckScope(ctx, resourceid.MustParse(tt.id))
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("CheckScope(%s) = %v, want %v", tt.id, err, tt.want)
		}
	}
	if err := s.DeleteGroup(ctx, sub, "rg1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, sub, "rg1"); !errors.Is(err, resource.ErrGroupNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if rs, err := s.Resources(ctx, sub, ""); err != nil || len(rs) != 0 {
		t.Fatalf("resources survive their group: %v %v", rs, err)
	}
	if _, err := s.Subscription(ctx, "cccccccc-0000-0000-0000-000000000000"); !errdefs.IsKind(err, errdefs.NotFound) {
		t.Fatal(err)
	}
}
