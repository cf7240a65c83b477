package cli

// az ad sp delete (role/custom.py delete_service_principal).
func adSPDeleteCommand() *command {
	return &command{
		path:  "ad sp delete",
		short: "Delete a service principal.",
		args:  []*argDef{adSPIDArg()},
		run: func(i *inv) (any, error) {
			_, g, id, err := i.graphObjectID(resolveServicePrincipal)
			if err != nil {
				return nil, err
			}
			return nil, g.DeleteServicePrincipal(i.ctx, id)
		},
	}
}
