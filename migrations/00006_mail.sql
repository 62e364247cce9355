-- +goose Up
-- The mail outbox: every mail ganetimgr sends is first a row here, inserted
-- in the same transaction as the change it reports, together with the
-- river job (river_job, see internal/mail) that delivers it. The mail is
-- rendered in the recipient's language when it is enqueued, so the worker
-- only sends what is stored. The bodies of a sent mail are erased (they may
-- carry one-time links); the row stays as a record of what was sent.
CREATE TABLE mail_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient       text        NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254 AND recipient LIKE '%_@_%'),
    recipient_name  text        NOT NULL DEFAULT '' CHECK (length(recipient_name) <= 300),
    language        text        NOT NULL CHECK (language ~ '^[a-z]{2,3}$'),
    template        text        NOT NULL CHECK (template ~ '^[a-z0-9_]{1,64}$'),
    subject         text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 998),
    text_body       text        NOT NULL,
    html_body       text,
    -- The Message-ID header, stable across retries, so a mail sent twice
    -- (a crash after the server accepted it) is recognisable as one.
    message_id      text        NOT NULL CHECK (message_id ~ '^<[^<>@ ]+@[^<>@ ]+>$'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_attempt_at timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    sent_at         timestamptz,
    -- Set when delivery was given up: the server refused the mail for good,
    -- or every attempt failed.
    failed_at       timestamptz,
    CHECK (sent_at IS NULL OR failed_at IS NULL)
);
CREATE UNIQUE INDEX mail_outbox_message_id_key ON mail_outbox (message_id);
-- Mails neither sent nor given up, oldest first (the admin's view of the queue).
CREATE INDEX mail_outbox_pending_idx ON mail_outbox (created_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP TABLE mail_outbox;
