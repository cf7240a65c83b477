-- Cerulean metadata schema, version 10: Azure Container Instances.
--
-- A container group is keyed by its lower-cased resource id. Its spec is
-- sealed (it holds registry passwords, secure environment values and
-- secret volumes); what must stay unique across groups is kept beside it
-- in clear: the loopback address and the DNS name label per location.

CREATE TABLE container_groups (
    id_key             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    id                 TEXT COLLATE "C" NOT NULL, -- canonical resourceid.ID.String()
    subscription_key   TEXT COLLATE "C" NOT NULL,
    group_key          TEXT COLLATE "C" NOT NULL,
    name               TEXT COLLATE "C" NOT NULL,
    location           TEXT COLLATE "C" NOT NULL,
    tags               TEXT COLLATE "C",          -- JSON object; NULL for no tags map
    instance_id        TEXT COLLATE "C" NOT NULL UNIQUE,
    spec               BYTEA NOT NULL, -- sealed JSON
    provisioning_state TEXT COLLATE "C" NOT NULL,
    stopped            BOOLEAN NOT NULL,
    ip                 TEXT COLLATE "C" UNIQUE,   -- NULL when the group has no IP address
    dns_label_key      TEXT COLLATE "C" UNIQUE,   -- "<location>/<label>", NULL when none
    images             TEXT COLLATE "C" NOT NULL, -- JSON: container → resolved image
    events             TEXT COLLATE "C" NOT NULL, -- JSON: container → domain events
    created_at         TEXT COLLATE "C" NOT NULL,
    created_by         TEXT COLLATE "C" NOT NULL,
    changed_at         TEXT COLLATE "C" NOT NULL,
    changed_by         TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY (subscription_key, group_key) REFERENCES resource_groups (subscription_key, name_key)
);

CREATE INDEX container_groups_by_group ON container_groups (subscription_key, group_key, id_key);

CREATE TABLE container_group_operations (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    group_id_key  TEXT COLLATE "C" NOT NULL REFERENCES container_groups (id_key) ON DELETE CASCADE,
    group_id      TEXT COLLATE "C" NOT NULL,
    location      TEXT COLLATE "C" NOT NULL,
    status        TEXT COLLATE "C" NOT NULL,
    start_time    TEXT COLLATE "C" NOT NULL,
    end_time      TEXT COLLATE "C" NOT NULL,
    error_code    TEXT COLLATE "C" NOT NULL,
    error_message TEXT COLLATE "C" NOT NULL
);

CREATE INDEX container_group_operations_by_group ON container_group_operations (group_id_key);
