package cli

// az acr check-name (acr/custom.py acr_check_name): no table transformer.
func acrCheckNameCommand() *command {
	return &command{
		path:         "acr check-name",
		short:        "Checks if an Azure Container Registry name is valid and available for use.",
		subscription: true,
		args: []*argDef{{dest: "registry_name", options: []string{"--name", "-n"}, kind: argValue, required: true,
			help: "The name of the container registry. It should be specified in lower case. You can configure the default registry name using `az configure --defaults acr=<registry name>`."}},
		run: func(i *inv) (any, error) {
			s, err := i.armSession()
			if err != nil {
				return nil, err
			}
			st, err := s.arm().CheckRegistryName(i.ctx, s.subscriptionID(), i.args.str("registry_name"))
			if err != nil {
				return nil, err
			}
			// RegistryNameStatus as az prints it.
			return struct {
				NameAvailable bool    `json:"nameAvailable"`
				Reason        *string `json:"reason"`
				Message       *string `json:"message"`
			}{st.NameAvailable, strPtrOrNil(st.Reason), strPtrOrNil(st.Message)}, nil
		},
	}
}
