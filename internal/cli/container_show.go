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
			_, _, _, g, err := i.containerGroup()
			if err != nil {
				return nil, err
			}
			return containerGroupOutput(g), nil
		},
	}
}
