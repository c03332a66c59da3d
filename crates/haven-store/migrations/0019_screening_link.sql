-- A victim case opened from a returnee's screening shows that screening: find it from the case.
CREATE INDEX returnees_victim_case ON returnees(victim_case_id);
