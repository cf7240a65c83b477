package cli

// az account set (profile/custom.py set_active_subscription).
func accountSetCommand() *command {
	sub := argAccountSubscription()
	sub.required = true
	return &command{
		path:  "account set",
		short: "Set a subscription to be the current active subscription.",
		args:  []*argDef{sub},
		run: func(i *inv) (any, error) {
			st, err := i.app.store()
			if err != nil {
				return nil, err
			}
			prof, err := st.loadProfile()
			if err != nil {
				return nil, err
			}
			if err := prof.setActive(i.args.str("subscription")); err != nil {
				return nil, err
			}
			return nil, st.saveProfile(prof)
		},
	}
}
