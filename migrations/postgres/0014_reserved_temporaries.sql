-- Collect now reserves a file's temporary in the outbox before the file's assignment commits,
-- so that a re-run finding neither the temporary nor the file knows the bank's transfer took
-- it. Files assigned by earlier versions made no such promise: for them "neither" may mean
-- "never written", so they keep being written again, and the flag tells the two apart.
ALTER TABLE collection_files ADD COLUMN reserved_in_outbox BOOLEAN NOT NULL DEFAULT FALSE;
