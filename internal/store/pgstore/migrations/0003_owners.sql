-- Cerulean metadata schema, version 3: owners of applications and service
-- principals (Entra's owners navigation property), as a JSON array of
-- lower-case object ids. Objects that exist before this migration, such as
-- the bootstrap principal, have no owners.
--
-- Independent of 0002 (the container registry tables): the runner applies
-- every known migration not yet recorded, in version order, so it does not
-- matter which of the two a database got first.

ALTER TABLE applications ADD COLUMN owners TEXT COLLATE "C" NOT NULL DEFAULT '[]';
ALTER TABLE service_principals ADD COLUMN owners TEXT COLLATE "C" NOT NULL DEFAULT '[]';
