-- The outbox folder a creditor's files go to, known by its marker (`.collecte-outbox-id`):
-- a run finding another folder, or one with no marker, at folders.outbox (a share that
-- failed to mount, leaving its empty mount point; a folder made anew; a mistyped path)
-- refuses to write files there that would never reach the bank, until a person adopts the
-- folder (`collecte run collect --adopt-outbox`). `path` is the folder's canonical path
-- then, for people.
CREATE TABLE creditor_outboxes (
    creditor_id        BIGINT NOT NULL PRIMARY KEY REFERENCES creditors (id),
    path               TEXT    NOT NULL,
    marker_id          TEXT    NOT NULL,
    recorded_at        TIMESTAMPTZ    NOT NULL
);

-- A ledger that wrote files before this migration knows its outbox from its last file.
INSERT INTO creditor_outboxes (creditor_id, path, marker_id, recorded_at)
SELECT f.creditor_id, f.reserved_folder, f.reserved_folder_id, f.created_at
FROM collection_files f
WHERE f.id IN (
    SELECT MAX(id) FROM collection_files
    WHERE reserved_folder IS NOT NULL AND reserved_folder_id IS NOT NULL
    GROUP BY creditor_id
);
