package cli

// az group delete (ResourceGroupsOperations.begin_delete, confirmation=True,
// supports_no_wait=True).
func groupDeleteCommand() *command {
	return &command{
		path:         "group delete",
		short:        "Delete a resource group.",
		subscription: true,
		confirmation: true,
		args: []*argDef{
			groupNameArg(),
			{dest: "no_wait", options: []string{"--no-wait"}, kind: argFlag, help: "Do not wait for the long-running operation to finish."},
		},
		run: func(i *inv) (any, error) {
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			return nil, s.arm().DeleteResourceGroup(i.ctx, s.subscriptionID(), i.args.str("resource_group_name"), i.args.flag("no_wait"))
		},
	}
}
