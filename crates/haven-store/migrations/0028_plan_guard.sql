-- Found by the plan guard of the test suite (query_plans.rs), which plans every statement the pages run as
-- for a province of a million records.
-- The communes of a district by name, for the pickers of the forms (the units were read whole).
CREATE INDEX admin_units_parent ON admin_units(parent_code, name);
-- An agency's live persons, newest first, for the persons list: the index on (owner, merged_into, id) gives
-- PostgreSQL no order by id under `merged_into IS NULL` (not an equality), so at scale it sorted an agency's
-- every person or walked the whole table by id; this one is searched by owner and read in order.
CREATE INDEX persons_live_owner ON persons(owner_agency_id, id, case_code, commune_code, created_at) WHERE merged_into IS NULL;
