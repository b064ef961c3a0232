-- What a collection's file presented to the bank: the debtor account and the mandate id at
-- assignment. A file a stopped run left unwritten is finished from these, so a customer's new
-- IBAN or UMR recorded between the crash and the re-run cannot reach it unannounced (its
-- amendment fields were decided against the old ones); listings and timelines show the
-- account a past collection was actually taken from. NULL while a collection is in no file
-- (and for collections assigned before this migration: their mandate's current values).
ALTER TABLE collections ADD COLUMN presented_iban TEXT;
ALTER TABLE collections ADD COLUMN presented_bic TEXT;
ALTER TABLE collections ADD COLUMN presented_mandate_id TEXT;
