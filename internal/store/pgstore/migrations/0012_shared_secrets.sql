-- Cerulean metadata schema, version 12: the secrets every server sharing
-- this database must agree on (the token signing key, the sealing keys,
-- the TLS CA, the bootstrap credentials), stored once by the first server
-- that needs each and read by every other (secrets.go). PostgreSQL only:
-- a SQLite store belongs to one server, which keeps them in its data dir.
--
-- Depends on nothing.

CREATE TABLE shared_secrets (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value      BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
