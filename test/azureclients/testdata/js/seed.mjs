// The seed scenario with the Azure SDK for JavaScript, written as an Azure
// user writes it, in the AzureCloud cloud: nothing points the SDK at
// Cerulean but DNS (/etc/hosts) and trust (NODE_EXTRA_CA_CERTS).
//
// Input (environment):
//   AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID
//       an Owner of the subscription (the bootstrap service principal)
//   SEED_PUSH_APP_ID, SEED_PUSH_OBJECT_ID, SEED_PUSH_PASSWORD
//   SEED_PULL_APP_ID, SEED_PULL_OBJECT_ID, SEED_PULL_PASSWORD
//       two service principals without roles (az ad sp create-for-rbac --name …)
//   SEED_RESOURCE_GROUP, SEED_REGISTRY, SEED_CONTAINER_GROUP, SEED_BUSYBOX
//       names, and a static busybox to build the image from
//
// Output: one JSON document on stdout summarising what the services
// answered; progress on stderr.
import { createHash, randomUUID } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";

import { ClientSecretCredential } from "@azure/identity";
import { ResourceManagementClient } from "@azure/arm-resources";
import { ContainerRegistryManagementClient } from "@azure/arm-containerregistry";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import {
  ContainerRegistryClient,
  ContainerRegistryContentClient,
  KnownContainerRegistryAudience,
} from "@azure/container-registry";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const log = (msg) => process.stderr.write(`seed.mjs: ${msg}\n`);

const tenant = env("AZURE_TENANT_ID");
const subscription = env("AZURE_SUBSCRIPTION_ID");
const owner = new ClientSecretCredential(tenant, env("AZURE_CLIENT_ID"), env("AZURE_CLIENT_SECRET"));
const push = { appId: env("SEED_PUSH_APP_ID"), objectId: env("SEED_PUSH_OBJECT_ID"), password: env("SEED_PUSH_PASSWORD") };
const pull = { appId: env("SEED_PULL_APP_ID"), objectId: env("SEED_PULL_OBJECT_ID"), password: env("SEED_PULL_PASSWORD") };
const group = env("SEED_RESOURCE_GROUP");
const registryName = env("SEED_REGISTRY");
const containerGroupName = env("SEED_CONTAINER_GROUP");
const busybox = env("SEED_BUSYBOX");
const location = "eastus";
const repository = "hello-js";
const tag = "v1";

const summary = {};

// Resource group.
const resources = new ResourceManagementClient(owner, subscription);
const rg = await resources.resourceGroups.createOrUpdate(group, { location });
summary.resourceGroup = { name: rg.name, location: rg.location, provisioningState: rg.properties?.provisioningState };
log(`resource group ${rg.id}`);

// A Basic registry, admin user disabled.
const acr = new ContainerRegistryManagementClient(owner, subscription);
const created = await acr.registries.create(group, registryName, {
  location,
  sku: { name: "Basic" },
  adminUserEnabled: false,
});
const registry = await acr.registries.get(group, registryName);
summary.registry = {
  id: registry.id,
  name: registry.name,
  loginServer: registry.loginServer,
  sku: registry.sku?.name,
  adminUserEnabled: registry.adminUserEnabled,
  createdProvisioningState: created.provisioningState,
  provisioningState: registry.provisioningState,
};
log(`registry ${registry.id} at ${registry.loginServer}`);
const endpoint = `https://${registry.loginServer}`;

// AcrPush and AcrPull at the registry, found by role name.
const authorization = new AuthorizationManagementClient(owner, subscription);
async function roleDefinition(roleName) {
  const found = [];
  for await (const d of authorization.roleDefinitions.list(registry.id, { filter: `roleName eq '${roleName}'` })) {
    found.push(d);
  }
  if (found.length !== 1) throw new Error(`role ${roleName}: ${found.length} definitions`);
  return found[0];
}
for (const [roleName, principal] of [["AcrPush", push], ["AcrPull", pull]]) {
  const def = await roleDefinition(roleName);
  await authorization.roleAssignments.create(registry.id, randomUUID(), {
    roleDefinitionId: def.id,
    principalId: principal.objectId,
    principalType: "ServicePrincipal",
  });
}
const roles = {};
for await (const d of authorization.roleDefinitions.list(registry.id)) {
  roles[d.name.toLowerCase()] = d.roleName;
}
summary.roleAssignments = [];
for await (const a of authorization.roleAssignments.listForScope(registry.id)) {
  summary.roleAssignments.push({
    principalId: a.principalId,
    roleName: roles[a.roleDefinitionId.split("/").pop().toLowerCase()] ?? a.roleDefinitionId,
    scope: a.scope,
  });
}

// A FROM scratch image: one layer holding /bin/busybox, built here.
function tarEntry(name, mode, type, data) {
  const h = Buffer.alloc(512);
  const field = (off, len, s) => h.write(s, off, len, "ascii");
  const octal = (off, len, n) => field(off, len, n.toString(8).padStart(len - 1, "0") + "\0");
  field(0, 100, name);
  octal(100, 8, mode);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, data.length);
  octal(136, 12, Math.floor(Date.UTC(2024, 0, 1) / 1000));
  h.fill(" ", 148, 156);
  field(156, 1, type);
  field(257, 6, "ustar\0");
  field(263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  field(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad]);
}
const sha256 = (b) => "sha256:" + createHash("sha256").update(b).digest("hex");
const tar = Buffer.concat([
  tarEntry("bin/", 0o755, "5", Buffer.alloc(0)),
  tarEntry("bin/busybox", statSync(busybox).mode & 0o7777, "0", readFileSync(busybox)),
  Buffer.alloc(1024),
]);
const layer = gzipSync(tar);
const config = Buffer.from(JSON.stringify({
  architecture: "amd64",
  os: "linux",
  config: { Cmd: ["/bin/busybox", "sh", "-c", "echo hello from js"] },
  rootfs: { type: "layers", diff_ids: [sha256(tar)] },
}));

