-- +goose Up
-- Confirmed instance actions (internal/instanceops): a reinstall, rename
-- or destroy asked for in "mail" confirmation mode waits here until its
-- owner opens the single-use link mailed to them, or the link expires.
-- Only the SHA-256 of the link's token is stored, so neither a database
-- dump nor a log can be replayed.
CREATE TABLE instance_confirmations (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- Who asked; only they may confirm.
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cluster_id  bigint      NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    instance    text        NOT NULL CHECK (length(instance) BETWEEN 1 AND 255),
    kind        text        NOT NULL CHECK (kind IN ('reinstall', 'rename', 'destroy')),
    -- The action's argument: the OS image of a reinstall ('' keeps the
    -- current one), the new name of a rename, '' for a destroy.
    value       text        NOT NULL DEFAULT '' CHECK (length(value) <= 255),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    -- Set when the link was used (the action was started).
    used_at     timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX instance_confirmations_expires_idx ON instance_confirmations (expires_at);
CREATE INDEX instance_confirmations_user_idx ON instance_confirmations (user_id, created_at DESC);

-- The hypervisor parameters of each cached instance (Ganeti's effective
-- hvparams), for the instance configuration form: boot order, CD-ROM
-- image, NIC and disk types, local time. NULL until the next sync.
ALTER TABLE cluster_instances ADD COLUMN hvparams jsonb
    CHECK (hvparams IS NULL OR jsonb_typeof(hvparams) = 'object');

-- +goose Down
ALTER TABLE cluster_instances DROP COLUMN hvparams;
DROP TABLE instance_confirmations;
