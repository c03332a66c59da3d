-- One person across the province: every person is found by name through blind keys held per agency,
-- recognised when entered again by another agency, linked when both agencies confirm, and counted once.

-- Each key row carries the agency that holds the record: a name search reads its own agency's keys only.
ALTER TABLE match_keys ADD COLUMN agency_id TEXT;
UPDATE match_keys SET agency_id = (SELECT p.owner_agency_id FROM persons p WHERE p.id = match_keys.person_id);
CREATE INDEX match_keys_agency ON match_keys(key, agency_id);

-- The version of the keys a person is stored under (0: none yet; indexed when the store opens), and the id of
-- the group of records linked as one person (NULL when linked to none).
ALTER TABLE persons ADD COLUMN keys_version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX persons_keys_version ON persons(keys_version);
ALTER TABLE persons ADD COLUMN one_person_id TEXT;

-- A pair of two agencies' records is linked when someone of each agency has said it is the same person.
ALTER TABLE match_candidates ADD COLUMN confirmed_a_by TEXT REFERENCES users(id);
ALTER TABLE match_candidates ADD COLUMN confirmed_b_by TEXT REFERENCES users(id);

-- "This person may already be known to another agency": who was told, of which pair, when (rate-limited).
CREATE TABLE match_signals (
    user_id TEXT NOT NULL,
    candidate_id TEXT NOT NULL REFERENCES match_candidates(id),
    at BIGINT NOT NULL,
    PRIMARY KEY (user_id, candidate_id)
);
CREATE INDEX match_signals_recent ON match_signals(user_id, at);
