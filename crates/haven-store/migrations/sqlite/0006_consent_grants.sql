-- A grant on a victim's record rests on the person's consent (withdrawing it revokes the grant at once) or,
-- without consent, on a legal basis recorded by a user with the override right. Keep in step with
-- ../postgres/0006_consent_grants.sql.
ALTER TABLE grants ADD COLUMN consent_id TEXT REFERENCES consents(id);
ALTER TABLE grants ADD COLUMN legal_basis TEXT;
CREATE INDEX grants_consent ON grants(consent_id);
CREATE INDEX grants_granted_by ON grants(granted_by, granted_at);
