// Package store declares the metadata store: the union of the stores each
// domain package declares, served by one transactional backend. Backends
// live in sub-packages; storetest is the conformance suite they all pass.
package store

import (
	"github.com/cerulean/cerulean/internal/containergroup"
	"github.com/cerulean/cerulean/internal/identity"
	"github.com/cerulean/cerulean/internal/rbac"
	"github.com/cerulean/cerulean/internal/registry"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/task"
)

// Store is a metadata backend.
type Store interface {
	Identity() identity.Store
	RBAC() rbac.Store
	Resources() resource.Store
	Registry() registry.Store
	ContainerGroups() containergroup.Store
	Tasks() task.Store
	Close() error
}
