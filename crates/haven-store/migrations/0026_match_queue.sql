-- People waiting to be compared with the province's records: the rows of an import are queued in the
-- import's own transaction and compared afterwards in short transactions, so that an import holds the write
-- lock only while its rows are written. A row leaves the queue in the transaction that proposes its pairs,
-- under the name of the user who queued it (the audit log and the day's signals are theirs).
CREATE TABLE match_queue (
    person_id TEXT PRIMARY KEY REFERENCES persons(id),
    import_id TEXT,
    user_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    queued_at BIGINT NOT NULL
);
CREATE INDEX match_queue_order ON match_queue(queued_at, person_id);
CREATE INDEX absentees_import ON absentees(import_id);
CREATE INDEX returnees_import ON returnees(import_id);
