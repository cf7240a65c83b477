package cli

// az acr credential show|renew (acr/credential.py): both read the
// registry first and refuse while its admin user is disabled.

func adminNotEnabled(name string) error {
	return errorf("Run 'az acr update -n %s --admin-enabled true' to enable admin first.", name)
}

// adminTarget is registryTarget for a registry whose admin user is
// enabled.
func (i *inv) adminTarget() (s *session, name, group string, err error) {
	if s, name, group, err = i.registryTarget(); err != nil {
		return nil, "", "", err
	}
	r, err := s.arm().GetRegistry(i.ctx, s.subscriptionID(), group, name)
	if err != nil {
		return nil, "", "", err
	}
	if !r.Properties.AdminUserEnabled {
		return nil, "", "", adminNotEnabled(name)
	}
	return s, name, group, nil
}

// az acr credential show (a show command: 404 exits 3).
func acrCredentialShowCommand() *command {
	return &command{
		path:         "acr credential show",
		short:        "Get the login credentials for an Azure Container Registry.",
		subscription: true,
		show:         true,
		table:        transformCredentials,
		args:         []*argDef{acrNameArg(), acrGroupArg(false)},
		run: func(i *inv) (any, error) {
			s, name, group, err := i.adminTarget()
			if err != nil {
				return nil, err
			}
			c, err := s.arm().ListRegistryCredentials(i.ctx, s.subscriptionID(), group, name)
			if err != nil {
				return nil, err
			}
			return credentialsOutput(c), nil
		},
	}
}

// az acr credential renew.
func acrCredentialRenewCommand() *command {
	return &command{
		path:         "acr credential renew",
		short:        "Regenerate login credentials for an Azure Container Registry.",
		subscription: true,
		table:        transformCredentials,
		args: []*argDef{
			acrNameArg(),
			{dest: "password_name", options: []string{"--password-name"}, kind: argValue, required: true,
				choices: []string{"password", "password2"}, help: "The name of password to regenerate."},
			acrGroupArg(false),
		},
		run: func(i *inv) (any, error) {
			s, name, group, err := i.adminTarget()
			if err != nil {
				return nil, err
			}
			c, err := s.arm().RegenerateRegistryCredential(i.ctx, s.subscriptionID(), group, name, i.args.str("password_name"))
			if err != nil {
				return nil, err
			}
			return credentialsOutput(c), nil
		},
	}
}
