package arm

import (
	"context"
	"net/http"
	"slices"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

const (
	actionRoleDefinitionRead  = "Microsoft.Authorization/roleDefinitions/read"
	actionRoleAssignmentRead  = "Microsoft.Authorization/roleAssignments/read"
	actionRoleAssignmentWrite = "Microsoft.Authorization/roleAssignments/write"
	actionRoleAssignmentDel   = "Microsoft.Authorization/roleAssignments/delete"
)

// authorizationTypes registers Microsoft.Authorization.
func (h *handler) authorizationTypes() []ResourceType {
	return []ResourceType{
		{
			Namespace: "Microsoft.Authorization", Type: "roleDefinitions", Extension: true,
			Item:       Methods{http.MethodGet: {Action: actionRoleDefinitionRead, Auth: CheckAction, Serve: h.getRoleDefinition}},
			Collection: Methods{http.MethodGet: {Action: actionRoleDefinitionRead, Auth: CheckAction, Serve: h.listRoleDefinitions}},
		},
		{
			Namespace: "Microsoft.Authorization", Type: "roleAssignments", Extension: true,
			Item: Methods{
				http.MethodGet:    {Action: actionRoleAssignmentRead, Auth: CheckAction, Serve: h.getRoleAssignment},
				http.MethodPut:    {Action: actionRoleAssignmentWrite, Auth: CheckAction, Serve: h.putRoleAssignment},
				http.MethodDelete: {Action: actionRoleAssignmentDel, Auth: CheckAction, Serve: h.deleteRoleAssignment},
			},
			Collection: Methods{http.MethodGet: {Action: actionRoleAssignmentRead, Auth: CheckAction, Serve: h.listRoleAssignments}},
		},
	}
}

// roleDefinitionID is the id ARM gives a role definition: under the
// subscription of the scope it was read at, whatever that scope's depth,
// with a lower-case GUID; at the root, tenant-level.
func roleDefinitionID(scope resourceid.ID, guid string) string {
	prefix := ""
	if scope.SubscriptionID != "" {
		prefix = "/subscriptions/" + scope.SubscriptionID
	}
	return prefix + "/providers/Microsoft.Authorization/roleDefinitions/" + guid
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func roleDefinitionWire(scope resourceid.ID, d rbac.RoleDefinition) arm.RoleDefinition {
	perms := make([]arm.Permission, 0, len(d.Permissions))
	for _, p := range d.Permissions {
		perms = append(perms, arm.Permission{
			Actions: nonNil(p.Actions), NotActions: nonNil(p.NotActions),
			DataActions: nonNil(p.DataActions), NotDataActions: nonNil(p.NotDataActions),
		})
	}
	return arm.RoleDefinition{
		ID: roleDefinitionID(scope, d.ID), Name: d.ID, Type: "Microsoft.Authorization/roleDefinitions",
		Properties: arm.RoleDefinitionProperties{
			RoleName: d.RoleName, Type: d.RoleType, Description: d.Description,
			AssignableScopes: nonNil(d.AssignableScopes), Permissions: perms,
			CreatedOn: d.CreatedOn, UpdatedOn: d.UpdatedOn,
		},
	}
}

// getRoleDefinition serves GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}.
func (h *handler) getRoleDefinition(ctx context.Context, w http.ResponseWriter, c *Call) error {
	d, ok := rbac.RoleDefinitionByID(c.Name)
	if !ok {
		return rbac.ErrRoleDefinitionUnknown.WithMessage("The specified role definition with ID '%s' does not exist.", c.Name).WithTarget(c.Name)
	}
	server.WriteJSON(w, http.StatusOK, roleDefinitionWire(c.Scope, d))
	return nil
}

const roleDefinitionFilters = "'roleName eq '{value}'' and 'type eq '{value}''"

// listRoleDefinitions serves GET {scope}/providers/Microsoft.Authorization/roleDefinitions
// with $filter=roleName eq 'X' (any case) and/or type eq 'BuiltInRole'.
func (h *handler) listRoleDefinitions(ctx context.Context, w http.ResponseWriter, c *Call) error {
	filter := c.Query("$filter")
	clauses, err := parseFilter(filter)
	if err != nil {
		return errUnsupportedQuery(filter, roleDefinitionFilters)
	}
	var roleName, roleType *string
	for _, cl := range clauses {
		switch {
		case !cl.fn && cl.is("roleName") && roleName == nil:
			roleName = &cl.value
		case !cl.fn && cl.is("type") && roleType == nil:
			roleType = &cl.value
		default:
			return errUnsupportedQuery(filter, roleDefinitionFilters)
		}
	}
	out := []arm.RoleDefinition{}
	for _, d := range rbac.RoleDefinitions() {
		if roleName != nil && !equalFold(d.RoleName, *roleName) || roleType != nil && !equalFold(d.RoleType, *roleType) {
			continue
		}
		out = append(out, roleDefinitionWire(c.Scope, d))
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.RoleDefinition]{Value: out})
	return nil
}
