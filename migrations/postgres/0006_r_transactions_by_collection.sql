-- A collection's R-transactions, newest last: the collections list shows the latest one's
-- reason code, and ingest's booking looks up what a collection already had.
CREATE INDEX r_transactions_by_collection ON r_transactions (collection_id, id);
