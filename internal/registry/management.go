package registry

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"maps"
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// ResourceType is the ARM type of registries.
const ResourceType = "Microsoft.ContainerRegistry/registries"

// ErrLocationNotAvailable is a location ARM does not list.
var ErrLocationNotAvailable = resource.ErrLocationNotAvailable

// Admin password names, as listCredentials shows them.
const (
	PasswordName  = "password"
	PasswordName2 = "password2"
)

// CreateInput is the body of a registry PUT.
type CreateInput struct {
	Group                resourceid.ID // the resource group
	Name, Location       string
	SKU                  string // Basic|Standard|Premium, any case
	AdminUserEnabled     bool
	AnonymousPullEnabled bool
	Tags                 map[string]string
	CreatedBy            string // the caller's object id
}

// Create is ARM PUT: it creates the registry (created=true) or, when a
// registry of that name exists in the same group, replaces its updatable
// properties. Names are global: one in another group or subscription is
// ErrRegistryNameTaken.
func (s *Service) Create(ctx context.Context, in CreateInput) (Registry, bool, error) {
	if in.Group.Level() != resourceid.ResourceGroup {
		return Registry{}, false, errdefs.Newf(errdefs.InvalidArgument, "InvalidScope", "'%s' is not a resource group", in.Group)
	}
	if !ValidRegistryName(in.Name) {
		return Registry{}, false, invalidRegistryName(in.Name)
	}
	sku, err := canonicalSKU(in.SKU)
	if err != nil {
		return Registry{}, false, err
	}
	loc, err := normalizeLocation(in.Location)
	if err != nil {
		return Registry{}, false, err
	}
	if err := resource.ValidateTags(in.Tags); err != nil {
		return Registry{}, false, err
	}
	if err := checkAnonymousPull(sku, in.AnonymousPullEnabled); err != nil {
		return Registry{}, false, err
	}
	now := s.clock()
	cur, err := s.store.GetRegistry(ctx, in.Name)
	switch {
	case err == nil:
		r, err := s.replace(ctx, cur, in.Group, sku, loc, in)
		return r, false, err
	case !errdefs.IsKind(err, errdefs.NotFound):
		return Registry{}, false, err
	}

	instance, err := s.newInstanceID()
	if err != nil {
		return Registry{}, false, err
	}
	passwords := make([]AdminPassword, 0, 2)
	for _, name := range []string{PasswordName, PasswordName2} {
		p, err := s.newAdminPassword(name)
		if err != nil {
			return Registry{}, false, err
		}
		passwords = append(passwords, p)
	}
	sub := strings.ToLower(in.Group.SubscriptionID)
	r := Registry{
		ID:       resourceid.ForResource(sub, in.Group.ResourceGroup, "Microsoft.ContainerRegistry", "registries", in.Name),
		Name:     in.Name,
		Location: loc, Tags: maps.Clone(in.Tags), SKU: sku,
		AdminUserEnabled: in.AdminUserEnabled, AnonymousPullEnabled: in.AnonymousPullEnabled,
		LoginServer:       loginServer(in.Name, s.domain, s.port),
		InstanceID:        instance,
		ProvisioningState: "Succeeded",
		AdminPasswords:    passwords,
		CreatedAt:         now, CreatedBy: in.CreatedBy, ChangedAt: now, ChangedBy: in.CreatedBy,
	}
	switch err := s.store.CreateRegistry(ctx, r); {
	case errdefs.IsKind(err, errdefs.AlreadyExists):
		// Created meanwhile by another request: PUT semantics still hold.
		cur, gerr := s.store.GetRegistry(ctx, in.Name)
		if gerr != nil {
			return Registry{}, false, s.nameTaken(in.Name)
		}
		r, err := s.replace(ctx, cur, in.Group, sku, loc, in)
		return r, false, err
	case errdefs.IsKind(err, errdefs.NotFound):
		return Registry{}, false, resource.ErrGroupNotFound.WithMessage("Resource group '%s' could not be found.", in.Group.ResourceGroup).WithTarget(in.Group.ResourceGroup)
	case err != nil:
		return Registry{}, false, err
	}
	s.log.InfoContext(ctx, "registry created", "registry", r.Name, "sku", r.SKU, "created_by", r.CreatedBy)
	return r, true, nil
}

