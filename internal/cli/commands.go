package cli

import (
	"context"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cerulean/cerulean/internal/cli/output"
)

// command is one leaf of the az tree, declared in its own file.
type command struct {
	path  string // "group create"
	short string
	args  []*argDef
	// subscription adds the global --subscription argument.
	subscription bool
	// confirmation adds --yes/-y and asks before running (az's
	// confirmation=True).
	confirmation bool
	// show marks az show commands: a 404 exits 3 (show_exception_handler).
	show  bool
	table output.TableTransformer
	run   func(*inv) (any, error)
}

// Global arguments (knack's global parser and az's --subscription).
var (
	argOutput = &argDef{dest: "_output", options: []string{"--output", "-o"}, kind: argValue,
		choices: formatNames(), group: "Global Arguments", help: "Output format."}
	argQuery = &argDef{dest: "_query", options: []string{"--query"}, kind: argValue, group: "Global Arguments",
		help: "JMESPath query string. See http://jmespath.org/ for more information and examples."}
	argVerbose = &argDef{dest: "_verbose", options: []string{"--verbose"}, kind: argFlag, group: "Global Arguments",
		help: "Increase logging verbosity. Use --debug for full debug logs."}
	argDebug = &argDef{dest: "_debug", options: []string{"--debug"}, kind: argFlag, group: "Global Arguments",
		help: "Increase logging verbosity to show all debug logs."}
	argOnlyErrors = &argDef{dest: "_only_show_errors", options: []string{"--only-show-errors"}, kind: argFlag,
		group: "Global Arguments", help: "Only show errors, suppressing warnings."}
	argHelp = &argDef{dest: "_help", options: []string{"--help", "-h"}, kind: argFlag, group: "Global Arguments",
		help: "Show this help message and exit."}
	argSubscription = &argDef{dest: "_subscription", options: []string{"--subscription"}, kind: argValue,
		group: "Global Arguments",
		help:  "Name or ID of subscription. You can configure the default subscription using `az account set -s NAME_OR_ID`."}
	argYes = &argDef{dest: "yes", options: []string{"--yes", "-y"}, kind: argFlag, help: "Do not prompt for confirmation."}
)

func formatNames() []string {
	var names []string
	for _, f := range output.Formats() {
		names = append(names, string(f))
	}
	return names
}

// allArgs is the command's arguments followed by the global ones.
func (c *command) allArgs() []*argDef {
	defs := append([]*argDef{}, c.args...)
	if c.confirmation {
		defs = append(defs, argYes)
	}
	if c.subscription {
		defs = append(defs, argSubscription)
	}
	return append(defs, argDebug, argHelp, argOnlyErrors, argOutput, argQuery, argVerbose)
}

// commandTable lists every command.
func commandTable() []*command {
	return append([]*command{
		loginCommand(),
		logoutCommand(),
		versionCommand(),
		accountShowCommand(),
		accountListCommand(),
		accountSetCommand(),
		accountGetAccessTokenCommand(),
		groupCreateCommand(),
		groupShowCommand(),
		groupListCommand(),
		groupDeleteCommand(),
		groupExistsCommand(),
		groupUpdateCommand(),
		adSPCreateForRBACCommand(),
		adSPListCommand(),
		adSPShowCommand(),
		adSPDeleteCommand(),
		adSPCredentialResetCommand(),
		adAppListCommand(),
		adAppShowCommand(),
		adAppDeleteCommand(),
		adAppCredentialResetCommand(),
		adAppCreateCommand(),
		roleAssignmentCreateCommand(),
		roleAssignmentListCommand(),
		roleAssignmentDeleteCommand(),
		roleDefinitionListCommand(),
		acrCreateCommand(),
		acrShowCommand(),
		acrListCommand(),
		acrDeleteCommand(),
		acrUpdateCommand(),
		acrCheckNameCommand(),
		acrCredentialShowCommand(),
		acrCredentialRenewCommand(),
		acrLoginCommand(),
		acrImportCommand(),
		acrRepositoryListCommand(),
		acrRepositoryShowCommand(),
		acrRepositoryShowTagsCommand(),
		acrRepositoryShowManifestsCommand(),
		acrRepositoryUpdateCommand(),
		acrRepositoryDeleteCommand(),
		acrRepositoryUntagCommand(),
		acrBuildCommand(),
		acrRunCommand(),
		acrTaskListRunsCommand(),
		acrTaskShowRunCommand(),
		acrTaskCancelRunCommand(),
		acrTaskLogsCommand(),
	}, containerCommands()...)
}

// groupHelp are the one-line descriptions of the command groups.
var groupHelp = map[string]string{
	"account":          "Manage Azure subscription information.",
	"acr":              "Manage private registries with Azure Container Registries.",
	"acr credential":   "Manage login credentials for Azure Container Registries.",
	"acr repository":   "Manage repositories (image names) for Azure Container Registries.",
	"acr task":         "Manage a collection of steps for building, testing and OS & Framework patching container images using Azure Container Registries.",
	"ad":               "Manage Microsoft Entra ID (formerly known as Azure Active Directory, Azure AD, AAD) entities needed for Azure role-based access control (Azure RBAC) through Microsoft Graph API.",
	"ad app":           "Manage Microsoft Entra applications.",
	"ad sp":            "Manage Microsoft Entra service principals.",
	"ad sp credential": "Manage a service principal's credentials.",
	"container":        containerGroupHelp,
	"group":            "Manage resource groups and template deployments.",
	"role":             "Manage Azure role-based access control (Azure RBAC).",
	"role assignment":  "Manage role assignments.",
	"role definition":  "Manage role definitions.",
}

// cmdTree is the command tree as cobra commands, with the leaves mapped to
// their definitions.
type cmdTree struct {
	root   *cobra.Command
	leaves map[*cobra.Command]*command
}

func buildTree(cmds []*command) *cmdTree {
	t := &cmdTree{
		root:   &cobra.Command{Use: "az", Short: "Azure CLI (Cerulean)", SilenceErrors: true, SilenceUsage: true},
		leaves: map[*cobra.Command]*command{},
	}
	for _, c := range cmds {
		words := strings.Fields(c.path)
		node := t.root
		for i, w := range words {
			child := findChild(node, w)
			if child == nil {
				child = &cobra.Command{Use: w}
				if i == len(words)-1 {
					child.Short = c.short
					child.Run = func(*cobra.Command, []string) {}
					t.leaves[child] = c
				} else {
					child.Short = groupHelp[strings.Join(words[:i+1], " ")]
				}
				node.AddCommand(child)
			}
			node = child
		}
	}
	return t
}

func findChild(node *cobra.Command, name string) *cobra.Command {
	for _, c := range node.Commands() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

func sortedChildren(node *cobra.Command, leaves map[*cobra.Command]*command) (groups, cmds []*cobra.Command) {
	for _, c := range node.Commands() {
		if leaves[c] != nil {
			cmds = append(cmds, c)
		} else {
			groups = append(groups, c)
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name() < groups[j].Name() })
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	return groups, cmds
}

// inv is one invocation of a command.
type inv struct {
	ctx  context.Context
	app  *app
	cmd  *command
	args *args
}
