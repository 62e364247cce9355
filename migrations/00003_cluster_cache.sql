-- +goose Up
-- The cached view of every cluster, refreshed in the background by the
-- cluster syncer (internal/clustersync). Pages and the API read only these
-- tables: a page never waits on a cluster. Every table hangs off clusters
-- with ON DELETE CASCADE, so a deleted cluster takes its cached data along.

-- Data versions come from one sequence, so they are unique and increasing
-- across clusters: max(data_version) with the number and the highest id of
-- the clusters identifies the state of the whole cache (store.CacheVersion).
CREATE SEQUENCE cluster_data_version_seq;

-- One row per cluster a syncer has looked at: sync status and cluster info.
CREATE TABLE cluster_sync (
    cluster_id             bigint      PRIMARY KEY REFERENCES clusters (id) ON DELETE CASCADE,
    -- When a syncer first took the cluster on; the data age of a cluster
    -- that never synced counts from here.
    since                  timestamptz NOT NULL DEFAULT now(),
    last_attempt_at        timestamptz,
    last_success_at        timestamptz,
    -- Text of the last failure (never holds the RAPI password); empty after
    -- a success.
    last_error             text        NOT NULL DEFAULT '',
    last_error_at          timestamptz,
    consecutive_failures   integer     NOT NULL DEFAULT 0,
    last_duration_ms       integer     NOT NULL DEFAULT 0,
    -- Which replica wrote the last attempt (host name and process id).
    synced_by              text        NOT NULL DEFAULT '',
    -- Bumped (from cluster_data_version_seq) whenever any cached data of
    -- the cluster changes; rendered pages may be cached keyed by it.
    data_version           bigint      NOT NULL DEFAULT 0,
    data_changed_at        timestamptz,
    -- /2/info.
    cluster_name           text        NOT NULL DEFAULT '',
    cluster_uuid           text        NOT NULL DEFAULT '',
    software_version       text        NOT NULL DEFAULT '',
    default_hypervisor     text        NOT NULL DEFAULT '',
    enabled_hypervisors    text[]      NOT NULL DEFAULT '{}',
    enabled_disk_templates text[]      NOT NULL DEFAULT '{}',
    ipolicy                jsonb,
    default_iallocator     text        NOT NULL DEFAULT '',
    master_node            text        NOT NULL DEFAULT '',
    cluster_ctime          timestamptz,
    cluster_mtime          timestamptz,
    cluster_tags           text[]      NOT NULL DEFAULT '{}',
    info_hash              bigint      NOT NULL DEFAULT 0,
    -- Counts maintained at sync time (no count(*) per page view).
    instance_count         integer     NOT NULL DEFAULT 0,
    running_count          integer     NOT NULL DEFAULT 0,
    node_count             integer     NOT NULL DEFAULT 0
);

