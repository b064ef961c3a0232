-- collecte ledger schema (SQLite). Money is integer cents; dates are ISO 'YYYY-MM-DD' text;
-- instants are RFC 3339 UTC text. Tables are STRICT so no REAL can slip into a money column.
-- The PostgreSQL twin lives in ../postgres/0001_ledger.sql: keep both in step.

CREATE TABLE creditors (
    id                 INTEGER PRIMARY KEY,
    code               TEXT    NOT NULL UNIQUE,
    name               TEXT    NOT NULL,
    iban               TEXT    NOT NULL,
    bic                TEXT,
    scheme_id          TEXT    NOT NULL,
    street             TEXT,
    building           TEXT,
    postcode           TEXT,
    town               TEXT    NOT NULL,
    country            TEXT    NOT NULL CHECK (length(country) = 2),
    bank_profile       TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL
) STRICT;

-- A creditor identifier change must be announced (OrgnlCdtrSchmeId) on the next collection
-- of every mandate, so the old value is kept.
CREATE TABLE creditor_scheme_id_changes (
    id                 INTEGER PRIMARY KEY,
    creditor_id        INTEGER NOT NULL REFERENCES creditors (id),
    old_scheme_id      TEXT    NOT NULL,
    new_scheme_id      TEXT    NOT NULL,
    changed_at         TEXT    NOT NULL
) STRICT;

CREATE TABLE customers (
    id                 INTEGER PRIMARY KEY,
    creditor_id        INTEGER NOT NULL REFERENCES creditors (id),
    reference          TEXT    NOT NULL CHECK (length(reference) BETWEEN 1 AND 64),
    name               TEXT    NOT NULL CHECK (length(name) >= 1),
    email              TEXT,
    street             TEXT,
    building           TEXT,
    postcode           TEXT,
    town               TEXT,
    country            TEXT    CHECK (country IS NULL OR length(country) = 2),
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    UNIQUE (creditor_id, reference)
) STRICT;

CREATE TABLE mandates (
    id                 INTEGER PRIMARY KEY,
    creditor_id        INTEGER NOT NULL REFERENCES creditors (id),
    reference          TEXT    NOT NULL CHECK (length(reference) BETWEEN 1 AND 35),
    customer_id        INTEGER NOT NULL REFERENCES customers (id),
    iban               TEXT    NOT NULL,
    bic                TEXT,
    signed_on          TEXT    NOT NULL,
    channel            TEXT    NOT NULL CHECK (channel IN ('paper', 'electronic', 'phone', 'web')),
    status             TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'expired')),
    status_reason      TEXT,
    -- Sequence state: a first collection was presented and not undone before settling.
    first_presented    INTEGER NOT NULL DEFAULT 0 CHECK (first_presented IN (0, 1)),
    last_presented_on  TEXT,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    UNIQUE (creditor_id, reference)
) STRICT;

CREATE TABLE cards (
    id                 INTEGER PRIMARY KEY,
    customer_id        INTEGER NOT NULL REFERENCES customers (id),
    brand              TEXT    NOT NULL CHECK (length(brand) >= 1),
    last4              TEXT    NOT NULL CHECK (length(last4) = 4 AND last4 NOT GLOB '*[^0-9]*'),
    exp_month          INTEGER NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year           INTEGER NOT NULL CHECK (exp_year BETWEEN 2000 AND 2199),
    in_wallet          INTEGER NOT NULL CHECK (in_wallet IN (0, 1)),
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    UNIQUE (customer_id, brand, last4)
) STRICT;

CREATE TABLE plans (
    id                 INTEGER PRIMARY KEY,
    creditor_id        INTEGER NOT NULL REFERENCES creditors (id),
    reference          TEXT    NOT NULL CHECK (length(reference) BETWEEN 1 AND 64),
    customer_id        INTEGER NOT NULL REFERENCES customers (id),
    mandate_id         INTEGER REFERENCES mandates (id),
    card_id            INTEGER REFERENCES cards (id),
    installment_count  INTEGER CHECK (installment_count IS NULL OR installment_count >= 1),
    description        TEXT,
    status             TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'completed', 'cancelled')),
    paused_on          TEXT,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    UNIQUE (creditor_id, reference),
    CHECK ((mandate_id IS NULL) <> (card_id IS NULL))
) STRICT;

-- The plan's terms over time: a change of amount, frequency or period adds a row that applies
-- to installments from `effective_from` on; earlier installments keep their terms.
CREATE TABLE plan_terms (
    id                 INTEGER PRIMARY KEY,
    plan_id            INTEGER NOT NULL REFERENCES plans (id),
    effective_from     TEXT    NOT NULL,
    amount_cents       INTEGER NOT NULL CHECK (amount_cents BETWEEN 1 AND 99999999999),
    frequency          TEXT    NOT NULL CHECK (frequency IN ('weekly', 'monthly', 'quarterly', 'yearly', 'once')),
    day_of_month       INTEGER CHECK (day_of_month IS NULL OR day_of_month BETWEEN 1 AND 31),
    recorded_at        TEXT    NOT NULL,
    UNIQUE (plan_id, effective_from)
) STRICT;

