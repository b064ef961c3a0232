-- What the collect job fixes when it puts a collection into a file, so that an interrupted file
-- can be written again with the same groups and the same amendments.
ALTER TABLE collections ADD COLUMN requested_date DATE;
ALTER TABLE collections ADD COLUMN original_mandate_id TEXT;
ALTER TABLE collections ADD COLUMN original_scheme_id TEXT;
ALTER TABLE collections ADD COLUMN original_debtor_account TEXT;
ALTER TABLE mandates ADD COLUMN last_presented_at TIMESTAMPTZ;
CREATE INDEX collection_files_by_state ON collection_files (state);
