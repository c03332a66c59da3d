-- The auditor looks records up by the case code users see everywhere: each register's codes are indexed, so
-- that "who viewed this case?" is one look-up per register, whatever its size.
CREATE INDEX reports_case_code ON reports(case_code);
CREATE INDEX victim_cases_case_code ON victim_cases(case_code);
CREATE INDEX absentees_case_code ON absentees(case_code);
CREATE INDEX returnees_case_code ON returnees(case_code);
CREATE INDEX cooperation_requests_case_code ON cooperation_requests(case_code);
