-- +goose Up
-- The log of each cached job (Ganeti's oplog entries of all its opcodes:
-- serial, time, type, message), bounded by the syncer to the last entries
-- of a job. NULL for jobs synced before this column or without a log.
ALTER TABLE cluster_jobs ADD COLUMN log jsonb;

-- +goose Down
ALTER TABLE cluster_jobs DROP COLUMN log;
