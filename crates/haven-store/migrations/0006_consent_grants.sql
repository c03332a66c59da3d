-- Grants on a victim's record rest on the person's consent (withdrawing it revokes them at once) or, without
-- consent, on a legal basis recorded by a user with the override right; a report leads to one case; cases
-- opened before 0003 get their commune.
ALTER TABLE grants ADD COLUMN consent_id TEXT REFERENCES consents(id);
ALTER TABLE grants ADD COLUMN legal_basis TEXT;
CREATE INDEX grants_consent ON grants(consent_id);
CREATE INDEX grants_granted_by ON grants(granted_by, granted_at);

-- A report leads to one criminal case.
CREATE UNIQUE INDEX case_reports_one ON case_reports(report_id);
DROP INDEX case_reports_report;

-- Cases opened before 0003 take the commune of their first report, as new ones do.
UPDATE criminal_cases SET commune_code = (
    SELECT r.commune_code FROM case_reports cr JOIN reports r ON r.id = cr.report_id
    WHERE cr.case_id = criminal_cases.id ORDER BY r.received_on, r.id LIMIT 1
) WHERE commune_code IS NULL;
