package arm

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cerulean/cerulean/internal/resourceid"
)

// maxSegments bounds the work done on a path.
const maxSegments = 40

var errBadPath = errors.New("malformed path")

// splitPath splits an escaped request path into unescaped segments. A
// trailing slash is tolerated, and so are leading ones (as ARM does: the
// Azure SDK for JavaScript fills a /{scope}/… template with a resource id,
// which starts with a slash of its own); an empty or undecodable segment
// is not.
func splitPath(escaped string) ([]string, error) {
	p := strings.TrimLeft(escaped, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil, errBadPath
	}
	raw := strings.Split(p, "/")
	if len(raw) > maxSegments {
		return nil, errBadPath
	}
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil || u == "" || strings.ContainsAny(u, "/\x00") {
			return nil, errBadPath
		}
		segs[i] = u
	}
	return segs, nil
}

// coreRoute is a fixed Microsoft.Resources route. Pattern segments in
// braces capture: {s} a subscription id, {rg} a resource group name; the
// others match case-insensitively.
type coreRoute struct {
	pattern []string
	methods Methods
}

// matched is a routed request.
type matched struct {
	op           Op
	subscription string // the subscription the path names, if any
	scope        resourceid.ID
	target       resourceid.ID
	name         string
	names        []string // every name of the provider section, outermost first
	action       string
	allow        string // for 405: the methods the route has
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// match routes a request: first the fixed table, then provider paths.
func (h *handler) match(method string, segs []string, apiVersion string) (matched, error) {
	var m matched
	if len(segs) >= 2 && equalFold(segs[0], "subscriptions") {
		if _, err := resourceid.Parse("/subscriptions/" + segs[1]); err != nil {
			return m, err
		}
		m.subscription = segs[1]
	}
	for _, rt := range h.core {
		caps, ok := matchPattern(rt.pattern, segs)
		if !ok {
			continue
		}
		if s := caps["s"]; s != "" {
			m.scope, m.target = resourceid.ForSubscription(s), resourceid.ForSubscription(s)
		}
		if rg := caps["rg"]; rg != "" {
			m.target = resourceid.ForResourceGroup(caps["s"], rg)
			if rt.pattern[len(rt.pattern)-1] == "{rg}" {
				m.name = rg
			} else {
				m.scope = m.target // …/resourceGroups/{rg}/resources
			}
		}
		return m.pick(rt.methods, method)
	}
	for _, at := range []int{0, 2, 4} {
		if at < len(segs) && equalFold(segs[at], "providers") && prefixIsScope(segs[:at]) {
			return h.matchProvider(m, method, segs, at, apiVersion)
		}
	}
	return m, errUnknownType("Microsoft.Resources", unknownSegment(segs), apiVersion)
}

// pick selects the operation for method, or reports 405 with Allow.
func (m matched) pick(methods Methods, method string) (matched, error) {
	if op, ok := methods[method]; ok {
		m.op = op
		return m, nil
	}
	allow := make([]string, 0, len(methods))
	for k := range methods {
		allow = append(allow, k)
	}
	slices.Sort(allow)
	m.allow = strings.Join(allow, ", ")
	return m, errMethodNotAllowed(method)
}

func matchPattern(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var caps map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			if caps == nil {
				caps = map[string]string{}
			}
			caps[strings.Trim(p, "{}")] = segs[i]
			continue
		}
		if !equalFold(p, segs[i]) {
			return nil, false
		}
	}
	return caps, true
}

// prefixIsScope reports whether segs is "", subscriptions/{s} or
// subscriptions/{s}/resourceGroups/{rg}.
func prefixIsScope(segs []string) bool {
	switch len(segs) {
	case 0:
		return true
	case 2:
		return equalFold(segs[0], "subscriptions")
	case 4:
		return equalFold(segs[0], "subscriptions") && equalFold(segs[2], "resourceGroups")
	}
	return false
}

// unknownSegment names the first segment of an unrouted path that is not
// part of a known scope, for the InvalidResourceType message.
func unknownSegment(segs []string) string {
	i := 0
	if len(segs) >= 2 && equalFold(segs[0], "subscriptions") {
		i = 2
		if len(segs) >= 4 && equalFold(segs[2], "resourceGroups") {
			i = 4
		}
	}
	if i < len(segs) {
		return segs[i]
	}
	return segs[len(segs)-1]
}

// section is one /providers/{ns}/{type}/{name}/… run of a path.
type section struct {
	namespace string
	parts     []string // type, name, type, name, … (odd length: a trailing type or action)
}

func (s section) types() []string { return every(s.parts, 0) }
func (s section) names() []string { return every(s.parts, 1) }

func every(parts []string, from int) []string {
	var out []string
	for i := from; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}

