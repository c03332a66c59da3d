-- One person across the province: every person is found by name through blind keys held per agency,
-- recognised when entered again by another agency, linked when both agencies confirm, and counted once.

-- Each key row carries the agency that holds the record: a name search reads its own agency's keys only. The
-- table is one b-tree ordered by what is looked up (key, then agency), with the person's index beside it: every
-- person now has keys, and each key is a random insert, so fewer b-trees mean fewer pages per command.
CREATE TABLE match_keys_by_agency (
    key TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons(id),
    PRIMARY KEY (key, agency_id, person_id)
) WITHOUT ROWID;
INSERT INTO match_keys_by_agency (key, agency_id, person_id)
    SELECT k.key, p.owner_agency_id, k.person_id FROM match_keys k JOIN persons p ON p.id = k.person_id;
DROP TABLE match_keys;
ALTER TABLE match_keys_by_agency RENAME TO match_keys;
CREATE INDEX match_keys_person ON match_keys(person_id);

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
