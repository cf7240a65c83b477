package cli

// Shared pieces of the role commands (role/custom.py): scopes, role ids,
// assignee resolution, and the flattened output models.

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/client"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// ARM principalType values and the Graph @odata.type they come from.
const (
	principalUser = "User"
	principalSP   = "ServicePrincipal"
	principalGrp  = "Group"
)

var odataTypeToPrincipalType = map[string]string{
	"#microsoft.graph.user":             principalUser,
	"#microsoft.graph.servicePrincipal": principalSP,
	"#microsoft.graph.group":            principalGrp,
}

var (
	scopeSubscription = regexp.MustCompile(`^/subscriptions/([^/]*)/`)
	roleDefinitionID  = regexp.MustCompile(`(?i)^/subscriptions/.+/providers/Microsoft.Authorization/roleDefinitions/`)
)

// subscriptionForScope is _auth_client_factory's choice of subscription: the
// one in the scope (when followed by a slash), else the default.
func subscriptionForScope(scope, fallback string) string {
	if m := scopeSubscription.FindStringSubmatch(scope); m != nil {
		return m[1]
	}
	return fallback
}

// buildRoleScope is _build_role_scope.
func buildRoleScope(resourceGroup, scope, subscription string) (string, error) {
	subScope := "/subscriptions/" + subscription
	switch {
	case scope != "":
		if resourceGroup != "" {
			return "", errorf(`Resource group "%s" is redundant because scope is supplied`, resourceGroup)
		}
		if strings.HasPrefix(scope, "/subscriptions/") {
			if _, err := resourceid.Parse(scope); err != nil {
				return "", errorf("Invalid scope. Please use --help to view the valid format.")
			}
		}
		return scope, nil
	case resourceGroup != "":
		return subScope + "/resourceGroups/" + resourceGroup, nil
	}
	return subScope, nil
}

// resolveRoleID is _resolve_role_id: a full role definition id is used as
// is, a GUID is put under the subscription, and a name is looked up with
// $filter=roleName eq '{role}' at the scope.
func resolveRoleID(ctx context.Context, a *client.ARM, role, scope, subscription string) (string, error) {
	if roleDefinitionID.MatchString(role) {
		return role, nil
	}
	if resourceid.IsGUID(role) {
		return "/subscriptions/" + subscription + "/providers/Microsoft.Authorization/roleDefinitions/" + role, nil
	}
	defs, err := a.ListRoleDefinitions(ctx, scope, fmt.Sprintf("roleName eq '%s'", role))
	if err != nil {
		return "", err
	}
	if len(defs) == 0 {
		return "", errorf("Role '%s' doesn't exist.", role)
	}
	if len(defs) > 1 {
		ids := make([]string, len(defs))
		for i, d := range defs {
			ids[i] = pyRepr(d.ID)
		}
		return "", errorf("More than one role matches the given name '%s'. Please pick a value from '[%s]'", role, strings.Join(ids, ", "))
	}
	return defs[0].ID, nil
}

// graphErrorError marks a failure that came from Graph (az's GraphError).
func isGraphError(err error) bool {
	re, ok := client.AsResponseError(err)
	return ok && re.Surface == client.SurfaceGraph
}

// resolveObjectIDAndType is _resolve_object_id_and_type.
func (i *inv) resolveObjectIDAndType(ctx context.Context, g *client.Graph, assignee string, fallbackToObjectID bool) (string, string, error) {
	id, typ, err := resolveAssignee(ctx, g, assignee)
	if err == nil || !isGraphError(err) {
		return id, typ, err
	}
	i.app.log.warnf(logRole, "Failed to query %s by invoking Graph API. If you don't have permission to query Graph API, please specify --assignee-object-id and --assignee-principal-type.", assignee)
	if fallbackToObjectID && resourceid.IsGUID(assignee) {
		i.app.log.warnf(logRole, "Assuming %s as an object ID.", assignee)
		return assignee, "", nil
	}
	return "", "", err
}

func resolveAssignee(ctx context.Context, g *client.Graph, assignee string) (string, string, error) {
	if strings.Contains(assignee, "@") {
		users, err := g.ListUsers(ctx, fmt.Sprintf("userPrincipalName eq '%s'", assignee))
		if err != nil && client.StatusCode(err) != http.StatusNotFound {
			return "", "", err
		}
		if len(users) > 0 {
			id, _ := users[0]["id"].(string)
			return id, principalUser, nil
		}
	}
	sps, err := g.ListServicePrincipals(ctx, fmt.Sprintf("servicePrincipalNames/any(c:c eq '%s')", assignee))
	if err != nil {
		return "", "", err
	}
	if len(sps) > 0 {
		return sps[0].ID, principalSP, nil
	}
	if resourceid.IsGUID(assignee) {
		objs, err := g.GetByIDs(ctx, []string{assignee}, client.DirectoryObjectTypes)
		if err != nil {
			return "", "", err
		}
		if len(objs) > 0 {
			id, _ := objs[0]["id"].(string)
			t, _ := objs[0]["@odata.type"].(string)
			return id, odataTypeToPrincipalType[t], nil
		}
	}
	return "", "", errorf("Cannot find user or service principal in graph database for '%s'. "+
		"If the assignee is an appId, make sure the corresponding service principal is created with 'az ad sp create --id %s'.", assignee, assignee)
}

// displayableName is _get_displayable_name.
func displayableName(obj map[string]any) string {
	if v, ok := obj["userPrincipalName"]; ok {
		s, _ := v.(string)
		return s
	}
	if v, ok := obj["servicePrincipalNames"]; ok {
		if l, ok := v.([]any); ok && len(l) > 0 {
			s, _ := l[0].(string)
			return s
		}
		return ""
	}
	s, _ := obj["displayName"].(string)
	return s
}

