-- A consent belongs to the agency that recorded it: only that agency (or the one a victim case was handed
-- over to, which takes its consents along) may withdraw it. Existing consents go to their recorder's agency.
ALTER TABLE consents ADD COLUMN agency_id TEXT REFERENCES agencies(id);
UPDATE consents SET agency_id = (SELECT u.agency_id FROM users u WHERE u.id = consents.recorded_by);
