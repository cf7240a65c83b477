package client

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cerulean/cerulean/api/arm"
	"github.com/cerulean/cerulean/internal/errdefs"
)

// ARM calls Azure Resource Manager with tokens from a TokenSource.
type ARM struct {
	c  *Client
	ts TokenSource
}

// ARM returns an ARM client that authenticates with ts.
func (c *Client) ARM(ts TokenSource) *ARM { return &ARM{c: c, ts: ts} }

func (a *ARM) send(ctx context.Context, method, u string, in any, ok ...int) (*response, error) {
	return a.c.authed(ctx, a.ts, ResourceARM, call{surface: SurfaceARM, method: method, url: u, ok: ok}, in)
}

func (a *ARM) url(path, apiVersion string, kv ...string) string {
	return a.c.urlFor(escapePath(path), query(append([]string{"api-version", apiVersion}, kv...)...))
}

func armGet[T any](ctx context.Context, a *ARM, u string) (T, error) {
	var out T
	resp, err := a.send(ctx, http.MethodGet, u, nil)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// armList fetches every page of an ARM collection, following nextLink.
func armList[T any](ctx context.Context, a *ARM, u string) ([]T, error) {
	all := []T{}
	for u != "" {
		resp, err := a.send(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		var page arm.List[T]
		if err := decodeJSON(resp, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		u = ""
		if page.NextLink != "" {
			if u, err = a.c.resolve(page.NextLink); err != nil {
				return nil, err
			}
		}
	}
	return all, nil
}

// ---- subscriptions and tenants ---------------------------------------------

// ListSubscriptions is GET /subscriptions.
func (a *ARM) ListSubscriptions(ctx context.Context) ([]arm.Subscription, error) {
	return armList[arm.Subscription](ctx, a, a.url("/subscriptions", APIVersionSubscriptions))
}

// GetSubscription is GET /subscriptions/{id}.
func (a *ARM) GetSubscription(ctx context.Context, id string) (arm.Subscription, error) {
	return armGet[arm.Subscription](ctx, a, a.url("/subscriptions/"+id, APIVersionSubscriptions))
}

// ListTenants is GET /tenants.
func (a *ARM) ListTenants(ctx context.Context) ([]arm.Tenant, error) {
	return armList[arm.Tenant](ctx, a, a.url("/tenants", APIVersionSubscriptions))
}

// ---- resource groups ------------------------------------------------------

func groupPath(sub, name string) string { return "/subscriptions/" + sub + "/resourcegroups/" + name }

// CreateOrUpdateResourceGroup is PUT …/resourcegroups/{name}.
func (a *ARM) CreateOrUpdateResourceGroup(ctx context.Context, sub, name string, body arm.ResourceGroupPut) (arm.ResourceGroup, error) {
	var out arm.ResourceGroup
	resp, err := a.send(ctx, http.MethodPut, a.url(groupPath(sub, name), APIVersionResourceGroups), body, http.StatusOK, http.StatusCreated)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// UpdateResourceGroup is PATCH …/resourcegroups/{name}.
func (a *ARM) UpdateResourceGroup(ctx context.Context, sub, name string, body arm.ResourceGroupPatch) (arm.ResourceGroup, error) {
	var out arm.ResourceGroup
	resp, err := a.send(ctx, http.MethodPatch, a.url(groupPath(sub, name), APIVersionResourceGroups), body, http.StatusOK)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// GetResourceGroup is GET …/resourcegroups/{name}.
func (a *ARM) GetResourceGroup(ctx context.Context, sub, name string) (arm.ResourceGroup, error) {
	return armGet[arm.ResourceGroup](ctx, a, a.url(groupPath(sub, name), APIVersionResourceGroups))
}

// ResourceGroupExists is HEAD …/resourcegroups/{name}: 204 exists, 404 not.
func (a *ARM) ResourceGroupExists(ctx context.Context, sub, name string) (bool, error) {
	_, err := a.send(ctx, http.MethodHead, a.url(groupPath(sub, name), APIVersionResourceGroups), nil)
	if err == nil {
		return true, nil
	}
	if StatusCode(err) == http.StatusNotFound {
		return false, nil
	}
	return false, err
}

// ListResourceGroups is GET /subscriptions/{sub}/resourcegroups with an
// optional $filter.
func (a *ARM) ListResourceGroups(ctx context.Context, sub, filter string) ([]arm.ResourceGroup, error) {
	return armList[arm.ResourceGroup](ctx, a, a.url("/subscriptions/"+sub+"/resourcegroups", APIVersionResourceGroups, "$filter", filter))
}

// DeleteResourceGroup is DELETE …/resourcegroups/{name}. Unless noWait is
// set it polls the long-running operation until it ends.
func (a *ARM) DeleteResourceGroup(ctx context.Context, sub, name string, noWait bool) error {
	resp, err := a.send(ctx, http.MethodDelete, a.url(groupPath(sub, name), APIVersionResourceGroups), nil,
		http.StatusOK, http.StatusAccepted, http.StatusNoContent)
	if err != nil {
		return err
	}
	if resp.status != http.StatusAccepted || noWait {
		return nil
	}
	return a.pollDelete(ctx, resp)
}

// ListResources is GET /subscriptions/{sub}/resources with an optional
// $filter.
func (a *ARM) ListResources(ctx context.Context, sub, filter string) ([]arm.GenericResource, error) {
	return armList[arm.GenericResource](ctx, a, a.url("/subscriptions/"+sub+"/resources", APIVersionResources, "$filter", filter))
}

// ---- long-running operations ----------------------------------------------

// pollDelete follows a 202 from a DELETE: the Azure-AsyncOperation URL
// (status document) if present, else the Location URL (202 while running).
func (a *ARM) pollDelete(ctx context.Context, first *response) error {
	if op := first.header.Get("Azure-AsyncOperation"); op != "" {
		return a.pollAsyncOperation(ctx, op, first.header)
	}
	loc := first.header.Get("Location")
	if loc == "" {
		return errors.New("client: response is missing polling URL")
	}
	u, err := a.c.resolve(loc)
	if err != nil {
		return err
	}
	hdr := first.header
	for {
		if err := a.c.sleep(ctx, hdr); err != nil {
			return err
		}
		resp, err := a.send(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		if resp.status != http.StatusAccepted {
			return nil
		}
		hdr = resp.header
	}
}

func (a *ARM) pollAsyncOperation(ctx context.Context, op string, hdr http.Header) error {
	u, err := a.c.resolve(op)
	if err != nil {
		return err
	}
	for {
		if err := a.c.sleep(ctx, hdr); err != nil {
			return err
		}
		resp, err := a.send(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		var st struct {
			Status string           `json:"status"`
			Error  *arm.ErrorDetail `json:"error"`
		}
		if err := decodeJSON(resp, &st); err != nil {
			return err
		}
		switch strings.ToLower(st.Status) {
		case "":
			// azcore treats a status body without a status as an error
			// rather than polling it forever.
			return errdefs.Newf(errdefs.Internal, "", "the operation status at %s has no status", u).WithCause(errors.New(string(resp.body)))
		case "succeeded", "completed":
			return nil
		case "failed", "canceled", "cancelled":
			re := &ResponseError{Surface: SurfaceARM, StatusCode: resp.status, Method: http.MethodGet, URL: u, Body: resp.body}
			if st.Error != nil {
				re.Code, re.Message, re.Target, re.Details = st.Error.Code, st.Error.Message, st.Error.Target, st.Error.Details
			}
			if re.Message == "" {
				re.Message = "The operation " + strings.ToLower(st.Status) + "."
			}
			return &errdefs.Error{Kind: errdefs.Internal, Reason: re.Code, Message: re.Message, Cause: re}
		}
		hdr = resp.header
	}
}

// sleep waits for Retry-After (seconds) or the poll interval.
func (c *Client) sleep(ctx context.Context, hdr http.Header) error {
	d := c.pollInterval
	if ra := hdr.Get("Retry-After"); ra != "" {
		if n, err := strconv.Atoi(ra); err == nil && n >= 0 {
			d = time.Duration(n) * time.Second
			if d > 30*time.Second {
				d = 30 * time.Second
			}
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ---- role definitions -----------------------------------------------------

func authzPath(scope, kind string) string {
	return strings.TrimRight(scope, "/") + "/providers/Microsoft.Authorization/" + kind
}

// ListRoleDefinitions is GET {scope}/providers/Microsoft.Authorization/roleDefinitions
// with an optional $filter (e.g. "roleName eq 'Reader'").
func (a *ARM) ListRoleDefinitions(ctx context.Context, scope, filter string) ([]arm.RoleDefinition, error) {
	return armList[arm.RoleDefinition](ctx, a, a.url(authzPath(scope, "roleDefinitions"), APIVersionRoleDefinitions, "$filter", filter))
}

// GetRoleDefinition is GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{name}.
func (a *ARM) GetRoleDefinition(ctx context.Context, scope, name string) (arm.RoleDefinition, error) {
	return armGet[arm.RoleDefinition](ctx, a, a.url(authzPath(scope, "roleDefinitions")+"/"+name, APIVersionRoleDefinitions))
}

// GetRoleDefinitionByID is GET {roleDefinitionId}.
func (a *ARM) GetRoleDefinitionByID(ctx context.Context, id string) (arm.RoleDefinition, error) {
	return armGet[arm.RoleDefinition](ctx, a, a.url(id, APIVersionRoleDefinitions))
}

// ---- role assignments -----------------------------------------------------

// CreateRoleAssignment is PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}.
func (a *ARM) CreateRoleAssignment(ctx context.Context, scope, name string, body arm.RoleAssignmentCreate) (arm.RoleAssignment, error) {
	var out arm.RoleAssignment
	resp, err := a.send(ctx, http.MethodPut, a.url(authzPath(scope, "roleAssignments")+"/"+name, APIVersionRoleAssignments), body,
		http.StatusOK, http.StatusCreated)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// GetRoleAssignment is GET {scope}/providers/Microsoft.Authorization/roleAssignments/{name}.
func (a *ARM) GetRoleAssignment(ctx context.Context, scope, name string) (arm.RoleAssignment, error) {
	return armGet[arm.RoleAssignment](ctx, a, a.url(authzPath(scope, "roleAssignments")+"/"+name, APIVersionRoleAssignments))
}

// GetRoleAssignmentByID is GET {roleAssignmentId}.
func (a *ARM) GetRoleAssignmentByID(ctx context.Context, id string) (arm.RoleAssignment, error) {
	return armGet[arm.RoleAssignment](ctx, a, a.url(id, APIVersionRoleAssignments))
}

// ListRoleAssignmentsForScope is GET {scope}/providers/Microsoft.Authorization/roleAssignments
// with an optional $filter (e.g. "atScope()"). The filter is percent-encoded.
func (a *ARM) ListRoleAssignmentsForScope(ctx context.Context, scope, filter string) ([]arm.RoleAssignment, error) {
	return armList[arm.RoleAssignment](ctx, a, a.url(authzPath(scope, "roleAssignments"), APIVersionRoleAssignments, "$filter", filter))
}

// ListRoleAssignmentsForSubscription is ListRoleAssignmentsForScope at
// /subscriptions/{sub}.
func (a *ARM) ListRoleAssignmentsForSubscription(ctx context.Context, sub, filter string) ([]arm.RoleAssignment, error) {
	return a.ListRoleAssignmentsForScope(ctx, "/subscriptions/"+sub, filter)
}

// DeleteRoleAssignmentByID is DELETE {roleAssignmentId}. It returns the
// deleted assignment, or nil when the server answered 204 (already gone).
func (a *ARM) DeleteRoleAssignmentByID(ctx context.Context, id string) (*arm.RoleAssignment, error) {
	resp, err := a.send(ctx, http.MethodDelete, a.url(id, APIVersionRoleAssignments), nil, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return nil, err
	}
	if resp.status == http.StatusNoContent || len(resp.body) == 0 {
		return nil, nil
	}
	var out arm.RoleAssignment
	if err := decodeJSON(resp, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
