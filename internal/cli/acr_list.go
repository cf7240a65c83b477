package cli

// az acr list (acr/custom.py acr_list): a group's registries, or the
// subscription's.
func acrListCommand() *command {
	return &command{
		path:         "acr list",
		short:        "Lists all the container registries under the current subscription.",
		subscription: true,
		table:        transformRegistries,
		args: []*argDef{{dest: "resource_group_name", options: []string{"--resource-group", "-g"}, kind: argValue,
			help: "Name of resource group. You can configure the default group using `az configure --defaults group=<name>`."}},
		run: func(i *inv) (any, error) {
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			rs, err := s.arm().ListRegistries(i.ctx, s.subscriptionID(), i.args.str("resource_group_name"))
			if err != nil {
				return nil, err
			}
			out := make([]registryOut, 0, len(rs))
			for _, r := range rs {
				out = append(out, registryOutput(r))
			}
			return out, nil
		},
	}
}
