-- A mandate's sequence follows the mandate, not one of its plans: a one-off plan's collection
-- is OOFF only when its mandate serves no other plan, a plan's last installment FNAL only
-- likewise, and a mandate a one-off collection used takes no new plan. Collect asks "does
-- this mandate serve another plan?" of one-off and last installments, and the plans import
-- "was this mandate used one-off?": both look plans up by mandate.
CREATE INDEX plans_by_mandate ON plans (mandate_id);
