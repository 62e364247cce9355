-- +goose Up
-- The OAuth2 provider (internal/oauth): the applications users register
-- and the authorization codes and access tokens issued to them. Secrets,
-- codes and tokens are stored only as their SHA-256: a reader of the
-- database cannot use them.
CREATE TABLE oauth_clients (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The public identifier the application sends (client_id).
    client_id     text        NOT NULL UNIQUE CHECK (client_id ~ '^[A-Za-z0-9_-]{16,100}$'),
    -- The user who registered the application; only they see and change it.
    user_id       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    client_type   text        NOT NULL CHECK (client_type IN ('confidential', 'public')),
    grant_type    text        NOT NULL CHECK (grant_type IN ('implicit', 'authorization-code')),
    -- Matched exactly against the redirect_uri of a request.
    redirect_uris text[]      NOT NULL CHECK (cardinality(redirect_uris) BETWEEN 1 AND 20),
    -- SHA-256 of the client secret; confidential clients have one, public
    -- clients none.
    secret_hash   bytea       CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((client_type = 'confidential') = (secret_hash IS NOT NULL))
);
CREATE INDEX oauth_clients_user_idx ON oauth_clients (user_id, id);

-- One row per authorization code or access token. A revoked token's row is
-- deleted at once; expired rows are purged in the background.
CREATE TABLE oauth_tokens (
    id                    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                  text        NOT NULL CHECK (kind IN ('code', 'access')),
    -- SHA-256 of the code or token.
    token_hash            bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    client_id             bigint      NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id               bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope                 text        NOT NULL DEFAULT '' CHECK (length(scope) <= 200),
    redirect_uri          text        NOT NULL DEFAULT '' CHECK (length(redirect_uri) <= 2000),
    -- PKCE, for codes.
    code_challenge        text        NOT NULL DEFAULT '' CHECK (length(code_challenge) <= 128),
    code_challenge_method text        NOT NULL DEFAULT '' CHECK (code_challenge_method IN ('', 'S256')),
    created_at            timestamptz NOT NULL,
    expires_at            timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX oauth_tokens_user_idx ON oauth_tokens (user_id, kind, created_at DESC);
CREATE INDEX oauth_tokens_client_idx ON oauth_tokens (client_id);
CREATE INDEX oauth_tokens_expires_idx ON oauth_tokens (expires_at);

-- +goose Down
DROP TABLE oauth_tokens;
DROP TABLE oauth_clients;
