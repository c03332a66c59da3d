-- Found by the plan guard of the test suite (query_plans.rs), which plans every statement the pages run as
-- for a province of a million records.
-- The communes of a district by name, for the pickers of the forms (the units were read whole).
CREATE INDEX admin_units_parent ON admin_units(parent_code, name);
-- An agency's live persons, newest first, for the persons list: the index on (owner, merged_into, id) gives
-- PostgreSQL no order by id under `merged_into IS NULL` (not an equality), so at scale it sorted an agency's
-- every person or walked the whole table by id; this one is searched by owner and read in order.
CREATE INDEX persons_live_owner ON persons(owner_agency_id, id, case_code, commune_code, created_at) WHERE merged_into IS NULL;
-- The plan's period figures: cases sent to the procuracy or the court by a period's end, and reviews,
-- screenings and supports within a period, each found by its date instead of reading every row.
CREATE INDEX criminal_cases_to_procuracy ON criminal_cases(to_procuracy_on);
CREATE INDEX criminal_cases_to_court ON criminal_cases(to_court_on);
CREATE INDEX absentee_reviews_outcome_on ON absentee_reviews(outcome_on);
CREATE INDEX returnees_screened_at ON returnees(screened_at);
CREATE INDEX supports_given_on ON supports(given_on);
-- An agency's open reports waiting at the procuracy, by last day, for its home page.
CREATE INDEX reports_procuracy_pending ON reports(owner_agency_id, procuracy_pending, last_day) WHERE decision_kind IS NULL;
-- An agency's absentees newest first (the register's list, and the reviews still to do in an open round).
CREATE INDEX absentees_owner ON absentees(owner_agency_id, id);
-- Reports linked as the same event, from the other side of the link.
CREATE INDEX report_links_same_as ON report_links(same_as);
-- Grants made on a legal basis without consent, by who made them, newest first, for the agency head.
CREATE INDEX grants_override ON grants(granted_by, granted_at) WHERE legal_basis IS NOT NULL;