-- Instances. Array columns of nic_* and disk_* are parallel lists as Ganeti
-- reports them ('' for an unset NIC IP or network).
CREATE TABLE cluster_instances (
    cluster_id    bigint      NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    uuid          text        NOT NULL DEFAULT '',
    status        text        NOT NULL DEFAULT '',
    admin_state   text        NOT NULL DEFAULT '',
    oper_state    boolean     NOT NULL DEFAULT false,
    pnode         text        NOT NULL DEFAULT '',
    snodes        text[]      NOT NULL DEFAULT '{}',
    -- Node group of the primary node (from the node and group lists).
    node_group    text        NOT NULL DEFAULT '',
    os            text        NOT NULL DEFAULT '',
    hypervisor    text        NOT NULL DEFAULT '',
    memory_mb     integer     NOT NULL DEFAULT 0,
    vcpus         integer     NOT NULL DEFAULT 0,
    oper_ram_mb   integer     NOT NULL DEFAULT 0,
    oper_vcpus    integer     NOT NULL DEFAULT 0,
    disk_template text        NOT NULL DEFAULT '',
    disk_sizes_mb bigint[]    NOT NULL DEFAULT '{}',
    disk_usage_mb bigint      NOT NULL DEFAULT 0,
    nic_ips       text[]      NOT NULL DEFAULT '{}',
    nic_macs      text[]      NOT NULL DEFAULT '{}',
    nic_modes     text[]      NOT NULL DEFAULT '{}',
    nic_links     text[]      NOT NULL DEFAULT '{}',
    nic_networks  text[]      NOT NULL DEFAULT '{}',
    network_port  integer     NOT NULL DEFAULT 0,
    tags          text[]      NOT NULL DEFAULT '{}',
    -- Derived at sync from <prefix>:user:, <prefix>:group: and flag tags.
    owner_users   text[]      NOT NULL DEFAULT '{}',
    owner_groups  text[]      NOT NULL DEFAULT '{}',
    admin_lock    boolean     NOT NULL DEFAULT false,
    isolate       boolean     NOT NULL DEFAULT false,
    needs_reboot  boolean     NOT NULL DEFAULT false,
    ctime         timestamptz,
    mtime         timestamptz,
    serial_no     bigint      NOT NULL DEFAULT 0,
    -- Lowercased name, IPs, MACs, owners and nodes, for substring search.
    search_text   text        NOT NULL DEFAULT '',
    -- Hash of everything above; unchanged rows are not rewritten.
    content_hash  bigint      NOT NULL DEFAULT 0,
    synced_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster_id, name)
);
-- Keyset pagination: every sort ends with (name, cluster_id).
CREATE INDEX cluster_instances_name_idx ON cluster_instances (name, cluster_id);
CREATE INDEX cluster_instances_status_idx ON cluster_instances (status, name, cluster_id);
CREATE INDEX cluster_instances_memory_idx ON cluster_instances (memory_mb, name, cluster_id);
CREATE INDEX cluster_instances_vcpus_idx ON cluster_instances (vcpus, name, cluster_id);
CREATE INDEX cluster_instances_pnode_idx ON cluster_instances (pnode, name, cluster_id);
-- "Instances visible to user U".
CREATE INDEX cluster_instances_owner_users_idx ON cluster_instances USING gin (owner_users);
CREATE INDEX cluster_instances_owner_groups_idx ON cluster_instances USING gin (owner_groups);

CREATE TABLE cluster_nodes (
    cluster_id       bigint      NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    name             text        NOT NULL,
    uuid             text        NOT NULL DEFAULT '',
    role             text        NOT NULL DEFAULT 'regular'
                     CHECK (role IN ('master', 'candidate', 'regular', 'drained', 'offline')),
    node_group       text        NOT NULL DEFAULT '',
    offline          boolean     NOT NULL DEFAULT false,
    drained          boolean     NOT NULL DEFAULT false,
    master_candidate boolean     NOT NULL DEFAULT false,
    vm_capable       boolean     NOT NULL DEFAULT true,
    primary_ip       text        NOT NULL DEFAULT '',
    secondary_ip     text        NOT NULL DEFAULT '',
    memory_total_mb  bigint      NOT NULL DEFAULT 0,
    memory_free_mb   bigint      NOT NULL DEFAULT 0,
    disk_total_mb    bigint      NOT NULL DEFAULT 0,
    disk_free_mb     bigint      NOT NULL DEFAULT 0,
    cpus             integer     NOT NULL DEFAULT 0,
    primary_count    integer     NOT NULL DEFAULT 0,
    secondary_count  integer     NOT NULL DEFAULT 0,
    tags             text[]      NOT NULL DEFAULT '{}',
    ctime            timestamptz,
    mtime            timestamptz,
    content_hash     bigint      NOT NULL DEFAULT 0,
    synced_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster_id, name)
);

