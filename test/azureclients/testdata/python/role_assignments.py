"""Role assignments with the Azure SDK for Python that Debian ships with
azure-cli (azure-identity, azure-mgmt-authorization), in the AzureCloud
cloud: nothing but DNS and trust points it at Cerulean.

    role_assignments.py create TENANT APP_ID SECRET SUBSCRIPTION SCOPE ROLE PRINCIPAL_ID
    role_assignments.py list   TENANT APP_ID SECRET SUBSCRIPTION SCOPE

list prints one line per assignment at or above SCOPE: "<principalId> <roleName>".

In a private cloud, ARM_ENDPOINT names its Resource Manager and
AZURE_AUTHORITY_HOST (read by azure-identity) its Entra ID authority.
"""
import os
import sys
import uuid

from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient


def main(argv):
    verb, tenant, app_id, secret, subscription, scope = argv[1:7]
    credential = ClientSecretCredential(tenant, app_id, secret)
    arm = os.environ.get("ARM_ENDPOINT")
    if arm:
        client = AuthorizationManagementClient(credential, subscription, base_url=arm,
                                               credential_scopes=["https://management.core.windows.net//.default"])
    else:
        client = AuthorizationManagementClient(credential, subscription)
    if verb == "create":
        role, principal_id = argv[7:9]
        definitions = list(client.role_definitions.list(scope, filter="roleName eq '%s'" % role))
        if len(definitions) != 1:
            sys.exit("role %r: %d definitions" % (role, len(definitions)))
        client.role_assignments.create(scope, str(uuid.uuid4()), {
            "role_definition_id": definitions[0].id,
            "principal_id": principal_id,
            "principal_type": "ServicePrincipal",
        })
    elif verb == "list":
        names = {d.id.rsplit("/", 1)[-1]: d.role_name for d in client.role_definitions.list(scope)}
        for a in client.role_assignments.list_for_scope(scope):
            print(a.principal_id, names.get(a.role_definition_id.rsplit("/", 1)[-1], a.role_definition_id))
    else:
        sys.exit("unknown verb %r" % verb)


if __name__ == "__main__":
    main(sys.argv)
