package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cerulean/cerulean/internal/cli/output"
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
			var sub []string
			if f := i.args.str("query_filter"); f != "" {
				sub = append(sub, f)
			}
			if spn := i.args.str("spn"); spn != "" {
				sub = append(sub, fmt.Sprintf("servicePrincipalNames/any(c:c eq '%s')", spn))
			}
			if dn := i.args.str("display_name"); dn != "" {
				sub = append(sub, fmt.Sprintf("startswith(displayName,'%s')", dn))
			}
			s, err := i.session("")
			if err != nil {
				return nil, err
			}
			result, err := s.graph().ListServicePrincipals(i.ctx, strings.Join(sub, " and "))
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
		},
	}
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
