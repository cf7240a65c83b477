package cli

// az container start / stop / restart: SDK commands on
// ContainerGroupsOperations (begin_start and begin_restart support
// --no-wait; stop is synchronous). None prints anything.

func containerStartCommand() *command {
	return &command{
		path:         "container start",
		short:        "Starts all containers in a container group.",
		subscription: true,
		args:         []*argDef{containerGroupArg(true), containerNameArg(true), containerNoWaitArg()},
		run: func(i *inv) (any, error) {
			s, group, name, err := i.containerTarget()
			if err != nil {
				return nil, err
			}
			return nil, i.withProgress(func() error {
				return s.arm().StartContainerGroup(i.ctx, s.subscriptionID(), group, name, i.args.flag("no_wait"))
			})
		},
	}
}

func containerStopCommand() *command {
	return &command{
		path:         "container stop",
		short:        "Stops all containers in a container group.",
		subscription: true,
		args:         []*argDef{containerGroupArg(true), containerNameArg(true)},
		run: func(i *inv) (any, error) {
			s, group, name, err := i.containerTarget()
			if err != nil {
				return nil, err
			}
			return nil, s.arm().StopContainerGroup(i.ctx, s.subscriptionID(), group, name)
		},
	}
}

func containerRestartCommand() *command {
	return &command{
		path:         "container restart",
		short:        "Restarts all containers in a container group.",
		subscription: true,
		args:         []*argDef{containerGroupArg(true), containerNameArg(true), containerNoWaitArg()},
		run: func(i *inv) (any, error) {
			s, group, name, err := i.containerTarget()
			if err != nil {
				return nil, err
			}
			return nil, i.withProgress(func() error {
				return s.arm().RestartContainerGroup(i.ctx, s.subscriptionID(), group, name, i.args.flag("no_wait"))
			})
		},
	}
}
