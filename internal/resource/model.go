// Package resource is the Azure Resource Manager hierarchy: subscriptions,
// resource groups and the generic resource index every resource provider
// registers its resources in.
package resource

import (
	"context"
	"time"

	"github.com/cerulean/cerulean/internal/resourceid"
)

// Subscription is an ARM subscription, owned by one tenant.
type Subscription struct {
	ID          string // GUID
	DisplayName string
	TenantID    string
	State       string // "Enabled"
	CreatedAt   time.Time
}

// Group is a resource group.
type Group struct {
	SubscriptionID    string
	Name              string // as first created; lookups ignore case
	Location          string
	Tags              map[string]string
	ManagedBy         string
	ProvisioningState string
	CreatedAt         time.Time
	ChangedAt         time.Time
}

// ID returns the group's resource id.
func (g Group) ID() resourceid.ID { return resourceid.ForResourceGroup(g.SubscriptionID, g.Name) }

// Generic is a resource as the generic resources list shows it. Resource
// providers keep one per resource, in the same transaction as their own row.
type Generic struct {
	ID        resourceid.ID
	Location  string
	Kind      string
	SKU       string
	Tags      map[string]string
	CreatedAt time.Time
	ChangedAt time.Time
}

// Store persists the hierarchy. Implementations return errdefs NotFound and
// AlreadyExists without a reason; the service adds it. Ids match in any
// case. Parents must exist: a subscription's tenant, a group's
// subscription, a resource's group (NotFound otherwise). A group keeps the
// spelling of its name and its subscription from its first PUT.
type Store interface {
	CreateSubscription(ctx context.Context, s Subscription) error
	GetSubscription(ctx context.Context, id string) (Subscription, error)
	ListSubscriptions(ctx context.Context) ([]Subscription, error)

	// PutGroup creates or replaces a group in one transaction: fn receives
	// the current group (nil when there is none) and returns the group to
	// store. It reports whether the group was created.
	PutGroup(ctx context.Context, subscriptionID, name string, fn func(cur *Group) (Group, error)) (Group, bool, error)
	GetGroup(ctx context.Context, subscriptionID, name string) (Group, error)
	// ListGroups returns the subscription's groups ordered by name.
	ListGroups(ctx context.Context, subscriptionID string) ([]Group, error)
	// DeleteGroup removes the group, every resource in it and every role
	// assignment at or below its scope, atomically.
	DeleteGroup(ctx context.Context, subscriptionID, name string) error

	// ListResources returns the resources of a subscription, or of one group
	// when group is not empty, ordered by id.
	ListResources(ctx context.Context, subscriptionID, group string) ([]Generic, error)
}
