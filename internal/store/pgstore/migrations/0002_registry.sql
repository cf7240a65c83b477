-- Cerulean metadata schema, version 2: Azure Container Registry.
--
-- Registries are keyed by their lower-cased name, which is global (it is a
-- DNS label of the login server). Everything a registry holds is keyed by
-- (registry_key, repository, ...) and goes with it through ON DELETE
-- CASCADE; repository names, digests and tags are matched exactly (OCI
-- repository names are lower-case by grammar; tags are case-sensitive).
-- Attributes are ACR's four changeable flags.

CREATE TABLE registries (
    name_key               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name                   TEXT COLLATE "C" NOT NULL, -- as created
    id                     TEXT COLLATE "C" NOT NULL, -- canonical resourceid.ID.String()
    subscription_key       TEXT COLLATE "C" NOT NULL,
    group_key              TEXT COLLATE "C" NOT NULL,
    location               TEXT COLLATE "C" NOT NULL,
    tags                   TEXT COLLATE "C",          -- JSON object; NULL for no tags map
    sku                    TEXT COLLATE "C" NOT NULL,
    admin_user_enabled     BOOLEAN NOT NULL,
    anonymous_pull_enabled BOOLEAN NOT NULL,
    login_server           TEXT COLLATE "C" NOT NULL,
    provisioning_state     TEXT COLLATE "C" NOT NULL,
    admin_passwords        TEXT COLLATE "C" NOT NULL, -- JSON array of {name, sealed (base64), created_at}
    created_at             TEXT COLLATE "C" NOT NULL,
    created_by             TEXT COLLATE "C" NOT NULL,
    changed_at             TEXT COLLATE "C" NOT NULL,
    changed_by             TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY (subscription_key, group_key) REFERENCES resource_groups (subscription_key, name_key)
);

CREATE INDEX registries_by_group ON registries (subscription_key, group_key, name_key);

CREATE TABLE repositories (
    registry_key   TEXT COLLATE "C" NOT NULL REFERENCES registries (name_key) ON DELETE CASCADE,
    name           TEXT COLLATE "C" NOT NULL,
    delete_enabled BOOLEAN NOT NULL,
    write_enabled  BOOLEAN NOT NULL,
    read_enabled   BOOLEAN NOT NULL,
    list_enabled   BOOLEAN NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    updated_at     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (registry_key, name)
);

-- A blob is visible in a repository only through its link.
CREATE TABLE blob_links (
    registry_key TEXT COLLATE "C" NOT NULL,
    repository   TEXT COLLATE "C" NOT NULL,
    digest       TEXT COLLATE "C" NOT NULL,
    size         BIGINT NOT NULL,
    PRIMARY KEY (registry_key, repository, digest),
    FOREIGN KEY (registry_key, repository) REFERENCES repositories (registry_key, name) ON DELETE CASCADE
);

CREATE INDEX blob_links_by_digest ON blob_links (digest, registry_key);

CREATE TABLE manifests (
    registry_key      TEXT COLLATE "C" NOT NULL,
    repository        TEXT COLLATE "C" NOT NULL,
    digest            TEXT COLLATE "C" NOT NULL,
    media_type        TEXT COLLATE "C" NOT NULL,
    artifact_type     TEXT COLLATE "C" NOT NULL,
    config_media_type TEXT COLLATE "C" NOT NULL,
    size              BIGINT NOT NULL,
    subject           TEXT COLLATE "C" NOT NULL, -- '' when none
    annotations       TEXT COLLATE "C",          -- JSON object; NULL for none
    blobs             TEXT COLLATE "C" NOT NULL, -- JSON array of digests, in manifest order
    children          TEXT COLLATE "C" NOT NULL, -- JSON array of digests, in index order
    architecture      TEXT COLLATE "C" NOT NULL,
    os                TEXT COLLATE "C" NOT NULL,
    delete_enabled    BOOLEAN NOT NULL,
    write_enabled     BOOLEAN NOT NULL,
    read_enabled      BOOLEAN NOT NULL,
    list_enabled      BOOLEAN NOT NULL,
    created_at        TEXT COLLATE "C" NOT NULL,
    updated_at        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (registry_key, repository, digest),
    FOREIGN KEY (registry_key, repository) REFERENCES repositories (registry_key, name) ON DELETE CASCADE
);

CREATE INDEX manifests_by_digest ON manifests (digest);
CREATE INDEX manifests_by_subject ON manifests (registry_key, repository, subject, digest);

-- The blobs a manifest references (config, layers), for garbage collection:
-- a blob a manifest references is kept even when it is no longer linked.
CREATE TABLE manifest_blobs (
    registry_key TEXT COLLATE "C" NOT NULL,
    repository   TEXT COLLATE "C" NOT NULL,
    manifest     TEXT COLLATE "C" NOT NULL,
    blob         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (registry_key, repository, manifest, blob),
    FOREIGN KEY (registry_key, repository, manifest) REFERENCES manifests (registry_key, repository, digest) ON DELETE CASCADE
);

CREATE INDEX manifest_blobs_by_blob ON manifest_blobs (blob);

-- An index's child manifests. A child may be deleted after its index.
CREATE TABLE manifest_children (
    registry_key TEXT COLLATE "C" NOT NULL,
    repository   TEXT COLLATE "C" NOT NULL,
    manifest     TEXT COLLATE "C" NOT NULL,
    child        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (registry_key, repository, manifest, child),
    FOREIGN KEY (registry_key, repository, manifest) REFERENCES manifests (registry_key, repository, digest) ON DELETE CASCADE
);

CREATE INDEX manifest_children_by_child ON manifest_children (registry_key, repository, child);

CREATE TABLE tags (
    registry_key   TEXT COLLATE "C" NOT NULL,
    repository     TEXT COLLATE "C" NOT NULL,
    name           TEXT COLLATE "C" NOT NULL,
    digest         TEXT COLLATE "C" NOT NULL,
    delete_enabled BOOLEAN NOT NULL,
    write_enabled  BOOLEAN NOT NULL,
    read_enabled   BOOLEAN NOT NULL,
    list_enabled   BOOLEAN NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    updated_at     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (registry_key, repository, name),
    FOREIGN KEY (registry_key, repository, digest) REFERENCES manifests (registry_key, repository, digest) ON DELETE CASCADE
);

CREATE INDEX tags_by_digest ON tags (registry_key, repository, digest);

-- Upload sessions; the repository need not exist yet.
CREATE TABLE uploads (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    registry_key TEXT COLLATE "C" NOT NULL REFERENCES registries (name_key) ON DELETE CASCADE,
    repository   TEXT COLLATE "C" NOT NULL,
    started_at   TEXT COLLATE "C" NOT NULL,
    updated_at   TEXT COLLATE "C" NOT NULL
);

CREATE INDEX uploads_by_registry ON uploads (registry_key);
CREATE INDEX uploads_by_updated ON uploads (updated_at);
