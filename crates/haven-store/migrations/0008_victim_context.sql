-- The victim-centred context of a case in HTCDS v2 codes (space-separated where several apply), the person's own
-- wishes (sealed), and the trafficking events: recruitment, transit, exploitation.
ALTER TABLE victim_cases ADD COLUMN exploitation TEXT;
ALTER TABLE victim_cases ADD COLUMN control TEXT;
ALTER TABLE victim_cases ADD COLUMN recruitment TEXT;
ALTER TABLE victim_cases ADD COLUMN relationship TEXT;
ALTER TABLE victim_cases ADD COLUMN destination_country TEXT;
ALTER TABLE victim_cases ADD COLUMN wishes BYTES;

CREATE TABLE trafficking_events (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES victim_cases(id),
    kind TEXT NOT NULL,
    country TEXT NOT NULL,
    place TEXT,
    on_date TEXT,
    description BYTES,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at BIGINT NOT NULL
);
CREATE INDEX trafficking_events_case ON trafficking_events(case_id, on_date);
