package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/cerulean/cerulean/internal/cli/output"
	"github.com/cerulean/cerulean/internal/client"
)

// az ad sp list (role/custom.py list_service_principals).
func adSPListCommand() *command {
	return &command{
		path:  "ad sp list",
		short: "List service principals.",
		table: graphObjectTable,
		args: []*argDef{
			{dest: "spn", options: []string{"--spn"}, kind: argValue, help: "Service principal name."},
			{dest: "display_name", options: []string{"--display-name"}, kind: argValue, help: "Object's display name or its prefix."},
			{dest: "query_filter", options: []string{"--filter"}, kind: argValue, help: `OData filter, e.g. --filter "displayname eq 'test' and servicePrincipalType eq 'Application'"`},
			{dest: "include_all", options: []string{"--all"}, kind: argFlag, help: "List all entities, expect long delay if under a big organization."},
		},
		run: func(i *inv) (any, error) {
			return listGraphObjects(i, (*client.Graph).ListServicePrincipals, []graphFilterArg{
				{"spn", "servicePrincipalNames/any(c:c eq '%s')"},
				{"display_name", "startswith(displayName,'%s')"},
			})
		},
	}
}

// graphFilterArg is a list command's argument that adds a condition to the
// $filter: format, with the argument's value, when it is set.
type graphFilterArg struct{ dest, format string }

// listGraphObjects is the body of az ad app list and az ad sp list: --filter
// and the set arguments' conditions, joined with "and", as the $filter; with
// none of them and without --all, only the first 100 objects, with a
// warning.
func listGraphObjects[T any](i *inv, list func(*client.Graph, context.Context, string) ([]T, error), args []graphFilterArg) (any, error) {
	var sub []string
	if f := i.args.str("query_filter"); f != "" {
		sub = append(sub, f)
	}
	for _, a := range args {
		if v := i.args.str(a.dest); v != "" {
			sub = append(sub, fmt.Sprintf(a.format, v))
		}
	}
	s, err := i.session("")
	if err != nil {
		return nil, err
	}
	result, err := list(s.graph(), i.ctx, strings.Join(sub, " and "))
	if err != nil {
		return nil, err
	}
	if len(sub) > 0 || i.args.flag("include_all") {
		return result, nil
	}
	if len(result) > 100 {
		i.app.log.warnf(logRole, "The result is not complete. You can still use '--all' to get all of them with long latency expected, or provide a filter through command arguments")
		result = result[:100]
	}
	return result, nil
}

// graphObjectTable is role/commands.py get_graph_object_transformer: the
// objects sorted by displayName, with displayName, id, appId and
// createdDateTime (id shown although knack hides it by default).
func graphObjectTable(result any) any {
	items, _ := result.([]any)
	objs := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			objs = append(objs, m)
		}
	}
	sort.SliceStable(objs, func(a, b int) bool {
		x, _ := objs[a]["displayName"].(string)
		y, _ := objs[b]["displayName"].(string)
		return x < y
	})
	rows := make([]output.Row, 0, len(objs))
	for _, o := range objs {
		rows = append(rows, output.Row{
			{Key: "displayName", Value: o["displayName"]},
			// "Id" (not "id") keeps the column: knack skips "id" unless the
			// transformer removes it from SKIP_KEYS, as this one does.
			{Key: "Id", Value: o["id"]},
			{Key: "appId", Value: o["appId"]},
			{Key: "createdDateTime", Value: o["createdDateTime"]},
		})
	}
	return rows
}
