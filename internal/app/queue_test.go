package app_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestServeSendsQueuedMail: a serving ganetimgr runs the mail worker with
// the configured SMTP server. A mail enqueued while no process serves waits
// in the outbox and goes out when serving starts; one enqueued while it
// serves goes out at once; shutdown stops the worker cleanly.
func TestServeSendsQueuedMail(t *testing.T) {
	smtp := smtptest.Start(t, smtptest.Options{})
	dbURL, web := pgtest.NewDB(t), freeAddr(t)
	env := map[string]string{
		"DATABASE_URL":         dbURL,
		"GANETIMGR_SECRET_KEY": strings.Repeat("m", 40),
		"GANETIMGR_LISTEN":     web,
		"GANETIMGR_BASE_URL":   "https://ganeti.example.org",
		"GANETIMGR_SMTP_HOST":  smtp.Host(),
		"GANETIMGR_SMTP_PORT":  strconv.Itoa(smtp.Port()),
		"GANETIMGR_SMTP_TLS":   "none",
		"GANETIMGR_MAIL_FROM":  "Ganeti <noreply@example.org>",
		"GANETIMGR_LOG_FORMAT": "json",
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mail.Mode != config.MailModeSMTP {
		t.Fatalf("mail mode %q", cfg.Mail.Mode)
	}

	// Another process's outbox, on the same database.
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	bundle, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	outbox, err := mail.NewOutbox(store.New(pool), inserter, bundle, mail.Options{BaseURL: cfg.BaseURL, From: cfg.Mail.From})
	if err != nil {
		t.Fatal(err)
	}
	enqueue := func(user string) {
		t.Helper()
		if _, err := outbox.Enqueue(ctx, mail.Recipient{Address: user + "@example.org"}, mail.AccountApproved{Username: user, Path: "/login"}); err != nil {
			t.Fatal(err)
		}
	}
	enqueue("early")

	logs, stop := serveUntilReady(t, ctx, cfg, web)
	smtp.WaitMessages(t, 1, 15*time.Second)
	enqueue("late")
	msgs := smtp.WaitMessages(t, 2, 15*time.Second)
	for i, want := range []string{"early@example.org", "late@example.org"} {
		m := msgs[i]
		if m.To[0] != want || m.From != "noreply@example.org" || !strings.Contains(m.Text, "https://ganeti.example.org/login") {
			t.Errorf("mail %d: to %v from %q:\n%s", i, m.To, m.From, m.Text)
		}
	}

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
	}
	if l := logs.String(); !strings.Contains(l, `"msg":"mail sent"`) || strings.Contains(l, `"level":"ERROR"`) {
		t.Errorf("logs:\n%s", l)
	}
}
