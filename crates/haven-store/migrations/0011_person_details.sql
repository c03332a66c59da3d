-- The rest of a person's identity, sealed per field like the rest: other names, ethnicity, nationality,
-- passport (with a blind index for exact look-up), the language spoken and whether an interpreter is needed;
-- relatives and their contacts; photos and documents as sealed attachments; and merges of two records of one
-- person, with the trail kept (the merged record stays, pointing at the one it was merged into).
ALTER TABLE persons ADD COLUMN other_names BYTES;
ALTER TABLE persons ADD COLUMN ethnicity BYTES;
ALTER TABLE persons ADD COLUMN nationality BYTES;
ALTER TABLE persons ADD COLUMN passport BYTES;
ALTER TABLE persons ADD COLUMN passport_bidx TEXT;
ALTER TABLE persons ADD COLUMN language BYTES;
ALTER TABLE persons ADD COLUMN interpreter BIGINT NOT NULL DEFAULT 0;
ALTER TABLE persons ADD COLUMN merged_into TEXT REFERENCES persons(id);
CREATE INDEX persons_passport ON persons(passport_bidx);
-- Lists show records that were not merged away: "merged_into IS NULL" is an equality on the index's second
-- column, then the id range, with what a list shows in the index.
CREATE INDEX persons_owner_live ON persons(owner_agency_id, merged_into, id, case_code, commune_code, created_at);
DROP INDEX persons_owner;

CREATE TABLE person_relatives (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    relation TEXT NOT NULL,
    full_name BYTES NOT NULL,
    phone BYTES,
    address BYTES,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX person_relatives_person ON person_relatives(person_id, created_at);

CREATE TABLE person_attachments (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    kind TEXT NOT NULL,
    file_name BYTES NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BYTES NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX person_attachments_person ON person_attachments(person_id, created_at);

CREATE TABLE person_merges (
    id TEXT PRIMARY KEY,
    survivor_id TEXT NOT NULL REFERENCES persons(id),
    merged_id TEXT NOT NULL REFERENCES persons(id),
    reason BYTES NOT NULL,
    moved TEXT NOT NULL,
    merged_by TEXT NOT NULL REFERENCES users(id),
    merged_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX person_merges_merged ON person_merges(merged_id);
CREATE INDEX person_merges_survivor ON person_merges(survivor_id, merged_at);
