-- Handovers of responsibility for a victim case from one agency to another: proposed by the holder on the
-- person's consent or a recorded legal basis, then accepted (the receiver owns the case from then on),
-- declined with a reason, or withdrawn. The accepted ones, in order, are the case's chain of custody. The
-- reason may name people: sealed.
CREATE TABLE victim_handovers (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES victim_cases(id),
    from_agency_id TEXT NOT NULL REFERENCES agencies(id),
    to_agency_id TEXT NOT NULL REFERENCES agencies(id),
    reason BYTES,
    consent_id TEXT REFERENCES consents(id),
    legal_basis TEXT,
    status TEXT NOT NULL,
    proposed_by TEXT NOT NULL REFERENCES users(id),
    proposed_at BIGINT NOT NULL,
    answered_by TEXT REFERENCES users(id),
    answered_at BIGINT,
    answered_on TEXT,
    decline_reason TEXT
);
CREATE INDEX victim_handovers_case ON victim_handovers(case_id, proposed_at);
CREATE INDEX victim_handovers_to ON victim_handovers(to_agency_id, status, proposed_at);
CREATE INDEX victim_handovers_from ON victim_handovers(from_agency_id, case_id, status);

-- The agency that received the victim: the chain of custody starts there (owner_agency_id is who holds the
-- case now).
ALTER TABLE victim_cases ADD COLUMN received_by_agency_id TEXT REFERENCES agencies(id);
UPDATE victim_cases SET received_by_agency_id = owner_agency_id;

-- Identification as the law has it: verification with the police first, or the day it was recorded that it
-- could not be done (the reason is the step's sealed note); a proposal a head may return with a comment
-- (sealed: it may name people).
ALTER TABLE victim_cases ADD COLUMN verification_waived_on TEXT;
ALTER TABLE victim_cases ADD COLUMN returned_comment BYTES;
ALTER TABLE victim_cases ADD COLUMN returned_by TEXT REFERENCES users(id);
ALTER TABLE victim_cases ADD COLUMN returned_at BIGINT;
-- Decisions waiting for an agency head.
CREATE INDEX victim_cases_pending ON victim_cases(owner_agency_id, approved_by, proposed_outcome);

-- What the receiver of a referral reports when it completes the work (sealed: it may name people).
ALTER TABLE referrals ADD COLUMN outcome BYTES;
