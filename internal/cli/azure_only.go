package cli

import (
	"fmt"
	"strings"
)

// azureOnly lists commands and command groups of the Azure CLI (az 2.67,
// the version Cerulean's az reports) that Cerulean's az does not have. A
// command line that names one of them is told so (exit 2, like az's own
// usage errors), instead of being called misspelled, which would send the
// user looking for a typo. A group listed here covers everything under it.
//
// The table holds Cerulean's gaps under the groups it implements, and the
// Azure CLI's other top-level groups and commands. Groups another file
// registers leave this table as they are implemented: a path found in the
// command tree never reaches it.
var azureOnly = []string{
	// az acr: command_modules/acr/commands.py.
	"acr agentpool",
	"acr artifact-streaming",
	"acr cache",
	"acr check-health",
	"acr config",
	"acr connected-registry",
	"acr credential-set",
	"acr encryption",
	"acr helm",
	"acr identity",
	"acr manifest",
	"acr network-rule",
	"acr pack",
	"acr private-endpoint-connection",
	"acr private-link-resource",
	"acr replication",
	"acr scope-map",
	"acr show-endpoints",
	"acr show-usage",
	"acr task create",
	"acr task credential",
	"acr task delete",
	"acr task identity",
	"acr task list",
	"acr task run",
	"acr task show",
	"acr task timer",
	"acr task update",
	"acr task update-run",
	"acr taskrun",
	"acr token",
	"acr webhook",
	// az ad: command_modules/role (Microsoft Graph).
	"ad app credential delete",
	"ad app credential list",
	"ad app federated-credential",
	"ad app owner",
	"ad app permission",
	"ad app update",
	"ad group",
	"ad signed-in-user",
	"ad sp create",
	"ad sp credential delete",
	"ad sp credential list",
	"ad sp owner",
	"ad sp update",
	"ad user",
	// az role.
	"role assignment list-changelogs",
	"role assignment update",
	"role definition create",
	"role definition delete",
	"role definition update",
	// az group.
	"group deployment",
	"group export",
	"group lock",
	"group wait",
	// az account.
	"account clear",
	"account list-locations",
	"account lock",
	"account management-group",
	// The other top-level groups and commands of the Azure CLI.
	"advisor", "afd", "aks", "ams", "apim", "appconfig", "appservice", "aro", "backup", "batch",
	"bicep", "billing", "bot", "cache", "capacity", "cdn", "cloud", "cognitiveservices", "config",
	"configure", "consumption", "containerapp", "cosmosdb", "databoxedge", "deployment",
	"deployment-scripts", "disk", "disk-access", "disk-encryption-set", "dms", "eventgrid",
	"eventhubs", "extension", "feature", "feedback", "find", "functionapp", "hdinsight", "identity",
	"image", "interactive", "iot", "keyvault", "lab", "lock", "logicapp", "managed-cassandra",
	"managedapp", "managedservices", "maps", "monitor", "mysql", "netappfiles", "network", "policy",
	"postgres", "ppg", "private-link", "provider", "redis", "relay", "resource", "resourcemanagement",
	"rest", "restore-point", "search", "security", "self-test", "servicebus", "sf", "sig", "signalr",
	"snapshot", "sql", "sshkey", "stack", "staticwebapp", "storage", "survey", "synapse", "tag", "ts",
	"upgrade", "vm", "vmss", "webapp",
}

// azureOnlyCommand reports whether path ("acr webhook", "ad user") names an
// Azure CLI command or group Cerulean lacks: a listed entry, or a group of
// listed commands.
func azureOnlyCommand(path string) bool {
	for _, e := range azureOnly {
		if path == e || strings.HasPrefix(e, path+" ") {
			return true
		}
	}
	return false
}

// azureOnlyNames are the next words after the group path that lead to a
// listed entry, so that a misspelling of one can be suggested ("webhok" →
// "webhook") as az would.
func azureOnlyNames(group string) []string {
	prefix := ""
	if group != "" {
		prefix = group + " "
	}
	var names []string
	for _, e := range azureOnly {
		rest, ok := strings.CutPrefix(e, prefix)
		if !ok {
			continue
		}
		first, _, _ := strings.Cut(rest, " ")
		names = append(names, first)
	}
	return names
}

// azureOnlyError is the usage error for such a command.
func azureOnlyError(group, word string) *usageError {
	path := strings.TrimSpace(group + " " + word)
	help := "az --help"
	if group != "" {
		help = "az " + group + " --help"
	}
	return &usageError{
		msg:             fmt.Sprintf("'az %s' is part of the Azure CLI but is not supported by Cerulean yet.", path),
		recommendations: []string{fmt.Sprintf("Run '%s' to see the commands Cerulean supports.", help)},
	}
}
