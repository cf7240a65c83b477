package cli

// az group exists (ResourceGroupsOperations.check_existence: HEAD).
func groupExistsCommand() *command {
	return &command{
		path:         "group exists",
		short:        "Check if a resource group exists.",
		subscription: true,
		args:         []*argDef{groupNameArg()},
		run: func(i *inv) (any, error) {
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			return s.arm().ResourceGroupExists(i.ctx, s.subscriptionID(), i.args.str("resource_group_name"))
		},
	}
}
