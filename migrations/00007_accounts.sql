-- +goose Up
-- Accounts: self-registration with e-mail verification and administrator
-- approval, the organizations users belong to, single-use tokens mailed to
-- users (verification, password reset, e-mail change) and the SSH public
-- keys new instances receive.

-- Organizations, managed by administrators. tag is the value of the Ganeti
-- tag <prefix>:org:<tag> put on the organization's instances; NULL when its
-- instances get no organization tag.
CREATE TABLE organizations (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title      text        NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
    website    text        NOT NULL DEFAULT '' CHECK (length(website) <= 255),
    email      text        NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    phone      text        NOT NULL DEFAULT '' CHECK (length(phone) <= 32),
    tag        text        CHECK (tag ~ '^[A-Za-z0-9_-]{1,50}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organizations_tag_key ON organizations (lower(tag));
CREATE INDEX organizations_title_idx ON organizations (lower(title), id);

-- The account's state. A row inserted without naming these columns (the
-- createadmin command, an administrator) is verified and approved; a
-- self-registration inserts email_verified_at NULL and approval 'pending'.
ALTER TABLE users
    ADD COLUMN phone               text        NOT NULL DEFAULT '' CHECK (length(phone) <= 32),
    ADD COLUMN organization_id     bigint      REFERENCES organizations (id) ON DELETE SET NULL,
    ADD COLUMN email_verified_at   timestamptz DEFAULT now(),
    ADD COLUMN approval            text        NOT NULL DEFAULT 'approved'
                                   CHECK (approval IN ('pending', 'approved', 'rejected')),
    ADD COLUMN approval_decided_at timestamptz DEFAULT now(),
    ADD COLUMN approval_decided_by bigint      REFERENCES users (id) ON DELETE SET NULL,
    -- When the first-login welcome was shown; NULL until then.
    ADD COLUMN welcomed_at         timestamptz;

-- Existing accounts keep logging in: verified and approved when created,
-- welcomed if they ever logged in.
UPDATE users SET email_verified_at = created_at, approval_decided_at = created_at, welcomed_at = last_login_at;

-- is_active is the one switch every check reads (login, sessions,
-- visibility), so only a verified and approved account can have it on.
ALTER TABLE users
    ADD CONSTRAINT users_active_needs_approval
        CHECK (NOT is_active OR (approval = 'approved' AND email_verified_at IS NOT NULL)),
    ADD CONSTRAINT users_approval_decided
        CHECK ((approval = 'pending') = (approval_decided_at IS NULL));
CREATE INDEX users_pending_idx ON users (created_at, id) WHERE approval = 'pending';
CREATE INDEX users_organization_idx ON users (organization_id) WHERE organization_id IS NOT NULL;

-- Single-use tokens mailed to a user. Only the SHA-256 of a token is kept,
-- so a leaked table does not let anyone use the links. payload holds what
-- the token confirms (the address being verified or the new address).
CREATE TABLE account_tokens (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    token_hash bytea       NOT NULL CHECK (length(token_hash) = 32),
    payload    text        NOT NULL DEFAULT '' CHECK (length(payload) <= 1024),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CHECK (expires_at >= created_at)
);
CREATE UNIQUE INDEX account_tokens_hash_key ON account_tokens (token_hash);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose, created_at);
CREATE INDEX account_tokens_expires_idx ON account_tokens (expires_at);

-- SSH public keys. key_line is the canonical authorized_keys line (type,
-- base64 key, comment; no options, no newline) given to new instances.
CREATE TABLE ssh_keys (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_type    text        NOT NULL CHECK (key_type ~ '^[a-z0-9][a-z0-9@.-]{0,63}$'),
    bits        integer     NOT NULL CHECK (bits > 0),
    key_line    text        NOT NULL CHECK (length(key_line) BETWEEN 1 AND 16384 AND strpos(key_line, E'\n') = 0),
    comment     text        NOT NULL DEFAULT '' CHECK (length(comment) <= 255),
    fingerprint text        NOT NULL CHECK (fingerprint ~ '^SHA256:[A-Za-z0-9+/]{43}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ssh_keys_user_fingerprint_key ON ssh_keys (user_id, fingerprint);

-- +goose Down
DROP TABLE ssh_keys;
DROP TABLE account_tokens;
DROP INDEX users_organization_idx;
DROP INDEX users_pending_idx;
ALTER TABLE users
    DROP CONSTRAINT users_approval_decided,
    DROP CONSTRAINT users_active_needs_approval,
    DROP COLUMN welcomed_at,
    DROP COLUMN approval_decided_by,
    DROP COLUMN approval_decided_at,
    DROP COLUMN approval,
    DROP COLUMN email_verified_at,
    DROP COLUMN organization_id,
    DROP COLUMN phone;
DROP TABLE organizations;