CREATE TABLE collection_files (
    id                 INTEGER PRIMARY KEY,
    creditor_id        INTEGER NOT NULL REFERENCES creditors (id),
    message_id         TEXT    NOT NULL UNIQUE,
    business_date      TEXT    NOT NULL,
    pain_version       TEXT    NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('writing', 'written')),
    nb_of_txs          INTEGER NOT NULL CHECK (nb_of_txs >= 0),
    ctrl_sum_cents     INTEGER NOT NULL CHECK (ctrl_sum_cents >= 0),
    file_name          TEXT    NOT NULL UNIQUE,
    sha256             TEXT,
    created_at         TEXT    NOT NULL,
    written_at         TEXT
) STRICT;

-- One installment attempt. A collection names at most one collection file (a single column,
-- not a link table), and (plan, due date, attempt) names at most one collection.
CREATE TABLE collections (
    id                 INTEGER PRIMARY KEY,
    creditor_id        INTEGER NOT NULL REFERENCES creditors (id),
    plan_id            INTEGER NOT NULL REFERENCES plans (id),
    customer_id        INTEGER NOT NULL REFERENCES customers (id),
    mandate_id         INTEGER REFERENCES mandates (id),
    card_id            INTEGER REFERENCES cards (id),
    installment        INTEGER NOT NULL CHECK (installment >= 1),
    attempt            INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    due_date           TEXT    NOT NULL,
    amount_cents       INTEGER NOT NULL CHECK (amount_cents BETWEEN 1 AND 99999999999),
    currency           TEXT    NOT NULL DEFAULT 'EUR' CHECK (currency = 'EUR'),
    status             TEXT    NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'submitted', 'settled', 'failed', 'ignored', 'cancelled')),
    sequence_type      TEXT    CHECK (sequence_type IS NULL OR sequence_type IN ('FRST', 'RCUR', 'OOFF', 'FNAL')),
    end_to_end_id      TEXT    UNIQUE,
    collection_file_id INTEGER REFERENCES collection_files (id),
    retry_of           INTEGER REFERENCES collections (id),
    failure_reason     TEXT,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    UNIQUE (plan_id, due_date, attempt),
    UNIQUE (plan_id, installment, attempt),
    CHECK ((mandate_id IS NULL) <> (card_id IS NULL)),
    CHECK (collection_file_id IS NULL OR mandate_id IS NOT NULL),
    CHECK (status <> 'submitted' OR collection_file_id IS NOT NULL OR card_id IS NOT NULL)
) STRICT;

CREATE INDEX collections_by_status_due ON collections (status, due_date);
CREATE INDEX collections_by_customer ON collections (customer_id, due_date);
CREATE INDEX collections_by_file ON collections (collection_file_id);

-- Amendment history: each change of debtor IBAN or mandate reference, and the collection that
-- announced it to the bank (NULL until presented).
CREATE TABLE mandate_amendments (
    id                 INTEGER PRIMARY KEY,
    mandate_id         INTEGER NOT NULL REFERENCES mandates (id),
    kind               TEXT    NOT NULL CHECK (kind IN ('iban', 'mandate_id')),
    old_value          TEXT    NOT NULL,
    new_value          TEXT    NOT NULL,
    recorded_at        TEXT    NOT NULL,
    presented_in       INTEGER REFERENCES collections (id)
) STRICT;

-- Every ingested bank file, once by content.
CREATE TABLE bank_files (
    id                 INTEGER PRIMARY KEY,
    sha256             TEXT    NOT NULL UNIQUE,
    original_name      TEXT    NOT NULL,
    message_type       TEXT,
    message_id         TEXT,
    received_at        TEXT    NOT NULL,
    outcome            TEXT    NOT NULL CHECK (outcome IN ('processing', 'processed', 'quarantined')),
    reason             TEXT,
    summary            TEXT
) STRICT;

-- The timeline of one collection: created, in file X, accepted, settled, rejected, retried...
CREATE TABLE collection_events (
    id                 INTEGER PRIMARY KEY,
    collection_id      INTEGER NOT NULL REFERENCES collections (id),
    occurred_at        TEXT    NOT NULL,
    kind               TEXT    NOT NULL,
    detail             TEXT    NOT NULL DEFAULT '',
    collection_file_id INTEGER REFERENCES collection_files (id),
    bank_file_id       INTEGER REFERENCES bank_files (id)
) STRICT;

CREATE INDEX collection_events_by_collection ON collection_events (collection_id, id);

