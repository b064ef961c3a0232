-- The outbox folder a file's temporary was reserved in: its canonical path (for people) and
-- the id its marker file holds (`.collecte-outbox-id`, what tells one folder from another
-- at the same path: a share that failed to mount, a folder made anew). A re-run that finds
-- neither the file nor its temporary records the file as sent only in that same folder:
-- elsewhere, "neither" says nothing about whether the file was ever placed. NULL for files
-- reserved before this migration.
ALTER TABLE collection_files ADD COLUMN reserved_folder TEXT;
ALTER TABLE collection_files ADD COLUMN reserved_folder_id TEXT;
