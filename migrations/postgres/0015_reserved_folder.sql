-- The folder (canonical path) a file's temporary was reserved in. A re-run that finds neither
-- the file nor its temporary records the file as sent only when it looks in that same
-- folder: after `folders.outbox` was pointed elsewhere, "neither" says nothing about whether
-- the file was ever placed. NULL for files reserved before this migration.
ALTER TABLE collection_files ADD COLUMN reserved_folder TEXT;
