-- Indicator 2 counts reports that fell due in a period and were not settled by its end. Reports still open are
-- a small share of all reports: a partial index holds just them, and reports settled after the period are
-- found from their decision date.
CREATE INDEX reports_open_due ON reports(last_day, received_on) WHERE decision_on IS NULL;
CREATE INDEX reports_settled_due ON reports(decision_on, last_day, received_on);
