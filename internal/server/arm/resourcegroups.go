package arm

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/resource"
	"github.com/cerulean/cerulean/internal/server"
)

func groupWire(g resource.Group) arm.ResourceGroup {
	rg := arm.ResourceGroup{
		ID: g.ID().String(), Name: g.Name, Type: "Microsoft.Resources/resourceGroups", Location: g.Location,
		Tags: g.Tags, Properties: arm.ResourceGroupProperties{ProvisioningState: g.ProvisioningState},
	}
	if g.ManagedBy != "" {
		rg.ManagedBy = &g.ManagedBy
	}
	return rg
}

// getGroup serves GET /subscriptions/{s}/resourcegroups/{rg}.
func (h *handler) getGroup(ctx context.Context, w http.ResponseWriter, c *Call) error {
	g, err := h.resources.Group(ctx, c.Target.SubscriptionID, c.Name)
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, groupWire(g))
	return nil
}

// headGroup serves HEAD …/resourcegroups/{rg}: 204 when it exists, 404
// otherwise, never a body.
func (h *handler) headGroup(ctx context.Context, w http.ResponseWriter, c *Call) error {
	if _, err := h.resources.Group(ctx, c.Target.SubscriptionID, c.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// putGroup serves PUT …/resourcegroups/{rg}: 201 when created, 200 when
// updated, always provisioned synchronously. Unknown properties are
// ignored, as ARM does for resource groups, so a body echoed from a GET is
// accepted.
func (h *handler) putGroup(ctx context.Context, w http.ResponseWriter, c *Call) error {
	var body arm.ResourceGroupPut
	if err := server.DecodeJSON(c.Request, &body, false); err != nil {
		return err
	}
	in := resource.GroupInput{Location: body.Location, Tags: body.Tags}
	if body.ManagedBy != nil {
		in.ManagedBy = *body.ManagedBy
	}
	g, created, err := h.resources.PutGroup(ctx, c.Target.SubscriptionID, c.Name, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		h.logger.InfoContext(ctx, "resource group created", "id", g.ID().String(), "location", g.Location, "caller", c.Caller.ObjectID)
	}
	server.WriteJSON(w, status, groupWire(g))
	return nil
}

// patchGroup serves PATCH …/resourcegroups/{rg}: tags and managedBy.
func (h *handler) patchGroup(ctx context.Context, w http.ResponseWriter, c *Call) error {
	var body arm.ResourceGroupPatch
	if err := server.DecodeJSON(c.Request, &body, false); err != nil {
		return err
	}
	g, err := h.resources.PatchGroup(ctx, c.Target.SubscriptionID, c.Name, resource.GroupPatch{
		Tags: body.Tags, SetTags: body.Tags != nil, ManagedBy: body.ManagedBy,
	})
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, groupWire(g))
	return nil
}

// deleteGroup serves DELETE …/resourcegroups/{rg}. The group, its resources
// and the role assignments at or below it go at once, so the answer is a
// final 200 rather than an asynchronous 202.
func (h *handler) deleteGroup(ctx context.Context, w http.ResponseWriter, c *Call) error {
	if err := h.resources.DeleteGroup(ctx, c.Target.SubscriptionID, c.Name); err != nil {
		return err
	}
	h.logger.InfoContext(ctx, "resource group deleted", "id", c.Target.String(), "caller", c.Caller.ObjectID)
	w.WriteHeader(http.StatusOK)
	return nil
}

// listGroups serves GET /subscriptions/{s}/resourcegroups with
// $filter=tagName eq 'x' [and tagValue eq 'y'] and $top. A caller that
// cannot read the whole subscription sees the groups it can read.
func (h *handler) listGroups(ctx context.Context, w http.ResponseWriter, c *Call) error {
	tagName, tagValue, err := groupFilter(c.Query("$filter"))
	if err != nil {
		return err
	}
	top, err := parseTop(c.Query("$top"))
	if err != nil {
		return err
	}
	groups, err := h.resources.Groups(ctx, c.Target.SubscriptionID)
	if err != nil {
		return err
	}
	out := []arm.ResourceGroup{}
	for _, g := range groups {
		if tagName != nil && !hasTag(g.Tags, *tagName, tagValue) {
			continue
		}
		if ok, err := c.Readable(ctx, actionGroupRead, g.ID()); err != nil {
			return err
		} else if !ok {
			continue
		}
		out = append(out, groupWire(g))
	}
	server.WriteJSON(w, http.StatusOK, arm.List[arm.ResourceGroup]{Value: limit(out, top)})
	return nil
}

// groupFilter accepts "tagName eq 'x'" optionally "and tagValue eq 'y'".
func groupFilter(f string) (name, value *string, err error) {
	clauses, perr := parseFilter(f)
	if perr != nil {
		return nil, nil, errInvalidFilter(f)
	}
	for _, c := range clauses {
		switch {
		case c.fn:
			return nil, nil, errInvalidFilter(f)
		case c.is("tagName") && name == nil:
			name = &c.value
		case c.is("tagValue") && value == nil:
			value = &c.value
		default:
			return nil, nil, errInvalidFilter(f)
		}
	}
	if value != nil && name == nil {
		return nil, nil, errInvalidFilter(f)
	}
	return name, value, nil
}

// hasTag matches a tag name case-insensitively (ARM tag names are) and,
// when given, its value exactly.
func hasTag(tags map[string]string, name string, value *string) bool {
	for k, v := range tags {
		if equalFold(k, name) && (value == nil || v == *value) {
			return true
		}
	}
	return false
}
