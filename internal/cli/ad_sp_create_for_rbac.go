package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/client"
)

const credentialWarning = "The output includes credentials that you must protect. Be sure that you do not include these credentials in " +
	"your code or check the credentials into your source control. For more information, see https://aka.ms/azadsp-cli"

// retryTimes is create-for-rbac's _RETRY_TIMES; retryDelay its sleep.
const (
	retryTimes = 36
	retryDelay = 5 * time.Second
)

// az ad sp create-for-rbac (role/custom.py create_service_principal_for_rbac).
func adSPCreateForRBACCommand() *command {
	return &command{
		path:  "ad sp create-for-rbac",
		short: "Create an application and its associated service principal, optionally configure the service principal's RBAC role assignments.",
		args: []*argDef{
			{dest: "display_name", options: []string{"--display-name", "--name", "-n"}, kind: argValue,
				help: "Display name of the service principal. If not present, default to azure-cli-%Y-%m-%d-%H-%M-%S where the suffix is the time of creation."},
			{dest: "years", options: []string{"--years"}, kind: argValue, group: "Credential",
				help: "Number of years for which the credentials will be valid. Default: 1 year."},
			{dest: "scopes", options: []string{"--scopes"}, kind: argList,
				help: "Space-separated list of scopes the service principal's role assignment applies to. e.g., subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/myGroup, /subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/myGroup/providers/Microsoft.Compute/virtualMachines/myVM."},
			{dest: "role", options: []string{"--role"}, kind: argValue, help: "Role of the service principal."},
		},
		run: runCreateForRBAC,
	}
}

// createForRBACOut is the command's result, in az's key order.
type createForRBACOut struct {
	AppID       string  `json:"appId"`
	Password    *string `json:"password"`
	DisplayName string  `json:"displayName"`
	Tenant      string  `json:"tenant"`
}

func runCreateForRBAC(i *inv) (any, error) {
	a := i.args
	role, scopes := a.str("role"), a.list("scopes")
	if role != "" && len(scopes) == 0 || role == "" && len(scopes) > 0 {
		return nil, errorf("Usage error: To create role assignments, specify both --role and --scopes.")
	}
	years := 1
	if a.has("years") {
		n, err := strconv.Atoi(a.str("years"))
		if err != nil {
			return nil, &usageError{msg: fmt.Sprintf("argument --years: invalid int value: %s", pyRepr(a.str("years")))}
		}
		if n != 0 {
			years = n
		}
	}
	s, err := i.session("")
	if err != nil {
		return nil, err
	}
	ctx, g, log := i.ctx, s.graph(), i.app.log

	displayName := a.str("display_name")
	var existingSPs []graph.ServicePrincipal
	if displayName == "" {
		displayName = "azure-cli-" + i.app.now().UTC().Format("2006-01-02-15-04-05")
	} else {
		// Reuse a service principal with the same display name, to make
		// the command idempotent.
		if existingSPs, err = g.ListServicePrincipals(ctx, fmt.Sprintf("displayName eq '%s'", displayName)); err != nil {
			return nil, err
		}
	}
	start := i.app.now().UTC().Truncate(time.Second)
	end := addYears(start, years)

	app, err := i.createApplication(ctx, g, displayName)
	if err != nil {
		return nil, err
	}
	// For an existing application, delete all its passwords first.
	for _, cred := range app.PasswordCredentials {
		if cred.KeyID == nil {
			continue
		}
		if err := g.ApplicationRemovePassword(ctx, app.ID, *cred.KeyID); err != nil {
			return nil, err
		}
	}
	pw, err := g.ApplicationAddPassword(ctx, app.ID, addPasswordBody(strPtr("rbac"), start, end))
	if err != nil {
		return nil, err
	}

	var spID string
	if len(existingSPs) > 0 {
		spID = existingSPs[0].ID
	} else {
		for attempt := 0; ; attempt++ {
			sp, err := g.CreateServicePrincipal(ctx, graph.ServicePrincipalInput{AppID: &app.AppID, AccountEnabled: boolPtr(true)})
			if err == nil {
				spID = sp.ID
				break
			}
			msg := errorText(err)
			if attempt < retryTimes && (strings.Contains(msg, " does not reference ") || strings.Contains(msg, " does not exist ") ||
				strings.Contains(msg, "service principal being created must in the local tenant")) {
				log.warnf(logRole, "Creating service principal failed with error '%s'. Retrying: %d/%d", msg, attempt+1, retryTimes)
				if err := i.app.sleep(ctx, retryDelay); err != nil {
					return nil, err
				}
				continue
			}
			log.warnf(logRole, "Creating service principal failed for '%s'. Trace followed:\n%s", app.AppID, msg)
			return nil, err
		}
	}

	if role != "" {
		for _, scope := range scopes {
			log.warnf(logRole, "Creating '%s' role assignment under scope '%s'", role, scope)
			for attempt := 0; ; attempt++ {
				_, err := i.createRoleAssignment(ctx, s, role, spID, "", scope, principalSP, assignmentOptions{})
				if err == nil {
					break
				}
				if attempt < retryTimes && strings.Contains(errorText(err), " does not exist in the directory ") {
					if err := i.app.sleep(ctx, retryDelay); err != nil {
						return nil, err
					}
					log.warnf(logRole, "  Retrying role assignment creation: %d/%d", attempt+1, retryTimes)
					continue
				}
				if roleAssignmentExists(err) {
					log.warnf(logRole, "  Role assignment already exists.\n")
					break
				}
				log.warnf(logRole, "  Role assignment creation failed.\n")
				return nil, err
			}
		}
	}

	log.warnf(logRole, credentialWarning)
	password := ""
	if pw.SecretText != nil {
		password = *pw.SecretText
	}
	log.infof(logRole, "To log in with this service principal, run:\naz login --service-principal --username %s --password %s --tenant %s",
		app.AppID, password, s.tenant())
	return createForRBACOut{AppID: app.AppID, Password: pw.SecretText, DisplayName: displayName, Tenant: s.tenant()}, nil
}

