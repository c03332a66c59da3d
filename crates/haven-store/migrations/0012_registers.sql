-- The people registers: long-term absentees per commune with their review rounds and outcomes; handover
-- batches of citizens returned by foreign countries, each person screened with the profile's form; candidate
-- matches between register people (kept with the decision, so a rejected pair is never proposed again) and
-- "same person" links; blind-indexed match keys; spreadsheet imports, remembered by file hash and mapping.
CREATE TABLE absentees (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    person_id TEXT NOT NULL REFERENCES persons(id),
    case_code TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    absent_since TEXT,
    destination BYTES,
    contact BYTES,
    reported_by BYTES,
    household BYTES,
    note BYTES,
    import_id TEXT,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX absentees_commune ON absentees(owner_agency_id, commune_code, id);
CREATE INDEX absentees_person ON absentees(person_id);

CREATE TABLE review_rounds (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX review_rounds_agency ON review_rounds(owner_agency_id, starts_on);

CREATE TABLE absentee_reviews (
    id TEXT PRIMARY KEY,
    absentee_id TEXT NOT NULL REFERENCES absentees(id),
    round_id TEXT NOT NULL REFERENCES review_rounds(id),
    outcome TEXT NOT NULL,
    outcome_on TEXT NOT NULL,
    note BYTES,
    victim_case_id TEXT REFERENCES victim_cases(id),
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX absentee_reviews_once ON absentee_reviews(absentee_id, round_id);
CREATE INDEX absentee_reviews_round ON absentee_reviews(round_id, outcome);

CREATE TABLE handover_batches (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    handed_on TEXT NOT NULL,
    gate TEXT NOT NULL,
    country TEXT NOT NULL,
    authority TEXT NOT NULL,
    note BYTES,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX handover_batches_agency ON handover_batches(owner_agency_id, handed_on);

CREATE TABLE returnees (
    id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES handover_batches(id),
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    person_id TEXT NOT NULL REFERENCES persons(id),
    case_code TEXT NOT NULL,
    classification TEXT,
    indicators TEXT,
    answers BYTES,
    reason BYTES,
    victim_case_id TEXT REFERENCES victim_cases(id),
    screened_by TEXT REFERENCES users(id),
    screened_at BIGINT,
    import_id TEXT,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX returnees_batch ON returnees(batch_id, id);
CREATE INDEX returnees_person ON returnees(person_id);
CREATE INDEX returnees_agency ON returnees(owner_agency_id, classification);

CREATE TABLE match_keys (
    key TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons(id),
    PRIMARY KEY (key, person_id)
);
CREATE INDEX match_keys_person ON match_keys(person_id);

CREATE TABLE match_candidates (
    id TEXT PRIMARY KEY,
    person_a TEXT NOT NULL REFERENCES persons(id),
    person_b TEXT NOT NULL REFERENCES persons(id),
    probability_bp BIGINT NOT NULL,
    evidence TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT REFERENCES users(id),
    decided_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX match_candidates_pair ON match_candidates(person_a, person_b);
CREATE INDEX match_candidates_b ON match_candidates(person_b);
CREATE INDEX match_candidates_open ON match_candidates(status, created_at);

CREATE TABLE person_links (
    id TEXT PRIMARY KEY,
    person_a TEXT NOT NULL REFERENCES persons(id),
    person_b TEXT NOT NULL REFERENCES persons(id),
    candidate_id TEXT REFERENCES match_candidates(id),
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX person_links_pair ON person_links(person_a, person_b);
CREATE INDEX person_links_b ON person_links(person_b);

CREATE TABLE linkage_models (
    name TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    records BIGINT NOT NULL,
    trained_at BIGINT NOT NULL
);

CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    file_name BYTES NOT NULL,
    rows_created BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX imports_once ON imports(owner_agency_id, kind, target, file_hash);

CREATE TABLE import_templates (
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    kind TEXT NOT NULL,
    signature TEXT NOT NULL,
    mapping TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner_agency_id, kind, signature)
);
