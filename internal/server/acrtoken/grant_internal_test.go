package acrtoken

import (
	"reflect"
	"testing"
)

func TestIntersectActions(t *testing.T) {
	for _, tt := range []struct {
		want, have, out []string
	}{
		{nil, []string{"pull"}, nil},
		{[]string{"pull"}, nil, nil},
		{[]string{"pull", "push"}, []string{"pull"}, []string{"pull"}},
		{[]string{"pull", "push"}, []string{"*"}, []string{"pull", "push"}},
		{[]string{"*"}, []string{"pull", "delete"}, []string{"pull", "delete"}},
		{[]string{"*"}, []string{"*"}, []string{"*"}},
		{[]string{"push"}, []string{"pull", "metadata_read"}, nil},
	} {
		if got := intersectActions(tt.want, tt.have); !reflect.DeepEqual(got, tt.out) {
			t.Errorf("intersectActions(%q, %q) = %q, want %q", tt.want, tt.have, got, tt.out)
		}
	}
}

func TestIntersect(t *testing.T) {
	granted := []Scope{
		{"repository", "a", []string{"pull", "push"}},
		{"repository", "b", []string{"*"}},
		{"registry", "catalog", []string{"*"}},
	}
	want := []Scope{
		{"repository", "a", []string{"pull", "delete"}},
		{"repository", "b", []string{"delete"}},
		{"repository", "c", []string{"pull"}},
		{"registry", "catalog", []string{"*"}},
		{"repository", "a", []string{"delete"}},
	}
	out := []Scope{
		{"repository", "a", []string{"pull"}},
		{"repository", "b", []string{"delete"}},
		{"registry", "catalog", []string{"*"}},
	}
	if got := intersect(granted, want); !reflect.DeepEqual(got, out) {
		t.Errorf("intersect = %+v, want %+v", got, out)
	}
}

func TestNormalize(t *testing.T) {
	in := []Scope{
		{"repository", "a", []string{"pull"}},
		{"repository", "b", []string{"pull"}},
		{"repository", "a", []string{"push", "pull"}},
		{"registry", "a", []string{"*"}},
	}
	out := []Scope{
		{"repository", "a", []string{"pull", "push"}},
		{"repository", "b", []string{"pull"}},
		{"registry", "a", []string{"*"}},
	}
	got, err := normalize(in)
	if err != nil || !reflect.DeepEqual(got, out) {
		t.Errorf("normalize = %+v, %v; want %+v", got, err, out)
	}
	if in[0].Actions[0] != "pull" || len(in[0].Actions) != 1 {
		t.Errorf("normalize changed its input: %+v", in)
	}
}

func TestKindOf(t *testing.T) {
	for _, tt := range []struct {
		c    claims
		want subjectKind
	}{
		{claims{Sub: "9f34850f-8ae0-4245-8e63-55d179ba4657", Tenant: "44de960c-c0ff-4a10-8de8-8378358f8667"}, principalSubject},
		{claims{Sub: "myregistry"}, adminSubject},
		{claims{}, anonymousSubject},
	} {
		if got := kindOf(tt.c); got != tt.want {
			t.Errorf("kindOf(%+v) = %v, want %v", tt.c, got, tt.want)
		}
	}
}
