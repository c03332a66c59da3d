-- Where each import started from the pages or the API stands, in the database rather than in the memory of
-- the server that runs it, so that any server behind the proxy shows its progress bar and its end, and an
-- import whose server stopped shows as interrupted (its heartbeat goes stale) instead of running forever.
-- Operational state like a session's last-seen time: written outside commands, never audited (the import
-- itself is).
CREATE TABLE import_runs (
    upload_id TEXT PRIMARY KEY,
    done BIGINT NOT NULL,
    total BIGINT NOT NULL,
    -- NULL while running; `done`, or the translation key of what stopped it.
    outcome TEXT,
    rows_created BIGINT,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
CREATE INDEX import_runs_running ON import_runs(outcome, heartbeat_at);
