package graph

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cerulean/cerulean/internal/identity"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in          string
		want        []clause
		unsupported bool // want an unsupported-query error
		syntax      bool // want a syntax error
	}{
		{in: "displayName eq 'x'", want: []clause{{"displayName", opEq, "x"}}},
		{in: "  displayname   EQ   'x'  ", want: []clause{{"displayname", opEq, "x"}}},
		{in: "displayName eq 'o''brien'", want: []clause{{"displayName", opEq, "o'brien"}}},
		{in: "displayName eq ''''", want: []clause{{"displayName", opEq, "'"}}},
		{in: "displayName eq ''", want: []clause{{"displayName", opEq, ""}}},
		{in: "displayName eq 'a+b and c'", want: []clause{{"displayName", opEq, "a+b and c"}}},
		{in: "startswith(displayName,'acr')", want: []clause{{"displayName", opStartsWith, "acr"}}},
		{in: "startswith( displayName , 'acr' ) eq true", want: []clause{{"displayName", opStartsWith, "acr"}}},
		{in: "servicePrincipalNames/any(c:c eq 'x')", want: []clause{{"servicePrincipalNames", opAny, "x"}}},
		{in: "servicePrincipalNames/ANY( s : s eq 'x' )", want: []clause{{"servicePrincipalNames", opAny, "x"}}},
		{in: "appId eq 'a' and id eq 'b'", want: []clause{{"appId", opEq, "a"}, {"id", opEq, "b"}}},
		{in: "(displayName eq 'a') and (startswith(displayName,'a') and appId eq 'c')",
			want: []clause{{"displayName", opEq, "a"}, {"displayName", opStartsWith, "a"}, {"appId", opEq, "c"}}},
		{in: "displayName eq 'a' or displayName eq 'b'", unsupported: true},
		{in: "displayName ne 'a'", unsupported: true},
		{in: "not displayName eq 'a'", syntax: true},
		{in: "endswith(displayName,'a')", unsupported: true},
		{in: "tags/all(t:t eq 'a')", unsupported: true},
		{in: "servicePrincipalNames/any(c:c ne 'x')", unsupported: true},
		{in: "", syntax: true},
		{in: "displayName", syntax: true},
		{in: "displayName eq", syntax: true},
		{in: "displayName eq x", syntax: true},
		{in: "displayName eq 'x", syntax: true},
		{in: "displayName eq 'x' and", syntax: true},
		{in: "displayName eq 'x' garbage", syntax: true},
		{in: "(displayName eq 'x'", syntax: true},
		{in: "startswith(displayName 'x')", syntax: true},
		{in: "servicePrincipalNames/any(c:d eq 'x')", syntax: true},
		{in: "displayName eq 'x'and appId eq 'y'", syntax: true},
		{in: strings.Repeat("(", 20) + "displayName eq 'x'" + strings.Repeat(")", 20), syntax: true},
		{in: "displayName eq '" + strings.Repeat("a", maxFilterLen) + "'", syntax: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseFilter(tt.in)
			var fe *filterError
			switch {
			case tt.unsupported || tt.syntax:
				if !errors.As(err, &fe) || fe.unsupported != tt.unsupported {
					t.Fatalf("err = %v (%+v), want unsupported=%v", err, fe, tt.unsupported)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			case !reflect.DeepEqual(got, tt.want):
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBuildFilter(t *testing.T) {
	tests := []struct {
		in    string
		set   entitySet
		want  identity.Filter
		none  bool
		unsup bool
	}{
		{in: "displayName eq 'x'", set: applications, want: identity.Filter{DisplayName: "x"}},
		{in: "startswith(displayName,'ab') and startswith(displayName,'abc')", set: applications, want: identity.Filter{DisplayNamePrefix: "abc"}},
		{in: "startswith(displayName,'ABC') and startswith(displayName,'ab')", set: applications, want: identity.Filter{DisplayNamePrefix: "ABC"}},
		{in: "startswith(displayName,'ab') and startswith(displayName,'x')", set: applications, none: true},
		{in: "appId eq 'a' and appId eq 'A'", set: applications, want: identity.Filter{AppID: "A"}},
		{in: "appId eq 'a' and appId eq 'b'", set: applications, none: true},
		{in: "id eq 'a'", set: servicePrincipals, want: identity.Filter{IDs: []string{"a"}}},
		{in: "id eq 'a' and id eq 'b'", set: servicePrincipals, none: true},
		{in: "servicePrincipalNames/any(c:c eq 'n')", set: servicePrincipals, want: identity.Filter{ServicePrincipalName: "n"}},
		{in: "servicePrincipalNames/any(c:c eq 'n')", set: applications, unsup: true},
		{in: "identifierUris/any(c:c eq 'n')", set: servicePrincipals, unsup: true},
		{in: "startswith(appId,'a')", set: applications, unsup: true},
		{in: "displayName eq ''", set: applications, none: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			lf, err := buildFilter(tt.in, tt.set)
			got, none := lf.filter, lf.none
			if tt.unsup {
				if !errors.Is(err, errUnsupportedQuery) {
					t.Fatalf("err = %v, want unsupported query", err)
				}
				return
			}
			if err != nil || none != tt.none || !tt.none && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v none=%v err=%v, want %+v none=%v", got, none, err, tt.want, tt.none)
			}
		})
	}
}

// TestCheckUserFilter: a users $filter may test the user properties az and
// other clients ask for, joined by "and" or "or"; other properties,
// operators and syntax errors are refused as for the other sets.
func TestCheckUserFilter(t *testing.T) {
	tests := []struct {
		in   string
		want error // nil, errUnsupportedQuery or errInvalidFilter
	}{
		{"userPrincipalName eq 'someone@example.com'", nil},
		{"mail eq 'someone@example.com'", nil},
		{"userPrincipalName eq 'x' or mail eq 'x' or displayName eq 'x'", nil},
		{"startswith(displayName,'a') and (mailNickname eq 'b' or id eq 'c')", nil},
		{"otherMails/any(c:c eq 'x@example.com')", nil},
		{"appId eq 'x'", errUnsupportedQuery},
		{"startswith(id,'x')", errUnsupportedQuery},
		{"mail/any(c:c eq 'x')", errUnsupportedQuery},
		{"mail ne 'x'", errUnsupportedQuery},
		{"mail eq 'x' or", errInvalidFilter},
		{"mail eq", errInvalidFilter},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := checkUserFilter(tt.in)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// "or" stays unsupported where filters select objects.
	if _, err := buildFilter("mail eq 'x' or displayName eq 'x'", applications); !errors.Is(err, errUnsupportedQuery) {
		t.Fatalf("or on applications: %v", err)
	}
}

// FuzzParseFilter: the parser never panics, and what it accepts is a
// non-empty conjunction of known operators.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"displayName eq 'x'", "startswith(displayName,'a') and appId eq 'b'", "servicePrincipalNames/any(c:c eq 'x')",
		"(id eq 'a') and (displayName eq 'o''b')", "x or y", "'", "((((", "a/any(", "startswith(", "displayName eq '' and ''",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := parseFilter(s)
		if err != nil {
			var fe *filterError
			if !errors.As(err, &fe) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if len(cs) == 0 {
			t.Fatalf("%q parsed to no clauses", s)
		}
		for _, c := range cs {
			if c.prop == "" || c.op != opEq && c.op != opStartsWith && c.op != opAny {
				t.Fatalf("%q: bad clause %+v", s, c)
			}
		}
		_, _ = buildFilter(s, servicePrincipals)
	})
}

// TestBuildFilterAnyClauses: any() clauses on the same collection joined by
// "and" ask for an object holding every value, not for one value equal to
// two different ones.
func TestBuildFilterAnyClauses(t *testing.T) {
	tests := []struct {
		in        string
		set       entitySet
		storeName string   // filter.ServicePrincipalName
		spns      []string // further names to hold
		uris      []string
		none      bool
	}{
		{in: "servicePrincipalNames/any(c:c eq 'a') and servicePrincipalNames/any(c:c eq 'b')", set: servicePrincipals, storeName: "a", spns: []string{"b"}},
		{in: "servicePrincipalNames/any(c:c eq 'a') and servicePrincipalNames/any(x:x eq 'A')", set: servicePrincipals, storeName: "a", spns: []string{}},
		{in: "servicePrincipalNames/any(c:c eq 'a') and servicePrincipalNames/any(c:c eq 'b') and servicePrincipalNames/any(c:c eq 'c')",
			set: servicePrincipals, storeName: "a", spns: []string{"b", "c"}},
		{in: "servicePrincipalNames/any(c:c eq 'a') and servicePrincipalNames/any(c:c eq '')", set: servicePrincipals, none: true},
		{in: "identifierUris/any(c:c eq 'api://a') and identifierUris/any(c:c eq 'api://b')", set: applications, uris: []string{"api://a", "api://b"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			lf, err := buildFilter(tt.in, tt.set)
			if err != nil {
				t.Fatal(err)
			}
			if lf.none != tt.none {
				t.Fatalf("none = %v, want %v", lf.none, tt.none)
			}
			if tt.none {
				return
			}
			if lf.filter.ServicePrincipalName != tt.storeName || !slices.Equal(lf.servicePrincipalNames, tt.spns) || !slices.Equal(lf.identifierURIs, tt.uris) {
				t.Fatalf("got store name %q, names %q, uris %q; want %q, %q, %q", lf.filter.ServicePrincipalName, lf.servicePrincipalNames, lf.identifierURIs, tt.storeName, tt.spns, tt.uris)
			}
		})
	}
}
