-- Cerulean metadata schema, version 4: each registry's instance id, 128
-- random bits (hex) drawn at creation and carried in its tokens, so that a
-- registry deleted and re-created under the same name refuses the old one's
-- tokens. Registries stored before this migration get one here.
--
-- Depends on 0002 (the registries table) only.

ALTER TABLE registries ADD COLUMN instance_id TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE registries SET instance_id = replace(gen_random_uuid()::text, '-', '') WHERE instance_id = '';
