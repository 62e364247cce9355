package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

func TestOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	if err := store.MigrateURL(ctx, pool.Config().ConnString(), ganetimgr.Migrations()); err != nil {
		t.Fatal(err)
	}
	s := store.New(pool)
	newMail := func(msgID string) store.NewOutboxMail {
		return store.NewOutboxMail{Recipient: "ann@example.org", RecipientName: "Ann", Language: "el", Template: "verify_email",
			Subject: "Θέμα", TextBody: "body with https://example.org/verify/secret\n", MessageID: msgID}
	}
	insert := func(m store.NewOutboxMail) (*store.OutboxMail, error) {
		var out *store.OutboxMail
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			out, err = s.InsertOutboxMail(ctx, tx, m)
			return err
		})
		return out, err
	}

	// A mail inserted in a rolled-back transaction does not exist.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.InsertOutboxMail(ctx, tx, newMail("<gone@example.org>"))
	if err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx)
	if _, err := s.OutboxMailByID(ctx, gone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rolled-back mail: got %v, want ErrNotFound", err)
	}

	m, err := insert(newMail("<a1@example.org>"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Attempts != 0 || m.SentAt != nil || m.FailedAt != nil || m.HTMLBody != "" || m.Subject != "Θέμα" || m.CreatedAt.IsZero() {
		t.Errorf("new row: %+v", m)
	}
	if _, err := insert(newMail("<a1@example.org>")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate Message-ID: got %v, want ErrConflict", err)
	}
	for _, bad := range []store.NewOutboxMail{
		func() store.NewOutboxMail { b := newMail("no-brackets@example.org"); return b }(),
		func() store.NewOutboxMail { b := newMail("<b@example.org>"); b.Recipient = "nobody"; return b }(),
		func() store.NewOutboxMail { b := newMail("<c@example.org>"); b.Subject = ""; return b }(),
		func() store.NewOutboxMail { b := newMail("<d@example.org>"); b.Language = "Greek"; return b }(),
	} {
		if _, err := insert(bad); err == nil {
			t.Errorf("stored an invalid mail: %+v", bad)
		}
	}

	// A failed attempt keeps the body for the retry.
	a, err := s.StartOutboxAttempt(ctx, m.ID)
	if err != nil || a.Attempts != 1 || a.LastAttemptAt == nil {
		t.Fatalf("first attempt: %+v %v", a, err)
	}
	if err := s.RecordOutboxFailure(ctx, m.ID, "451 try later\x00 "+strings.Repeat("é", 2000), false); err != nil {
		t.Fatal(err)
	}
	a, err = s.StartOutboxAttempt(ctx, m.ID)
	if err != nil || a.Attempts != 2 || !strings.HasPrefix(a.LastError, "451 try later é") || len(a.LastError) > 2000 || a.TextBody == "" || a.FailedAt != nil {
		t.Fatalf("second attempt: %+v %v", a, err)
	}

	// Sent: marked once, body erased, never attempted again.
	if ok, err := s.MarkOutboxSent(ctx, m.ID); !ok || err != nil {
		t.Fatalf("mark sent: %v %v", ok, err)
	}
	if ok, err := s.MarkOutboxSent(ctx, m.ID); ok || err != nil {
		t.Errorf("second mark sent: %v %v", ok, err)
	}
	a, err = s.StartOutboxAttempt(ctx, m.ID)
	if err != nil || a.SentAt == nil || a.Attempts != 2 || a.TextBody != "" {
		t.Errorf("attempt on a sent mail: %+v %v", a, err)
	}
	if err := s.RecordOutboxFailure(ctx, m.ID, "late", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("failure recorded on a sent mail: %v", err)
	}

	// Given up: failed_at set, body erased, not attempted again.
	f, err := insert(newMail("<f1@example.org>"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartOutboxAttempt(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOutboxFailure(ctx, f.ID, "550 no such user", true); err != nil {
		t.Fatal(err)
	}
	if f, err = s.StartOutboxAttempt(ctx, f.ID); err != nil || f.FailedAt == nil || f.Attempts != 1 || f.TextBody != "" || f.LastError != "550 no such user" {
		t.Errorf("given-up mail: %+v %v", f, err)
	}

	if _, err := insert(newMail("<p1@example.org>")); err != nil {
		t.Fatal(err)
	}
	if c, err := s.CountOutbox(ctx); err != nil || c != (store.OutboxCounts{Pending: 1, Sent: 1, Failed: 1}) {
		t.Errorf("counts: %+v %v", c, err)
	}
	if _, err := s.StartOutboxAttempt(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing row: got %v, want ErrNotFound", err)
	}
	if _, err := s.MarkOutboxSent(ctx, 999999); err != nil {
		t.Errorf("mark sent of a missing row: %v", err)
	}
}
