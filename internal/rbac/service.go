package rbac

import (
	"context"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/principal"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// The rbac errors.
var (
	ErrAuthorizationFailed      = errdefs.New(errdefs.PermissionDenied, "AuthorizationFailed", "authorization failed")
	ErrRoleDefinitionNotFound   = errdefs.New(errdefs.InvalidArgument, "RoleDefinitionDoesNotExist", "role definition does not exist")
	ErrRoleDefinitionUnknown    = errdefs.New(errdefs.NotFound, "RoleDefinitionDoesNotExist", "role definition does not exist")
	ErrRoleAssignmentNotFound   = errdefs.New(errdefs.NotFound, "RoleAssignmentNotFound", "role assignment not found")
	ErrRoleAssignmentExists     = errdefs.New(errdefs.Conflict, "RoleAssignmentExists", "The role assignment already exists.")
	ErrRoleAssignmentImmutable  = errdefs.New(errdefs.Conflict, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
	ErrInvalidRoleAssignment    = errdefs.New(errdefs.InvalidArgument, "InvalidRoleAssignmentId", "invalid role assignment id")
	ErrPrincipalNotFound        = errdefs.New(errdefs.InvalidArgument, "PrincipalNotFound", "principal not found")
	ErrPrincipalTypeMismatch    = errdefs.New(errdefs.InvalidArgument, "PrincipalTypeNotSupported", "principal type mismatch")
	ErrInvalidCondition         = errdefs.New(errdefs.InvalidArgument, "InvalidConditionVersion", "invalid condition version")
	ErrUnsupportedPrincipalType = errdefs.New(errdefs.InvalidArgument, "UnsupportedPrincipalType", "unsupported principal type")
)

// Directory tells whether a principal exists in a tenant; the identity
// service satisfies it through a small adapter in the composition root.
type Directory interface {
	PrincipalType(ctx context.Context, tenantID, objectID string) (principal.Type, error)
}

// Service manages role assignments and answers authorization checks.
type Service struct {
	store Store
	dir   Directory
	now   func() time.Time
}

// NewService returns a Service. now may be nil (time.Now).
func NewService(store Store, dir Directory, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, dir: dir, now: now}
}

// Check authorizes a control-plane action at a scope: some role assigned to
// the principal at the scope or above must allow it.
func (s *Service) Check(ctx context.Context, p principal.Principal, action string, scope resourceid.ID) error {
	ok, err := s.Allowed(ctx, p.ObjectID, action, scope)
	if err != nil {
		return err
	}
	if !ok {
		return ErrAuthorizationFailed.WithMessage("The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
			p.ObjectID, p.ObjectID, action, scope.String()).WithTarget(scope.String())
	}
	return nil
}

// Allowed reports whether the principal may perform action at scope.
func (s *Service) Allowed(ctx context.Context, principalID, action string, scope resourceid.ID) (bool, error) {
	as, err := s.store.ListRoleAssignments(ctx, Query{PrincipalID: principalID, Scopes: scope.Ancestors()})
	if err != nil {
		return false, err
	}
	for _, a := range as {
		if d, ok := RoleDefinitionByID(a.RoleDefinitionID); ok && d.Allows(action) {
			return true, nil
		}
	}
	return false, nil
}

// CreateInput is a new role assignment.
type CreateInput struct {
	TenantID         string
	Scope            resourceid.ID
	Name             string
	RoleDefinitionID string // a GUID or a role definition resource id
	PrincipalID      string
	PrincipalType    principal.Type // optional
	Description      string
	Condition        string
	ConditionVersion string
	CreatedBy        string
}

// RoleDefinitionGUID extracts the role GUID from a role definition id of the
// form …/providers/Microsoft.Authorization/roleDefinitions/{guid}, or
// accepts a bare GUID.
func RoleDefinitionGUID(id string) (string, bool) {
	guid := id
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		prefix := strings.ToLower(id[:i])
		if !strings.HasSuffix(prefix, "/providers/microsoft.authorization/roledefinitions") {
			return "", false
		}
		guid = id[i+1:]
	}
	if !resourceid.IsGUID(guid) {
		return "", false
	}
	return strings.ToLower(guid), true
}

