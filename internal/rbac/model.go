// Package rbac is Azure role-based access control: the built-in role
// definitions, role assignments at ARM scopes, inheritance down the scope
// tree, and the one authorization check every management request passes.
package rbac

import (
	"context"
	"time"

	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// Permission is one permission block of a role definition. Entries are
// case-insensitive action patterns where "*" matches any run of characters.
type Permission struct {
	Actions        []string
	NotActions     []string
	DataActions    []string
	NotDataActions []string
}

// RoleDefinition is a role. Cerulean ships Azure's built-in roles with their
// real GUIDs.
type RoleDefinition struct {
	ID               string // lower-case GUID; also the role's ARM "name"
	RoleName         string
	Description      string
	RoleType         string // "BuiltInRole"
	Permissions      []Permission
	AssignableScopes []string
	CreatedOn        time.Time
	UpdatedOn        time.Time
}

// RoleAssignment grants a role to a principal at a scope and below.
type RoleAssignment struct {
	Name             string // lower-case GUID, unique tenant-wide
	Scope            resourceid.ID
	RoleDefinitionID string // lower-case GUID of the role definition
	PrincipalID      string
	PrincipalType    principal.Type
	Description      string
	Condition        string
	ConditionVersion string
	CreatedOn        time.Time
	UpdatedOn        time.Time
	CreatedBy        string // object id of the creator
	UpdatedBy        string
}

// Query selects role assignments. An assignment matches when its principal
// is PrincipalID (if set) and its scope is one of Scopes (exact,
// case-insensitive) or lies strictly below Below (if set). With neither
// Scopes nor Below set, every scope matches.
type Query struct {
	PrincipalID string
	Scopes      []resourceid.ID
	Below       *resourceid.ID
}

// Store persists role assignments. Create fails with AlreadyExists when the
// name is taken and with Conflict when the same principal already holds the
// same role at the same scope. Results are ordered by creation time, then name.
type Store interface {
	CreateRoleAssignment(ctx context.Context, ra RoleAssignment) error
	GetRoleAssignment(ctx context.Context, name string) (RoleAssignment, error)
	DeleteRoleAssignment(ctx context.Context, name string) error
	ListRoleAssignments(ctx context.Context, q Query) ([]RoleAssignment, error)
}
