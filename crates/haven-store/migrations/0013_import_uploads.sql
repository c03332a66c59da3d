-- Spreadsheets uploaded for import, kept sealed between the upload, the preview with its column mapping and
-- the commit (any app server can take the next step), then removed. The file hash is a blind index, so
-- re-importing the same file can be recognised without keeping a plain fingerprint of its content.
CREATE TABLE import_uploads (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    file_name BYTES NOT NULL,
    content BYTES NOT NULL,
    file_hash TEXT NOT NULL,
    encoding TEXT,
    mapping TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX import_uploads_user ON import_uploads(user_id, created_at);
