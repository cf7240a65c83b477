package cli

import (
	"github.com/cerulean/cerulean/internal/cli/output"
)

// az account list (profile/custom.py list_subscriptions).
func accountListCommand() *command {
	return &command{
		path:  "account list",
		short: "Get a list of subscriptions for the logged in account.",
		args: []*argDef{
			{dest: "all", options: []string{"--all"}, kind: argFlag, help: "List all subscriptions from all clouds, rather than just 'Enabled' ones."},
			{dest: "refresh", options: []string{"--refresh"}, kind: argFlag, help: "Retrieve up-to-date subscriptions from server."},
		},
		table: transformAccountList,
		run:   runAccountList,
	}
}

func runAccountList(i *inv) (any, error) {
	st, err := i.app.store()
	if err != nil {
		return nil, err
	}
	prof, err := st.loadProfile()
	if err != nil {
		return nil, err
	}
	if i.args.flag("refresh") && len(prof.Subscriptions) > 0 {
		if err := i.app.refreshAccounts(i, st, prof); err != nil {
			return nil, err
		}
		if prof, err = st.loadProfile(); err != nil {
			return nil, err
		}
	}
	var subs []*account
	for _, s := range prof.Subscriptions {
		if i.args.flag("all") || s.EnvironmentName == cloudName {
			subs = append(subs, s)
		}
	}
	if len(subs) == 0 {
		i.app.log.warnf(logProfile, `Please run "az login" to access your accounts.`)
	}
	if !i.args.flag("all") {
		var enabled []*account
		for _, s := range subs {
			if s.State == "Enabled" {
				enabled = append(enabled, s)
			}
		}
		if len(enabled) != len(subs) {
			i.app.log.warnf(logProfile, "A few accounts are skipped as they don't have 'Enabled' state. Use '--all' to display them.")
			subs = enabled
		}
	}
	out := make([]accountListItem, 0, len(subs))
	for _, s := range subs {
		out = append(out, s.listItem())
	}
	return out, nil
}

// refreshAccounts logs in again as each service principal of the profile
// (Profile.refresh_accounts); failures keep the old accounts.
func (a *app) refreshAccounts(i *inv, st *store, prof *profileDoc) error {
	seen := map[string]bool{}
	for _, s := range append([]*account{}, prof.Subscriptions...) {
		if seen[s.User.Name] || s.User.Type != userTypeSP {
			continue
		}
		seen[s.User.Name] = true
		secret, err := st.loadSPSecret(s.User.Name, s.TenantID)
		if err == nil {
			_, err = a.loginServicePrincipal(i, s.User.Name, secret, s.TenantID, s.Name == tenantLevelAccount)
		}
		if err != nil {
			a.log.warnf(logProfile, "Refreshing for '%s' failed with an error '%v'. The existing accounts were not modified. You can run 'az login' later to explicitly refresh them", s.User.Name, err)
		}
	}
	return nil
}

// transformAccountList is profile/_format.py transform_account_list.
func transformAccountList(result any) any {
	items, _ := result.([]any)
	rows := make([]output.Row, 0, len(items))
	for _, it := range items {
		r, _ := it.(map[string]any)
		rows = append(rows, output.Row{
			{Key: "Name", Value: r["name"]},
			{Key: "CloudName", Value: r["cloudName"]},
			{Key: "SubscriptionId", Value: r["id"]},
			{Key: "TenantId", Value: r["tenantId"]},
			{Key: "State", Value: r["state"]},
			{Key: "IsDefault", Value: r["isDefault"]},
		})
	}
	return rows
}
