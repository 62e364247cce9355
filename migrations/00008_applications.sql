-- +goose Up
-- Instance applications: users apply for virtual machines, reviewers
-- approve them (choosing where the VM goes) or refuse them, and a durable
-- background job creates an approved VM on its cluster exactly once
-- (internal/applications). The operating systems offered come from the
-- os_images catalogue.

-- The operating system catalogue, managed by administrators: what
-- ganetimgr's image .meta files described.
CREATE TABLE os_images (
    id              text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    description     text        NOT NULL CHECK (length(description) BETWEEN 1 AND 255),
    -- The Ganeti OS that installs it: "name" or "name+variant"
    -- (e.g. snf-image+default).
    provider        text        NOT NULL CHECK (provider ~ '^[A-Za-z0-9_.-]{1,64}(\+[A-Za-z0-9_.-]{1,64})?$'),
    -- OS parameters sent with every creation (a JSON object of strings);
    -- reviewers see them.
    osparams        jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(osparams) = 'object'),
    -- Secret OS parameters (such as img_passwd): a JSON object sealed with
    -- internal/secretbox. They are sent as Ganeti's private OS parameters
    -- and never shown to anyone.
    osparams_secret bytea,
    -- The OS parameter that receives the URL serving the applicant's SSH
    -- keys (ganetimgr's ssh_key_param); '' for none.
    ssh_key_param   text        NOT NULL DEFAULT '' CHECK (ssh_key_param ~ '^([A-Za-z0-9_]{1,64})?$'),
    -- Accounts of the new VM that receive the applicant's keys through
    -- img_personality, as user[:group[:path]] (ganetimgr's ssh_key_users).
    ssh_key_users   text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(ssh_key_users) <= 16),
    -- Disabled images are not offered any more; applications keep them.
    enabled         boolean     NOT NULL DEFAULT true,
    -- Order on the application form (then by description).
    position        integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX os_images_order_idx ON os_images (position, lower(description), id);

CREATE TABLE applications (
    id                   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Approved accounts are never deleted, so an application keeps its
    -- applicant.
    applicant_id         bigint      NOT NULL REFERENCES users (id),
    -- pending, approved, submitted, failed, created, refused, discarded:
    -- ganetimgr's 100, 101, 102, 104, 105, 106, 107 (103 was never used).
    status               text        NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'approved', 'submitted', 'failed', 'created', 'refused', 'discarded')),

    -- The request (the reviewer may edit it).
    -- A lowercase fully qualified domain name of at least two labels.
    hostname             text        NOT NULL CHECK (length(hostname) <= 253 AND
                         hostname ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$'),
    memory_mb            integer     NOT NULL CHECK (memory_mb BETWEEN 1 AND 4194304),
    vcpus                integer     NOT NULL CHECK (vcpus BETWEEN 1 AND 1024),
    disk_gb              integer     NOT NULL CHECK (disk_gb BETWEEN 1 AND 1048576),
    -- The operating system: an image of the catalogue or, chosen by a
    -- reviewer, an OS the cluster reports (/2/os). Exactly one is set.
    os_image             text        REFERENCES os_images (id) ON UPDATE CASCADE,
    os_name              text        CHECK (os_name ~ '^[A-Za-z0-9_.-]{1,64}(\+[A-Za-z0-9_.-]{1,64})?$'),
    -- The declared network the applicant asked for; NULL for no wish.
    requested_network_id bigint      REFERENCES networks (id) ON DELETE SET NULL,
    organization_id      bigint      REFERENCES organizations (id) ON DELETE SET NULL,
    admin_contact_name   text        NOT NULL DEFAULT '' CHECK (length(admin_contact_name) <= 255),
    admin_contact_email  text        NOT NULL DEFAULT '' CHECK (length(admin_contact_email) <= 254),
    admin_contact_phone  text        NOT NULL DEFAULT '' CHECK (length(admin_contact_phone) <= 32),
    hosts_mail_server    boolean     NOT NULL DEFAULT false,
    comments             text        NOT NULL DEFAULT '' CHECK (length(comments) <= 4000),
    terms_accepted_at    timestamptz NOT NULL,
    -- Recorded for a VM an administrator created directly (fast creation).
    fast_create          boolean     NOT NULL DEFAULT false,

    -- The review.
    reviewer_id          bigint      REFERENCES users (id) ON DELETE SET NULL,
    -- The reviewer's words to the applicant (a refusal's reason).
    admin_comments       text        NOT NULL DEFAULT '' CHECK (length(admin_comments) <= 4000),
    -- Placement, chosen by the reviewer from the cluster's cached data.
    cluster_id           bigint      REFERENCES clusters (id) ON DELETE SET NULL,
    node_group           text        NOT NULL DEFAULT '' CHECK (length(node_group) <= 255),
    -- The NIC: a link and mode (network_name names the gnt-network or
    -- declared network they belong to), or a gnt-network with an address
    -- from its pool (network_pool); all empty for the cluster's default NIC
    -- parameters.
    network_name         text        NOT NULL DEFAULT '' CHECK (length(network_name) <= 255),
    network_link         text        NOT NULL DEFAULT '' CHECK (length(network_link) <= 255),
    network_mode         text        NOT NULL DEFAULT '' CHECK (network_mode IN ('', 'bridged', 'routed', 'openvswitch')),
    network_pool         boolean     NOT NULL DEFAULT false,
    disk_template        text        NOT NULL DEFAULT '' CHECK (disk_template ~ '^[a-z]{0,32}$'),
    -- The volume group for templates that use one; '' for the default.
    vg                   text        NOT NULL DEFAULT '' CHECK (length(vg) <= 128),

    -- Submission: each approval (and re-submission) is a new attempt,
    -- whose number marks the Ganeti job that creates the VM.
    submit_attempt       integer     NOT NULL DEFAULT 0 CHECK (submit_attempt >= 0),
    job_id               bigint      CHECK (job_id > 0),
    -- Ganeti's message when the creation failed.
    backend_message      text        NOT NULL DEFAULT '' CHECK (length(backend_message) <= 8000),
    -- SHA-256 of the secret token of the URL serving the applicant's SSH
    -- keys to the new VM, and until when it serves them.
    ssh_key_token_hash   bytea       CHECK (length(ssh_key_token_hash) = 32),
    ssh_keys_until       timestamptz,

    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    submitted_at         timestamptz,
    -- When a final status (created, refused, discarded) was reached.
    finished_at          timestamptz,

    CONSTRAINT applications_one_os CHECK ((os_image IS NULL) <> (os_name IS NULL)),
    CONSTRAINT applications_placed CHECK (status IN ('pending', 'refused', 'discarded')
        OR (node_group <> '' AND disk_template <> '')),
    CONSTRAINT applications_active_cluster CHECK (status NOT IN ('approved', 'submitted') OR cluster_id IS NOT NULL),
    CONSTRAINT applications_network CHECK ((NOT network_pool OR network_name <> '')
        AND (network_link = '') = (network_mode = '')),
    CONSTRAINT applications_submitted CHECK (status NOT IN ('submitted', 'failed', 'created')
        OR (submit_attempt > 0 AND submitted_at IS NOT NULL)),
    CONSTRAINT applications_job CHECK (job_id IS NULL OR status IN ('submitted', 'failed', 'created')),
    CONSTRAINT applications_refusal_reason CHECK (status <> 'refused' OR admin_comments <> ''),
    CONSTRAINT applications_failure_reason CHECK (status <> 'failed' OR backend_message <> ''),
    CONSTRAINT applications_key_token CHECK ((ssh_key_token_hash IS NULL) = (ssh_keys_until IS NULL)
        AND (ssh_key_token_hash IS NULL OR status IN ('submitted', 'failed', 'created'))),
    CONSTRAINT applications_finished CHECK ((finished_at IS NOT NULL) = (status IN ('created', 'refused', 'discarded')))
);
-- A hostname belongs to at most one open application (race-safe: two
-- concurrent applications for one name cannot both be stored).
CREATE UNIQUE INDEX applications_open_hostname_key ON applications (hostname)
    WHERE status IN ('pending', 'approved', 'submitted', 'failed');
CREATE UNIQUE INDEX applications_ssh_key_token_key ON applications (ssh_key_token_hash)
    WHERE ssh_key_token_hash IS NOT NULL;
-- Lists: newest first, by status or by applicant.
CREATE INDEX applications_status_idx ON applications (status, id);
CREATE INDEX applications_applicant_idx ON applications (applicant_id, id);

-- The history of every application: each status change, who made it
-- (NULL: ganetimgr itself) and the comment that went with it.
CREATE TABLE application_events (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint      NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    -- NULL for the filing of the application.
    from_status    text        CHECK (from_status IN ('pending', 'approved', 'submitted', 'failed', 'created', 'refused', 'discarded')),
    to_status      text        NOT NULL CHECK (to_status IN ('pending', 'approved', 'submitted', 'failed', 'created', 'refused', 'discarded')),
    actor_id       bigint      REFERENCES users (id) ON DELETE SET NULL,
    comment        text        NOT NULL DEFAULT '' CHECK (length(comment) <= 8000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (from_status IS DISTINCT FROM to_status)
);
CREATE INDEX application_events_application_idx ON application_events (application_id, id);

-- +goose Down
DROP TABLE application_events;
DROP TABLE applications;
DROP TABLE os_images;