// splitSections splits segs[at:] (which starts with "providers") into
// provider sections. A "providers" segment where a type is expected, after
// at least one complete type/name pair, starts an extension section.
func splitSections(segs []string, at int) ([]section, bool) {
	var out []section
	i := at
	for i < len(segs) {
		if i+1 >= len(segs) {
			return nil, false
		}
		sec := section{namespace: segs[i+1]}
		j := i + 2
		for ; j < len(segs); j++ {
			k := j - (i + 2)
			if k%2 == 0 && k >= 2 && equalFold(segs[j], "providers") {
				break
			}
			sec.parts = append(sec.parts, segs[j])
		}
		out = append(out, sec)
		i = j
	}
	return out, true
}

// matchProvider routes {scope}/providers/{ns}/….
func (h *handler) matchProvider(m matched, method string, segs []string, at int, apiVersion string) (matched, error) {
	sections, ok := splitSections(segs, at)
	if !ok || len(sections) == 0 || len(sections) > 2 {
		return m, errUnknownType("Microsoft.Resources", "providers", apiVersion)
	}
	scope := resourceid.ID{}
	switch at {
	case 2:
		scope = resourceid.ForSubscription(segs[1])
	case 4:
		scope = resourceid.ForResourceGroup(segs[1], segs[3])
	}
	last := sections[len(sections)-1]
	if len(sections) == 2 {
		// An extension resource on a tracked resource: the first section
		// is the scope and must be a complete resource in a group.
		first := sections[0]
		if at != 4 || len(first.parts) == 0 || len(first.parts)%2 != 0 {
			return m, errUnknownType(first.namespace, strings.Join(first.types(), "/"), apiVersion)
		}
		scope = resourceid.ID{
			SubscriptionID: scope.SubscriptionID, ResourceGroup: scope.ResourceGroup,
			Namespace: first.namespace, Types: first.types(), Names: first.names(),
		}
		if t := h.types.lookup(first.namespace, first.types()); t != nil && !t.Extension {
			scope.Namespace, scope.Types = t.Namespace, strings.Split(t.Type, "/")
		}
	}
	if !h.types.namespaces[strings.ToLower(last.namespace)] {
		return m, errUnknownNamespace(last.namespace)
	}
	if len(last.parts) == 0 {
		return m, errUnknownType(last.namespace, "", apiVersion)
	}
	types, names := last.types(), last.names()
	var t *ResourceType
	var methods Methods
	switch {
	case len(types) == len(names):
		if t = h.types.lookup(last.namespace, types); t != nil {
			methods = t.Item
			m.name = names[len(names)-1]
		}
	default:
		if t = h.types.lookup(last.namespace, types); t != nil {
			methods = t.Collection
		} else if len(types) >= 2 {
			// POST {id}/{action}
			if t = h.types.lookup(last.namespace, types[:len(types)-1]); t != nil {
				m.action = types[len(types)-1]
				m.name = names[len(names)-1]
				types = types[:len(types)-1]
				methods = actionMethods(t, m.action)
			}
		}
	}
	if t == nil || methods == nil {
		return m, errUnknownType(last.namespace, strings.Join(types, "/"), apiVersion)
	}
	if len(sections) == 2 && !t.Extension {
		return m, errUnknownType(last.namespace, strings.Join(types, "/"), apiVersion)
	}
	m.names = names
	if t.Extension {
		m.scope, m.target = scope, scope
		return m.pick(methods, method)
	}
	if t.Proxy {
		// Provider-level types (locations/{l}/usages, operations) live at
		// the subscription or the root, never in a resource group.
		if scope.Level() > resourceid.Subscription {
			return m, errUnknownType(last.namespace, strings.Join(types, "/"), apiVersion)
		}
		m.scope, m.target = scope, scope
		return m.pick(methods, method)
	}
	// Ids use the registered spelling of the namespace and types.
	namespace := t.Namespace
	types = strings.Split(t.Type, "/")
	// A tracked type lives in a resource group; a top-level collection may
	// also be listed at its subscription. Nested types live under their
	// parent resource.
	n, isItem := len(types), len(names) == len(types)
	switch {
	case scope.Level() == resourceid.ResourceGroup:
	case scope.Level() == resourceid.Subscription && !isItem && n == 1:
		m.scope, m.target = scope, scope
		return m.pick(methods, method)
	default:
		return m, errUnknownType(last.namespace, strings.Join(types, "/"), apiVersion)
	}
	id := func(types, names []string) resourceid.ID {
		return resourceid.ID{
			SubscriptionID: scope.SubscriptionID, ResourceGroup: scope.ResourceGroup,
			Namespace: namespace, Types: types, Names: names,
		}
	}
	parent := scope
	if n > 1 {
		parent = id(types[:n-1], names[:n-1])
	}
	m.scope, m.target = parent, parent
	if isItem {
		m.target = id(types, names)
	}
	return m.pick(methods, method)
}

func actionMethods(t *ResourceType, action string) Methods {
	for name, op := range t.Actions {
		if equalFold(name, action) {
			return Methods{http.MethodPost: op}
		}
	}
	return nil
}
