-- Every collect run updates the mandate of each collection it presents (first presented, last
-- presented on and at): one row per mandate per run, none of them an indexed column. PostgreSQL
-- keeps such an update on the row's own page, with no new index entries (a HOT update), only
-- if the page has room for the new version, and the old versions of a run are freed only after
-- its transaction: a run presenting every mandate of a page needs room for all of them. Imports
-- fill their pages, so every update moved its row and added an entry to each index of mandates.
-- Pages now keep half their room free (the table takes twice the space: 28 MB per 100k
-- mandates). On a copy of the 100k bench seed (every mandate presented in one run), 97% of
-- collect's mandate updates are HOT and the run took 6.2–8.5 s (median 7.3) against 7.2–10.4 s
-- (median 8.3) with full pages; a fifth free made only 23% of them HOT and no measurable
-- difference. Inserting 100k mandates costs the same either way (0.44–0.51 s).
ALTER TABLE mandates SET (fillfactor = 50);
-- Existing pages get the room when the table is rewritten; CLUSTER rewrites it inside the
-- migration's transaction (VACUUM FULL cannot run in one): 0.25 s for 100k mandates.
CLUSTER mandates USING mandates_pkey;
