-- Every request to run a job (cron trigger, `collecte enqueue`, inbox watch): the ledger side of
-- the queue. The queue backend (Redis, SQLite or PostgreSQL via apalis) only carries the request
-- id; what ran, how often it failed and whether it is dead lives here, the same whatever the
-- backend. `dedupe_key` (job:business-date) makes a second trigger of the same day a no-op.
DROP TABLE job_triggers;

CREATE TABLE job_requests (
    id                 INTEGER PRIMARY KEY,
    job                TEXT    NOT NULL,
    business_date      TEXT    NOT NULL,
    origin             TEXT    NOT NULL CHECK (origin IN ('cron', 'manual', 'inbox', 'requeue')),
    dedupe_key         TEXT    UNIQUE,
    state              TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'dead')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    max_attempts       INTEGER NOT NULL CHECK (max_attempts >= 1),
    enqueued_at        TEXT    NOT NULL,
    -- NULL until the queue backend accepted it; a sweeper re-pushes rows left NULL by a crash.
    pushed_at          TEXT,
    run_after          TEXT,
    scheduled_for      TEXT,
    worker             TEXT,
    started_at         TEXT,
    finished_at        TEXT,
    last_error         TEXT
) STRICT;

CREATE INDEX job_requests_by_state ON job_requests (state, pushed_at);
CREATE INDEX job_requests_by_firing ON job_requests (job, scheduled_for);

-- The request a worker's run belongs to (NULL for `collecte run`), so that the run of a
-- worker that died mid-job can be marked as such when another worker takes the request over.
ALTER TABLE job_runs ADD COLUMN request_id INTEGER REFERENCES job_requests (id);
CREATE INDEX job_runs_by_request ON job_runs (request_id) WHERE request_id IS NOT NULL;
