package cli

import (
	"errors"
	"reflect"
	"testing"
)

func testDefs() []*argDef {
	return []*argDef{
		{dest: "name", options: []string{"--name", "--resource-group", "-n", "-g"}, kind: argValue, required: true},
		{dest: "location", options: []string{"--location", "-l"}, kind: argValue, required: true},
		{dest: "tags", options: []string{"--tags"}, kind: argListOpt},
		{dest: "scopes", options: []string{"--scopes"}, kind: argList},
		{dest: "yes", options: []string{"--yes", "-y"}, kind: argFlag},
		{dest: "no_wait", options: []string{"--no-wait"}, kind: argFlag},
		{dest: "type", options: []string{"--principal-type"}, kind: argValue, choices: []string{"User", "ServicePrincipal"}},
		{dest: "custom", options: []string{"--custom-role-only"}, kind: argTriState, choices: []string{"false", "true"}},
		argOutput, argQuery, argHelp,
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name   string
		tokens []string
		want   map[string][]string
		err    string
		help   bool
	}{
		{name: "short and long", tokens: []string{"-n", "rg", "--location", "eastus"},
			want: map[string][]string{"name": {"rg"}, "location": {"eastus"}}},
		{name: "equals and attached", tokens: []string{"--name=rg", "-leastus"},
			want: map[string][]string{"name": {"rg"}, "location": {"eastus"}}},
		{name: "alias", tokens: []string{"--resource-group", "rg", "-l", "x"},
			want: map[string][]string{"name": {"rg"}, "location": {"x"}}},
		{name: "prefix abbreviation", tokens: []string{"--na", "rg", "--loc", "x"},
			want: map[string][]string{"name": {"rg"}, "location": {"x"}}},
		{name: "ambiguous prefix", tokens: []string{"--n", "rg"}, err: "ambiguous option: --n could match --name, --no-wait"},
		{name: "list option", tokens: []string{"-n", "a", "-l", "b", "--scopes", "s1", "s2", "--yes"},
			want: map[string][]string{"name": {"a"}, "location": {"b"}, "scopes": {"s1", "s2"}, "yes": {}}},
		{name: "empty list", tokens: []string{"-n", "a", "-l", "b", "--tags"},
			want: map[string][]string{"name": {"a"}, "location": {"b"}, "tags": {}}},
		{name: "list needs one", tokens: []string{"-n", "a", "-l", "b", "--scopes"}, err: "argument --scopes: expected at least one argument"},
		{name: "missing value", tokens: []string{"-n", "--location", "x"}, err: "argument --name/--resource-group/-n/-g: expected one argument"},
		{name: "negative number is a value", tokens: []string{"-n", "-1", "-l", "x"},
			want: map[string][]string{"name": {"-1"}, "location": {"x"}}},
		{name: "required", tokens: []string{"-l", "x"}, err: "the following arguments are required: --name/--resource-group/-n/-g"},
		{name: "all required", tokens: nil, err: "the following arguments are required: --name/--resource-group/-n/-g, --location/-l"},
		{name: "unrecognized", tokens: []string{"-n", "a", "-l", "b", "--foo", "bar", "baz"}, err: "unrecognized arguments: --foo bar baz"},
		{name: "required before unrecognized", tokens: []string{"--foo"}, err: "the following arguments are required: --name/--resource-group/-n/-g, --location/-l"},
		{name: "flag with value", tokens: []string{"--yes=1"}, err: "argument --yes/-y: ignored explicit argument '1'"},
		{name: "choice canonical", tokens: []string{"-n", "a", "-l", "b", "--principal-type", "serviceprincipal"},
			want: map[string][]string{"name": {"a"}, "location": {"b"}, "type": {"ServicePrincipal"}}},
		{name: "bad choice", tokens: []string{"--principal-type", "Usr"},
			err: "az x: 'Usr' is not a valid value for '--principal-type'. Allowed values: User, ServicePrincipal."},
		{name: "tri-state bare", tokens: []string{"-n", "a", "-l", "b", "--custom-role-only"},
			want: map[string][]string{"name": {"a"}, "location": {"b"}, "custom": {"true"}}},
		{name: "tri-state value", tokens: []string{"--custom-role-only", "False", "-n", "a", "-l", "b"},
			want: map[string][]string{"name": {"a"}, "location": {"b"}, "custom": {"false"}}},
		{name: "output canonical", tokens: []string{"-n", "a", "-l", "b", "-o", "TSV"},
			want: map[string][]string{"name": {"a"}, "location": {"b"}, "_output": {"tsv"}}},
		{name: "help wins", tokens: []string{"--foo", "-h"}, help: true},
		{name: "last wins", tokens: []string{"-n", "a", "-n", "b", "-l", "x"},
			want: map[string][]string{"name": {"b"}, "location": {"x"}}},
		{name: "value with spaces", tokens: []string{"-n", "a", "-l", "b", "--query", "[?name=='x y']"},
			want: map[string][]string{"name": {"a"}, "location": {"b"}, "_query": {"[?name=='x y']"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArgs("az x", testDefs(), tt.tokens)
			if tt.help {
				if !errors.As(err, new(helpRequested)) {
					t.Fatalf("err = %v, want help", err)
				}
				return
			}
			if tt.err != "" {
				var ue *usageError
				if !errors.As(err, &ue) || ue.msg != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.values, tt.want) {
				t.Errorf("values = %#v, want %#v", got.values, tt.want)
			}
		})
	}
}

func TestCloseMatch(t *testing.T) {
	for word, want := range map[string]string{"grop": "group", "lst": "list", "zzz": "", "ad": "ad"} {
		if got := closeMatch(word, []string{"account", "ad", "group", "list", "login", "role"}); got != want {
			t.Errorf("closeMatch(%q) = %q, want %q", word, got, want)
		}
	}
	if s := similarity("abcd", "bcde"); s != 0.75 {
		t.Errorf("similarity = %v", s)
	}
}

func TestSplitShell(t *testing.T) {
	got, err := splitShell(`az ad sp list --query "[].appId" -o 'tsv' a\ b`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"az", "ad", "sp", "list", "--query", "[].appId", "-o", "tsv", "a b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
}