// ---- output models ----------------------------------------------------------

// pyTime formats a time as az prints SDK datetimes (Python isoformat with
// microseconds and a +00:00 offset); the zero time is null.
func pyTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	s += "+00:00"
	return &s
}

// resourceGroupOfID is core's _resource_group_transform: ids of the form
// /subscriptions/s/resourceGroups/g/x/y/z... get a resourceGroup.
func resourceGroupOfID(id string) *string {
	parts := strings.Split(id, "/")
	if len(parts) < 9 || !strings.EqualFold(parts[3], "resourcegroups") {
		return nil
	}
	return &parts[4]
}

// roleAssignmentModel is the 2022-04-01 SDK model flattened, in its
// attribute order.
type roleAssignmentModel struct {
	ID                                 string  `json:"id"`
	Name                               string  `json:"name"`
	Type                               string  `json:"type"`
	Scope                              string  `json:"scope"`
	RoleDefinitionID                   string  `json:"roleDefinitionId"`
	PrincipalID                        string  `json:"principalId"`
	PrincipalType                      *string `json:"principalType"`
	Description                        *string `json:"description"`
	Condition                          *string `json:"condition"`
	ConditionVersion                   *string `json:"conditionVersion"`
	CreatedOn                          *string `json:"createdOn"`
	UpdatedOn                          *string `json:"updatedOn"`
	CreatedBy                          *string `json:"createdBy"`
	UpdatedBy                          *string `json:"updatedBy"`
	DelegatedManagedIdentityResourceID *string `json:"delegatedManagedIdentityResourceId"`
}

// roleAssignmentOut is a role assignment as az prints it: the model plus
// resourceGroup.
type roleAssignmentOut struct {
	roleAssignmentModel
	ResourceGroup *string `json:"resourceGroup,omitempty"`
}

// roleAssignmentListOut adds the names az role assignment list fills in
// (before resourceGroup, as az prints them).
type roleAssignmentListOut struct {
	roleAssignmentModel
	RoleDefinitionName *string `json:"roleDefinitionName"`
	PrincipalName      string  `json:"principalName"`
	ResourceGroup      *string `json:"resourceGroup,omitempty"`
}

func strPtrOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func flattenAssignment(r arm.RoleAssignment) roleAssignmentOut {
	p := r.Properties
	return roleAssignmentOut{
		roleAssignmentModel: roleAssignmentModel{
			ID: r.ID, Name: r.Name, Type: r.Type, Scope: p.Scope, RoleDefinitionID: p.RoleDefinitionID,
			PrincipalID: p.PrincipalID, PrincipalType: strPtrOrNil(p.PrincipalType), Description: p.Description,
			Condition: p.Condition, ConditionVersion: p.ConditionVersion,
			CreatedOn: pyTime(p.CreatedOn), UpdatedOn: pyTime(p.UpdatedOn), CreatedBy: p.CreatedBy, UpdatedBy: p.UpdatedBy,
			DelegatedManagedIdentityResourceID: p.DelegatedManagedIdentityResourceID,
		},
		ResourceGroup: resourceGroupOfID(r.ID),
	}
}

func (o roleAssignmentOut) listItem(roleName *string, principalName string) roleAssignmentListOut {
	return roleAssignmentListOut{
		roleAssignmentModel: o.roleAssignmentModel,
		RoleDefinitionName:  roleName,
		PrincipalName:       principalName,
		ResourceGroup:       o.ResourceGroup,
	}
}

// roleDefinitionOut is a role definition as az prints it (2022-04-01 SDK
// model flattened: id, name, type, roleName, description, roleType,
// permissions, assignableScopes, createdOn, updatedOn, createdBy, updatedBy).
type roleDefinitionOut struct {
	ID               string           `json:"id"`
	Name             string           `json:"name"`
	Type             string           `json:"type"`
	RoleName         string           `json:"roleName"`
	Description      string           `json:"description"`
	RoleType         string           `json:"roleType"`
	Permissions      []arm.Permission `json:"permissions"`
	AssignableScopes []string         `json:"assignableScopes"`
	CreatedOn        *string          `json:"createdOn"`
	UpdatedOn        *string          `json:"updatedOn"`
	CreatedBy        *string          `json:"createdBy"`
	UpdatedBy        *string          `json:"updatedBy"`
	ResourceGroup    *string          `json:"resourceGroup,omitempty"`
}

func flattenDefinition(d arm.RoleDefinition) roleDefinitionOut {
	p := d.Properties
	perms := p.Permissions
	if perms == nil {
		perms = []arm.Permission{}
	}
	return roleDefinitionOut{
		ID: d.ID, Name: d.Name, Type: d.Type, RoleName: p.RoleName, Description: p.Description, RoleType: p.Type,
		Permissions: perms, AssignableScopes: p.AssignableScopes,
		CreatedOn: pyTime(p.CreatedOn), UpdatedOn: pyTime(p.UpdatedOn), CreatedBy: p.CreatedBy, UpdatedBy: p.UpdatedBy,
		ResourceGroup: resourceGroupOfID(d.ID),
	}
}

// roleAssignmentExists is _error_caused_by_role_assignment_exists.
func roleAssignmentExists(err error) bool {
	re, ok := client.AsResponseError(err)
	return ok && re.StatusCode == http.StatusConflict && strings.Contains(armMessage(re), "role assignment already exists")
}
