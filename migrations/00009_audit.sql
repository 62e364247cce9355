-- +goose Up
-- The audit log: every instance action, configuration and owner change,
-- lock and isolation change, application decision and refused attempt
-- (internal/audit). Rows keep the names as they were (a user or cluster
-- deleted later leaves its entries readable); old rows are purged after
-- GANETIMGR_AUDIT_RETENTION_DAYS.
CREATE TABLE audit_log (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    -- Who: NULL for the system (background work) or an anonymous request.
    user_id      bigint      REFERENCES users (id) ON DELETE SET NULL,
    username     text        NOT NULL DEFAULT '',
    client_addr  inet,
    -- What: a stable code such as instance.start or application.approve
    -- (pages translate it).
    action       text        NOT NULL CHECK (action ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'),
    outcome      text        NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    -- On what: cluster (id while it exists, slug as it was), instance name,
    -- application, Ganeti job id.
    cluster_id   bigint      REFERENCES clusters (id) ON DELETE SET NULL,
    cluster_slug text        NOT NULL DEFAULT '',
    instance     text        NOT NULL DEFAULT '',
    application_id bigint,
    job_id       bigint,
    -- Details in words (changed settings, the reason of a refusal).
    detail       text        NOT NULL DEFAULT '' CHECK (length(detail) <= 4000)
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, at DESC, id DESC);
CREATE INDEX audit_log_instance_idx ON audit_log (instance, at DESC, id DESC) WHERE instance <> '';

-- +goose Down
DROP TABLE audit_log;
