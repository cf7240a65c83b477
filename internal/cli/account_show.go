package cli

// az account show (profile/custom.py show_subscription).
func accountShowCommand() *command {
	return &command{
		path:  "account show",
		short: "Get the details of a subscription.",
		show:  true,
		args: []*argDef{
			argAccountSubscription(),
		},
		run: func(i *inv) (any, error) {
			st, err := i.app.store()
			if err != nil {
				return nil, err
			}
			prof, err := st.loadProfile()
			if err != nil {
				return nil, err
			}
			return prof.getSubscription(i.args.str("subscription"))
		},
	}
}

// argAccountSubscription is the account group's own --subscription/-s.
func argAccountSubscription() *argDef {
	return &argDef{dest: "subscription", options: []string{"--subscription", "-s"}, kind: argValue, help: "Name or ID of subscription."}
}
