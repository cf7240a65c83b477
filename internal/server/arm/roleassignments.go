package arm

import (
	"context"
	"errors"
	"net/http"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/resourceid"
	"github.com/cerulean/cerulean/internal/server"
)

// roleAssignmentID is an assignment's ARM id: its scope, then the
// Microsoft.Authorization segment ("/providers/…" alone at the root).
func roleAssignmentID(scope resourceid.ID, name string) string {
	prefix := scope.String()
	if scope.Level() == resourceid.Root {
		prefix = ""
	}
	return prefix + "/providers/Microsoft.Authorization/roleAssignments/" + name
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// roleAssignmentWire renders an assignment read at scope. Its
// roleDefinitionId is under the subscription of the scope it was read at
// (or its own, for a read at the root), the form az compares by string.
func roleAssignmentWire(readAt resourceid.ID, ra rbac.RoleAssignment) arm.RoleAssignment {
	defScope := readAt
	if defScope.SubscriptionID == "" {
		defScope = ra.Scope
	}
	return arm.RoleAssignment{
		ID: roleAssignmentID(ra.Scope, ra.Name), Name: ra.Name, Type: "Microsoft.Authorization/roleAssignments",
		Properties: arm.RoleAssignmentProperties{
			RoleDefinitionID: roleDefinitionID(defScope, ra.RoleDefinitionID),
			PrincipalID:      ra.PrincipalID, PrincipalType: string(ra.PrincipalType), Scope: ra.Scope.String(),
			Condition: optional(ra.Condition), ConditionVersion: optional(ra.ConditionVersion),
			CreatedOn: ra.CreatedOn, UpdatedOn: ra.UpdatedOn,
			CreatedBy: optional(ra.CreatedBy), UpdatedBy: optional(ra.UpdatedBy),
			Description: optional(ra.Description),
		},
	}
}

// getRoleAssignment serves GET {scope}/providers/Microsoft.Authorization/roleAssignments/{name}
// (which is also GET /{roleAssignmentId}).
func (h *handler) getRoleAssignment(ctx context.Context, w http.ResponseWriter, c *Call) error {
	ra, err := h.rbac.Get(ctx, c.Scope, c.Name)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, roleAssignmentWire(c.Scope, ra))
	return nil
}

var principalTypes = []principal.Type{principal.User, principal.Group, principal.ServicePrincipal, principal.ForeignGroup, principal.Device}

// putRoleAssignment serves PUT …/roleAssignments/{name}: 201 when created,
// 200 when the same assignment already has this name, 409
// RoleAssignmentExists when the principal already holds the role at the
// scope under another name. Unknown body properties are refused.
func (h *handler) putRoleAssignment(ctx context.Context, w http.ResponseWriter, c *Call) error {
	var body arm.RoleAssignmentCreate
	if err := server.DecodeJSON(c.Request, &body, true); err != nil {
		return err
	}
	p := body.Properties
	if p.Scope != "" {
		scope, err := resourceid.Parse(p.Scope)
		if err != nil || !scope.Equal(c.Scope) {
			return errdefs.Newf(errdefs.InvalidArgument, "InvalidCreateRoleAssignmentRequest",
				"The request to create role assignment '%s' is not valid. Role assignment scope '%s' must match the scope specified on the URI '%s'.",
				c.Name, clip(p.Scope), c.Scope.String()).WithTarget("scope")
		}
	}
	var typ principal.Type
	if p.PrincipalType != "" {
		i := -1
		for j, t := range principalTypes {
			if equalFold(string(t), p.PrincipalType) {
				i = j
			}
		}
		if i < 0 {
			return rbac.ErrUnsupportedPrincipalType.WithMessage("The principal type '%s' is not valid. Valid values are 'User', 'Group', 'ServicePrincipal', 'ForeignGroup' and 'Device'.", clip(p.PrincipalType)).WithTarget("principalType")
		}
		typ = principalTypes[i]
	}
	if p.DelegatedManagedIdentityResourceID != nil && *p.DelegatedManagedIdentityResourceID != "" {
		return errdefs.New(errdefs.InvalidArgument, "DelegatedManagedIdentityNotSupported",
			"Role assignments with a delegatedManagedIdentityResourceId are not supported.").WithTarget("delegatedManagedIdentityResourceId")
	}
	in := rbac.CreateInput{
		TenantID: c.Caller.TenantID, Scope: c.Scope, Name: c.Name,
		RoleDefinitionID: p.RoleDefinitionID, PrincipalID: p.PrincipalID, PrincipalType: typ,
		CreatedBy: c.Caller.ObjectID,
	}
	if p.Description != nil {
		in.Description = *p.Description
	}
	if p.Condition != nil {
		in.Condition = *p.Condition
	}
	if p.ConditionVersion != nil {
		in.ConditionVersion = *p.ConditionVersion
	}
	ra, created, err := h.rbac.Create(ctx, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		h.logger.InfoContext(ctx, "role assignment created", "name", ra.Name, "scope", ra.Scope.String(),
			"role_definition_id", ra.RoleDefinitionID, "principal_id", ra.PrincipalID, "caller", c.Caller.ObjectID)
	}
	server.WriteJSON(w, status, roleAssignmentWire(c.Scope, ra))
	return nil
}

