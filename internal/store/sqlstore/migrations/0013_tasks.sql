-- Cerulean metadata schema, version 13: ACR Tasks — each registry's quick
-- builds and quick runs (runs), their logs (run_logs, in chunks: any server
-- serves a log while another writes it), the run counter that gives run ids
-- (ca1, ca2, …) and the uploaded build contexts (sources: the bytes are a
-- blob in the blob store; source_blocks are a block upload's parts until
-- its block list commits them). Everything goes with its registry.
--
-- Depends on 0002 (the registries table) only.

CREATE TABLE task_counters (
    registry_key TEXT NOT NULL PRIMARY KEY REFERENCES registries (name_key) ON DELETE CASCADE,
    last_seq     INTEGER NOT NULL
);

CREATE TABLE task_runs (
    registry_key    TEXT NOT NULL REFERENCES registries (name_key) ON DELETE CASCADE,
    run_id          TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    run_type        TEXT NOT NULL,
    status          TEXT NOT NULL,
    server          TEXT NOT NULL,
    details         TEXT NOT NULL, -- JSON: platform, output images, error message, archive flag, timeout
    created_at      TEXT NOT NULL,
    started_at      TEXT NOT NULL, -- '' until Running
    finished_at     TEXT NOT NULL, -- '' until finished
    updated_at      TEXT NOT NULL,
    log_size        INTEGER NOT NULL,
    log_complete    TEXT NOT NULL,
    PRIMARY KEY (registry_key, run_id)
);

CREATE INDEX task_runs_by_seq ON task_runs (registry_key, seq);
CREATE INDEX task_runs_by_status ON task_runs (status);

CREATE TABLE task_run_logs (
    registry_key TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    start_offset INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (registry_key, run_id, start_offset),
    FOREIGN KEY (registry_key, run_id) REFERENCES task_runs (registry_key, run_id) ON DELETE CASCADE
);

CREATE TABLE task_sources (
    registry_key TEXT NOT NULL REFERENCES registries (name_key) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    digest       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (registry_key, path)
);

CREATE TABLE task_source_blocks (
    registry_key TEXT NOT NULL REFERENCES registries (name_key) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    block_id     TEXT NOT NULL,
    digest       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    PRIMARY KEY (registry_key, path, block_id)
);
