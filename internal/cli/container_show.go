package cli

// az container show (custom get_container; a show command: 404 exits 3).
func containerShowCommand() *command {
	return &command{
		path:         "container show",
		short:        "Get the details of a container group.",
		subscription: true,
		show:         true,
		table:        transformContainerGroups,
		args:         []*argDef{containerGroupArg(true), containerNameArg(true)},
		run: func(i *inv) (any, error) {
			s, group, name, err := i.containerTarget()
			if err != nil {
				return nil, err
			}
			g, err := s.arm().GetContainerGroup(i.ctx, s.subscriptionID(), group, name)
			if err != nil {
				return nil, err
			}
			return containerGroupOutput(g), nil
		},
	}
}
