package client

import (
	"context"
	"net/http"
	"strings"

	"github.com/cerulean/cerulean/api/arm"
)

// APIVersionContainerRegistry is the Microsoft.ContainerRegistry
// api-version the client sends (az 2.67's).
const APIVersionContainerRegistry = "2023-11-01-preview"

// RegistryResourceType is the ARM type of container registries.
const RegistryResourceType = "Microsoft.ContainerRegistry/registries"

func registryPath(sub, group, name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + group + "/providers/" + RegistryResourceType + "/" + name
}

func (a *ARM) registryURL(sub, group, name, action string) string {
	p := registryPath(sub, group, name)
	if action != "" {
		p += "/" + action
	}
	return a.url(p, APIVersionContainerRegistry)
}

// CreateRegistry is PUT …/registries/{name}: 201 created, 200 updated.
// Cerulean completes it before answering, so there is nothing to poll.
func (a *ARM) CreateRegistry(ctx context.Context, sub, group, name string, body arm.RegistryCreate) (arm.Registry, error) {
	var out arm.Registry
	resp, err := a.send(ctx, http.MethodPut, a.registryURL(sub, group, name, ""), body, http.StatusOK, http.StatusCreated)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// GetRegistry is GET …/registries/{name}.
func (a *ARM) GetRegistry(ctx context.Context, sub, group, name string) (arm.Registry, error) {
	return armGet[arm.Registry](ctx, a, a.registryURL(sub, group, name, ""))
}

// UpdateRegistry is PATCH …/registries/{name}.
func (a *ARM) UpdateRegistry(ctx context.Context, sub, group, name string, body any) (arm.Registry, error) {
	var out arm.Registry
	resp, err := a.send(ctx, http.MethodPatch, a.registryURL(sub, group, name, ""), body, http.StatusOK, http.StatusCreated)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// DeleteRegistry is DELETE …/registries/{name}: 200, or 204 when there was
// none; a 202 is followed to its end.
func (a *ARM) DeleteRegistry(ctx context.Context, sub, group, name string) error {
	resp, err := a.send(ctx, http.MethodDelete, a.registryURL(sub, group, name, ""), nil,
		http.StatusOK, http.StatusAccepted, http.StatusNoContent)
	if err != nil || resp.status != http.StatusAccepted {
		return err
	}
	return a.pollDelete(ctx, resp)
}

// ListRegistries is GET …/providers/Microsoft.ContainerRegistry/registries
// of a resource group, or of the subscription when group is empty.
func (a *ARM) ListRegistries(ctx context.Context, sub, group string) ([]arm.Registry, error) {
	p := "/subscriptions/" + sub
	if group != "" {
		p += "/resourceGroups/" + group
	}
	return armList[arm.Registry](ctx, a, a.url(p+"/providers/"+RegistryResourceType, APIVersionContainerRegistry))
}

// ListRegistryCredentials is POST …/registries/{name}/listCredentials.
func (a *ARM) ListRegistryCredentials(ctx context.Context, sub, group, name string) (arm.RegistryListCredentialsResult, error) {
	return a.registryCredentials(ctx, a.registryURL(sub, group, name, "listCredentials"), nil)
}

// RegenerateRegistryCredential is POST …/registries/{name}/regenerateCredential
// for "password" or "password2".
func (a *ARM) RegenerateRegistryCredential(ctx context.Context, sub, group, name, passwordName string) (arm.RegistryListCredentialsResult, error) {
	return a.registryCredentials(ctx, a.registryURL(sub, group, name, "regenerateCredential"),
		arm.RegenerateCredentialParameters{Name: passwordName})
}

func (a *ARM) registryCredentials(ctx context.Context, u string, in any) (arm.RegistryListCredentialsResult, error) {
	var out arm.RegistryListCredentialsResult
	resp, err := a.send(ctx, http.MethodPost, u, in, http.StatusOK)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// CheckRegistryName is POST /subscriptions/{sub}/providers/Microsoft.ContainerRegistry/checkNameAvailability.
func (a *ARM) CheckRegistryName(ctx context.Context, sub, name string) (arm.RegistryNameStatus, error) {
	var out arm.RegistryNameStatus
	u := a.url("/subscriptions/"+sub+"/providers/Microsoft.ContainerRegistry/checkNameAvailability", APIVersionContainerRegistry)
	resp, err := a.send(ctx, http.MethodPost, u, arm.RegistryNameCheckRequest{Name: name, Type: RegistryResourceType}, http.StatusOK)
	if err != nil {
		return out, err
	}
	return out, decodeJSON(resp, &out)
}

// FindRegistries lists the subscription's registries named name (any
// case) through the generic resource list, as az does to find a
// registry's resource group.
func (a *ARM) FindRegistries(ctx context.Context, sub, name string) ([]arm.GenericResource, error) {
	all, err := a.ListResources(ctx, sub, "resourceType eq '"+RegistryResourceType+"'")
	if err != nil {
		return nil, err
	}
	var out []arm.GenericResource
	for _, r := range all {
		if strings.EqualFold(r.Name, name) {
			out = append(out, r)
		}
	}
	return out, nil
}
