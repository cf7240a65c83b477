-- Cerulean metadata schema, version 13: ACR Tasks — each registry's quick
-- builds and quick runs (runs), their logs (run_logs, in chunks: any server
-- serves a log while another writes it), the run counter that gives run ids
-- (ca1, ca2, …) and the uploaded build contexts (sources: the bytes are a
-- blob in the blob store; source_blocks are a block upload's parts until
-- its block list commits them). Everything goes with its registry.
--
-- Depends on 0002 (the registries table) only.

CREATE TABLE task_counters (
    registry_key TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES registries (name_key) ON DELETE CASCADE,
    last_seq     BIGINT NOT NULL
);

CREATE TABLE task_runs (
    registry_key    TEXT COLLATE "C" NOT NULL REFERENCES registries (name_key) ON DELETE CASCADE,
    run_id          TEXT COLLATE "C" NOT NULL,
    seq             BIGINT NOT NULL,
    run_type        TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    server          TEXT COLLATE "C" NOT NULL,
    details         TEXT COLLATE "C" NOT NULL, -- JSON: platform, output images, error message, archive flag, timeout
    created_at      TEXT COLLATE "C" NOT NULL,
    started_at      TEXT COLLATE "C" NOT NULL, -- '' until Running
    finished_at     TEXT COLLATE "C" NOT NULL, -- '' until finished
    updated_at      TEXT COLLATE "C" NOT NULL,
    log_size        BIGINT NOT NULL,
    log_complete    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (registry_key, run_id)
);

CREATE INDEX task_runs_by_seq ON task_runs (registry_key, seq);
CREATE INDEX task_runs_by_status ON task_runs (status);

CREATE TABLE task_run_logs (
    registry_key TEXT COLLATE "C" NOT NULL,
    run_id       TEXT COLLATE "C" NOT NULL,
    start_offset BIGINT NOT NULL,
    size         BIGINT NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (registry_key, run_id, start_offset),
    FOREIGN KEY (registry_key, run_id) REFERENCES task_runs (registry_key, run_id) ON DELETE CASCADE
);

CREATE TABLE task_sources (
    registry_key TEXT COLLATE "C" NOT NULL REFERENCES registries (name_key) ON DELETE CASCADE,
    path         TEXT COLLATE "C" NOT NULL,
    digest       TEXT COLLATE "C" NOT NULL,
    size         BIGINT NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (registry_key, path)
);

CREATE TABLE task_source_blocks (
    registry_key TEXT COLLATE "C" NOT NULL REFERENCES registries (name_key) ON DELETE CASCADE,
    path         TEXT COLLATE "C" NOT NULL,
    block_id     TEXT COLLATE "C" NOT NULL,
    digest       TEXT COLLATE "C" NOT NULL,
    size         BIGINT NOT NULL,
    PRIMARY KEY (registry_key, path, block_id)
);
