-- +goose Up
-- Accounts, groups and permissions.
CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text        NOT NULL CHECK (username ~ '^[A-Za-z0-9_.@+-]{1,150}$'),
    email           text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    first_name      text        NOT NULL DEFAULT '' CHECK (length(first_name) <= 150),
    last_name       text        NOT NULL DEFAULT '' CHECK (length(last_name) <= 150),
    password_hash   text        NOT NULL DEFAULT '',
    is_active       boolean     NOT NULL DEFAULT true,
    is_superuser    boolean     NOT NULL DEFAULT false,
    language        text        NOT NULL DEFAULT '',
    -- Incremented to invalidate every session of the user ("log out everywhere").
    session_epoch   integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE groups (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL CHECK (name ~ '^[A-Za-z0-9_.@+-]{1,150}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX groups_name_key ON groups (lower(name));

CREATE TABLE group_members (
    group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

-- The named permissions ganetimgr knows. The set is fixed by the code; the
-- table exists so grants are checked by foreign keys.
CREATE TABLE permissions (
    codename text PRIMARY KEY
);
INSERT INTO permissions (codename) VALUES
    ('view_instances'), ('can_lock'), ('can_isolate'), ('view_all_graphs'),
    ('view_applications'), ('change_application'), ('can_view_notif');

CREATE TABLE user_permissions (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission text   NOT NULL REFERENCES permissions (codename),
    PRIMARY KEY (user_id, permission)
);

CREATE TABLE group_permissions (
    group_id   bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    permission text   NOT NULL REFERENCES permissions (codename),
    PRIMARY KEY (group_id, permission)
);

-- Web sessions, in the layout scs/pgxstore expects.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- +goose Down
DROP TABLE sessions;
DROP TABLE group_permissions;
DROP TABLE user_permissions;
DROP TABLE permissions;
DROP TABLE group_members;
DROP TABLE groups;
DROP TABLE users;
