-- Victim protection cases: reception, verification, identification (proposed, then approved by an agency
-- head), the steps between agencies, supports given, and consent per purpose. Dates are local calendar days in
-- Viet Nam, 'YYYY-MM-DD'.

CREATE TABLE victim_cases (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    person_id TEXT NOT NULL REFERENCES persons(id),
    case_code TEXT NOT NULL,
    status TEXT NOT NULL,
    child BIGINT NOT NULL,
    vietnamese BIGINT NOT NULL,
    in_vietnam BIGINT NOT NULL,
    accompanying_child BIGINT NOT NULL,
    reception_kind TEXT NOT NULL,
    received_on TEXT NOT NULL,
    commune_code TEXT REFERENCES admin_units(code),
    received_by TEXT NOT NULL REFERENCES users(id),
    verification_due TEXT NOT NULL,
    verified_on TEXT,
    proposed_outcome TEXT,
    proposed_on TEXT,
    proposed_by TEXT REFERENCES users(id),
    legal_basis TEXT,
    evidence TEXT,
    certificate_number TEXT,
    reasons BYTES,
    approved_by TEXT REFERENCES users(id),
    approved_at BIGINT,
    identified_on TEXT,
    closed_on TEXT,
    closed_reason TEXT,
    previous_case_id TEXT REFERENCES victim_cases(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The work list: an agency's cases still awaiting verification, by due day.
CREATE INDEX victim_cases_due ON victim_cases(owner_agency_id, verified_on, verification_due, id);
CREATE INDEX victim_cases_owner ON victim_cases(owner_agency_id, received_on, id);
CREATE INDEX victim_cases_person ON victim_cases(person_id);

-- Reception, verification, rescue, handover and the other steps, each with its place, agency and officer.
CREATE TABLE victim_steps (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES victim_cases(id),
    kind TEXT NOT NULL,
    on_date TEXT NOT NULL,
    commune_code TEXT REFERENCES admin_units(code),
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    officer TEXT NOT NULL,
    note BYTES,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at BIGINT NOT NULL
);
CREATE INDEX victim_steps_case ON victim_steps(case_id, on_date);

-- Supports given under the regimes of Law 53/2024 Art. 37.
CREATE TABLE supports (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES victim_cases(id),
    regime TEXT NOT NULL,
    given_on TEXT NOT NULL,
    provider_agency_id TEXT NOT NULL REFERENCES agencies(id),
    quantity BIGINT NOT NULL,
    amount_vnd BIGINT NOT NULL,
    acknowledged BIGINT NOT NULL,
    note BYTES,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at BIGINT NOT NULL
);
CREATE INDEX supports_case ON supports(case_id, regime);

-- Consent per purpose, by the person or their legal representative (whose name is sealed); never deleted:
-- a withdrawal is recorded on the row.
CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    purpose TEXT NOT NULL,
    target TEXT NOT NULL,
    given_by TEXT NOT NULL,
    representative BYTES,
    given_on TEXT NOT NULL,
    expires_on TEXT,
    withdrawn_on TEXT,
    withdrawn_by TEXT REFERENCES users(id),
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at BIGINT NOT NULL
);
CREATE INDEX consents_person ON consents(person_id, purpose);
