-- Cerulean metadata schema, version 1, PostgreSQL dialect of
-- sqlstore/migrations/0001_init.sql: the same tables and columns, TEXT
-- COLLATE "C" so that ORDER BY and comparisons are byte order as in SQLite
-- (whatever the database's locale), BYTEA for BLOB. Timestamps stay
-- fixed-width RFC 3339 UTC TEXT and lists JSON-encoded TEXT, so both
-- backends share their Go encoding.

CREATE TABLE tenants (
    id_key         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    id             TEXT COLLATE "C" NOT NULL,
    display_name   TEXT COLLATE "C" NOT NULL,
    default_domain TEXT COLLATE "C" NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL
);

CREATE TABLE applications (
    id_key           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    id               TEXT COLLATE "C" NOT NULL,
    tenant_key       TEXT COLLATE "C" NOT NULL REFERENCES tenants (id_key),
    tenant_id        TEXT COLLATE "C" NOT NULL,
    app_id_key       TEXT COLLATE "C" NOT NULL UNIQUE,
    app_id           TEXT COLLATE "C" NOT NULL,
    display_name_key TEXT COLLATE "C" NOT NULL,
    display_name     TEXT COLLATE "C" NOT NULL,
    description      TEXT COLLATE "C" NOT NULL,
    sign_in_audience TEXT COLLATE "C" NOT NULL,
    identifier_uris  TEXT COLLATE "C" NOT NULL, -- JSON array of strings
    tags             TEXT COLLATE "C" NOT NULL, -- JSON array of strings
    notes            TEXT COLLATE "C" NOT NULL,
    created_at       TEXT COLLATE "C" NOT NULL
);

CREATE INDEX applications_by_tenant ON applications (tenant_key, created_at, id_key);
CREATE INDEX applications_by_name ON applications (tenant_key, display_name_key);

CREATE TABLE service_principals (
    id_key                       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    id                           TEXT COLLATE "C" NOT NULL,
    tenant_key                   TEXT COLLATE "C" NOT NULL REFERENCES tenants (id_key),
    tenant_id                    TEXT COLLATE "C" NOT NULL,
    app_id_key                   TEXT COLLATE "C" NOT NULL,
    app_id                       TEXT COLLATE "C" NOT NULL,
    display_name_key             TEXT COLLATE "C" NOT NULL,
    display_name                 TEXT COLLATE "C" NOT NULL,
    description                  TEXT COLLATE "C" NOT NULL,
    notes                        TEXT COLLATE "C" NOT NULL,
    account_enabled              BOOLEAN NOT NULL,
    app_role_assignment_required BOOLEAN NOT NULL,
    service_principal_names      TEXT COLLATE "C" NOT NULL, -- JSON array of strings
    service_principal_name_keys  TEXT COLLATE "C" NOT NULL, -- the same, lower-cased, for filtering
    tags                         TEXT COLLATE "C" NOT NULL, -- JSON array of strings
    created_at                   TEXT COLLATE "C" NOT NULL,
    UNIQUE (tenant_key, app_id_key)
);

CREATE INDEX service_principals_by_tenant ON service_principals (tenant_key, created_at, id_key);
CREATE INDEX service_principals_by_name ON service_principals (tenant_key, display_name_key);

-- Client secrets of applications and service principals. owner_id is the
-- owner's id_key; position keeps the order of the owner's list.
CREATE TABLE password_credentials (
    owner_kind      TEXT COLLATE "C" NOT NULL, -- 'application' or 'servicePrincipal'
    owner_id        TEXT COLLATE "C" NOT NULL,
    key_id          TEXT COLLATE "C" NOT NULL,
    position        INTEGER NOT NULL,
    display_name    TEXT COLLATE "C" NOT NULL,
    hint            TEXT COLLATE "C" NOT NULL,
    salt            BYTEA NOT NULL,
    hash            BYTEA NOT NULL,
    start_date_time TEXT COLLATE "C" NOT NULL,
    end_date_time   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, key_id)
);

CREATE TABLE subscriptions (
    id_key       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    id           TEXT COLLATE "C" NOT NULL,
    tenant_key   TEXT COLLATE "C" NOT NULL REFERENCES tenants (id_key),
    tenant_id    TEXT COLLATE "C" NOT NULL,
    display_name TEXT COLLATE "C" NOT NULL,
    state        TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL
);

