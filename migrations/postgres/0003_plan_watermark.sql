-- Due date of a plan's first installment beyond the materialised horizon: the daily refresh
-- only touches plans whose next installment has come within reach. NULL = unknown (refresh).
ALTER TABLE plans ADD COLUMN next_due DATE;
CREATE INDEX plans_by_next_due ON plans (status, next_due);
