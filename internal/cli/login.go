package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/cerulean/cerulean/internal/bootstrap"
	"github.com/cerulean/cerulean/internal/client"
)

// az login (profile/custom.py login, core _profile.Profile.login).
func loginCommand() *command {
	return &command{
		path:  "login",
		short: "Log in to Azure.",
		args: []*argDef{
			{dest: "username", options: []string{"--username", "-u"}, kind: argValue, help: "User name, service principal client ID, or managed identity ID."},
			{dest: "password", options: []string{"--password", "-p"}, kind: argValue, help: "User password or service principal secret. Will prompt if not given."},
			{dest: "tenant", options: []string{"--tenant", "-t"}, kind: argValue, help: "The Microsoft Entra tenant, must be provided when using a service principal."},
			{dest: "scopes", options: []string{"--scope"}, kind: argList, help: "Used in the /authorize request. It can cover only one static resource."},
			{dest: "allow_no_subscriptions", options: []string{"--allow-no-subscriptions"}, kind: argFlag, help: "Support accessing tenants without subscriptions."},
			{dest: "use_device_code", options: []string{"--use-device-code"}, kind: argFlag, help: "Use device code flow."},
			{dest: "service_principal", options: []string{"--service-principal"}, kind: argFlag, group: "Service Principal", help: "Log in with a service principal."},
			{dest: "identity", options: []string{"--identity", "-i"}, kind: argFlag, group: "Managed Identity", help: "Log in using managed identity."},
		},
		run: runLogin,
	}
}

const usernamePasswordWarning = "Authentication with username and password in the command line is strongly discouraged. " +
	"Use one of the recommended authentication methods based on your requirements. " +
	"For more details, see https://go.microsoft.com/fwlink/?linkid=2276314"

func runLogin(i *inv) (any, error) {
	a := i.args
	username, password, tenant := a.str("username"), a.str("password"), a.str("tenant")
	sp := a.flag("service_principal")
	identity := a.flag("identity")
	if (password != "" || sp || tenant != "") && identity {
		return nil, errorf("usage error: '--identity' is not applicable with other arguments")
	}
	if (password != "" || sp || username != "" || identity) && a.flag("use_device_code") {
		return nil, errorf("usage error: '--use-device-code' is not applicable with other arguments")
	}
	if sp && username == "" {
		return nil, errorf("usage error: --service-principal --username NAME --password SECRET --tenant TENANT")
	}
	if identity {
		return nil, errorf("Managed identity login is not supported by Cerulean. Use 'az login --service-principal'.")
	}
	if username != "" && !sp {
		i.app.log.warnf(logProfile, usernamePasswordWarning)
		return nil, errorf("User account login is not supported by Cerulean. Use 'az login --service-principal -u APPID -p SECRET --tenant TENANT', or 'az login' with no arguments on the server's machine.")
	}

	if username == "" {
		// No arguments: the bootstrap Owner service principal of the local
		// server, from the data dir.
		if i.app.settings.dataDir == "" {
			return nil, errorf("Cannot find the Cerulean data directory: set CERULEAN_DATA_DIR or HOME.")
		}
		path := bootstrap.Path(i.app.settings.dataDir)
		creds, err := bootstrap.Load(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &cliError{msg: fmt.Sprintf("No bootstrap credentials found at %s.", path),
					recommendations: []string{"Start the server with 'cerulean serve' (or set CERULEAN_DATA_DIR to its data dir), " +
						"or log in with 'az login --service-principal --username APPID --password SECRET --tenant TENANT'."}}
			}
			return nil, errorf("Cannot read the bootstrap credentials: %v", err)
		}
		username, password, tenant = creds.AppID, creds.Password, creds.TenantID
	} else {
		if password == "" {
			if !i.app.stdinIsTTY() {
				return nil, errorf("Please specify both username and password in non-interactive mode.")
			}
			p, err := i.app.promptLine("Password: ")
			if err != nil {
				return nil, err
			}
			password = p
		}
		if tenant == "" {
			return nil, errorf("usage error: --service-principal --username NAME --password SECRET --tenant TENANT")
		}
	}
	return i.app.loginServicePrincipal(i, username, password, tenant, a.flag("allow_no_subscriptions"))
}

