package client

import (
	"context"
	"net/http"

	"github.com/cerulean/cerulean/api/graph"
)

// Graph calls the Microsoft Graph v1.0 slice with tokens from a TokenSource.
type Graph struct {
	c  *Client
	ts TokenSource
}

// Graph returns a Graph client that authenticates with ts.
func (c *Client) Graph(ts TokenSource) *Graph { return &Graph{c: c, ts: ts} }

func (g *Graph) url(path string, kv ...string) string {
	return g.c.urlFor("/v1.0"+escapePath(path), query(kv...))
}

func (g *Graph) send(ctx context.Context, method, u string, in any, ok ...int) (*response, error) {
	return g.c.authed(ctx, g.ts, ResourceGraph, call{surface: SurfaceGraph, method: method, url: u, ok: ok}, in)
}

func graphDo[T any](ctx context.Context, g *Graph, method, u string, in any, ok ...int) (T, error) {
	var out T
	resp, err := g.send(ctx, method, u, in, ok...)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// graphList fetches every page of an OData collection, following
// @odata.nextLink.
func graphList[T any](ctx context.Context, g *Graph, method, u string, in any) ([]T, error) {
	all := []T{}
	for u != "" {
		resp, err := g.send(ctx, method, u, in)
		if err != nil {
			return nil, err
		}
		var page graph.List[T]
		if err := decodeJSON(resp, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		u = ""
		if page.NextLink != "" {
			if u, err = g.c.resolve(page.NextLink); err != nil {
				return nil, err
			}
			// A nextLink is always fetched with GET.
			method, in = http.MethodGet, nil
		}
	}
	return all, nil
}

// ---- applications ---------------------------------------------------------

// ListApplications is GET /applications with an optional $filter.
func (g *Graph) ListApplications(ctx context.Context, filter string) ([]graph.Application, error) {
	return graphList[graph.Application](ctx, g, http.MethodGet, g.url("/applications", "$filter", filter), nil)
}

// GetApplication is GET /applications/{id}.
func (g *Graph) GetApplication(ctx context.Context, id string) (graph.Application, error) {
	return graphDo[graph.Application](ctx, g, http.MethodGet, g.url("/applications/"+id), nil)
}

// CreateApplication is POST /applications.
func (g *Graph) CreateApplication(ctx context.Context, in graph.ApplicationInput) (graph.Application, error) {
	return graphDo[graph.Application](ctx, g, http.MethodPost, g.url("/applications"), in, http.StatusCreated, http.StatusOK)
}

// UpdateApplication is PATCH /applications/{id}.
func (g *Graph) UpdateApplication(ctx context.Context, id string, in graph.ApplicationInput) error {
	_, err := g.send(ctx, http.MethodPatch, g.url("/applications/"+id), in)
	return err
}

// DeleteApplication is DELETE /applications/{id}.
func (g *Graph) DeleteApplication(ctx context.Context, id string) error {
	_, err := g.send(ctx, http.MethodDelete, g.url("/applications/"+id), nil)
	return err
}

// ApplicationAddPassword is POST /applications/{id}/addPassword.
func (g *Graph) ApplicationAddPassword(ctx context.Context, id string, in graph.AddPasswordRequest) (graph.PasswordCredential, error) {
	return graphDo[graph.PasswordCredential](ctx, g, http.MethodPost, g.url("/applications/"+id+"/addPassword"), in)
}

// ApplicationRemovePassword is POST /applications/{id}/removePassword.
func (g *Graph) ApplicationRemovePassword(ctx context.Context, id, keyID string) error {
	_, err := g.send(ctx, http.MethodPost, g.url("/applications/"+id+"/removePassword"), graph.RemovePasswordRequest{KeyID: keyID})
	return err
}

// ---- service principals ---------------------------------------------------

// ListServicePrincipals is GET /servicePrincipals with an optional $filter.
func (g *Graph) ListServicePrincipals(ctx context.Context, filter string) ([]graph.ServicePrincipal, error) {
	return graphList[graph.ServicePrincipal](ctx, g, http.MethodGet, g.url("/servicePrincipals", "$filter", filter), nil)
}

// GetServicePrincipal is GET /servicePrincipals/{id}.
func (g *Graph) GetServicePrincipal(ctx context.Context, id string) (graph.ServicePrincipal, error) {
	return graphDo[graph.ServicePrincipal](ctx, g, http.MethodGet, g.url("/servicePrincipals/"+id), nil)
}

// CreateServicePrincipal is POST /servicePrincipals.
func (g *Graph) CreateServicePrincipal(ctx context.Context, in graph.ServicePrincipalInput) (graph.ServicePrincipal, error) {
	return graphDo[graph.ServicePrincipal](ctx, g, http.MethodPost, g.url("/servicePrincipals"), in, http.StatusCreated, http.StatusOK)
}

// UpdateServicePrincipal is PATCH /servicePrincipals/{id}.
func (g *Graph) UpdateServicePrincipal(ctx context.Context, id string, in graph.ServicePrincipalInput) error {
	_, err := g.send(ctx, http.MethodPatch, g.url("/servicePrincipals/"+id), in)
	return err
}

// DeleteServicePrincipal is DELETE /servicePrincipals/{id}.
func (g *Graph) DeleteServicePrincipal(ctx context.Context, id string) error {
	_, err := g.send(ctx, http.MethodDelete, g.url("/servicePrincipals/"+id), nil)
	return err
}

// ServicePrincipalAddPassword is POST /servicePrincipals/{id}/addPassword.
func (g *Graph) ServicePrincipalAddPassword(ctx context.Context, id string, in graph.AddPasswordRequest) (graph.PasswordCredential, error) {
	return graphDo[graph.PasswordCredential](ctx, g, http.MethodPost, g.url("/servicePrincipals/"+id+"/addPassword"), in)
}

// ServicePrincipalRemovePassword is POST /servicePrincipals/{id}/removePassword.
func (g *Graph) ServicePrincipalRemovePassword(ctx context.Context, id, keyID string) error {
	_, err := g.send(ctx, http.MethodPost, g.url("/servicePrincipals/"+id+"/removePassword"), graph.RemovePasswordRequest{KeyID: keyID})
	return err
}

// ---- users and directory objects ------------------------------------------

// ListUsers is GET /users with an optional $filter. Items are returned as
// decoded JSON objects.
func (g *Graph) ListUsers(ctx context.Context, filter string) ([]map[string]any, error) {
	return graphList[map[string]any](ctx, g, http.MethodGet, g.url("/users", "$filter", filter), nil)
}

// DirectoryObjectTypes are the types az asks getByIds for.
var DirectoryObjectTypes = []string{"user", "group", "servicePrincipal", "directoryObjectPartnerReference"}

// GetByIDs is POST /directoryObjects/getByIds. Items are returned as decoded
// JSON objects; each carries "@odata.type".
func (g *Graph) GetByIDs(ctx context.Context, ids, types []string) ([]map[string]any, error) {
	if len(ids) == 0 {
		return []map[string]any{}, nil
	}
	return graphList[map[string]any](ctx, g, http.MethodPost, g.url("/directoryObjects/getByIds"), graph.GetByIDsRequest{IDs: ids, Types: types})
}