CREATE TABLE cluster_node_groups (
    cluster_id   bigint      NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    uuid         text        NOT NULL DEFAULT '',
    alloc_policy text        NOT NULL DEFAULT '',
    tags         text[]      NOT NULL DEFAULT '{}',
    -- The "locked" tag: maintenance.
    locked       boolean     NOT NULL DEFAULT false,
    nodes        text[]      NOT NULL DEFAULT '{}',
    ipolicy      jsonb,
    -- Names of the gnt-networks connected to the group.
    networks     text[]      NOT NULL DEFAULT '{}',
    ctime        timestamptz,
    mtime        timestamptz,
    content_hash bigint      NOT NULL DEFAULT 0,
    synced_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster_id, name)
);

CREATE TABLE cluster_networks (
    cluster_id     bigint      NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    name           text        NOT NULL,
    uuid           text        NOT NULL DEFAULT '',
    network        text        NOT NULL DEFAULT '',
    gateway        text        NOT NULL DEFAULT '',
    network6       text        NOT NULL DEFAULT '',
    gateway6       text        NOT NULL DEFAULT '',
    mac_prefix     text        NOT NULL DEFAULT '',
    free_count     integer     NOT NULL DEFAULT 0,
    reserved_count integer     NOT NULL DEFAULT 0,
    instance_count integer     NOT NULL DEFAULT 0,
    -- [{"group": ..., "mode": ..., "link": ..., "vlan": ...}]
    groups         jsonb       NOT NULL DEFAULT '[]',
    tags           text[]      NOT NULL DEFAULT '{}',
    ctime          timestamptz,
    mtime          timestamptz,
    content_hash   bigint      NOT NULL DEFAULT 0,
    synced_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster_id, name)
);

-- Recent jobs. Jobs archived by Ganeti stay here until pruned (at most a
-- bounded number per cluster, nothing older than a bounded age).
CREATE TABLE cluster_jobs (
    cluster_id     bigint      NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    job_id         bigint      NOT NULL,
    status         text        NOT NULL DEFAULT '',
    summary        text[]      NOT NULL DEFAULT '{}',
    op_ids         text[]      NOT NULL DEFAULT '{}',
    op_status      text[]      NOT NULL DEFAULT '{}',
    -- Instances the opcodes act on (for "job pending" badges).
    instances      text[]      NOT NULL DEFAULT '{}',
    -- The opcodes as received (bounded in size) and their results, when
    -- the RAPI sent them.
    ops            jsonb,
    op_result      jsonb,
    error          text        NOT NULL DEFAULT '',
    received_at    timestamptz,
    started_at     timestamptz,
    ended_at       timestamptz,
    content_hash   bigint      NOT NULL DEFAULT 0,
    synced_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster_id, job_id)
);
CREATE INDEX cluster_jobs_received_idx ON cluster_jobs (received_at DESC, cluster_id, job_id);
CREATE INDEX cluster_jobs_unfinished_idx ON cluster_jobs (cluster_id)
    WHERE status NOT IN ('success', 'error', 'canceled');

-- Every change of a cluster row is announced on the channel
-- "ganetimgr_clusters" with the cluster id as payload, so that the syncers
-- of all replicas start, restart or stop at once (whoever changes the row),
-- and an update bumps the cluster's data version.
-- +goose StatementBegin
CREATE FUNCTION clusters_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('ganetimgr_clusters', OLD.id::text);
    ELSE
        PERFORM pg_notify('ganetimgr_clusters', NEW.id::text);
    END IF;
    -- What pages show of a cluster's data depends on its row (slug,
    -- disabled): cached output keyed by the data version must go.
    IF TG_OP = 'UPDATE' THEN
        UPDATE cluster_sync SET data_version = nextval('cluster_data_version_seq')
            WHERE cluster_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER clusters_notify AFTER INSERT OR UPDATE OR DELETE ON clusters
    FOR EACH ROW EXECUTE FUNCTION clusters_notify();

-- +goose Down
DROP TRIGGER clusters_notify ON clusters;
DROP FUNCTION clusters_notify();
DROP TABLE cluster_jobs;
DROP TABLE cluster_networks;
DROP TABLE cluster_node_groups;
DROP TABLE cluster_nodes;
DROP TABLE cluster_instances;
DROP TABLE cluster_sync;
DROP SEQUENCE cluster_data_version_seq;
