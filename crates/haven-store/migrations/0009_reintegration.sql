-- Protection measures for the victim and named relatives; the reintegration plan's goals; follow-up visits on a
-- schedule, each with a risk note; and closure.
CREATE TABLE protection_measures (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES victim_cases(id),
    kind TEXT NOT NULL,
    for_whom TEXT NOT NULL,
    relative BYTES,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at BIGINT NOT NULL
);
CREATE INDEX protection_measures_case ON protection_measures(case_id, starts_on);

CREATE TABLE reintegration_goals (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES victim_cases(id),
    area TEXT NOT NULL,
    goal BYTES NOT NULL,
    status TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at BIGINT NOT NULL
);
CREATE INDEX reintegration_goals_case ON reintegration_goals(case_id);

CREATE TABLE followups (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES victim_cases(id),
    due_on TEXT NOT NULL,
    visited_on TEXT,
    risk TEXT,
    note BYTES,
    officer TEXT,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at BIGINT NOT NULL
);
CREATE INDEX followups_case ON followups(case_id, due_on);

-- The next visit not yet made, kept on the case so an agency's due list is one index range.
ALTER TABLE victim_cases ADD COLUMN next_visit_on TEXT;
CREATE INDEX victim_cases_visits ON victim_cases(owner_agency_id, next_visit_on, id);
