package rbac

import (
	"strings"
	"time"
)

// The GUIDs of the built-in roles Cerulean ships (Azure's own).
const (
	OwnerID                   = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	ContributorID             = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	ReaderID                  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	UserAccessAdministratorID = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	RBACAdministratorID       = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
	AcrPullID                 = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
	AcrPushID                 = "8311e382-0749-4cb8-b61a-304f252e45ec"
	AcrDeleteID               = "c2f4ef07-c644-48eb-af81-4b1b4947fb11"
	AcrImageSignerID          = "6cef56e8-d556-48e5-a04f-b8e64114680f"
	AcrQuarantineReaderID     = "cdda3590-29a3-44f6-95f2-9f980659eb04"
	AcrQuarantineWriterID     = "c8d4ff99-41c3-41a8-9f60-21dfdad59608"
)

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func builtin(id, name, desc, created, updated string, p Permission) RoleDefinition {
	return RoleDefinition{
		ID: id, RoleName: name, Description: desc, RoleType: "BuiltInRole",
		Permissions: []Permission{p}, AssignableScopes: []string{"/"},
		CreatedOn: day(created), UpdatedOn: day(updated),
	}
}

// builtins are Azure's built-in roles relevant to Cerulean, with their real
// GUIDs, descriptions and permissions.
var builtins = []RoleDefinition{
	builtin(OwnerID, "Owner", "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
		"2015-02-02T21:55:09.8806423Z", "2021-11-11T20:13:45.8978856Z",
		Permission{Actions: []string{"*"}}),
	builtin(ContributorID, "Contributor", "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
		"2015-02-02T21:55:09.8806423Z", "2024-04-09T15:42:50.0433208Z",
		Permission{Actions: []string{"*"}, NotActions: []string{
			"Microsoft.Authorization/*/Delete",
			"Microsoft.Authorization/*/Write",
			"Microsoft.Authorization/elevateAccess/Action",
			"Microsoft.Blueprint/blueprintAssignments/write",
			"Microsoft.Blueprint/blueprintAssignments/delete",
			"Microsoft.Compute/galleries/share/action",
			"Microsoft.Purview/consents/write",
			"Microsoft.Purview/consents/delete",
			"Microsoft.Resources/deploymentStacks/manageDenySetting/action",
			"Microsoft.Subscription/cancel/action",
			"Microsoft.Subscription/enable/action",
		}}),
	builtin(ReaderID, "Reader", "View all resources, but does not allow you to make any changes.",
		"2015-02-02T21:55:09.8806423Z", "2021-11-11T20:13:47.8628684Z",
		Permission{Actions: []string{"*/read"}}),
	builtin(UserAccessAdministratorID, "User Access Administrator", "Lets you manage user access to Azure resources.",
		"2015-02-02T21:55:09.8806423Z", "2021-11-11T20:13:48.2393051Z",
		Permission{Actions: []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}}),
	builtin(RBACAdministratorID, "Role Based Access Control Administrator", "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.",
		"2022-09-07T02:29:29.6592395Z", "2024-04-16T15:10:24.6364502Z",
		Permission{Actions: []string{"Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete", "*/read", "Microsoft.Support/*"}}),
	builtin(AcrPullID, "AcrPull", "acr pull",
		"2018-10-22T19:01:56.8227182Z", "2021-11-11T20:13:51.6734345Z",
		Permission{Actions: []string{"Microsoft.ContainerRegistry/registries/pull/read"}}),
	builtin(AcrPushID, "AcrPush", "acr push",
		"2018-10-29T17:52:32.5201177Z", "2021-11-11T20:13:51.8529425Z",
		Permission{Actions: []string{"Microsoft.ContainerRegistry/registries/pull/read", "Microsoft.ContainerRegistry/registries/push/write"}}),
	builtin(AcrDeleteID, "AcrDelete", "acr delete",
		"2019-03-11T20:19:31.6682804Z", "2021-11-11T20:13:50.0545455Z",
		Permission{Actions: []string{"Microsoft.ContainerRegistry/registries/artifacts/delete"}}),
	builtin(AcrImageSignerID, "AcrImageSigner", "acr image signer",
		"2018-03-15T23:23:08.4038322Z", "2021-11-11T20:13:50.9308698Z",
		Permission{Actions: []string{"Microsoft.ContainerRegistry/registries/sign/write"}, DataActions: []string{"Microsoft.ContainerRegistry/registries/trustedCollections/write"}}),
	builtin(AcrQuarantineReaderID, "AcrQuarantineReader", "acr quarantine data reader",
		"2018-03-16T00:27:39.9596835Z", "2021-11-11T20:13:51.1233379Z",
		Permission{Actions: []string{"Microsoft.ContainerRegistry/registries/quarantine/read"}, DataActions: []string{"Microsoft.ContainerRegistry/registries/quarantinedArtifacts/read"}}),
	builtin(AcrQuarantineWriterID, "AcrQuarantineWriter", "acr quarantine data writer",
		"2018-03-16T00:26:37.5871820Z", "2021-11-11T20:13:51.3056742Z",
		Permission{Actions: []string{"Microsoft.ContainerRegistry/registries/quarantine/read", "Microsoft.ContainerRegistry/registries/quarantine/write"}, DataActions: []string{"Microsoft.ContainerRegistry/registries/quarantinedArtifacts/read", "Microsoft.ContainerRegistry/registries/quarantinedArtifacts/write"}}),
}

// RoleDefinitions returns every role definition, ordered by name.
func RoleDefinitions() []RoleDefinition {
	out := make([]RoleDefinition, len(builtins))
	copy(out, builtins)
	return out
}

// RoleDefinitionByID returns a role definition by GUID (any case).
func RoleDefinitionByID(id string) (RoleDefinition, bool) {
	for _, d := range builtins {
		if strings.EqualFold(d.ID, id) {
			return d, true
		}
	}
	return RoleDefinition{}, false
}

// RoleDefinitionByName returns a role definition by name, case-insensitively.
func RoleDefinitionByName(name string) (RoleDefinition, bool) {
	for _, d := range builtins {
		if strings.EqualFold(d.RoleName, name) {
			return d, true
		}
	}
	return RoleDefinition{}, false
}
