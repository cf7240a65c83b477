"""The identity and registry part of the seed with the Azure SDK for Python
that Debian ships with azure-cli (azure-identity, azure-mgmt-resource,
azure-mgmt-containerregistry, azure-containerregistry), in the AzureCloud
cloud: nothing but DNS and trust points it at Cerulean.

    registry.py create            resource group and Basic registry; get and list it
    registry.py read AS           list repositories and tags, read a tag's manifest
    registry.py delete-tag AS     delete a tag (a refusal is reported), list tags
    registry.py admin             enable the admin user, list and regenerate its passwords
    registry.py delete            delete the registry and the resource group

AS is pull or push: the data plane runs as that service principal.
Input (environment): AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and
AZURE_SUBSCRIPTION_ID (an Owner), SEED_RESOURCE_GROUP, SEED_REGISTRY; for the
data plane also SEED_REPOSITORY, SEED_TAG and SEED_{PUSH,PULL}_{APP_ID,PASSWORD}.
Each verb prints one JSON document of what the services answered.
"""
import json
import os
import sys

from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import (
    RegenerateCredentialParameters,
    Registry,
    RegistryUpdateParameters,
    Sku,
)
from azure.mgmt.resource import ResourceManagementClient
from azure.containerregistry import ContainerRegistryClient

AUDIENCE = "https://management.azure.com"


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit("%s is not set" % name)
    return value


def registry_summary(r):
    return {
        "id": r.id,
        "name": r.name,
        "location": r.location,
        "loginServer": r.login_server,
        "sku": r.sku.name,
        "adminUserEnabled": r.admin_user_enabled,
        "provisioningState": r.provisioning_state,
    }


def text(value):
    """An SDK enum (or None) as its wire string."""
    return getattr(value, "value", value)


def create(owner, subscription, group, name):
    resources = ResourceManagementClient(owner, subscription)
    rg = resources.resource_groups.create_or_update(group, {"location": "eastus"})
    acr = ContainerRegistryManagementClient(owner, subscription)
    created = acr.registries.begin_create(
        group, name, Registry(location="eastus", sku=Sku(name="Basic"), admin_user_enabled=False)
    ).result()
    return {
        "resourceGroup": {"name": rg.name, "provisioningState": rg.properties.provisioning_state},
        "created": registry_summary(created),
        "get": registry_summary(acr.registries.get(group, name)),
        "listByResourceGroup": [r.name for r in acr.registries.list_by_resource_group(group)],
        "list": [r.id for r in acr.registries.list()],
    }


def data_client(tenant, login_server, who):
    who = who.upper()
    credential = ClientSecretCredential(tenant, env("SEED_%s_APP_ID" % who), env("SEED_%s_PASSWORD" % who))
    return ContainerRegistryClient("https://" + login_server, credential, audience=AUDIENCE)


def read(client):
    repository, tag = env("SEED_REPOSITORY"), env("SEED_TAG")
    m = client.get_manifest_properties(repository, tag)
    return {
        "repositories": list(client.list_repository_names()),
        "tags": sorted(t.name for t in client.list_tag_properties(repository)),
        "manifest": {
            "digest": m.digest,
            "repositoryName": m.repository_name,
            "tags": sorted(m.tags or []),
            "architecture": text(m.architecture),
            "operatingSystem": text(m.operating_system),
        },
    }


def delete_tag(client):
    """Deletes SEED_TAG; a refusal is reported, not raised."""
    repository, tag = env("SEED_REPOSITORY"), env("SEED_TAG")
    try:
        client.delete_tag(repository, tag)
        out = {"refused": False}
    except HttpResponseError as e:
        out = {"refused": True, "status": e.status_code, "type": type(e).__name__}
    out["tags"] = sorted(t.name for t in client.list_tag_properties(repository))
    return out


def admin(owner, subscription, group, name):
    acr = ContainerRegistryManagementClient(owner, subscription)
    updated = acr.registries.begin_update(group, name, RegistryUpdateParameters(admin_user_enabled=True)).result()
    before = acr.registries.list_credentials(group, name)
    after = acr.registries.regenerate_credential(group, name, RegenerateCredentialParameters(name="password"))
    creds = lambda c: {"username": c.username, "passwords": {text(p.name): p.value for p in c.passwords}}
    return {
        "adminUserEnabled": updated.admin_user_enabled,
        "listCredentials": creds(before),
        "regenerated": creds(after),
    }


def delete(owner, subscription, group, name):
    acr = ContainerRegistryManagementClient(owner, subscription)
    acr.registries.begin_delete(group, name).result()
    left = [r.name for r in acr.registries.list_by_resource_group(group)]
    resources = ResourceManagementClient(owner, subscription)
    resources.resource_groups.begin_delete(group).result()
    return {"registriesLeft": left, "resourceGroupExists": resources.resource_groups.check_existence(group)}


def main(argv):
    verb = argv[1] if len(argv) > 1 else ""
    if len(argv) != (3 if verb in ("read", "delete-tag") else 2):
        sys.exit(__doc__)
    tenant, subscription = env("AZURE_TENANT_ID"), env("AZURE_SUBSCRIPTION_ID")
    owner = ClientSecretCredential(tenant, env("AZURE_CLIENT_ID"), env("AZURE_CLIENT_SECRET"))
    group, name = env("SEED_RESOURCE_GROUP"), env("SEED_REGISTRY")
    if verb == "create":
        out = create(owner, subscription, group, name)
    elif verb in ("read", "delete-tag"):
        login_server = ContainerRegistryManagementClient(owner, subscription).registries.get(group, name).login_server
        client = data_client(tenant, login_server, argv[2])
        out = read(client) if verb == "read" else delete_tag(client)
    elif verb == "admin":
        out = admin(owner, subscription, group, name)
    elif verb == "delete":
        out = delete(owner, subscription, group, name)
    else:
        sys.exit(__doc__)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv)
