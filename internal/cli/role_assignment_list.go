package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/cli/output"
	"github.com/cerulean/cerulean/internal/client"
)

// az role assignment list (role/custom.py list_role_assignments).
func roleAssignmentListCommand() *command {
	args := []*argDef{
		{dest: "assignee", options: []string{"--assignee"}, kind: argValue,
			help: "Represent a user, group, or service principal. Supported format: object id, user sign-in name, or service principal name."},
		{dest: "role", options: []string{"--role"}, kind: argValue, help: "Role name or id."},
	}
	args = append(args, roleScopeArgs()...)
	args = append(args,
		&argDef{dest: "include_inherited", options: []string{"--include-inherited"}, kind: argFlag, help: "Include assignments applied on parent scopes."},
		&argDef{dest: "show_all", options: []string{"--all"}, kind: argFlag, help: "Show all assignments under the current subscription."},
		&argDef{dest: "include_groups", options: []string{"--include-groups"}, kind: argFlag,
			help: "Include extra assignments to the groups of which the user is a member (transitively)."},
	)
	return &command{
		path:         "role assignment list",
		short:        "List role assignments.",
		subscription: true,
		table:        transformAssignmentList,
		args:         args,
		run: func(i *inv) (any, error) {
			a := i.args
			if err := nonEmptyArgs(i, "assignee", "scope", "role", "resource_group_name"); err != nil {
				return nil, err
			}
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			return i.listRoleAssignments(s, a.str("assignee"), a.str("role"), a.str("resource_group_name"), a.str("scope"),
				a.flag("include_inherited"), a.flag("show_all"))
		},
	}
}

// listRoleAssignments is list_role_assignments: search, then fill in
// roleDefinitionName and principalName.
func (i *inv) listRoleAssignments(s *session, assignee, role, rg, scope string, includeInherited, showAll bool) ([]roleAssignmentListOut, error) {
	ctx := i.ctx
	sub := subscriptionForScope(scope, s.subscriptionID())
	if showAll {
		if rg != "" || scope != "" {
			return nil, errorf("group or scope are not required when --all is used")
		}
		scope = ""
	} else {
		var err error
		if scope, err = buildRoleScope(rg, scope, sub); err != nil {
			return nil, err
		}
	}
	assignments, err := i.searchRoleAssignments(s, sub, scope, assignee, role, includeInherited)
	if err != nil {
		return nil, err
	}
	if len(assignments) == 0 {
		return []roleAssignmentListOut{}, nil
	}
	armc := s.arm()
	defScope := scope
	if defScope == "" {
		defScope = "/subscriptions/" + sub
	}
	defs, err := armc.ListRoleDefinitions(ctx, defScope, "")
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, d := range defs {
		names[d.ID] = d.Properties.RoleName
	}
	principals := map[string]string{}
	var ids []string
	seen := map[string]bool{}
	for _, r := range assignments {
		if id := r.Properties.PrincipalID; id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if len(ids) > 0 {
		objs, err := s.graph().GetByIDs(ctx, ids, client.DirectoryObjectTypes)
		if err != nil {
			// Failing to resolve principals must not fail the command.
			i.app.log.infof(logRole, "Failed to resolve graph object information per error '%s'", errorText(err))
		}
		for _, o := range objs {
			if id, ok := o["id"].(string); ok {
				principals[id] = displayableName(o)
			}
		}
	}
	out := make([]roleAssignmentListOut, 0, len(assignments))
	for _, r := range assignments {
		var roleName *string
		if n, ok := names[r.Properties.RoleDefinitionID]; ok {
			roleName = &n
		}
		out = append(out, flattenAssignment(r).listItem(roleName, principals[r.Properties.PrincipalID]))
	}
	return out, nil
}

// searchRoleAssignments is _search_role_assignments: atScope() at the scope
// (or principalId eq at the subscription), then client-side filters on
// scope, role definition id and principal id (exact string compares).
func (i *inv) searchRoleAssignments(s *session, sub, scope, assignee, role string, includeInherited bool) ([]arm.RoleAssignment, error) {
	ctx, armc := i.ctx, s.arm()
	var objectID string
	if assignee != "" {
		id, _, err := i.resolveObjectIDAndType(ctx, s.graph(), assignee, true)
		if err != nil {
			return nil, err
		}
		objectID = id
	}
	var assignments []arm.RoleAssignment
	var err error
	switch {
	case scope != "":
		assignments, err = armc.ListRoleAssignmentsForScope(ctx, scope, "atScope()")
	case objectID != "":
		assignments, err = armc.ListRoleAssignmentsForSubscription(ctx, sub, fmt.Sprintf("principalId eq '%s'", objectID))
	default:
		assignments, err = armc.ListRoleAssignmentsForSubscription(ctx, sub, "")
	}
	if err != nil {
		return nil, err
	}
	if len(assignments) == 0 {
		return assignments, nil
	}
	var kept []arm.RoleAssignment
	for _, r := range assignments {
		as := r.Properties.Scope
		if scope == "" || includeInherited && strings.HasPrefix(strings.ToLower(scope), strings.ToLower(as)) || strings.EqualFold(as, scope) {
			kept = append(kept, r)
		}
	}
	assignments = kept
	if role != "" {
		defScope := scope
		if defScope == "" {
			defScope = "/subscriptions/" + sub
		}
		roleID, err := resolveRoleID(ctx, armc, role, defScope, sub)
		if err != nil {
			return nil, err
		}
		kept = nil
		for _, r := range assignments {
			if r.Properties.RoleDefinitionID == roleID {
				kept = append(kept, r)
			}
		}
		assignments = kept
	}
	if objectID != "" {
		kept = nil
		for _, r := range assignments {
			if r.Properties.PrincipalID == objectID {
				kept = append(kept, r)
			}
		}
		assignments = kept
	}
	return assignments, nil
}

// transformAssignmentList is role/commands.py transform_assignment_list.
func transformAssignmentList(result any) any {
	items, _ := result.([]any)
	rows := make([]output.Row, 0, len(items))
	for _, it := range items {
		r, _ := it.(map[string]any)
		rows = append(rows, output.Row{
			{Key: "Principal", Value: r["principalName"]},
			{Key: "Role", Value: r["roleDefinitionName"]},
			{Key: "Scope", Value: r["scope"]},
		})
	}
	return rows
}
