package cli

// az group show (ResourceGroupsOperations.get through show_command).
func groupShowCommand() *command {
	return &command{
		path:         "group show",
		short:        "Gets a resource group.",
		subscription: true,
		show:         true,
		args:         []*argDef{groupNameArg()},
		run: func(i *inv) (any, error) {
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			g, err := s.arm().GetResourceGroup(i.ctx, s.subscriptionID(), i.args.str("resource_group_name"))
			if err != nil {
				return nil, err
			}
			return groupOut(g), nil
		},
	}
}
