// Package resourceid parses and formats Azure Resource Manager resource ids
// and scopes. Ids keep the case the caller used; comparisons are
// case-insensitive, as ARM's are.
package resourceid

import (
	"strings"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// Level says how deep in the ARM hierarchy an id points.
type Level int

// The levels, from the root down.
const (
	Root Level = iota
	Subscription
	ResourceGroup
	Resource
)

// ID is a parsed ARM scope: the root "/", a subscription, a resource group or
// a (possibly nested) resource. The zero ID is the root.
type ID struct {
	SubscriptionID string
	ResourceGroup  string
	// Namespace is the resource provider, e.g. "Microsoft.ContainerRegistry".
	Namespace string
	// Types and Names alternate below the provider: registries/r1/replications/x
	// gives Types [registries replications] and Names [r1 x].
	Types []string
	Names []string
}

// ErrInvalid is returned for a string that is not an ARM scope.
var ErrInvalid = errdefs.New(errdefs.InvalidArgument, "InvalidScope", "invalid scope")

// ForSubscription returns the id of a subscription.
func ForSubscription(sub string) ID { return ID{SubscriptionID: sub} }

// ForResourceGroup returns the id of a resource group.
func ForResourceGroup(sub, group string) ID { return ID{SubscriptionID: sub, ResourceGroup: group} }

// ForResource returns the id of a top-level resource in a resource group.
func ForResource(sub, group, namespace, typ, name string) ID {
	return ID{SubscriptionID: sub, ResourceGroup: group, Namespace: namespace, Types: []string{typ}, Names: []string{name}}
}

// Parse parses an ARM scope. It accepts "/" and ids under
// /subscriptions/{guid}[/resourceGroups/{name}[/providers/{ns}/{type}/{name}…]],
// with any case in the fixed segments and an optional trailing slash.
func Parse(s string) (ID, error) {
	invalid := func() (ID, error) {
		return ID{}, ErrInvalid.WithMessage("The scope '%s' is not a valid Azure resource id.", s).WithTarget(s)
	}
	if s == "/" {
		return ID{}, nil
	}
	if !strings.HasPrefix(s, "/") {
		return invalid()
	}
	parts := strings.Split(strings.TrimSuffix(s[1:], "/"), "/")
	for _, p := range parts {
		if p == "" {
			return invalid()
		}
	}
	var id ID
	if len(parts) < 2 || !strings.EqualFold(parts[0], "subscriptions") {
		return invalid()
	}
	id.SubscriptionID = parts[1]
	if !IsGUID(id.SubscriptionID) {
		return ID{}, errdefs.Newf(errdefs.InvalidArgument, "InvalidSubscriptionId",
			"The provided subscription identifier '%s' is malformed or invalid.", id.SubscriptionID).WithTarget(s)
	}
	rest := parts[2:]
	if len(rest) == 0 {
		return id, nil
	}
	if len(rest) < 2 || !strings.EqualFold(rest[0], "resourceGroups") {
		return invalid()
	}
	id.ResourceGroup = rest[1]
	rest = rest[2:]
	if len(rest) == 0 {
		return id, nil
	}
	// providers/{ns}/{type}/{name}[/{type}/{name}]…
	if len(rest) < 4 || len(rest)%2 != 0 || !strings.EqualFold(rest[0], "providers") {
		return invalid()
	}
	id.Namespace = rest[1]
	for i := 2; i < len(rest); i += 2 {
		id.Types = append(id.Types, rest[i])
		id.Names = append(id.Names, rest[i+1])
	}
	return id, nil
}

// MustParse is Parse for constants in tests; it panics on error.
func MustParse(s string) ID {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}

// Level returns how deep the id points.
func (id ID) Level() Level {
	switch {
	case id.SubscriptionID == "":
		return Root
	case id.ResourceGroup == "":
		return Subscription
	case id.Namespace == "":
		return ResourceGroup
	default:
		return Resource
	}
}

// String formats the id in ARM's canonical spelling.
func (id ID) String() string {
	if id.SubscriptionID == "" {
		return "/"
	}
	var b strings.Builder
	b.WriteString("/subscriptions/")
	b.WriteString(id.SubscriptionID)
	if id.ResourceGroup == "" {
		return b.String()
	}
	b.WriteString("/resourceGroups/")
	b.WriteString(id.ResourceGroup)
	if id.Namespace == "" {
		return b.String()
	}
	b.WriteString("/providers/")
	b.WriteString(id.Namespace)
	for i := range id.Types {
		b.WriteByte('/')
		b.WriteString(id.Types[i])
		b.WriteByte('/')
		b.WriteString(id.Names[i])
	}
	return b.String()
}

// Key is the lower-cased canonical form, for indexing and equality.
func (id ID) Key() string { return strings.ToLower(id.String()) }

// Equal reports whether two ids name the same scope, ignoring case. It
// compares Keys, so it agrees with every index built on them (EqualFold
// would also fold characters such as 'İ' that ToLower maps differently).
func (id ID) Equal(o ID) bool { return id.Key() == o.Key() }

// Contains reports whether o is id itself or lies below it (inheritance:
// an assignment at id applies to o).
func (id ID) Contains(o ID) bool {
	if id.SubscriptionID == "" {
		return true
	}
	a, b := id.Key(), o.Key()
	return a == b || strings.HasPrefix(b, a+"/")
}

// Ancestors returns the scopes that contain id, from the root down to id
// itself: "/", the subscription, the group, then each enclosing resource.
func (id ID) Ancestors() []ID {
	out := []ID{{}}
	if id.SubscriptionID == "" {
		return out
	}
	out = append(out, ForSubscription(id.SubscriptionID))
	if id.ResourceGroup == "" {
		return out
	}
	out = append(out, ForResourceGroup(id.SubscriptionID, id.ResourceGroup))
	for i := range id.Types {
		out = append(out, ID{
			SubscriptionID: id.SubscriptionID, ResourceGroup: id.ResourceGroup, Namespace: id.Namespace,
			Types: id.Types[:i+1], Names: id.Names[:i+1],
		})
	}
	return out
}

// ResourceType returns the full type, e.g. "Microsoft.ContainerRegistry/registries"
// for a resource, "Microsoft.Resources/resourceGroups" for a group and
// "Microsoft.Resources/subscriptions" for a subscription.
func (id ID) ResourceType() string {
	switch id.Level() {
	case Root:
		return ""
	case Subscription:
		return "Microsoft.Resources/subscriptions"
	case ResourceGroup:
		return "Microsoft.Resources/resourceGroups"
	}
	return id.Namespace + "/" + strings.Join(id.Types, "/")
}

// Name returns the last name segment of the id.
func (id ID) Name() string {
	switch id.Level() {
	case Root:
		return ""
	case Subscription:
		return id.SubscriptionID
	case ResourceGroup:
		return id.ResourceGroup
	}
	return id.Names[len(id.Names)-1]
}

// IsGUID reports whether s is a GUID in 8-4-4-4-12 hex form.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
