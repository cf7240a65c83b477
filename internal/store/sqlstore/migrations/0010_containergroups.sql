-- Cerulean metadata schema, version 10: Azure Container Instances.
--
-- A container group is keyed by its lower-cased resource id. Its spec is
-- sealed (it holds registry passwords, secure environment values and
-- secret volumes); what must stay unique across groups is kept beside it
-- in clear: the loopback address and the DNS name label per location.

CREATE TABLE container_groups (
    id_key             TEXT NOT NULL PRIMARY KEY,
    id                 TEXT NOT NULL, -- canonical resourceid.ID.String()
    subscription_key   TEXT NOT NULL,
    group_key          TEXT NOT NULL,
    name               TEXT NOT NULL,
    location           TEXT NOT NULL,
    tags               TEXT,          -- JSON object; NULL for no tags map
    instance_id        TEXT NOT NULL UNIQUE,
    spec               BLOB NOT NULL, -- sealed JSON
    provisioning_state TEXT NOT NULL,
    stopped            BOOLEAN NOT NULL,
    ip                 TEXT UNIQUE,   -- NULL when the group has no IP address
    dns_label_key      TEXT UNIQUE,   -- "<location>/<label>", NULL when none
    images             TEXT NOT NULL, -- JSON: container → resolved image
    events             TEXT NOT NULL, -- JSON: container → domain events
    created_at         TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    changed_at         TEXT NOT NULL,
    changed_by         TEXT NOT NULL,
    FOREIGN KEY (subscription_key, group_key) REFERENCES resource_groups (subscription_key, name_key)
);

CREATE INDEX container_groups_by_group ON container_groups (subscription_key, group_key, id_key);

CREATE TABLE container_group_operations (
    id            TEXT NOT NULL PRIMARY KEY,
    group_id_key  TEXT NOT NULL REFERENCES container_groups (id_key) ON DELETE CASCADE,
    group_id      TEXT NOT NULL,
    location      TEXT NOT NULL,
    status        TEXT NOT NULL,
    start_time    TEXT NOT NULL,
    end_time      TEXT NOT NULL,
    error_code    TEXT NOT NULL,
    error_message TEXT NOT NULL
);

CREATE INDEX container_group_operations_by_group ON container_group_operations (group_id_key);