// The push principal uploads it with the data plane.
const pushCredential = new ClientSecretCredential(tenant, push.appId, push.password);
const content = new ContainerRegistryContentClient(endpoint, repository, pushCredential, {
  audience: KnownContainerRegistryAudience.AzureResourceManagerPublicCloud,
});
const uploadedLayer = await content.uploadBlob(layer);
const uploadedConfig = await content.uploadBlob(config);
if (uploadedLayer.digest !== sha256(layer) || uploadedConfig.digest !== sha256(config)) {
  throw new Error(`uploadBlob digests ${uploadedLayer.digest} ${uploadedConfig.digest}`);
}
const manifest = {
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: uploadedConfig.digest, size: uploadedConfig.sizeInBytes },
  layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: uploadedLayer.digest, size: uploadedLayer.sizeInBytes }],
};
const set = await content.setManifest(manifest, { tag });
const got = await content.getManifest(tag);
summary.push = {
  layer: uploadedLayer,
  config: uploadedConfig,
  manifestDigest: set.digest,
  getManifest: { digest: got.digest, mediaType: got.mediaType, layers: got.manifest.layers.length },
};
log(`pushed ${registry.loginServer}/${repository}:${tag}@${set.digest}`);

// The pull principal reads it back with the registry client.
const pullCredential = new ClientSecretCredential(tenant, pull.appId, pull.password);
const reader = new ContainerRegistryClient(endpoint, pullCredential, {
  audience: KnownContainerRegistryAudience.AzureResourceManagerPublicCloud,
});
summary.repositories = [];
for await (const name of reader.listRepositoryNames()) summary.repositories.push(name);
summary.manifests = [];
for await (const m of reader.getRepository(repository).listManifestProperties()) {
  summary.manifests.push({ digest: m.digest, tags: m.tags, architecture: m.architecture, operatingSystem: m.operatingSystem });
}
const tagProps = await reader.getArtifact(repository, tag).getTagProperties(tag);
// AcrPull reads blobs but may not push them: the registry refuses.
const pullContent = new ContainerRegistryContentClient(endpoint, repository, pullCredential, {
  audience: KnownContainerRegistryAudience.AzureResourceManagerPublicCloud,
});
const downloaded = await pullContent.downloadBlob(uploadedConfig.digest);
const chunks = [];
for await (const chunk of downloaded.content) chunks.push(chunk);
summary.pullDownloadedConfig = Buffer.concat(chunks).equals(config);
try {
  await pullContent.uploadBlob(Buffer.from("not allowed"));
  summary.pullUpload = { refused: false };
} catch (e) {
  summary.pullUpload = { refused: true, statusCode: e.statusCode, name: e.name };
}
summary.tag = { name: tagProps.name, digest: tagProps.digest, repositoryName: tagProps.repositoryName, registryLoginServer: tagProps.registryLoginServer };

// ACI runs the image with the pull principal's credentials.
const aci = new ContainerInstanceManagementClient(owner, subscription);
const cg = await aci.containerGroups.beginCreateOrUpdateAndWait(group, containerGroupName, {
  location,
  osType: "Linux",
  restartPolicy: "Never",
  containers: [{
    name: containerGroupName,
    image: `${registry.loginServer}/${repository}:${tag}`,
    resources: { requests: { cpu: 1, memoryInGB: 0.5 } },
  }],
  imageRegistryCredentials: [{ server: registry.loginServer, username: pull.appId, password: pull.password }],
});
log(`container group ${cg.id}: ${cg.provisioningState}`);
let state;
for (let i = 0; i < 240; i++) {
  const g = await aci.containerGroups.get(group, containerGroupName);
  state = g.containers[0].instanceView?.currentState;
  if (state?.state === "Terminated") break;
  await new Promise((r) => setTimeout(r, 500));
}
const logs = await aci.containers.listLogs(group, containerGroupName, containerGroupName);
summary.containerGroup = {
  provisioningState: cg.provisioningState,
  state: state?.state,
  exitCode: state?.exitCode,
  logs: logs.content,
};
await aci.containerGroups.beginDeleteAndWait(group, containerGroupName);
let groupsLeft = 0;
for await (const g of aci.containerGroups.listByResourceGroup(group)) groupsLeft += g ? 1 : 0;
summary.containerGroup.left = groupsLeft;

// Clean up: registry, then resource group.
await acr.registries.delete(group, registryName);
const registriesLeft = [];
for await (const r of acr.registries.listByResourceGroup(group)) registriesLeft.push(r.name);
await resources.resourceGroups.beginDeleteAndWait(group);
const exists = await resources.resourceGroups.checkExistence(group);
summary.deleted = { registriesLeft, resourceGroupExists: exists.body };

process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
