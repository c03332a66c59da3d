-- An import's rows, staged before they are published. Each row is sealed, blind-indexed and given its ids
-- outside any lock, then written here in short transactions while other writers take their turns; the import
-- publishes them in one transaction with set-based copies (`INSERT ... SELECT`), so the rows appear all
-- together or not at all, and the write lock is held for the copy only. Staged rows are nobody's records: no
-- page, list or search reads these tables, and a stage left by a stopped process is swept after a while.
-- The sealed columns were sealed for their final table and id, so they are copied unchanged.
CREATE TABLE import_stages (
    id TEXT PRIMARY KEY,
    upload_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    started_at BIGINT NOT NULL
);
CREATE INDEX import_stages_started ON import_stages(started_at);

CREATE TABLE import_staged_persons (
    stage_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    case_code TEXT NOT NULL,
    commune_code TEXT,
    id_number_bidx TEXT,
    phone_bidx TEXT,
    name_bidx TEXT NOT NULL,
    passport_bidx TEXT,
    interpreter BIGINT NOT NULL,
    keys_version BIGINT NOT NULL,
    full_name BYTES NOT NULL,
    birth_date BYTES,
    sex BYTES NOT NULL,
    id_number BYTES,
    phone BYTES,
    address BYTES,
    other_names BYTES,
    ethnicity BYTES,
    nationality BYTES,
    passport BYTES,
    language BYTES,
    PRIMARY KEY (stage_id, seq)
);

CREATE TABLE import_staged_keys (
    stage_id TEXT NOT NULL,
    key TEXT NOT NULL,
    person_id TEXT NOT NULL,
    PRIMARY KEY (stage_id, key, person_id)
);

CREATE TABLE import_staged_absentees (
    stage_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    case_code TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    absent_since TEXT,
    destination BYTES,
    contact BYTES,
    reported_by BYTES,
    household BYTES,
    note BYTES,
    PRIMARY KEY (stage_id, seq)
);

CREATE TABLE import_staged_returnees (
    stage_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    case_code TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    PRIMARY KEY (stage_id, seq)
);
