package cli

// adSPIDArg is the ad sp commands' --id.
func adSPIDArg() *argDef {
	return &argDef{dest: "identifier", options: []string{"--id"}, kind: argValue, required: true, help: "Service principal name, or object id."}
}

// az ad sp show (role/custom.py show_service_principal).
func adSPShowCommand() *command {
	return &command{
		path:  "ad sp show",
		short: "Get the details of a service principal.",
		show:  true,
		args:  []*argDef{adSPIDArg()},
		run: func(i *inv) (any, error) {
			_, g, id, err := i.graphObjectID(resolveServicePrincipal)
			if err != nil {
				return nil, err
			}
			return g.GetServicePrincipal(i.ctx, id)
		},
	}
}