CREATE TABLE resource_groups (
    subscription_key   TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id_key),
    name_key           TEXT COLLATE "C" NOT NULL,
    subscription_id    TEXT COLLATE "C" NOT NULL,
    name               TEXT COLLATE "C" NOT NULL, -- as first created
    location           TEXT COLLATE "C" NOT NULL,
    tags               TEXT COLLATE "C",          -- JSON object; NULL for no tags map
    managed_by         TEXT COLLATE "C" NOT NULL,
    provisioning_state TEXT COLLATE "C" NOT NULL,
    created_at         TEXT COLLATE "C" NOT NULL,
    changed_at         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (subscription_key, name_key)
);

-- The generic resource index. id_key is resourceid.ID.Key(); type_key the
-- lower-cased resource type.
CREATE TABLE resources (
    id_key           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    id               TEXT COLLATE "C" NOT NULL, -- canonical resourceid.ID.String(), as first created
    subscription_key TEXT COLLATE "C" NOT NULL,
    group_key        TEXT COLLATE "C" NOT NULL,
    type_key         TEXT COLLATE "C" NOT NULL,
    location         TEXT COLLATE "C" NOT NULL,
    kind             TEXT COLLATE "C" NOT NULL,
    sku              TEXT COLLATE "C" NOT NULL,
    tags             TEXT COLLATE "C",          -- JSON object; NULL for no tags map
    created_at       TEXT COLLATE "C" NOT NULL,
    changed_at       TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY (subscription_key, group_key) REFERENCES resource_groups (subscription_key, name_key)
);

CREATE INDEX resources_by_group ON resources (subscription_key, group_key, id_key);
CREATE INDEX resources_by_type ON resources (subscription_key, type_key);

-- scope is the canonical resourceid.ID.String(); scope_key its Key().
CREATE TABLE role_assignments (
    name_key            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name                TEXT COLLATE "C" NOT NULL,
    scope_key           TEXT COLLATE "C" NOT NULL,
    scope               TEXT COLLATE "C" NOT NULL,
    role_definition_key TEXT COLLATE "C" NOT NULL,
    role_definition_id  TEXT COLLATE "C" NOT NULL,
    principal_key       TEXT COLLATE "C" NOT NULL,
    principal_id        TEXT COLLATE "C" NOT NULL,
    principal_type      TEXT COLLATE "C" NOT NULL,
    description         TEXT COLLATE "C" NOT NULL,
    condition           TEXT COLLATE "C" NOT NULL,
    condition_version   TEXT COLLATE "C" NOT NULL,
    created_on          TEXT COLLATE "C" NOT NULL,
    updated_on          TEXT COLLATE "C" NOT NULL,
    created_by          TEXT COLLATE "C" NOT NULL,
    updated_by          TEXT COLLATE "C" NOT NULL
);

-- One grant per principal, scope and role; also serves the authorization
-- query (a principal's assignments at a set of scopes).
CREATE UNIQUE INDEX role_assignments_grant ON role_assignments (principal_key, scope_key, role_definition_key);
CREATE INDEX role_assignments_by_scope ON role_assignments (scope_key);
CREATE INDEX role_assignments_by_created ON role_assignments (created_on, name_key);

-- PostgreSQL only: the names that must be unique in a tenant, one row per
-- name, so that a unique index (not a read before the write) refuses the
-- second claim even from another server. The owner's row is replaced in
-- the owner's own transaction.
CREATE TABLE application_identifier_uris (
    tenant_key TEXT COLLATE "C" NOT NULL,
    uri_key    TEXT COLLATE "C" NOT NULL,
    app_key    TEXT COLLATE "C" NOT NULL REFERENCES applications (id_key) ON DELETE CASCADE,
    PRIMARY KEY (tenant_key, uri_key)
);

CREATE INDEX application_identifier_uris_by_app ON application_identifier_uris (app_key);

CREATE TABLE service_principal_names (
    tenant_key TEXT COLLATE "C" NOT NULL,
    name_key   TEXT COLLATE "C" NOT NULL,
    sp_key     TEXT COLLATE "C" NOT NULL REFERENCES service_principals (id_key) ON DELETE CASCADE,
    PRIMARY KEY (tenant_key, name_key)
);

CREATE INDEX service_principal_names_by_sp ON service_principal_names (sp_key);