// newInstanceID draws a registry's instance id: 128 random bits, hex.
func (s *Service) newInstanceID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", errdefs.Internalf(err, "registry: generate instance id")
	}
	return hex.EncodeToString(b[:]), nil
}

// AdoptLoginServers gives every registry the login server of the current
// configuration, <name>.<Domain>[:Port], as Azure derives loginServer from
// the name and the cloud's suffix. Run at start: after the registry domain
// (or the port) changed, the stored login servers — which the token
// service's challenge realm and the audience of new tokens come from —
// would name hosts the serving certificate no longer covers. Tokens issued
// under the old name carry it as their audience and stop working. Each
// change is logged.
func (s *Service) AdoptLoginServers(ctx context.Context) error {
	moved, err := s.store.MoveLoginServers(ctx, func(name string) string { return loginServer(name, s.domain, s.port) })
	if err != nil {
		return err
	}
	for _, m := range moved {
		s.log.InfoContext(ctx, "registry login server changed", "registry", m.Name, "old", m.From, "new", m.To)
	}
	return nil
}

// replace applies a PUT to an existing registry: the updatable properties
// take the body's values.
func (s *Service) replace(ctx context.Context, cur Registry, group resourceid.ID, sku, loc string, in CreateInput) (Registry, error) {
	if !inGroup(cur, group) {
		return Registry{}, s.nameTaken(in.Name)
	}
	if cur.Location != loc {
		return Registry{}, ErrLocationMismatched.WithMessage("The resource '%s' already exists in location '%s'. A resource with the same name cannot be created in location '%s'.",
			cur.Name, cur.Location, loc).WithTarget("location")
	}
	now := s.clock()
	return s.store.UpdateRegistry(ctx, cur.Name, func(r *Registry) error {
		if !inGroup(*r, group) || r.Location != loc {
			return s.nameTaken(in.Name)
		}
		r.SKU = sku
		r.AdminUserEnabled = in.AdminUserEnabled
		r.AnonymousPullEnabled = in.AnonymousPullEnabled
		r.Tags = maps.Clone(in.Tags)
		r.ChangedAt, r.ChangedBy = now, in.CreatedBy
		return nil
	})
}

func (s *Service) nameTaken(name string) error {
	return ErrRegistryNameTaken.WithMessage("The registry DNS name %s is already in use. You can check if the name is already claimed using following API: https://docs.microsoft.com/en-us/rest/api/containerregistry/registries/checknameavailability",
		loginServer(name, s.domain, "")).WithTarget(name)
}

// inGroup reports whether the registry lives in the resource group.
func inGroup(r Registry, group resourceid.ID) bool {
	return strings.EqualFold(r.ID.SubscriptionID, group.SubscriptionID) && strings.EqualFold(r.ID.ResourceGroup, group.ResourceGroup)
}

func registryNotFound(group resourceid.ID, name string) error {
	return ErrRegistryNotFound.WithMessage("The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		ResourceType, name, group.ResourceGroup).WithTarget(name)
}

// Get returns a registry of a resource group.
func (s *Service) Get(ctx context.Context, group resourceid.ID, name string) (Registry, error) {
	r, err := s.store.GetRegistry(ctx, name)
	switch {
	case errdefs.IsKind(err, errdefs.NotFound) || err == nil && !inGroup(r, group):
		return Registry{}, registryNotFound(group, name)
	case err != nil:
		return Registry{}, err
	}
	return r, nil
}

// ByName returns a registry by its (global) name.
func (s *Service) ByName(ctx context.Context, name string) (Registry, error) {
	if !ValidRegistryName(name) {
		return Registry{}, ErrRegistryNotFound.WithMessage("registry '%s' not found", truncate(name)).WithTarget(truncate(name))
	}
	r, err := s.store.GetRegistry(ctx, name)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Registry{}, ErrRegistryNotFound.WithMessage("registry '%s' not found", name).WithTarget(name)
	}
	return r, err
}

// ByLoginServer returns the registry a request's Host names: any case,
// with or without a port.
func (s *Service) ByLoginServer(ctx context.Context, host string) (Registry, error) {
	name := registryNameFromHost(host, s.domain)
	if name == "" {
		return Registry{}, ErrRegistryNotFound.WithMessage("'%s' is not a registry login server", truncate(host)).WithTarget(truncate(host))
	}
	return s.ByName(ctx, name)
}

