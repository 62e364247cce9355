-- +goose Up
-- Tracked instance changes (internal/instanceops): the Ganeti job each
-- instance action started, followed in the background until it ends. At
-- most one unfinished row exists per instance, which is what turns a
-- double submit into a single Ganeti job and what disables an instance's
-- actions, with the reason shown, while its job runs.
CREATE TABLE instance_jobs (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cluster_id     bigint      NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    instance       text        NOT NULL CHECK (length(instance) BETWEEN 1 AND 255),
    -- The action (instanceops.Kind): start, shutdown, reboot, ...
    kind           text        NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,31}$'),
    -- What changes, in plain words: the new name, the OS image, the
    -- changed settings, the owner added or removed.
    detail         text        NOT NULL DEFAULT '' CHECK (length(detail) <= 4000),
    -- Who asked: NULL for the system; the name is kept as it was.
    user_id        bigint      REFERENCES users (id) ON DELETE SET NULL,
    username       text        NOT NULL DEFAULT '',
    -- The application whose creation job this is, if any.
    application_id bigint      REFERENCES applications (id) ON DELETE SET NULL,
    -- The Ganeti job; NULL while the RAPI call is in flight.
    job_id         bigint      CHECK (job_id > 0),
    -- "submitting", then Ganeti's job status; "lost" for a call whose job
    -- was never found.
    status         text        NOT NULL DEFAULT 'submitting' CHECK (status IN ('submitting', 'queued', 'waiting',
                                   'running', 'canceling', 'success', 'error', 'canceled', 'lost')),
    -- The job's log lines as they arrive, the last 200: a JSON array of
    -- {"serial", "time", "type", "message"}.
    log            jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(log) = 'array'),
    -- Ganeti's error message when the job (or the call) failed.
    error          text        NOT NULL DEFAULT '' CHECK (length(error) <= 8000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    CHECK ((finished_at IS NOT NULL) = (status IN ('success', 'error', 'canceled', 'lost')))
);
-- One unfinished job per instance.
CREATE UNIQUE INDEX instance_jobs_active_idx ON instance_jobs (cluster_id, instance) WHERE finished_at IS NULL;
CREATE INDEX instance_jobs_instance_idx ON instance_jobs (cluster_id, instance, id DESC);
CREATE INDEX instance_jobs_finished_idx ON instance_jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX instance_jobs_application_idx ON instance_jobs (application_id) WHERE application_id IS NOT NULL;

-- When the administrators were last mailed about a refused attempt of a
-- user on an instance (at most one mail per user and instance per hour).
CREATE TABLE instance_refusal_mails (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cluster_id bigint      NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    instance   text        NOT NULL,
    mailed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, cluster_id, instance)
);

-- +goose Down
DROP TABLE instance_refusal_mails;
DROP TABLE instance_jobs;
