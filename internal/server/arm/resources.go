package arm

import (
	"context"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/server"
)

func genericWire(r resource.Generic, expand string) arm.GenericResource {
	out := arm.GenericResource{
		ID: r.ID.String(), Name: r.ID.Name(), Type: r.ID.ResourceType(), Location: r.Location,
		Kind: r.Kind, Tags: r.Tags,
	}
	if r.SKU != "" {
		out.SKU = &arm.SKU{Name: r.SKU}
	}
	for _, e := range strings.Split(expand, ",") {
		switch strings.ToLower(strings.TrimSpace(e)) {
		case "createdtime":
			t := r.CreatedAt
			out.CreatedTime = &t
		case "changedtime":
			t := r.ChangedAt
			out.ChangedTime = &t
		}
	}
	return out
}

// resourceFilter is the parsed $filter of a resource list.
type resourceFilter struct {
	resourceType, name, location, tagName *string
	tagValue                              *string
}

func (f resourceFilter) match(r resource.Generic) bool {
	eq := func(want *string, got string) bool { return want == nil || equalFold(*want, got) }
	return eq(f.resourceType, r.ID.ResourceType()) && eq(f.name, r.ID.Name()) && eq(f.location, r.Location) &&
		(f.tagName == nil || hasTag(r.Tags, *f.tagName, f.tagValue))
}

// parseResourceFilter accepts and-combinations of resourceType eq, name
// eq, location eq, and tagName eq [and tagValue eq], each at most once.
func parseResourceFilter(s string) (resourceFilter, error) {
	var f resourceFilter
	clauses, err := parseFilter(s)
	if err != nil {
		return f, errInvalidFilter(s)
	}
	set := func(dst **string, v string) bool {
		if *dst != nil {
			return false
		}
		*dst = &v
		return true
	}
	for _, c := range clauses {
		ok := false
		switch {
		case c.fn:
		case c.is("resourceType"):
			ok = set(&f.resourceType, c.value)
		case c.is("name"):
			ok = set(&f.name, c.value)
		case c.is("location"):
			ok = set(&f.location, c.value)
		case c.is("tagName"):
			ok = set(&f.tagName, c.value)
		case c.is("tagValue"):
			ok = set(&f.tagValue, c.value)
		}
		if !ok {
			return f, errInvalidFilter(s)
		}
	}
	if f.tagValue != nil && f.tagName == nil {
		return f, errInvalidFilter(s)
	}
	return f, nil
}

// listResources serves GET /subscriptions/{s}[/resourceGroups/{rg}]/resources.
// A caller that cannot read the whole scope sees the resources it can read.
func (h *handler) listResources(ctx context.Context, w http.ResponseWriter, c *Call) error {
	f, err := parseResourceFilter(c.Query("$filter"))
	if err != nil {
		return err
	}
	top, err := parseTop(c.Query("$top"))
	if err != nil {
		return err
	}
	rs, err := h.resources.Resources(ctx, c.Scope.SubscriptionID, c.Scope.ResourceGroup)
	if err != nil {
		return err
	}
	expand := c.Query("$expand")
	out := []arm.GenericResource{}
	for _, r := range rs {
		if !f.match(r) {
			continue
		}
		if ok, err := c.Readable(ctx, r.ID.ResourceType()+"/read", r.ID); err != nil {
			return err
		} else if !ok {
			continue
		}
		out = append(out, genericWire(r, expand))
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.GenericResource]{Value: limit(out, top)})
	return nil
}
