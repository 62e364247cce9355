-- +goose Up
-- Networks an administrator declares for a cluster (mostly bridged VLANs):
-- what the application form offers to members of the given groups, and the
-- IPv6 prefix from which instances' EUI-64 addresses are derived.
CREATE TABLE networks (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cluster_id      bigint      NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    description     text        NOT NULL CHECK (length(description) BETWEEN 1 AND 255),
    -- The bridge (bridged mode) or routing link (routed mode) name.
    link            text        NOT NULL CHECK (link ~ '^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$'),
    mode            text        NOT NULL CHECK (mode IN ('bridged', 'routed')),
    cluster_default boolean     NOT NULL DEFAULT false,
    -- Canonical (no host bits) IPv6 prefix of /64 or shorter; NULL when none.
    ipv6_prefix     cidr        CHECK (family(ipv6_prefix) = 6 AND masklen(ipv6_prefix) BETWEEN 1 AND 64),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- A link names one network per cluster (ganetimgr looked prefixes up by link
-- across all clusters; here the pair is unambiguous).
CREATE UNIQUE INDEX networks_cluster_link_key ON networks (cluster_id, link);
-- At most one default network per cluster.
CREATE UNIQUE INDEX networks_cluster_default_key ON networks (cluster_id) WHERE cluster_default;

-- The user groups whose members may choose a network.
CREATE TABLE network_groups (
    network_id bigint NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    group_id   bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (network_id, group_id)
);
CREATE INDEX network_groups_group_idx ON network_groups (group_id);

-- +goose Down
DROP TABLE network_groups;
DROP TABLE networks;
