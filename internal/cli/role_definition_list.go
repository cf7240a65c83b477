package cli

import (
	"github.com/cerulean/cerulean/internal/cli/output"
)

// az role definition list (role/custom.py list_role_definitions).
func roleDefinitionListCommand() *command {
	args := []*argDef{
		{dest: "name", options: []string{"--name", "-n"}, kind: argValue, help: "The role's name."},
	}
	args = append(args, roleScopeArgs()...)
	args = append(args, &argDef{dest: "custom_role_only", options: []string{"--custom-role-only"}, kind: argTriState,
		choices: []string{"false", "true"}, help: "Custom roles only(vs. build-in ones)."})
	return &command{
		path:         "role definition list",
		short:        "List role definitions.",
		subscription: true,
		table:        transformDefinitionList,
		args:         args,
		run: func(i *inv) (any, error) {
			a := i.args
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			scope := a.str("scope")
			sub := subscriptionForScope(scope, s.subscriptionID())
			scope, err = buildRoleScope(a.str("resource_group_name"), scope, sub)
			if err != nil {
				return nil, err
			}
			defs, err := s.arm().ListRoleDefinitions(i.ctx, scope, "")
			if err != nil {
				return nil, err
			}
			name, customOnly := a.str("name"), a.flag("custom_role_only")
			out := []roleDefinitionOut{}
			for _, d := range defs {
				if name != "" && d.Name != name && d.Properties.RoleName != name {
					continue
				}
				if customOnly && d.Properties.Type != "CustomRole" {
					continue
				}
				out = append(out, flattenDefinition(d))
			}
			return out, nil
		},
	}
}

// transformDefinitionList is role/commands.py transform_definition_list.
func transformDefinitionList(result any) any {
	items, _ := result.([]any)
	rows := make([]output.Row, 0, len(items))
	for _, it := range items {
		r, _ := it.(map[string]any)
		rows = append(rows, output.Row{
			{Key: "Name", Value: r["roleName"]},
			{Key: "Type", Value: r["type"]},
			{Key: "Description", Value: r["description"]},
		})
	}
	return rows
}
