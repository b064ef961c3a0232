-- A random tag per creditor and ledger, in every MsgId and EndToEndId collect writes. Row ids
-- restart at 1 in a new database (a re-init, a move from SQLite to PostgreSQL): without the
-- tag, its first file would repeat an earlier ledger's MsgId (banks refuse duplicates) and
-- its EndToEndIds, so a late return of an old collection (up to 13 months) would be booked
-- against a new one. Six hex digits: one chance in 16.7 million that two ledgers share it.
ALTER TABLE creditors ADD COLUMN ledger_tag TEXT CHECK (ledger_tag IS NULL OR ledger_tag ~ '^[0-9A-F]{6}$');
UPDATE creditors SET ledger_tag = upper(substr(replace(CAST(gen_random_uuid() AS TEXT), '-', ''), 1, 6));