-- Facts from bank files carry a key per entry (not per file), so an overlapping statement or a
-- renamed copy books each fact once.
CREATE TABLE r_transactions (
    id                 INTEGER PRIMARY KEY,
    fact_key           TEXT    NOT NULL UNIQUE,
    bank_file_id       INTEGER NOT NULL REFERENCES bank_files (id),
    collection_id      INTEGER REFERENCES collections (id),
    kind               TEXT    NOT NULL CHECK (kind IN ('reject', 'refusal', 'return', 'refund', 'reversal')),
    reason_code        TEXT,
    reason_text        TEXT,
    amount_cents       INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency           TEXT    NOT NULL,
    booking_date       TEXT,
    end_to_end_id      TEXT,
    decision           TEXT,
    recorded_at        TEXT    NOT NULL
) STRICT;

CREATE TABLE settlements (
    id                 INTEGER PRIMARY KEY,
    fact_key           TEXT    NOT NULL UNIQUE,
    bank_file_id       INTEGER NOT NULL REFERENCES bank_files (id),
    collection_id      INTEGER NOT NULL REFERENCES collections (id),
    amount_cents       INTEGER NOT NULL CHECK (amount_cents >= 1),
    booking_date       TEXT,
    recorded_at        TEXT    NOT NULL
) STRICT;

CREATE TABLE unmatched_entries (
    id                 INTEGER PRIMARY KEY,
    fact_key           TEXT    NOT NULL UNIQUE,
    bank_file_id       INTEGER NOT NULL REFERENCES bank_files (id),
    description        TEXT    NOT NULL,
    amount_cents       INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency           TEXT    NOT NULL,
    booking_date       TEXT,
    end_to_end_id      TEXT,
    recorded_at        TEXT    NOT NULL
) STRICT;

-- Customer accounts: debits (invoices, refunds) and credits (payments, credit notes).
CREATE TABLE ledger_entries (
    id                 INTEGER PRIMARY KEY,
    creditor_id        INTEGER NOT NULL REFERENCES creditors (id),
    customer_id        INTEGER NOT NULL REFERENCES customers (id),
    source             TEXT    NOT NULL CHECK (source IN ('invoice', 'payment', 'collection')),
    reference          TEXT    NOT NULL CHECK (length(reference) BETWEEN 1 AND 64),
    kind               TEXT    NOT NULL CHECK (kind IN ('invoice', 'refund', 'payment', 'credit_note')),
    occurred_on        TEXT    NOT NULL,
    amount_cents       INTEGER NOT NULL CHECK (amount_cents BETWEEN 1 AND 99999999999),
    method             TEXT,
    collection_id      INTEGER UNIQUE REFERENCES collections (id),
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    UNIQUE (creditor_id, source, reference),
    CHECK ((source = 'invoice') = (kind IN ('invoice', 'refund', 'credit_note'))),
    CHECK ((source = 'collection') = (collection_id IS NOT NULL))
) STRICT;

CREATE INDEX ledger_entries_by_customer ON ledger_entries (customer_id, occurred_on);

CREATE TABLE allocations (
    id                 INTEGER PRIMARY KEY,
    debit_entry_id     INTEGER NOT NULL REFERENCES ledger_entries (id),
    credit_entry_id    INTEGER NOT NULL REFERENCES ledger_entries (id),
    amount_cents       INTEGER NOT NULL CHECK (amount_cents >= 1),
    allocated_on       TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    UNIQUE (debit_entry_id, credit_entry_id),
    CHECK (debit_entry_id <> credit_entry_id)
) STRICT;

CREATE TABLE job_runs (
    id                 INTEGER PRIMARY KEY,
    job                TEXT    NOT NULL,
    business_date      TEXT    NOT NULL,
    worker             TEXT    NOT NULL,
    started_at         TEXT    NOT NULL,
    finished_at        TEXT,
    outcome            TEXT    NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed')),
    summary            TEXT,
    error              TEXT
) STRICT;

CREATE INDEX job_runs_by_job_date ON job_runs (job, business_date);

-- A cron trigger fires each (job, business date) once, whichever worker gets there first.
CREATE TABLE job_triggers (
    job                TEXT    NOT NULL,
    business_date      TEXT    NOT NULL,
    fired_at           TEXT    NOT NULL,
    PRIMARY KEY (job, business_date)
) STRICT;

-- Every email sent (or written as .eml), once per dedupe key (e.g. card-expiry per card and expiry).
CREATE TABLE notifications (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT    NOT NULL,
    dedupe_key         TEXT    NOT NULL UNIQUE,
    recipient          TEXT    NOT NULL,
    subject            TEXT    NOT NULL,
    customer_id        INTEGER REFERENCES customers (id),
    transport          TEXT    NOT NULL CHECK (transport IN ('smtp', 'file')),
    location           TEXT,
    sent_at            TEXT    NOT NULL
) STRICT;