// loginServicePrincipal is Profile.login for a service principal with a
// client secret: get an ARM token, list the subscriptions of the tenant,
// store the accounts and the secret, and return the accounts.
func (a *app) loginServicePrincipal(i *inv, clientID, secret, tenant string, allowNoSubscriptions bool) (any, error) {
	st, err := a.store()
	if err != nil {
		return nil, err
	}
	c, err := a.newClient()
	if err != nil {
		return nil, err
	}
	ctx := i.ctx
	tok, err := c.ClientCredentialsToken(ctx, tenant, clientID, secret, client.ResourceARM)
	if err != nil {
		return nil, err
	}
	armc := c.ARM(client.StaticToken(tok.AccessToken))
	subs, err := armc.ListSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 && !allowNoSubscriptions {
		return nil, errorf("No subscriptions found for %s.", clientID)
	}
	var accounts []*account
	for _, s := range subs {
		id := s.SubscriptionID
		if id == "" {
			id = s.ID[strings.LastIndex(s.ID, "/")+1:]
		}
		acct := &account{
			ID: id, Name: s.DisplayName, State: s.State,
			User:     accountUser{Name: clientID, Type: userTypeSP},
			TenantID: tenant, EnvironmentName: cloudName,
		}
		home := s.TenantID
		acct.HomeTenantID = &home
		mbt := make([]managedByTenant, 0, len(s.ManagedByTenants))
		for _, m := range s.ManagedByTenants {
			mbt = append(mbt, managedByTenant{TenantID: m.TenantID})
		}
		acct.ManagedByTenants = &mbt
		accounts = append(accounts, acct)
	}
	if allowNoSubscriptions && len(accounts) == 0 {
		accounts = append(accounts, &account{
			ID: tenant, Name: tenantLevelAccount, State: "Enabled",
			User:     accountUser{Name: clientID, Type: userTypeSP},
			TenantID: tenant, EnvironmentName: cloudName,
		})
	}
	prof, err := st.loadProfile()
	if err != nil {
		return nil, err
	}
	prof.setSubscriptions(accounts)
	if err := st.saveSPEntry(spEntry{ClientID: clientID, Tenant: tenant, ClientSecret: secret}); err != nil {
		return nil, err
	}
	if err := st.saveProfile(prof); err != nil {
		return nil, err
	}
	cache := st.loadTokens()
	kept := cache.Tokens[:0]
	for _, t := range cache.Tokens {
		if !(t.Tenant == tenant && t.ClientID == clientID) {
			kept = append(kept, t)
		}
	}
	cache.Tokens = append(kept, cachedToken{Tenant: tenant, ClientID: clientID, Resource: client.ResourceARM,
		AccessToken: tok.AccessToken, ExpiresOn: tok.ExpiresOn.Unix()})
	if err := st.saveTokens(cache); err != nil {
		a.log.debugf(logProfile, "Failed to save the token cache: %v", err)
	}
	out := make([]accountListItem, 0, len(accounts))
	for _, acct := range accounts {
		out = append(out, acct.listItem())
	}
	return out, nil
}

// promptLine asks on stdout and reads one line from stdin.
func (a *app) promptLine(msg string) (string, error) {
	fmt.Fprint(a.stdout, msg)
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := a.stdin.Read(buf)
		if n > 0 {
			if buf[0] == '\n' {
				break
			}
			b.WriteByte(buf[0])
		}
		if errors.Is(err, io.EOF) {
			break // end of input ends the answer like a newline does
		}
		if err != nil {
			return "", err
		}
	}
	return strings.TrimRight(b.String(), "\r"), nil
}

// az logout.
func logoutCommand() *command {
	return &command{
		path:  "logout",
		short: "Log out to remove access to Azure subscriptions.",
		args: []*argDef{
			{dest: "username", options: []string{"--username", "-u"}, kind: argValue, help: "Account user, if missing, logout the current active account."},
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
			user := i.args.str("username")
			if user == "" {
				acct, err := prof.getSubscription("")
				if err != nil {
					return nil, errorf("There are no active accounts.")
				}
				user = acct.User.Name
			}
			if err := st.removeSPEntries(user); err != nil {
				return nil, err
			}
			if err := st.removeTokens(user); err != nil {
				return nil, err
			}
			prof.removeUser(user)
			return nil, st.saveProfile(prof)
		},
	}
}
