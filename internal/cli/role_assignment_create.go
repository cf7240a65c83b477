package cli

import (
	"github.com/cerulean/cerulean/internal/client"
)

const scopeWarning = "--scope argument will become required for creating a role assignment in the breaking change release of the fall " +
	"of 2023. Please explicitly specify --scope."

// roleScopeArgs are the role commands' --scope and --resource-group/-g.
func roleScopeArgs() []*argDef {
	return []*argDef{
		{dest: "resource_group_name", options: []string{"--resource-group", "-g"}, kind: argValue,
			help: "Use it only if the role or assignment was added at the level of a resource group."},
		{dest: "scope", options: []string{"--scope"}, kind: argValue,
			help: "Scope at which the role assignment or definition applies to, e.g., /subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333, /subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/myGroup, or /subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/myGroup/providers/Microsoft.Compute/virtualMachines/myVM."},
	}
}

// az role assignment create (role/custom.py create_role_assignment).
func roleAssignmentCreateCommand() *command {
	args := []*argDef{
		{dest: "role", options: []string{"--role"}, kind: argValue, required: true, help: "Role name or id."},
		{dest: "assignee", options: []string{"--assignee"}, kind: argValue,
			help: "Represent a user, group, or service principal. Supported format: object id, user sign-in name, or service principal name."},
		{dest: "assignee_object_id", options: []string{"--assignee-object-id"}, kind: argValue,
			help: "Use this parameter instead of '--assignee' to bypass Graph API invocation in case of insufficient privileges."},
	}
	args = append(args, roleScopeArgs()...)
	args = append(args,
		&argDef{dest: "assignee_principal_type", options: []string{"--assignee-principal-type"}, kind: argValue,
			choices: []string{"User", "Group", "ServicePrincipal", "ForeignGroup"},
			help:    "Use with --assignee-object-id to avoid errors caused by propagation latency in Microsoft Graph."},
		&argDef{dest: "description", options: []string{"--description"}, kind: argValue, help: "Description of role assignment."},
		&argDef{dest: "condition", options: []string{"--condition"}, kind: argValue, help: "Condition under which the user can be granted permission."},
		&argDef{dest: "condition_version", options: []string{"--condition-version"}, kind: argValue,
			help: "Version of the condition syntax. If --condition is specified without --condition-version, default to 2.0."},
		&argDef{dest: "assignment_name", options: []string{"--name", "-n"}, kind: argValue,
			help: "A GUID for the role assignment. It must be unique and different for each role assignment. If omitted, a new GUID is generated."},
	)
	return &command{
		path:         "role assignment create",
		short:        "Create a new role assignment for a user, group, or service principal.",
		subscription: true,
		args:         args,
		run:          runRoleAssignmentCreate,
	}
}

func runRoleAssignmentCreate(i *inv) (any, error) {
	a := i.args
	if err := nonEmptyArgs(i, "assignee", "scope", "role", "resource_group_name"); err != nil {
		return nil, err
	}
	scope, rg := a.str("scope"), a.str("resource_group_name")
	if scope == "" {
		i.app.log.warnf(logRole, scopeWarning)
	}
	assignee, objectID, principalType := a.str("assignee"), a.str("assignee_object_id"), a.str("assignee_principal_type")
	if (assignee != "") == (objectID != "") {
		return nil, errorf("usage error: --assignee STRING | --assignee-object-id GUID")
	}
	if principalType != "" && objectID == "" {
		return nil, errorf("usage error: --assignee-object-id GUID --assignee-principal-type TYPE")
	}
	condition, conditionVersion := a.optional("condition"), a.optional("condition_version")
	if condition != nil && *condition != "" && (conditionVersion == nil || *conditionVersion == "") {
		conditionVersion = strPtr("2.0")
	}
	if conditionVersion != nil && *conditionVersion != "" && (condition == nil || *condition == "") {
		return nil, errorf("usage error: When --condition-version is set, --condition must be set as well.")
	}
	s, err := i.armSession()
	if err != nil {
		return nil, err
	}
	ctx, g := i.ctx, s.graph()
	if assignee != "" {
		if objectID, principalType, err = i.resolveObjectIDAndType(ctx, g, assignee, true); err != nil {
			return nil, err
		}
	} else if principalType == "" {
		i.app.log.warnf(logRole, "RBAC service might reject creating role assignment without --assignee-principal-type "+
			"in the future. Better to specify --assignee-principal-type manually.")
		objs, err := g.GetByIDs(ctx, []string{objectID}, client.DirectoryObjectTypes)
		if err != nil {
			i.app.log.warnf(logRole, "Failed to query --assignee-principal-type for --assignee-object-id %s by invoking Graph API.", objectID)
		} else if len(objs) > 0 {
			t, _ := objs[0]["@odata.type"].(string)
			principalType = odataTypeToPrincipalType[t]
		}
	}
	ra, err := i.createRoleAssignment(ctx, s, a.str("role"), objectID, rg, scope, principalType, assignmentOptions{
		description: a.optional("description"), condition: condition, conditionVersion: conditionVersion,
		name: a.str("assignment_name"),
	})
	if err != nil {
		if roleAssignmentExists(err) {
			// Idempotent: return the existing assignment.
			list, lerr := i.listRoleAssignments(s, assignee, a.str("role"), rg, scope, false, false)
			if lerr != nil {
				return nil, lerr
			}
			if len(list) > 0 {
				return list[0], nil
			}
		}
		return nil, err
	}
	return flattenAssignment(ra), nil
}

// nonEmptyArgs is the role module's process_assignment_namespace check that
// filters are not given as empty strings.
func nonEmptyArgs(i *inv, dests ...string) error {
	for _, d := range dests {
		if i.args.has(d) && i.args.str(d) == "" {
			for _, def := range i.cmd.args {
				if def.dest == d {
					return errorf("usage error: %s can't be an empty string. Either omit it or provide a non-empty string.", def.options[0])
				}
			}
		}
	}
	return nil
}
