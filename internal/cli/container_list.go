package cli

// az container list (custom list_containers): a resource group's container
// groups, or the subscription's.
func containerListCommand() *command {
	return &command{
		path:         "container list",
		short:        "List container groups.",
		subscription: true,
		table:        transformContainerGroups,
		args:         []*argDef{containerGroupArg(false)},
		run: func(i *inv) (any, error) {
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			gs, err := s.arm().ListContainerGroups(i.ctx, s.subscriptionID(), i.args.str("resource_group_name"))
			if err != nil {
				return nil, err
			}
			out := make([]containerGroupOut, 0, len(gs))
			for _, g := range gs {
				out = append(out, containerGroupOutput(g))
			}
			return out, nil
		},
	}
}
