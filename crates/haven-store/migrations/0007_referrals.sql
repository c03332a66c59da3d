-- Referrals of a victim case from one agency to another, with the consent (or legal basis) they rest on and
-- the grant that acceptance gives the receiver.
CREATE TABLE referrals (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES victim_cases(id),
    kind TEXT NOT NULL,
    from_agency_id TEXT NOT NULL REFERENCES agencies(id),
    to_agency_id TEXT NOT NULL REFERENCES agencies(id),
    purpose BYTES,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL,
    consent_id TEXT REFERENCES consents(id),
    legal_basis TEXT,
    sent_by TEXT NOT NULL REFERENCES users(id),
    sent_at BIGINT NOT NULL,
    answered_by TEXT REFERENCES users(id),
    answered_at BIGINT,
    decline_reason TEXT,
    completed_at BIGINT,
    grant_id TEXT REFERENCES grants(id)
);
CREATE INDEX referrals_to ON referrals(to_agency_id, status, due_on);
CREATE INDEX referrals_from ON referrals(from_agency_id, status, due_on);
CREATE INDEX referrals_case ON referrals(case_id, sent_at);
