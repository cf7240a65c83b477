package acrtoken

import (
	"reflect"
	"testing"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in   []string
		want []Scope
		bad  bool
	}{
		{in: []string{"repository:hello-world:pull"}, want: []Scope{{"repository", "hello-world", []string{"pull"}}}},
		{in: []string{"repository:a/b:pull,push"}, want: []Scope{{"repository", "a/b", []string{"pull", "push"}}}},
		{in: []string{"repository:a:pull repository:b:push"}, want: []Scope{{"repository", "a", []string{"pull"}}, {"repository", "b", []string{"push"}}}},
		{in: []string{"repository:a:pull", "registry:catalog:*"}, want: []Scope{{"repository", "a", []string{"pull"}}, {"registry", "catalog", []string{"*"}}}},
		{in: []string{"repository:localhost:5000/x:pull"}, want: []Scope{{"repository", "localhost:5000/x", []string{"pull"}}}},
		{in: []string{"repository:a:pull,pull"}, want: []Scope{{"repository", "a", []string{"pull"}}}},
		{in: []string{""}, want: nil},
		{in: []string{"repository"}, bad: true},
		{in: []string{"repository:a"}, bad: true},
		{in: []string{"repository:a:"}, bad: true},
		{in: []string{":a:pull"}, bad: true},
		{in: []string{"repository:a:pull,,push"}, bad: true},
	}
	for _, tt := range tests {
		got, err := ParseScopes(tt.in...)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseScopes(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseScopes(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestGrantAllows(t *testing.T) {
	g := Grant{Access: []Scope{{"repository", "a", []string{"pull"}}, {"registry", "catalog", []string{"*"}}}}
	for _, tt := range []struct {
		typ, name, action string
		want              bool
	}{
		{"repository", "a", "pull", true},
		{"repository", "a", "push", false},
		{"repository", "b", "pull", false},
		{"registry", "catalog", "*", true},
		{"registry", "catalog", "anything", true},
	} {
		if got := g.Allows(tt.typ, tt.name, tt.action); got != tt.want {
			t.Errorf("Allows(%s,%s,%s) = %v", tt.typ, tt.name, tt.action, got)
		}
	}
}
