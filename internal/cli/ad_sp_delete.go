package cli

// az ad sp delete (role/custom.py delete_service_principal).
func adSPDeleteCommand() *command {
	return &command{
		path:  "ad sp delete",
		short: "Delete a service principal.",
		args:  []*argDef{adSPIDArg()},
		run: func(i *inv) (any, error) {
			s, err := i.session("")
			if err != nil {
				return nil, err
			}
			g := s.graph()
			id, err := resolveServicePrincipal(i.ctx, g, i.args.str("identifier"))
			if err != nil {
				return nil, err
			}
			return nil, g.DeleteServicePrincipal(i.ctx, id)
		},
	}
}
