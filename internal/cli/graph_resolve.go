package cli

import (
	"context"
	"fmt"
	"net/http"

	"github.com/cerulean/cerulean/internal/client"
	"github.com/cerulean/cerulean/internal/resourceid"
)

// graphObjectID is the prologue of the commands that act on one object: it
// opens the default account's session and resolves --id to an object id
// with resolve (resolveApplication or resolveServicePrincipal).
func (i *inv) graphObjectID(resolve func(context.Context, *client.Graph, string) (string, error)) (*session, *client.Graph, string, error) {
	s, err := i.session("")
	if err != nil {
		return nil, nil, "", err
	}
	g := s.graph()
	id, err := resolve(i.ctx, g, i.args.str("identifier"))
	if err != nil {
		return nil, nil, "", err
	}
	return s, g, id, nil
}

// resolveServicePrincipal is role/custom.py _resolve_service_principal: a
// service principal name (which includes the appId) first, then an object
// id. Not found is a CLIError with status 404, so show commands exit 3.
func resolveServicePrincipal(ctx context.Context, g *client.Graph, identifier string) (string, error) {
	sps, err := g.ListServicePrincipals(ctx, fmt.Sprintf("servicePrincipalNames/any(c:c eq '%s')", identifier))
	if err != nil {
		return "", err
	}
	if len(sps) > 0 {
		return sps[0].ID, nil
	}
	if resourceid.IsGUID(identifier) {
		return identifier, nil
	}
	return "", &cliError{msg: fmt.Sprintf("Service principal '%s' doesn't exist", identifier), status: http.StatusNotFound}
}

// resolveApplication is role/custom.py _resolve_application: a GUID is an
// appId (if an application has it) or else an object id; anything else is
// an identifier URI.
func resolveApplication(ctx context.Context, g *client.Graph, identifier string) (string, error) {
	if resourceid.IsGUID(identifier) {
		apps, err := g.ListApplications(ctx, fmt.Sprintf("appId eq '%s'", identifier))
		if err != nil {
			return "", err
		}
		if len(apps) > 0 {
			return apps[0].ID, nil
		}
		return identifier, nil
	}
	apps, err := g.ListApplications(ctx, fmt.Sprintf("identifierUris/any(s:s eq '%s')", identifier))
	if err != nil {
		return "", err
	}
	if len(apps) == 0 {
		return "", &cliError{msg: fmt.Sprintf("Application with identifier URI '%s' doesn't exist", identifier), status: http.StatusNotFound}
	}
	return apps[0].ID, nil
}
