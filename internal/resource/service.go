package resource

import (
	"context"
	"maps"
	"strings"
	"time"
	"unicode"

	"github.com/cerulean/cerulean/internal/errdefs"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// The resource errors.
var (
	ErrSubscriptionNotFound  = errdefs.New(errdefs.NotFound, "SubscriptionNotFound", "subscription not found")
	ErrGroupNotFound         = errdefs.New(errdefs.NotFound, "ResourceGroupNotFound", "resource group not found")
	ErrResourceNotFound      = errdefs.New(errdefs.NotFound, "ResourceNotFound", "resource not found")
	ErrInvalidGroupName      = errdefs.New(errdefs.InvalidArgument, "InvalidResourceGroup", "invalid resource group name")
	ErrLocationRequired      = errdefs.New(errdefs.InvalidArgument, "LocationRequired", "The location property is required for this definition.")
	ErrInvalidLocation       = errdefs.New(errdefs.InvalidArgument, "LocationNotAvailableForResourceGroup", "location not available for resource groups")
	ErrGroupLocationConflict = errdefs.New(errdefs.Conflict, "InvalidResourceGroupLocation", "resource group location conflict")
	ErrInvalidTags           = errdefs.New(errdefs.InvalidArgument, "InvalidTag", "invalid tags")
)

// Service manages subscriptions and resource groups.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service. now may be nil (time.Now).
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// CreateSubscription records a subscription.
func (s *Service) CreateSubscription(ctx context.Context, sub Subscription) (Subscription, error) {
	sub.ID = strings.ToLower(sub.ID)
	if sub.State == "" {
		sub.State = "Enabled"
	}
	sub.CreatedAt = s.now().UTC()
	return sub, s.store.CreateSubscription(ctx, sub)
}

// Subscription returns a subscription.
func (s *Service) Subscription(ctx context.Context, id string) (Subscription, error) {
	sub, err := s.store.GetSubscription(ctx, strings.ToLower(id))
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Subscription{}, ErrSubscriptionNotFound.WithMessage("The subscription '%s' could not be found.", id).WithTarget(id)
	}
	return sub, err
}

// Subscriptions lists every subscription.
func (s *Service) Subscriptions(ctx context.Context) ([]Subscription, error) {
	return s.store.ListSubscriptions(ctx)
}

// NormalizeLocation turns a display name such as "East US" into the
// programmatic name "eastus", as ARM does.
func NormalizeLocation(loc string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(loc), " ", ""))
}

// ValidateGroupName checks ARM's resource group naming rules: 1–90
// characters of letters, digits, underscores, hyphens, periods and
// parentheses, not ending in a period.
func ValidateGroupName(name string) error {
	bad := func() error {
		return ErrInvalidGroupName.WithMessage("Resource group '%s' is invalid. The name can include alphanumeric, underscore, parentheses, hyphen, period (except at end), and Unicode characters that match the allowed characters.", name).WithTarget(name)
	}
	if n := len([]rune(name)); n == 0 || n > 90 || strings.HasSuffix(name, ".") {
		return bad()
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.()", r)) {
			return bad()
		}
	}
	return nil
}

// ValidateTags checks ARM's tag limits: at most 50 tags, names up to 512
// characters without <>%&\?/, values up to 256 characters.
func ValidateTags(tags map[string]string) error {
	if len(tags) > 50 {
		return ErrInvalidTags.WithMessage("The number of tags (%d) exceeds the maximum of 50.", len(tags)).WithTarget("tags")
	}
	for k, v := range tags {
		if k == "" || len(k) > 512 || strings.ContainsAny(k, "<>%&\\?/") {
			return ErrInvalidTags.WithMessage("The tag name '%s' is invalid. Tag names can't exceed 512 characters or contain <, >, %%, &, \\, ?, /.", k).WithTarget("tags")
		}
		if len(v) > 256 {
			return ErrInvalidTags.WithMessage("The value of tag '%s' exceeds 256 characters.", k).WithTarget("tags")
		}
	}
	return nil
}

// GroupInput is the body of a resource group PUT.
type GroupInput struct {
	Location  string
	Tags      map[string]string
	ManagedBy string
}