// Create creates a role assignment. It reports created=false when an
// identical assignment with the same name already exists (PUT is
// idempotent).
func (s *Service) Create(ctx context.Context, in CreateInput) (RoleAssignment, bool, error) {
	if !resourceid.IsGUID(in.Name) {
		return RoleAssignment{}, false, ErrInvalidRoleAssignment.WithMessage("The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", in.Name).WithTarget("name")
	}
	roleID, ok := RoleDefinitionGUID(in.RoleDefinitionID)
	if !ok {
		return RoleAssignment{}, false, ErrRoleDefinitionNotFound.WithMessage("The specified role definition with ID '%s' does not exist.", in.RoleDefinitionID).WithTarget("roleDefinitionId")
	}
	if _, ok := RoleDefinitionByID(roleID); !ok {
		return RoleAssignment{}, false, ErrRoleDefinitionNotFound.WithMessage("The specified role definition with ID '%s' does not exist.", roleID).WithTarget("roleDefinitionId")
	}
	if !resourceid.IsGUID(in.PrincipalID) {
		return RoleAssignment{}, false, ErrPrincipalNotFound.WithMessage("The principal ID '%s' is not a valid GUID.", in.PrincipalID).WithTarget("principalId")
	}
	if in.ConditionVersion != "" && in.ConditionVersion != "2.0" {
		return RoleAssignment{}, false, ErrInvalidCondition.WithMessage("The condition version '%s' is not supported. Supported version is 2.0.", in.ConditionVersion)
	}
	if in.Condition != "" {
		return RoleAssignment{}, false, errdefs.New(errdefs.InvalidArgument, "ConditionNotSupported", "Role assignment conditions (ABAC) are not supported by Cerulean.").WithTarget("condition")
	}
	typ, err := s.dir.PrincipalType(ctx, in.TenantID, in.PrincipalID)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return RoleAssignment{}, false, ErrPrincipalNotFound.WithMessage("Principal %s does not exist in the directory %s. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
			strings.ReplaceAll(in.PrincipalID, "-", ""), in.TenantID).WithTarget("principalId")
	}
	if err != nil {
		return RoleAssignment{}, false, err
	}
	if in.PrincipalType != "" && !strings.EqualFold(string(in.PrincipalType), string(typ)) {
		return RoleAssignment{}, false, ErrPrincipalTypeMismatch.WithMessage("The principal type '%s' does not match the type '%s' of principal %s in the directory.", in.PrincipalType, typ, in.PrincipalID).WithTarget("principalType")
	}
	now := s.now().UTC()
	ra := RoleAssignment{
		Name: strings.ToLower(in.Name), Scope: in.Scope, RoleDefinitionID: roleID, PrincipalID: strings.ToLower(in.PrincipalID),
		PrincipalType: typ, Description: in.Description, ConditionVersion: in.ConditionVersion,
		CreatedOn: now, UpdatedOn: now, CreatedBy: in.CreatedBy, UpdatedBy: in.CreatedBy,
	}
	err = s.store.CreateRoleAssignment(ctx, ra)
	switch {
	case err == nil:
		return ra, true, nil
	case errdefs.IsKind(err, errdefs.AlreadyExists):
		cur, gerr := s.store.GetRoleAssignment(ctx, ra.Name)
		if gerr != nil {
			return RoleAssignment{}, false, gerr
		}
		if cur.Scope.Equal(ra.Scope) && cur.PrincipalID == ra.PrincipalID && cur.RoleDefinitionID == ra.RoleDefinitionID {
			return cur, false, nil
		}
		return RoleAssignment{}, false, ErrRoleAssignmentImmutable
	case errdefs.IsKind(err, errdefs.Conflict):
		return RoleAssignment{}, false, ErrRoleAssignmentExists
	}
	return RoleAssignment{}, false, err
}

// Get returns the assignment named name at scope.
func (s *Service) Get(ctx context.Context, scope resourceid.ID, name string) (RoleAssignment, error) {
	ra, err := s.store.GetRoleAssignment(ctx, strings.ToLower(name))
	if errdefs.IsKind(err, errdefs.NotFound) || err == nil && !ra.Scope.Equal(scope) {
		return RoleAssignment{}, ErrRoleAssignmentNotFound.WithMessage("The role assignment '%s' is not found.", name).WithTarget(name)
	}
	return ra, err
}

// Delete deletes the assignment named name at scope and returns it.
func (s *Service) Delete(ctx context.Context, scope resourceid.ID, name string) (RoleAssignment, error) {
	ra, err := s.Get(ctx, scope, name)
	if err != nil {
		return RoleAssignment{}, err
	}
	if err := s.store.DeleteRoleAssignment(ctx, ra.Name); err != nil {
		if errdefs.IsKind(err, errdefs.NotFound) {
			return RoleAssignment{}, ErrRoleAssignmentNotFound.WithMessage("The role assignment '%s' is not found.", name).WithTarget(name)
		}
		return RoleAssignment{}, err
	}
	return ra, nil
}

// ListFilter narrows List. AtScope keeps only assignments at the scope and
// above; PrincipalID keeps one principal's (principalId eq / assignedTo()).
type ListFilter struct {
	AtScope     bool
	PrincipalID string
}

// List returns the assignments that apply at scope (at it and above) and,
// unless AtScope, those below it too — as ARM's list does.
func (s *Service) List(ctx context.Context, scope resourceid.ID, f ListFilter) ([]RoleAssignment, error) {
	q := Query{PrincipalID: strings.ToLower(f.PrincipalID), Scopes: scope.Ancestors()}
	if !f.AtScope {
		q.Below = &scope
	}
	return s.store.ListRoleAssignments(ctx, q)
}
