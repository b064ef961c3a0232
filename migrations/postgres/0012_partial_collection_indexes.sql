-- Each index of collections now holds only the rows its readers ask for. Before, every
-- collection was in all of them: an assignment moved each of its collections from the
-- ('pending', date) entries to ('submitted', date) entries nothing reads, and from the file
-- index's NULL entries to its file's; every new installment went among the NULLs; ingest
-- moved settled collections once more. Now an assignment deletes one entry and adds one, a
-- new installment adds one, a settlement none.
--
-- * collect's due page: the pending collections in no file, creditor first (a ledger of
--   several creditors reads only the run's own);
-- * a file's collections (`collection_file_id = $1` implies NOT NULL, so both databases
--   use the partial index);
-- * the collections a person has to look at (`collections --status failed`...): on
--   PostgreSQL a listing by status plans with the status bound and reads this index.
DROP INDEX collections_by_status_due;
CREATE INDEX collections_due ON collections (creditor_id, due_date, id)
    WHERE status = 'pending' AND collection_file_id IS NULL;
CREATE INDEX collections_to_review ON collections (status, due_date, id)
    WHERE status IN ('failed', 'ignored', 'cancelled');
DROP INDEX collections_by_file;
CREATE INDEX collections_by_file ON collections (collection_file_id) WHERE collection_file_id IS NOT NULL;
