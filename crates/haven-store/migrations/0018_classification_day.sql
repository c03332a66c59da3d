-- The day a report was classified, as the officer gives it: indicator 1 counts a classification from that
-- day, not from when it was typed in. Reports classified before the day was asked for take the day the
-- classification was recorded, in Viet Nam.
ALTER TABLE reports ADD COLUMN classified_on TEXT;
UPDATE reports SET classified_on = LOCAL_DAY(classified_at) WHERE classified_at IS NOT NULL;
DROP INDEX reports_received;
CREATE INDEX reports_received ON reports(received_on, classified_on);

-- Indicator 2 is the settlement rate the national programme reports. Plans linked their "settlement"
-- indicator to the only measure there was, settled on time; it now follows the settlement rate (settled on
-- time stays a measure of its own).
UPDATE plan_indicators SET measure = 'settlement_rate' WHERE measure = 'settled_on_time';
