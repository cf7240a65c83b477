-- Cerulean metadata schema, version 11: the servers sharing the store and
-- the owner of each container group.
--
-- Every server records a heartbeat here every few seconds; one whose
-- heartbeat is older than the lease is dead, and a live server claims its
-- container groups by changing their owner with a conditional UPDATE (only
-- if the owner is still the dead one). Groups stored before this version
-- have no owner ('') and are adopted by the first server to look.
--
-- Depends on 0010 (the container_groups table) only.

CREATE TABLE servers (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    address      TEXT COLLATE "C" NOT NULL, -- host:port other servers reach it at
    heartbeat_at TEXT COLLATE "C" NOT NULL
);

ALTER TABLE container_groups ADD COLUMN owner TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX container_groups_by_owner ON container_groups (owner);