// UpdateInput is the body of a registry PATCH; nil leaves a field.
type UpdateInput struct {
	SKU                  *string
	AdminUserEnabled     *bool
	AnonymousPullEnabled *bool
	Tags                 map[string]string
	SetTags              bool
	ChangedBy            string
}

// Update changes a registry's updatable properties.
func (s *Service) Update(ctx context.Context, group resourceid.ID, name string, in UpdateInput) (Registry, error) {
	var sku string
	if in.SKU != nil {
		var err error
		if sku, err = canonicalSKU(*in.SKU); err != nil {
			return Registry{}, err
		}
	}
	if in.SetTags {
		if err := resource.ValidateTags(in.Tags); err != nil {
			return Registry{}, err
		}
	}
	if _, err := s.Get(ctx, group, name); err != nil {
		return Registry{}, err
	}
	now := s.clock()
	r, err := s.store.UpdateRegistry(ctx, name, func(r *Registry) error {
		if !inGroup(*r, group) {
			return registryNotFound(group, name)
		}
		if in.SKU != nil {
			r.SKU = sku
		}
		if in.AdminUserEnabled != nil {
			r.AdminUserEnabled = *in.AdminUserEnabled
		}
		if in.AnonymousPullEnabled != nil {
			r.AnonymousPullEnabled = *in.AnonymousPullEnabled
		}
		if in.SetTags {
			r.Tags = maps.Clone(in.Tags)
		}
		if in.SKU != nil || in.AnonymousPullEnabled != nil {
			// Enabling anonymous pull on Basic, or moving a registry that
			// has it to Basic; a PATCH of other fields leaves a registry
			// stored before this rule alone.
			if err := checkAnonymousPull(r.SKU, r.AnonymousPullEnabled); err != nil {
				return err
			}
		}
		r.ChangedAt, r.ChangedBy = now, in.ChangedBy
		return nil
	})
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Registry{}, registryNotFound(group, name)
	}
	return r, err
}

// Delete removes the registry and its content. Blobs no other registry
// references are collected by GC later.
func (s *Service) Delete(ctx context.Context, group resourceid.ID, name string) error {
	r, err := s.Get(ctx, group, name)
	if err != nil {
		return err
	}
	err = s.store.DeleteRegistry(ctx, r.Name)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return registryNotFound(group, name)
	}
	if err == nil {
		s.log.InfoContext(ctx, "registry deleted", "registry", r.Name)
	}
	return err
}

// List lists a subscription's registries, or one group's.
func (s *Service) List(ctx context.Context, subscriptionID, group string) ([]Registry, error) {
	return s.store.ListRegistries(ctx, strings.ToLower(subscriptionID), group)
}

// NameAvailability answers checkNameAvailability.
type NameAvailability struct {
	Available       bool
	Reason, Message string // Reason: "Invalid" or "AlreadyExists"
}

// CheckName reports whether a registry name is valid and free.
func (s *Service) CheckName(ctx context.Context, name string) (NameAvailability, error) {
	if !ValidRegistryName(name) {
		return NameAvailability{Reason: "Invalid", Message: errdefs.As(invalidRegistryName(name)).Message}, nil
	}
	switch _, err := s.store.GetRegistry(ctx, name); {
	case err == nil:
		return NameAvailability{Reason: "AlreadyExists", Message: "The registry " + name + " is already in use."}, nil
	case errdefs.IsKind(err, errdefs.NotFound):
		return NameAvailability{Available: true}, nil
	default:
		return NameAvailability{}, err
	}
}

// Credentials are the admin user's, as listCredentials shows them.
type Credentials struct {
	Username  string
	Passwords []Password
}

// Password is one admin password in the clear.
type Password struct{ Name, Value string }

// Credentials returns the admin user name and passwords;
// ErrAdminUserDisabled while the admin user is off.
func (s *Service) Credentials(ctx context.Context, group resourceid.ID, name string) (Credentials, error) {
	r, err := s.Get(ctx, group, name)
	if err != nil {
		return Credentials{}, err
	}
	return s.credentials(r)
}

