-- A grant may open only parts of a record (a referral opens what its kind needs); NULL opens the whole record.
-- An accepted referral that opens the person record holds a second grant, on the person, ended with it.
ALTER TABLE grants ADD COLUMN scope TEXT;
ALTER TABLE referrals ADD COLUMN person_grant_id TEXT REFERENCES grants(id);
