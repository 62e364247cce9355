-- +goose Up
-- The Ganeti clusters ganetimgr manages.
CREATE TABLE clusters (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug              text        NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$'),
    hostname          text        NOT NULL CHECK (length(hostname) BETWEEN 1 AND 253),
    port              integer     NOT NULL DEFAULT 5080 CHECK (port BETWEEN 1 AND 65535),
    description       text        NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    rapi_username     text        NOT NULL DEFAULT '',
    -- Sealed with internal/secretbox under the configured secret key.
    rapi_password     bytea,
    -- SHA-256 of the pinned certificate (uppercase, colon-separated), or
    -- empty when ca_pem (or the system roots) verify the certificate.
    tls_fingerprint   text        NOT NULL DEFAULT '',
    tls_ca_pem        text        NOT NULL DEFAULT '',
    fast_create       boolean     NOT NULL DEFAULT false,
    use_gnt_network   boolean     NOT NULL DEFAULT true,
    creation_disabled boolean     NOT NULL DEFAULT false,
    disabled          boolean     NOT NULL DEFAULT false,
    -- The simulated cluster `serve` starts in embedded mode.
    demo              boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX clusters_slug_key ON clusters (slug);
CREATE UNIQUE INDEX clusters_demo_key ON clusters (demo) WHERE demo;

-- +goose Down
DROP TABLE clusters;