// PutGroup creates a resource group or replaces its tags. Its location is
// fixed once created.
func (s *Service) PutGroup(ctx context.Context, subscriptionID, name string, in GroupInput) (Group, bool, error) {
	if err := ValidateGroupName(name); err != nil {
		return Group{}, false, err
	}
	if err := CheckLocation(in.Location, ResourceGroupType); err != nil {
		return Group{}, false, err
	}
	loc := NormalizeLocation(in.Location)
	if err := ValidateTags(in.Tags); err != nil {
		return Group{}, false, err
	}
	if _, err := s.Subscription(ctx, subscriptionID); err != nil {
		return Group{}, false, err
	}
	now := s.now().UTC()
	return s.store.PutGroup(ctx, strings.ToLower(subscriptionID), name, func(cur *Group) (Group, error) {
		if cur == nil {
			return Group{
				SubscriptionID: strings.ToLower(subscriptionID), Name: name, Location: loc, Tags: maps.Clone(in.Tags),
				ManagedBy: in.ManagedBy, ProvisioningState: "Succeeded", CreatedAt: now, ChangedAt: now,
			}, nil
		}
		if cur.Location != loc {
			return Group{}, ErrGroupLocationConflict.WithMessage("Invalid resource group location '%s'. The Resource group already exists in location '%s'.", loc, cur.Location).WithTarget("location")
		}
		g := *cur
		g.Tags = maps.Clone(in.Tags)
		g.ManagedBy = in.ManagedBy
		g.ChangedAt = now
		return g, nil
	})
}

// GroupPatch is the body of a resource group PATCH; nil leaves a field.
type GroupPatch struct {
	Tags      map[string]string
	SetTags   bool
	ManagedBy *string
}

// PatchGroup updates a group's tags or managedBy.
func (s *Service) PatchGroup(ctx context.Context, subscriptionID, name string, p GroupPatch) (Group, error) {
	if err := ValidateTags(p.Tags); err != nil {
		return Group{}, err
	}
	g, _, err := s.store.PutGroup(ctx, strings.ToLower(subscriptionID), name, func(cur *Group) (Group, error) {
		if cur == nil {
			return Group{}, groupNotFound(name)
		}
		g := *cur
		if p.SetTags {
			g.Tags = maps.Clone(p.Tags)
		}
		if p.ManagedBy != nil {
			g.ManagedBy = *p.ManagedBy
		}
		g.ChangedAt = s.now().UTC()
		return g, nil
	})
	return g, err
}

func groupNotFound(name string) error {
	return ErrGroupNotFound.WithMessage("Resource group '%s' could not be found.", name).WithTarget(name)
}

// Group returns a resource group.
func (s *Service) Group(ctx context.Context, subscriptionID, name string) (Group, error) {
	g, err := s.store.GetGroup(ctx, strings.ToLower(subscriptionID), name)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return Group{}, groupNotFound(name)
	}
	return g, err
}

// Groups lists a subscription's groups.
func (s *Service) Groups(ctx context.Context, subscriptionID string) ([]Group, error) {
	return s.store.ListGroups(ctx, strings.ToLower(subscriptionID))
}

// DeleteGroup deletes a group with everything in it.
func (s *Service) DeleteGroup(ctx context.Context, subscriptionID, name string) error {
	err := s.store.DeleteGroup(ctx, strings.ToLower(subscriptionID), name)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return groupNotFound(name)
	}
	return err
}

// Resources lists the generic resource index of a subscription or group.
func (s *Service) Resources(ctx context.Context, subscriptionID, group string) ([]Generic, error) {
	if group != "" {
		if _, err := s.Group(ctx, subscriptionID, group); err != nil {
			return nil, err
		}
	}
	return s.store.ListResources(ctx, strings.ToLower(subscriptionID), group)
}

// CheckScope verifies that a scope exists: its subscription, its group and
// the resource itself.
func (s *Service) CheckScope(ctx context.Context, id resourceid.ID) error {
	if id.Level() == resourceid.Root {
		return nil
	}
	if _, err := s.Subscription(ctx, id.SubscriptionID); err != nil {
		return err
	}
	if id.Level() == resourceid.Subscription {
		return nil
	}
	if _, err := s.Group(ctx, id.SubscriptionID, id.ResourceGroup); err != nil {
		return err
	}
	if id.Level() == resourceid.ResourceGroup {
		return nil
	}
	top := resourceid.ForResource(id.SubscriptionID, id.ResourceGroup, id.Namespace, id.Types[0], id.Names[0])
	rs, err := s.store.ListResources(ctx, strings.ToLower(id.SubscriptionID), id.ResourceGroup)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.ID.Equal(top) {
			return nil
		}
	}
	return ErrResourceNotFound.WithMessage("The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		top.ResourceType(), top.Name(), id.ResourceGroup).WithTarget(id.String())
}
