-- Collect now makes a collection `submitted` in the transaction that assigns it to a file, and
-- a timeline derives the submission from the file row instead of storing one event per
-- collection. Ledgers written by older runs are brought in line, so that nothing depends on
-- which version wrote a row:
-- * a collection assigned to a file by an older run that stopped before finishing the file
--   is still `pending`; the next collect finishes the file but no longer updates its
--   collections, so they become `submitted` here (the file itself stays `writing` until then);
-- * the stored `submitted` events repeat what the file row now tells (file, sequence type,
--   collection date, EndToEndId, the moment the file was written) and would show twice.
UPDATE collections SET status = 'submitted' WHERE status = 'pending' AND collection_file_id IS NOT NULL;
DELETE FROM collection_events WHERE kind = 'submitted';
