-- Reports (denunciations, crime reports, recommendations for prosecution), their clock events, and the
-- criminal cases opened from them.
-- Dates of the legal clock are local calendar days in Viet Nam, stored as 'YYYY-MM-DD' text (sortable).

CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    case_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    received_on TEXT NOT NULL,
    received_by TEXT NOT NULL REFERENCES users(id),
    assigned_to TEXT REFERENCES users(id),
    reporter_anonymous BIGINT NOT NULL,
    reporter_name BYTES,
    reporter_contact BYTES,
    summary BYTES NOT NULL,
    commune_code TEXT REFERENCES admin_units(code),
    classification TEXT,
    offence_code TEXT,
    forwarded_to TEXT,
    classification_reason BYTES,
    classified_at BIGINT,
    classified_by TEXT REFERENCES users(id),
    last_day TEXT,
    suspended_since TEXT,
    complex BIGINT NOT NULL DEFAULT 0,
    procuracy_asked BIGINT NOT NULL DEFAULT 0,
    procuracy_pending BIGINT NOT NULL DEFAULT 0,
    decision_kind TEXT,
    decision_number TEXT,
    decision_on TEXT,
    decision_by TEXT REFERENCES users(id),
    decision_reason BYTES,
    transfer_to TEXT,
    reporter_notified_on TEXT,
    decision_on_time BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX reports_owner ON reports(owner_agency_id, id);
-- The work lists: open reports of an agency by their last day.
CREATE INDEX reports_due ON reports(owner_agency_id, decision_kind, last_day);
CREATE INDEX reports_assigned ON reports(assigned_to, decision_kind, last_day);
-- The indicators count ranges of these dates; each index covers its count.
CREATE INDEX reports_received ON reports(received_on, classified_at);
CREATE INDEX reports_decided ON reports(decision_on, decision_on_time);
CREATE INDEX reports_last_day ON reports(last_day, decision_on, received_on);

CREATE TABLE report_events (
    id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES reports(id),
    kind TEXT NOT NULL,
    on_date TEXT NOT NULL,
    months BIGINT,
    ground TEXT,
    reason BYTES,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at BIGINT NOT NULL
);
CREATE INDEX report_events_report ON report_events(report_id, on_date);
CREATE INDEX reports_place ON reports(commune_code, received_on);

-- Two reports of the same event, linked: both are kept, the later one names the earlier.
CREATE TABLE report_links (
    report_id TEXT NOT NULL REFERENCES reports(id),
    same_as TEXT NOT NULL REFERENCES reports(id),
    linked_by TEXT NOT NULL REFERENCES users(id),
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (report_id, same_as)
);

-- A criminal case, opened by a decision to initiate, through investigation, prosecution and trial.
CREATE TABLE criminal_cases (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    case_number TEXT NOT NULL,
    offence_code TEXT NOT NULL,
    opened_on TEXT NOT NULL,
    offenders_identified_on TEXT,
    to_procuracy_on TEXT,
    indicted_on TEXT,
    to_court_on TEXT,
    tried_on TEXT,
    verdict BYTES,
    appealed_on TEXT,
    closed_on TEXT,
    closed_reason TEXT,
    investigation_suspended_on TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX criminal_cases_owner ON criminal_cases(owner_agency_id, opened_on);

CREATE TABLE case_reports (
    case_id TEXT NOT NULL REFERENCES criminal_cases(id),
    report_id TEXT NOT NULL REFERENCES reports(id),
    PRIMARY KEY (case_id, report_id)
);
CREATE INDEX case_reports_report ON case_reports(report_id);