// deleteRoleAssignment serves DELETE …/roleAssignments/{name}: 200 with
// the deleted assignment, 204 when there was none.
func (h *handler) deleteRoleAssignment(ctx context.Context, w http.ResponseWriter, c *Call) error {
	ra, err := h.rbac.Delete(ctx, c.Scope, c.Name)
	if errors.Is(err, rbac.ErrRoleAssignmentNotFound) {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return err
	}
	h.logger.InfoContext(ctx, "role assignment deleted", "name", ra.Name, "scope", ra.Scope.String(),
		"principal_id", ra.PrincipalID, "caller", c.Caller.ObjectID)
	server.WriteJSON(w, http.StatusOK, roleAssignmentWire(c.Scope, ra))
	return nil
}

const roleAssignmentFilters = "either 'atScope()' or 'principalId eq '{value}'' or 'assignedTo('{value}')'"

// listRoleAssignments serves GET {scope}/providers/Microsoft.Authorization/roleAssignments.
// Without a filter it lists the assignments at, above and below the scope;
// atScope() keeps those at and above it (the inherited ones included);
// principalId eq '…' and assignedTo('…') keep one principal's (Cerulean
// has no groups, so the two agree). atScope() combines with assignedTo()
// only, as in Azure.
func (h *handler) listRoleAssignments(ctx context.Context, w http.ResponseWriter, c *Call) error {
	filter := c.Query("$filter")
	f, ok := roleAssignmentFilter(filter)
	if !ok {
		return errUnsupportedQuery(filter, roleAssignmentFilters)
	}
	as, err := h.rbac.List(ctx, c.Scope, f)
	if err != nil {
		return err
	}
	out := make([]arm.RoleAssignment, 0, len(as))
	for _, ra := range as {
		out = append(out, roleAssignmentWire(c.Scope, ra))
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.RoleAssignment]{Value: out})
	return nil
}

func roleAssignmentFilter(s string) (rbac.ListFilter, bool) {
	var f rbac.ListFilter
	clauses, err := parseFilter(s)
	if err != nil {
		return f, false
	}
	var atScope, principalEq, assignedTo bool
	for _, c := range clauses {
		switch {
		case c.fn && c.is("atScope") && !c.hasV && !atScope:
			atScope = true
		case c.fn && c.is("assignedTo") && c.hasV && !assignedTo && !principalEq:
			assignedTo = true
			f.PrincipalID = c.value
		case !c.fn && c.is("principalId") && !principalEq && !assignedTo:
			principalEq = true
			f.PrincipalID = c.value
		default:
			return f, false
		}
	}
	if atScope && principalEq {
		return f, false
	}
	if (principalEq || assignedTo) && !resourceid.IsGUID(f.PrincipalID) {
		return f, false
	}
	f.AtScope = atScope
	return f, true
}
