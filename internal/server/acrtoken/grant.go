package acrtoken

import (
	"context"
	"slices"

	"github.com/cerulean/cerulean/internal/registry"
)

// The resource types a token can grant; others are dropped.
const (
	typeRepository = "repository"
	typeRegistry   = "registry"
	catalog        = "catalog"
	allActions     = "*"
)

// Limits on what one token request may name.
const (
	maxResources = 64  // distinct type:name pairs; more is a malformed request
	maxNameLen   = 256 // longer names cannot be repositories and are dropped
)

// capability is a registry permission of classic ACR RBAC mode.
type capability uint8

const (
	capPull capability = 1 << iota
	capPush
	capDelete
	capAll = capPull | capPush | capDelete
)

// rbacActions are the control-plane actions that give each capability, on
// the registry's resource id or above. Owner and Contributor ("*") hold
// all three; Reader ("*/read") pulls, as in ACR's classic mode.
var rbacActions = map[capability]string{
	capPull:   "Microsoft.ContainerRegistry/registries/pull/read",
	capPush:   "Microsoft.ContainerRegistry/registries/push/write",
	capDelete: "Microsoft.ContainerRegistry/registries/artifacts/delete",
}

// repositoryActions are the token actions on a repository and the
// capability each needs.
var repositoryActions = map[string]capability{
	"pull":           capPull,
	"metadata_read":  capPull,
	"push":           capPush,
	"metadata_write": capPush,
	"delete":         capDelete,
}

// concreteActions lists repositoryActions in a stable order.
var concreteActions = []string{"pull", "metadata_read", "push", "metadata_write", "delete"}

// rights finds out lazily which capabilities a subject holds on a
// registry, asking RBAC at most once per capability and not at all for
// what was not requested (docker login asks for nothing).
type rights struct {
	s     *Server
	ctx   context.Context
	reg   registry.Registry
	sub   subject
	known capability
	held  capability
}

func (s *Server) rightsOf(ctx context.Context, reg registry.Registry, sub subject) *rights {
	r := &rights{s: s, ctx: ctx, reg: reg, sub: sub}
	switch sub.kind {
	case adminSubject:
		r.known, r.held = capAll, capAll
	case anonymousSubject:
		r.known = capAll
		if reg.AnonymousPullEnabled {
			r.held = capPull
		}
	}
	return r
}

// has reports whether the subject holds every capability in c.
func (r *rights) has(c capability) (bool, error) {
	for _, one := range []capability{capPull, capPush, capDelete} {
		if c&one == 0 || r.known&one != 0 {
			continue
		}
		ok, err := r.s.rbac.Allowed(r.ctx, r.sub.id, rbacActions[one], r.reg.ID)
		if err != nil {
			return false, err
		}
		r.known |= one
		if ok {
			r.held |= one
		}
	}
	return r.held&c == c, nil
}

// grant is the access a subject gets for what it asked: per requested
// resource, the requested actions it holds (never an error for asking too
// much), capped by the subject's limit. Only repositories and the
// registry catalog can be granted; the catalog is never anonymous.
func (s *Server) grant(ctx context.Context, reg registry.Registry, sub subject, want []Scope) ([]Scope, error) {
	r := s.rightsOf(ctx, reg, sub)
	var out []Scope
	for _, w := range want {
		var acts []string
		var err error
		switch {
		case w.Type == typeRepository:
			acts, err = r.repository(w.Actions)
		case w.Type == typeRegistry && w.Name == catalog && sub.kind != anonymousSubject:
			var ok bool
			if ok, err = r.has(capPull); ok {
				acts = w.Actions
			}
		}
		if err != nil {
			return nil, err
		}
		if sub.limited {
			acts = intersectActions(acts, actionsFor(sub.limit, w.Type, w.Name))
		}
		if len(acts) > 0 {
			out = append(out, Scope{Type: w.Type, Name: w.Name, Actions: acts})
		}
	}
	return out, nil
}

// repository returns the requested repository actions the subject holds.
// A requested "*" is granted as "*" to a subject holding every capability
// and as the list of actions it holds otherwise.
func (r *rights) repository(want []string) ([]string, error) {
	if slices.Contains(want, allActions) {
		all, err := r.has(capAll)
		if err != nil || all {
			return []string{allActions}, err
		}
		want = concreteActions
	}
	var out []string
	for _, a := range want {
		c, ok := repositoryActions[a]
		if !ok {
			continue
		}
		held, err := r.has(c)
		if err != nil {
			return nil, err
		}
		if held && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// permissionNames are a refresh token's permissions.Actions, as ACR names
// them, for the capabilities the subject holds.
func (r *rights) permissionNames() ([]string, error) {
	names := []string{}
	for _, p := range []struct {
		c    capability
		name string
	}{{capPull, "read"}, {capPush, "write"}, {capDelete, "delete"}} {
		ok, err := r.has(p.c)
		if err != nil {
			return nil, err
		}
		if ok {
			names = append(names, p.name)
		}
	}
	return names, nil
}

// intersect returns the part of want that granted allows, per resource;
// resources left with no action are dropped. A "*" on either side means
// every action.
func intersect(granted, want []Scope) []Scope {
	var out []Scope
	for _, w := range want {
		if acts := intersectActions(w.Actions, actionsFor(granted, w.Type, w.Name)); len(acts) > 0 {
			out = append(out, Scope{Type: w.Type, Name: w.Name, Actions: acts})
		}
	}
	return out
}

// actionsFor collects the actions scopes hold on one resource.
func actionsFor(scopes []Scope, typ, name string) []string {
	var acts []string
	for _, s := range scopes {
		if s.Type == typ && s.Name == name {
			acts = append(acts, s.Actions...)
		}
	}
	return acts
}

// intersectActions returns the actions of want that have allows.
func intersectActions(want, have []string) []string {
	switch {
	case len(want) == 0 || len(have) == 0:
		return nil
	case slices.Contains(have, allActions):
		return want
	case slices.Contains(want, allActions):
		return have
	}
	var out []string
	for _, a := range want {
		if slices.Contains(have, a) {
			out = append(out, a)
		}
	}
	return out
}

// normalize merges requested scopes that name the same resource, drops
// names too long to be anything, and refuses requests naming more than
// maxResources resources.
func normalize(scopes []Scope) ([]Scope, error) {
	var out []Scope
	for _, sc := range scopes {
		if len(sc.Name) > maxNameLen {
			continue
		}
		i := slices.IndexFunc(out, func(o Scope) bool { return o.Type == sc.Type && o.Name == sc.Name })
		if i < 0 {
			if len(out) == maxResources {
				return nil, errTooManyScopes
			}
			out = append(out, Scope{Type: sc.Type, Name: sc.Name, Actions: slices.Clone(sc.Actions)})
			continue
		}
		for _, a := range sc.Actions {
			if !slices.Contains(out[i].Actions, a) {
				out[i].Actions = append(out[i].Actions, a)
			}
		}
	}
	return out, nil
}
