package cli

// az role assignment delete (role/custom.py delete_role_assignments).
func roleAssignmentDeleteCommand() *command {
	args := []*argDef{
		{dest: "ids", options: []string{"--ids"}, kind: argList, help: "Space-separated role assignment ids."},
		{dest: "assignee", options: []string{"--assignee"}, kind: argValue,
			help: "Represent a user, group, or service principal. Supported format: object id, user sign-in name, or service principal name."},
		{dest: "role", options: []string{"--role"}, kind: argValue, help: "Role name or id."},
	}
	args = append(args, roleScopeArgs()...)
	args = append(args,
		&argDef{dest: "include_inherited", options: []string{"--include-inherited"}, kind: argFlag, help: "Include assignments applied on parent scopes."},
		&argDef{dest: "yes", options: []string{"--yes", "-y"}, kind: argFlag, help: "Continue to delete all assignments under the subscription."},
	)
	return &command{
		path:         "role assignment delete",
		short:        "Delete role assignments.",
		subscription: true,
		args:         args,
		run:          runRoleAssignmentDelete,
	}
}

func runRoleAssignmentDelete(i *inv) (any, error) {
	a := i.args
	if err := nonEmptyArgs(i, "assignee", "scope", "role", "resource_group_name"); err != nil {
		return nil, err
	}
	s, err := i.armSession()
	if err != nil {
		return nil, err
	}
	armc := s.arm()
	if ids := a.list("ids"); len(ids) > 0 {
		for _, o := range []struct{ dest, option string }{
			{"assignee", "--assignee"}, {"role", "--role"}, {"resource_group_name", "--resource-group"},
			{"scope", "--scope"}, {"include_inherited", "--include-inherited"},
		} {
			if a.has(o.dest) && (a.str(o.dest) != "" || o.dest == "include_inherited") {
				i.app.log.warnf(logRole, "option '%s' will be ignored due to use of '--ids'.", o.option)
			}
		}
		for _, id := range ids {
			if _, err := armc.DeleteRoleAssignmentByID(i.ctx, id); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	assignee, role, rg, scope := a.str("assignee"), a.str("role"), a.str("resource_group_name"), a.str("scope")
	if assignee == "" && role == "" && rg == "" && scope == "" && !a.flag("yes") {
		msg := "This will delete all role assignments under the subscription. Are you sure?"
		if !i.app.stdinIsTTY() {
			return nil, errorf("Unable to prompt for confirmation as no tty available. Use --yes.")
		}
		ok, err := i.app.promptYN(msg, "n")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, nil
		}
	}
	sub := subscriptionForScope(scope, s.subscriptionID())
	fullScope, err := buildRoleScope(rg, scope, sub)
	if err != nil {
		return nil, err
	}
	assignments, err := i.searchRoleAssignments(s, sub, fullScope, assignee, role, a.flag("include_inherited"))
	if err != nil {
		return nil, err
	}
	if len(assignments) == 0 {
		return nil, errorf("No matched assignments were found to delete")
	}
	for _, r := range assignments {
		if _, err := armc.DeleteRoleAssignmentByID(i.ctx, r.ID); err != nil {
			return nil, err
		}
	}
	return nil, nil
}
