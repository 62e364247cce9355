package store

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// OutboxMail is one row of the mail outbox: a rendered mail, the state of
// its delivery and the Message-ID it keeps across retries.
type OutboxMail struct {
	ID            int64
	Recipient     string // bare address
	RecipientName string // display name, may be empty
	Language      string
	Template      string
	Subject       string
	TextBody      string // empty once sent
	HTMLBody      string // optional; empty once sent
	MessageID     string // "<...@...>"
	CreatedAt     time.Time
	Attempts      int
	LastAttemptAt *time.Time
	LastError     string
	SentAt        *time.Time
	FailedAt      *time.Time
}

// NewOutboxMail holds the fields of a mail being enqueued.
type NewOutboxMail struct {
	Recipient     string
	RecipientName string
	Language      string
	Template      string
	Subject       string
	TextBody      string
	HTMLBody      string // empty: none
	MessageID     string
}

const outboxColumns = `id, recipient, recipient_name, language, template, subject, text_body,
	coalesce(html_body, ''), message_id, created_at, attempts, last_attempt_at, last_error, sent_at, failed_at`

func scanOutboxMail(row pgx.Row) (*OutboxMail, error) {
	m := &OutboxMail{}
	err := row.Scan(&m.ID, &m.Recipient, &m.RecipientName, &m.Language, &m.Template, &m.Subject, &m.TextBody,
		&m.HTMLBody, &m.MessageID, &m.CreatedAt, &m.Attempts, &m.LastAttemptAt, &m.LastError, &m.SentAt, &m.FailedAt)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// InsertOutboxMail adds a mail to the outbox inside tx, the caller's
// transaction, so the mail exists exactly when the caller's change does.
// A Message-ID already in the outbox gives ErrConflict.
func (s *Store) InsertOutboxMail(ctx context.Context, tx pgx.Tx, m NewOutboxMail) (*OutboxMail, error) {
	var html *string
	if m.HTMLBody != "" {
		html = &m.HTMLBody
	}
	row := tx.QueryRow(ctx, `INSERT INTO mail_outbox (recipient, recipient_name, language, template, subject, text_body, html_body, message_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+outboxColumns,
		m.Recipient, m.RecipientName, m.Language, m.Template, m.Subject, m.TextBody, html, m.MessageID)
	out, err := scanOutboxMail(row)
	return out, mapErr("insert outbox mail", err)
}

// OutboxMailByID returns one outbox row.
func (s *Store) OutboxMailByID(ctx context.Context, id int64) (*OutboxMail, error) {
	m, err := scanOutboxMail(s.pool.QueryRow(ctx, `SELECT `+outboxColumns+` FROM mail_outbox WHERE id = $1`, id))
	return m, mapErr("outbox mail", err)
}

// StartOutboxAttempt records that a delivery attempt of mail id begins and
// returns the row. A mail already sent or given up is returned unchanged
// (SentAt or FailedAt set) and must not be sent again. A missing row gives
// ErrNotFound.
func (s *Store) StartOutboxAttempt(ctx context.Context, id int64) (*OutboxMail, error) {
	m, err := scanOutboxMail(s.pool.QueryRow(ctx, `UPDATE mail_outbox
		SET attempts = attempts + 1, last_attempt_at = now()
		WHERE id = $1 AND sent_at IS NULL AND failed_at IS NULL
		RETURNING `+outboxColumns, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return s.OutboxMailByID(ctx, id)
	}
	return m, mapErr("start outbox attempt", err)
}

// MarkOutboxSent records that the server accepted mail id and erases its
// bodies, which may carry one-time links that must not outlive the
// delivery. It reports whether the row was still unsent.
func (s *Store) MarkOutboxSent(ctx context.Context, id int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE mail_outbox
		SET sent_at = now(), failed_at = NULL, text_body = '', html_body = NULL
		WHERE id = $1 AND sent_at IS NULL`, id)
	if err != nil {
		return false, mapErr("mark outbox sent", err)
	}
	return tag.RowsAffected() == 1, nil
}

// maxOutboxError bounds the stored error text.
const maxOutboxError = 2000

// RecordOutboxFailure keeps the error of a failed delivery attempt of mail
// id. With final, delivery is given up: the row gets FailedAt and its
// bodies are erased.
func (s *Store) RecordOutboxFailure(ctx context.Context, id int64, problem string, final bool) error {
	problem = strings.ToValidUTF8(strings.ReplaceAll(problem, "\x00", ""), "\uFFFD")
	if len(problem) > maxOutboxError {
		cut := maxOutboxError
		for cut > 0 && !utf8.RuneStart(problem[cut]) {
			cut--
		}
		problem = problem[:cut]
	}
	tag, err := s.pool.Exec(ctx, `UPDATE mail_outbox
		SET last_error = $2,
			failed_at = CASE WHEN $3 THEN now() END,
			text_body = CASE WHEN $3 THEN '' ELSE text_body END,
			html_body = CASE WHEN $3 THEN NULL ELSE html_body END
		WHERE id = $1 AND sent_at IS NULL`, id, problem, final)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return mapErr("record outbox failure", err)
}

// OutboxCounts is the number of outbox mails in each state.
type OutboxCounts struct {
	Pending, Sent, Failed int
}

// CountOutbox counts the outbox mails by state.
func (s *Store) CountOutbox(ctx context.Context) (OutboxCounts, error) {
	var c OutboxCounts
	err := s.pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL),
			count(*) FILTER (WHERE sent_at IS NOT NULL),
			count(*) FILTER (WHERE failed_at IS NOT NULL)
		FROM mail_outbox`).Scan(&c.Pending, &c.Sent, &c.Failed)
	return c, mapErr("count outbox", err)
}
