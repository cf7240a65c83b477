package cli

// az acr show (acr/custom.py acr_show; a show command: 404 exits 3).
func acrShowCommand() *command {
	return &command{
		path:         "acr show",
		short:        "Get the details of an Azure Container Registry.",
		subscription: true,
		show:         true,
		table:        transformRegistries,
		args:         []*argDef{acrNameArg(), acrGroupArg(false)},
		run: func(i *inv) (any, error) {
			s, name, group, err := i.registryTarget()
			if err != nil {
				return nil, err
			}
			r, err := s.arm().GetRegistry(i.ctx, s.subscriptionID(), group, name)
			if err != nil {
				return nil, err
			}
			return registryOutput(r), nil
		},
	}
}
