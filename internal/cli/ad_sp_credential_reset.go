package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/cerulean/cerulean/api/graph"
)

// az ad sp credential reset (role/custom.py reset_service_principal_credential
// and _reset_credential): the password lives on the service principal, so a
// secret that create-for-rbac put on the application stays valid, as in
// Azure; az ad app credential reset replaces that one.
func adSPCredentialResetCommand() *command {
	return &command{
		path:  "ad sp credential reset",
		short: "Reset a service principal credential.",
		args:  append([]*argDef{adSPIDArg()}, credentialArgs()...),
		run: func(i *inv) (any, error) {
			s, g, id, err := i.graphObjectID(resolveServicePrincipal)
			if err != nil {
				return nil, err
			}
			sp, err := g.GetServicePrincipal(i.ctx, id)
			if err != nil {
				return nil, err
			}
			return resetCredential(i, s, credentialOwner{
				appID: sp.AppID, passwords: sp.PasswordCredentials,
				add: func(in graph.AddPasswordRequest) (graph.PasswordCredential, error) {
					return g.ServicePrincipalAddPassword(i.ctx, sp.ID, in)
				},
				remove: func(keyID string) error { return g.ServicePrincipalRemovePassword(i.ctx, sp.ID, keyID) },
			})
		},
	}
}

// az ad app credential reset (role/custom.py reset_application_credential):
// the same on the application registration.
func adAppCredentialResetCommand() *command {
	return &command{
		path:  "ad app credential reset",
		short: "Reset an application's password or certificate credentials.",
		args:  append([]*argDef{adAppIDArg()}, credentialArgs()...),
		run: func(i *inv) (any, error) {
			s, g, id, err := i.graphObjectID(resolveApplication)
			if err != nil {
				return nil, err
			}
			app, err := g.GetApplication(i.ctx, id)
			if err != nil {
				return nil, err
			}
			return resetCredential(i, s, credentialOwner{
				appID: app.AppID, passwords: app.PasswordCredentials,
				add: func(in graph.AddPasswordRequest) (graph.PasswordCredential, error) {
					return g.ApplicationAddPassword(i.ctx, app.ID, in)
				},
				remove: func(keyID string) error { return g.ApplicationRemovePassword(i.ctx, app.ID, keyID) },
			})
		},
	}
}

func credentialArgs() []*argDef {
	return []*argDef{
		{dest: "years", options: []string{"--years"}, kind: argValue, group: "Credential", help: "Number of years for which the credentials will be valid. Default: 1 year."},
		{dest: "append", options: []string{"--append"}, kind: argFlag, group: "Credential", help: "Append the new credential instead of overwriting."},
		{dest: "end_date", options: []string{"--end-date"}, kind: argValue, group: "Credential",
			help: "Finer grain of expiry time if '--years' is insufficient, e.g. '2020-12-31T11:59:59+00:00' or '2299-12-31'."},
		{dest: "display_name", options: []string{"--display-name"}, kind: argValue, group: "Credential", help: "Friendly name for the credential."},
	}
}

type credentialResetOut struct {
	AppID    string  `json:"appId"`
	Password *string `json:"password"`
	Tenant   string  `json:"tenant"`
}

// credentialOwner is the object whose passwords a reset replaces.
type credentialOwner struct {
	appID     string
	passwords []graph.PasswordCredential
	add       func(graph.AddPasswordRequest) (graph.PasswordCredential, error)
	remove    func(keyID string) error
}

// resetCredential is _reset_credential: unless --append, remove every
// password, then add one.
func resetCredential(i *inv, s *session, o credentialOwner) (any, error) {
	a := i.args
	start, end, err := credentialDates(i, a.optional("years"), a.optional("end_date"))
	if err != nil {
		return nil, err
	}
	if !a.flag("append") {
		for _, cred := range o.passwords {
			if cred.KeyID == nil {
				continue
			}
			if err := o.remove(*cred.KeyID); err != nil {
				return nil, err
			}
		}
	}
	pw, err := o.add(addPasswordBody(a.optional("display_name"), start, end))
	if err != nil {
		return nil, err
	}
	i.app.log.warnf(logRole, credentialWarning)
	return credentialResetOut{AppID: o.appID, Password: pw.SecretText, Tenant: s.tenant()}, nil
}

// credentialDates is _reset_credential's start and end: now, plus --years
// (default 1) or --end-date.
func credentialDates(i *inv, years, endDate *string) (time.Time, time.Time, error) {
	start := i.app.now().UTC().Truncate(time.Second)
	if years != nil && endDate != nil {
		return start, start, errorf("usage error: --years | --end-date")
	}
	if endDate != nil {
		end, err := parseDate(*endDate)
		if err != nil {
			return start, start, errorf("%v", err)
		}
		return start, end, nil
	}
	n := 1
	if years != nil {
		v, err := strconv.Atoi(*years)
		if err != nil {
			return start, start, &usageError{msg: fmt.Sprintf("argument --years: invalid int value: %s", pyRepr(*years))}
		}
		if v != 0 {
			n = v
		}
	}
	return start, addYears(start, n), nil
}

// parseDate accepts the forms dateutil.parser.parse is used with: RFC 3339
// date-times (with or without an offset, which defaults to UTC) and dates.
func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("Unknown string format: %s", s)
}
