-- The persons a report or a criminal case involves, the procuracy and court a file was sent to, and the
-- judgment. Dates are local calendar days in Viet Nam, 'YYYY-MM-DD'.

-- Possible victims and suspects named in a report, as person records (identity stays on the person).
CREATE TABLE report_persons (
    report_id TEXT NOT NULL REFERENCES reports(id),
    person_id TEXT NOT NULL REFERENCES persons(id),
    role TEXT NOT NULL,
    added_by TEXT NOT NULL REFERENCES users(id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (report_id, person_id, role)
);
CREATE INDEX report_persons_person ON report_persons(person_id);

-- Victims and suspects of a criminal case; a suspect's custody dates and, after trial, the sentence (sealed).
CREATE TABLE case_persons (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES criminal_cases(id),
    person_id TEXT NOT NULL REFERENCES persons(id),
    role TEXT NOT NULL,
    arrested_on TEXT,
    detained_on TEXT,
    released_on TEXT,
    sentence BYTES,
    added_by TEXT NOT NULL REFERENCES users(id),
    added_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX case_persons_one ON case_persons(case_id, person_id, role);
CREATE INDEX case_persons_person ON case_persons(person_id);

-- The procuracy a report was notified to: it supervises the settlement and answers extension requests.
ALTER TABLE reports ADD COLUMN procuracy_agency_id TEXT REFERENCES agencies(id);
ALTER TABLE reports ADD COLUMN sent_to_procuracy_on TEXT;
CREATE INDEX reports_procuracy ON reports(procuracy_agency_id, procuracy_pending, last_day);

-- Where the case happened (the commune of its first report), where the file went, and the appeal.
ALTER TABLE criminal_cases ADD COLUMN commune_code TEXT REFERENCES admin_units(code);
ALTER TABLE criminal_cases ADD COLUMN procuracy_agency_id TEXT REFERENCES agencies(id);
ALTER TABLE criminal_cases ADD COLUMN court_agency_id TEXT REFERENCES agencies(id);
ALTER TABLE criminal_cases ADD COLUMN appeal_note BYTES;
CREATE INDEX criminal_cases_procuracy ON criminal_cases(procuracy_agency_id, opened_on);
CREATE INDEX criminal_cases_court ON criminal_cases(court_agency_id, opened_on);
CREATE INDEX criminal_cases_place ON criminal_cases(commune_code, opened_on);
