-- Cerulean metadata schema, version 1.
--
-- Portable on purpose, so that a PostgreSQL dialect can follow: plain types,
-- TEXT ids, timestamps as fixed-width RFC 3339 UTC TEXT (nine fractional
-- digits, so that text order is time order), JSON-encoded TEXT for lists and
-- maps, BLOB for bytes. Case-insensitive lookups go through *_key columns
-- holding the lower-cased value (computed by the Go code), next to the
-- original spelling, which is what the store returns.

CREATE TABLE tenants (
    id_key         TEXT NOT NULL PRIMARY KEY,
    id             TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    default_domain TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE applications (
    id_key           TEXT NOT NULL PRIMARY KEY,
    id               TEXT NOT NULL,
    tenant_key       TEXT NOT NULL REFERENCES tenants (id_key),
    tenant_id        TEXT NOT NULL,
    app_id_key       TEXT NOT NULL UNIQUE,
    app_id           TEXT NOT NULL,
    display_name_key TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    description      TEXT NOT NULL,
    sign_in_audience TEXT NOT NULL,
    identifier_uris  TEXT NOT NULL, -- JSON array of strings
    tags             TEXT NOT NULL, -- JSON array of strings
    notes            TEXT NOT NULL,
    created_at       TEXT NOT NULL
);

CREATE INDEX applications_by_tenant ON applications (tenant_key, created_at, id_key);
CREATE INDEX applications_by_name ON applications (tenant_key, display_name_key);

CREATE TABLE service_principals (
    id_key                       TEXT NOT NULL PRIMARY KEY,
    id                           TEXT NOT NULL,
    tenant_key                   TEXT NOT NULL REFERENCES tenants (id_key),
    tenant_id                    TEXT NOT NULL,
    app_id_key                   TEXT NOT NULL,
    app_id                       TEXT NOT NULL,
    display_name_key             TEXT NOT NULL,
    display_name                 TEXT NOT NULL,
    description                  TEXT NOT NULL,
    notes                        TEXT NOT NULL,
    account_enabled              BOOLEAN NOT NULL,
    app_role_assignment_required BOOLEAN NOT NULL,
    service_principal_names      TEXT NOT NULL, -- JSON array of strings
    service_principal_name_keys  TEXT NOT NULL, -- the same, lower-cased, for filtering
    tags                         TEXT NOT NULL, -- JSON array of strings
    created_at                   TEXT NOT NULL,
    UNIQUE (tenant_key, app_id_key)
);

CREATE INDEX service_principals_by_tenant ON service_principals (tenant_key, created_at, id_key);
CREATE INDEX service_principals_by_name ON service_principals (tenant_key, display_name_key);

-- Client secrets of applications and service principals. owner_id is the
-- owner's id_key; position keeps the order of the owner's list.
CREATE TABLE password_credentials (
    owner_kind      TEXT NOT NULL, -- 'application' or 'servicePrincipal'
    owner_id        TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    position        INTEGER NOT NULL,
    display_name    TEXT NOT NULL,
    hint            TEXT NOT NULL,
    salt            BLOB NOT NULL,
    hash            BLOB NOT NULL,
    start_date_time TEXT NOT NULL,
    end_date_time   TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, key_id)
);

CREATE TABLE subscriptions (
    id_key       TEXT NOT NULL PRIMARY KEY,
    id           TEXT NOT NULL,
    tenant_key   TEXT NOT NULL REFERENCES tenants (id_key),
    tenant_id    TEXT NOT NULL,
    display_name TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE resource_groups (
    subscription_key   TEXT NOT NULL REFERENCES subscriptions (id_key),
    name_key           TEXT NOT NULL,
    subscription_id    TEXT NOT NULL,
    name               TEXT NOT NULL, -- as first created
    location           TEXT NOT NULL,
    tags               TEXT,          -- JSON object; NULL for no tags map
    managed_by         TEXT NOT NULL,
    provisioning_state TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    changed_at         TEXT NOT NULL,
    PRIMARY KEY (subscription_key, name_key)
);

-- The generic resource index. id_key is resourceid.ID.Key(); type_key the
-- lower-cased resource type.
CREATE TABLE resources (
    id_key           TEXT NOT NULL PRIMARY KEY,
    id               TEXT NOT NULL, -- canonical resourceid.ID.String(), as first created
    subscription_key TEXT NOT NULL,
    group_key        TEXT NOT NULL,
    type_key         TEXT NOT NULL,
    location         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    sku              TEXT NOT NULL,
    tags             TEXT,          -- JSON object; NULL for no tags map
    created_at       TEXT NOT NULL,
    changed_at       TEXT NOT NULL,
    FOREIGN KEY (subscription_key, group_key) REFERENCES resource_groups (subscription_key, name_key)
);

CREATE INDEX resources_by_group ON resources (subscription_key, group_key, id_key);
CREATE INDEX resources_by_type ON resources (subscription_key, type_key);

-- scope is the canonical resourceid.ID.String(); scope_key its Key().
CREATE TABLE role_assignments (
    name_key            TEXT NOT NULL PRIMARY KEY,
    name                TEXT NOT NULL,
    scope_key           TEXT NOT NULL,
    scope               TEXT NOT NULL,
    role_definition_key TEXT NOT NULL,
    role_definition_id  TEXT NOT NULL,
    principal_key       TEXT NOT NULL,
    principal_id        TEXT NOT NULL,
    principal_type      TEXT NOT NULL,
    description         TEXT NOT NULL,
    condition           TEXT NOT NULL,
    condition_version   TEXT NOT NULL,
    created_on          TEXT NOT NULL,
    updated_on          TEXT NOT NULL,
    created_by          TEXT NOT NULL,
    updated_by          TEXT NOT NULL
);

-- One grant per principal, scope and role; also serves the authorization
-- query (a principal's assignments at a set of scopes).
CREATE UNIQUE INDEX role_assignments_grant ON role_assignments (principal_key, scope_key, role_definition_key);
CREATE INDEX role_assignments_by_scope ON role_assignments (scope_key);
CREATE INDEX role_assignments_by_created ON role_assignments (created_on, name_key);
