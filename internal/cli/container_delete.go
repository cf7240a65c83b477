package cli

// az container delete (custom delete_container, confirmation=True): az
// waits for begin_delete and prints the deleted group when the service
// returns it (real ACI answers 200 with the group).
func containerDeleteCommand() *command {
	return &command{
		path:         "container delete",
		short:        "Delete a container group.",
		subscription: true,
		confirmation: true,
		table:        transformContainerGroups,
		args:         []*argDef{containerGroupArg(true), containerNameArg(true)},
		run: func(i *inv) (any, error) {
			s, group, name, err := i.containerTarget()
			if err != nil {
				return nil, err
			}
			var g *containerGroupOut
			err = i.withProgress(func() error {
				deleted, err := s.arm().DeleteContainerGroup(i.ctx, s.subscriptionID(), group, name)
				if deleted != nil {
					out := containerGroupOutput(*deleted)
					g = &out
				}
				return err
			})
			if err != nil || g == nil {
				return nil, err
			}
			return g, nil
		},
	}
}