// createApplication is role/custom.py create_application as create-for-rbac
// calls it: reuse the one application with exactly this display name
// (patching it), or create a new one.
func (i *inv) createApplication(ctx context.Context, g *client.Graph, displayName string) (graph.Application, error) {
	apps, err := g.ListApplications(ctx, fmt.Sprintf("startswith(displayName,'%s')", displayName))
	if err != nil {
		return graph.Application{}, err
	}
	var exact []graph.Application
	for _, app := range apps {
		if app.DisplayName == displayName {
			exact = append(exact, app)
		}
	}
	if len(exact) > 1 {
		ids := make([]string, len(exact))
		for k, app := range exact {
			ids[k] = app.ID
		}
		return graph.Application{}, errorf("More than one application have the same display name '%s': (id) %s, please remove them first.",
			displayName, strings.Join(ids, ", "))
	}
	if len(exact) == 1 {
		id := exact[0].ID
		i.app.log.warnf(logRole, "Found an existing application instance: (id) %s. We will patch it.", id)
		objectID, err := resolveApplication(ctx, g, id)
		if err != nil {
			return graph.Application{}, err
		}
		if err := g.UpdateApplication(ctx, objectID, graph.ApplicationInput{DisplayName: &displayName}); err != nil {
			return graph.Application{}, err
		}
		return g.GetApplication(ctx, id)
	}
	return g.CreateApplication(ctx, graph.ApplicationInput{DisplayName: &displayName, KeyCredentials: []any{}})
}

// assignmentOptions are the optional role assignment properties.
type assignmentOptions struct {
	description, condition, conditionVersion *string
	name                                     string
}

// createRoleAssignment is _create_role_assignment with
// resolve_assignee=False: build the scope, resolve the role and PUT the
// assignment under a new uuid4 name.
func (i *inv) createRoleAssignment(ctx context.Context, s *session, role, objectID, resourceGroup, scope, principalType string, opts assignmentOptions) (arm.RoleAssignment, error) {
	sub := subscriptionForScope(scope, s.subscriptionID())
	sc, err := buildRoleScope(resourceGroup, scope, sub)
	if err != nil {
		return arm.RoleAssignment{}, err
	}
	armc := s.arm()
	roleID, err := resolveRoleID(ctx, armc, role, sc, sub)
	if err != nil {
		return arm.RoleAssignment{}, err
	}
	name := opts.name
	if name == "" {
		name = i.app.uuid()
	}
	body := arm.RoleAssignmentCreate{Properties: arm.RoleAssignmentCreateProperties{
		RoleDefinitionID: roleID, PrincipalID: objectID, PrincipalType: principalType,
		Description: opts.description, Condition: opts.condition, ConditionVersion: opts.conditionVersion,
	}}
	return armc.CreateRoleAssignment(ctx, sc, name, body)
}

// addPasswordBody is _build_add_password_credential_body; times are whole
// seconds in UTC, as az sends them ('%Y-%m-%dT%H:%M:%SZ').
func addPasswordBody(displayName *string, start, end time.Time) graph.AddPasswordRequest {
	st, en := start.UTC().Truncate(time.Second), end.UTC().Truncate(time.Second)
	return graph.AddPasswordRequest{PasswordCredential: &graph.PasswordCredentialInput{
		DisplayName: displayName, StartDateTime: &st, EndDateTime: &en,
	}}
}

// addYears is dateutil's relativedelta(years=n): Feb 29 becomes Feb 28.
func addYears(t time.Time, n int) time.Time {
	r := t.AddDate(n, 0, 0)
	if r.Day() != t.Day() {
		r = r.AddDate(0, 0, -r.Day())
	}
	return r
}

// errorText is str(ex) for a Graph or ARM failure.
func errorText(err error) string {
	msg, _, _ := describeError(err)
	return msg
}

func strPtr(s string) *string { return &s }
func boolPtr(b bool) *bool    { return &b }
