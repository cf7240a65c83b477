package cli

import (
	"fmt"
	"strings"

	"github.com/cerulean/cerulean/api/graph"
	"github.com/cerulean/cerulean/internal/client"
)

// adAppIDArg is the ad app commands' --id.
func adAppIDArg() *argDef {
	return &argDef{dest: "identifier", options: []string{"--id"}, kind: argValue, required: true, help: "Identifier uri, application id, or object id."}
}

// az ad app list (role/custom.py list_applications).
func adAppListCommand() *command {
	return &command{
		path:  "ad app list",
		short: "List applications.",
		table: graphObjectTable,
		args: []*argDef{
			{dest: "app_id", options: []string{"--app-id"}, kind: argValue, help: "Application id."},
			{dest: "display_name", options: []string{"--display-name"}, kind: argValue, help: "The display name of the application."},
			{dest: "identifier_uri", options: []string{"--identifier-uri"}, kind: argValue, help: "Graph application identifier, must be in uri format."},
			{dest: "query_filter", options: []string{"--filter"}, kind: argValue, help: "OData filter."},
			{dest: "include_all", options: []string{"--all"}, kind: argFlag, help: "List all entities, expect long delay if under a big organization."},
		},
		run: func(i *inv) (any, error) {
			return listGraphObjects(i, (*client.Graph).ListApplications, []graphFilterArg{
				{"app_id", "appId eq '%s'"},
				{"display_name", "startswith(displayName,'%s')"},
				{"identifier_uri", "identifierUris/any(s:s eq '%s')"},
			})
		},
	}
}

// az ad app show (role/custom.py show_application).
func adAppShowCommand() *command {
	return &command{
		path:  "ad app show",
		short: "Get the details of an application.",
		show:  true,
		args:  []*argDef{adAppIDArg()},
		run: func(i *inv) (any, error) {
			_, g, id, err := i.graphObjectID(resolveApplication)
			if err != nil {
				return nil, err
			}
			return g.GetApplication(i.ctx, id)
		},
	}
}

// az ad app delete (role/custom.py delete_application).
func adAppDeleteCommand() *command {
	return &command{
		path:  "ad app delete",
		short: "Delete an application.",
		args:  []*argDef{adAppIDArg()},
		run: func(i *inv) (any, error) {
			_, g, id, err := i.graphObjectID(resolveApplication)
			if err != nil {
				return nil, err
			}
			return nil, g.DeleteApplication(i.ctx, id)
		},
	}
}

// az ad app create (role/custom.py create_application, display name and
// identifier URIs only).
func adAppCreateCommand() *command {
	return &command{
		path:  "ad app create",
		short: "Create an application.",
		args: []*argDef{
			{dest: "display_name", options: []string{"--display-name"}, kind: argValue, required: true, help: "The display name of the application."},
			{dest: "identifier_uris", options: []string{"--identifier-uris"}, kind: argList, help: "Space-separated values. Also known as App ID URI."},
			{dest: "sign_in_audience", options: []string{"--sign-in-audience"}, kind: argValue,
				choices: []string{"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"},
				help:    "Specifies the Microsoft accounts that are supported for the current application."},
		},
		run: func(i *inv) (any, error) {
			s, err := i.session("")
			if err != nil {
				return nil, err
			}
			ctx, g := i.ctx, s.graph()
			name := i.args.str("display_name")
			uris := i.args.list("identifier_uris")
			in := graph.ApplicationInput{DisplayName: &name, IdentifierURIs: uris, SignInAudience: i.args.optional("sign_in_audience")}
			existing, err := g.ListApplications(ctx, fmt.Sprintf("startswith(displayName,'%s')", name))
			if err != nil {
				return nil, err
			}
			var matches []graph.Application
			for _, app := range existing {
				if app.DisplayName != name || !containsAll(app.IdentifierURIs, uris) {
					continue
				}
				matches = append(matches, app)
			}
			if len(matches) > 1 {
				ids := make([]string, len(matches))
				for k, m := range matches {
					ids[k] = m.ID
				}
				return nil, errorf("More than one application have the same display name '%s': (id) %s, please remove them first.", name, strings.Join(ids, ", "))
			}
			if len(matches) == 1 {
				i.app.log.warnf(logRole, "Found an existing application instance: (id) %s. We will patch it.", matches[0].ID)
				if err := g.UpdateApplication(ctx, matches[0].ID, in); err != nil {
					return nil, err
				}
				return g.GetApplication(ctx, matches[0].ID)
			}
			in.KeyCredentials = []any{}
			return g.CreateApplication(ctx, in)
		},
	}
}

func containsAll(have, want []string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}
