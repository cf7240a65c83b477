// Package arm holds the Azure Resource Manager wire types: the error
// envelope, list pages, subscriptions, resource groups, generic resources,
// and Microsoft.Authorization role definitions and assignments.
package arm

import "time"

// ErrorResponse is ARM's error envelope.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the body of an ARM error.
type ErrorDetail struct {
	Code           string           `json:"code"`
	Message        string           `json:"message"`
	Target         string           `json:"target,omitempty"`
	Details        []ErrorDetail    `json:"details,omitempty"`
	AdditionalInfo []AdditionalInfo `json:"additionalInfo,omitempty"`
}

// AdditionalInfo is a typed extra in an ARM error.
type AdditionalInfo struct {
	Type string `json:"type"`
	Info any    `json:"info"`
}

// List is one page of an ARM collection.
type List[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"nextLink,omitempty"`
}

// Subscription is GET /subscriptions/{id}.
type Subscription struct {
	ID                   string               `json:"id"`
	AuthorizationSource  string               `json:"authorizationSource"`
	ManagedByTenants     []ManagedByTenant    `json:"managedByTenants"`
	SubscriptionID       string               `json:"subscriptionId"`
	TenantID             string               `json:"tenantId"`
	DisplayName          string               `json:"displayName"`
	State                string               `json:"state"`
	SubscriptionPolicies SubscriptionPolicies `json:"subscriptionPolicies"`
}

// ManagedByTenant names a tenant that manages a subscription.
type ManagedByTenant struct {
	TenantID string `json:"tenantId"`
}

// SubscriptionPolicies are a subscription's policies.
type SubscriptionPolicies struct {
	LocationPlacementID string `json:"locationPlacementId"`
	QuotaID             string `json:"quotaId"`
	SpendingLimit       string `json:"spendingLimit"`
}

// Tenant is an item of GET /tenants.
type Tenant struct {
	ID            string   `json:"id"`
	TenantID      string   `json:"tenantId"`
	DisplayName   string   `json:"displayName"`
	DefaultDomain string   `json:"defaultDomain"`
	Domains       []string `json:"domains"`
	TenantType    string   `json:"tenantType"`
}

// ResourceGroup is Microsoft.Resources/resourceGroups.
type ResourceGroup struct {
	ID         string                  `json:"id"`
	Name       string                  `json:"name"`
	Type       string                  `json:"type"`
	Location   string                  `json:"location"`
	ManagedBy  *string                 `json:"managedBy"`
	Tags       map[string]string       `json:"tags"`
	Properties ResourceGroupProperties `json:"properties"`
}

// ResourceGroupProperties are a resource group's properties.
type ResourceGroupProperties struct {
	ProvisioningState string `json:"provisioningState"`
}

// ResourceGroupPut is the body of PUT …/resourcegroups/{name}.
type ResourceGroupPut struct {
	Location   string            `json:"location"`
	ManagedBy  *string           `json:"managedBy,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	Properties *struct{}         `json:"properties,omitempty"`
	// Read-only fields a client may echo back from a GET.
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

// ResourceGroupPatch is the body of PATCH …/resourcegroups/{name}.
type ResourceGroupPatch struct {
	Name       string            `json:"name,omitempty"`
	ManagedBy  *string           `json:"managedBy,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	Properties *struct{}         `json:"properties,omitempty"`
}

// GenericResource is an item of GET /subscriptions/{s}/resources.
type GenericResource struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	Location    string            `json:"location"`
	Kind        string            `json:"kind,omitempty"`
	SKU         *SKU              `json:"sku,omitempty"`
	Tags        map[string]string `json:"tags"`
	CreatedTime *time.Time        `json:"createdTime,omitempty"`
	ChangedTime *time.Time        `json:"changedTime,omitempty"`
}

// SKU is a resource's pricing tier.
type SKU struct {
	Name string `json:"name"`
	Tier string `json:"tier,omitempty"`
}

// Permission is a role definition permission block.
type Permission struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

// RoleDefinition is Microsoft.Authorization/roleDefinitions.
type RoleDefinition struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties RoleDefinitionProperties `json:"properties"`
}

// RoleDefinitionProperties are a role definition's properties.
type RoleDefinitionProperties struct {
	RoleName         string       `json:"roleName"`
	Type             string       `json:"type"`
	Description      string       `json:"description"`
	AssignableScopes []string     `json:"assignableScopes"`
	Permissions      []Permission `json:"permissions"`
	CreatedOn        time.Time    `json:"createdOn"`
	UpdatedOn        time.Time    `json:"updatedOn"`
	CreatedBy        *string      `json:"createdBy"`
	UpdatedBy        *string      `json:"updatedBy"`
}

// RoleAssignment is Microsoft.Authorization/roleAssignments.
type RoleAssignment struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties RoleAssignmentProperties `json:"properties"`
}

// RoleAssignmentProperties are a role assignment's properties.
type RoleAssignmentProperties struct {
	RoleDefinitionID                   string    `json:"roleDefinitionId"`
	PrincipalID                        string    `json:"principalId"`
	PrincipalType                      string    `json:"principalType"`
	Scope                              string    `json:"scope"`
	Condition                          *string   `json:"condition"`
	ConditionVersion                   *string   `json:"conditionVersion"`
	CreatedOn                          time.Time `json:"createdOn"`
	UpdatedOn                          time.Time `json:"updatedOn"`
	CreatedBy                          *string   `json:"createdBy"`
	UpdatedBy                          *string   `json:"updatedBy"`
	DelegatedManagedIdentityResourceID *string   `json:"delegatedManagedIdentityResourceId"`
	Description                        *string   `json:"description"`
}

// RoleAssignmentCreate is the body of PUT …/roleAssignments/{name}.
type RoleAssignmentCreate struct {
	Properties RoleAssignmentCreateProperties `json:"properties"`
}

// RoleAssignmentCreateProperties are the settable role assignment fields.
type RoleAssignmentCreateProperties struct {
	RoleDefinitionID                   string  `json:"roleDefinitionId"`
	PrincipalID                        string  `json:"principalId"`
	PrincipalType                      string  `json:"principalType,omitempty"`
	Description                        *string `json:"description,omitempty"`
	Condition                          *string `json:"condition,omitempty"`
	ConditionVersion                   *string `json:"conditionVersion,omitempty"`
	DelegatedManagedIdentityResourceID *string `json:"delegatedManagedIdentityResourceId,omitempty"`
	// Read-only fields a client may echo back from a GET.
	Scope     string     `json:"scope,omitempty"`
	CreatedOn *time.Time `json:"createdOn,omitempty"`
	UpdatedOn *time.Time `json:"updatedOn,omitempty"`
	CreatedBy *string    `json:"createdBy,omitempty"`
	UpdatedBy *string    `json:"updatedBy,omitempty"`
}