func (s *Service) credentials(r Registry) (Credentials, error) {
	if !r.AdminUserEnabled {
		return Credentials{}, adminDisabled(r)
	}
	c := Credentials{Username: r.Name}
	for _, p := range r.AdminPasswords {
		v, err := s.sealer.Open(p.Sealed)
		if err != nil {
			return Credentials{}, errdefs.Internalf(err, "registry: open admin password %s of %s", p.Name, r.Name)
		}
		c.Passwords = append(c.Passwords, Password{Name: p.Name, Value: string(v)})
	}
	return c, nil
}

func adminDisabled(r Registry) error {
	return ErrAdminUserDisabled.WithMessage("Cannot perform credential operations for %s as admin user is disabled. Kindly enable admin user as per docs: https://docs.microsoft.com/en-us/azure/container-registry/container-registry-authentication#admin-account",
		r.ID).WithTarget(r.Name)
}

// RegenerateCredential replaces one admin password ("password" or
// "password2") with a new random one and returns the credentials.
func (s *Service) RegenerateCredential(ctx context.Context, group resourceid.ID, name, passwordName string) (Credentials, error) {
	var which string
	switch {
	case strings.EqualFold(passwordName, PasswordName):
		which = PasswordName
	case strings.EqualFold(passwordName, PasswordName2):
		which = PasswordName2
	default:
		return Credentials{}, ErrInvalidPassword.WithMessage("The password name '%s' is invalid. Valid names are '%s' and '%s'.", truncate(passwordName), PasswordName, PasswordName2).WithTarget("name")
	}
	cur, err := s.Get(ctx, group, name)
	if err != nil {
		return Credentials{}, err
	}
	if !cur.AdminUserEnabled {
		return Credentials{}, adminDisabled(cur)
	}
	p, err := s.newAdminPassword(which)
	if err != nil {
		return Credentials{}, err
	}
	r, err := s.store.UpdateRegistry(ctx, cur.Name, func(r *Registry) error {
		if !inGroup(*r, group) {
			return registryNotFound(group, name)
		}
		if !r.AdminUserEnabled {
			return adminDisabled(*r)
		}
		ps := make([]AdminPassword, 0, 2)
		replaced := false
		for _, old := range r.AdminPasswords {
			if old.Name == which {
				old, replaced = p, true
			}
			ps = append(ps, old)
		}
		if !replaced {
			ps = append(ps, p)
		}
		r.AdminPasswords = ps
		return nil
	})
	if err != nil {
		return Credentials{}, err
	}
	s.log.InfoContext(ctx, "admin password regenerated", "registry", r.Name, "password", which)
	return s.credentials(r)
}

// CheckAdmin reports whether username and password are the registry's
// admin user: the admin user enabled, the registry's name (any case) and
// either password, compared in constant time.
func (s *Service) CheckAdmin(ctx context.Context, r Registry, username, password string) bool {
	if !r.AdminUserEnabled || !strings.EqualFold(username, r.Name) || password == "" {
		return false
	}
	ok := 0
	for _, p := range r.AdminPasswords {
		v, err := s.sealer.Open(p.Sealed)
		if err != nil {
			s.log.ErrorContext(ctx, "admin password cannot be opened", "registry", r.Name, "password", p.Name, "error", err)
			continue
		}
		ok |= subtle.ConstantTimeCompare(v, []byte(password))
	}
	return ok == 1
}

// checkAnonymousPull refuses anonymous pull on Basic: Azure offers it on
// Standard and Premium only.
func checkAnonymousPull(sku string, anonymousPull bool) error {
	if anonymousPull && sku == SKUBasic {
		return ErrAnonymousPullNotSupported
	}
	return nil
}

// canonicalSKU accepts a SKU name in any case.
func canonicalSKU(sku string) (string, error) {
	for _, c := range []string{SKUBasic, SKUStandard, SKUPremium} {
		if strings.EqualFold(sku, c) {
			return c, nil
		}
	}
	return "", ErrInvalidSKU.WithMessage("The SKU '%s' is not valid. Valid SKUs are Basic, Standard and Premium.", truncate(sku)).WithTarget("sku.name")
}

// normalizeLocation turns "East US" into "eastus", as ARM does, after
// checking that ARM lists the location.
func normalizeLocation(loc string) (string, error) {
	if err := resource.CheckLocation(loc, ResourceType); err != nil {
		return "", err
	}
	return resource.NormalizeLocation(loc), nil
}
