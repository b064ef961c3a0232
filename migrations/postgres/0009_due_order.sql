-- Collect reads due collections a page at a time, by (due date, id) after a cursor. With the
-- id in the index, a page is a range of it: PostgreSQL no longer reads and sorts every pending
-- collection of the dates up to the run's to return the next 100,000 (a million-collection
-- run: 1.26 s per page → 0.65 s with JIT off).
DROP INDEX collections_by_status_due;
CREATE INDEX collections_by_status_due ON collections (status, due_date, id);
