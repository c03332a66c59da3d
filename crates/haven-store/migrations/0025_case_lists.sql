-- Lists that find and page: a criminal case found by the number the investigating body gave it, and the
-- agency's cases paged newest first (opened day, then id, so each page starts where the last ended).
CREATE INDEX criminal_cases_number ON criminal_cases(case_number);
DROP INDEX criminal_cases_owner;
CREATE INDEX criminal_cases_owner ON criminal_cases(owner_agency_id, opened_on, id);
