package web_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
)

// adminAddress receives the administrator notifications of a harness with
// mail.
const adminAddress = "admins@example.org"

// withMail sends the site's mail, as a serving ganetimgr does, through the
// outbox, the durable queue and SMTP to srv (see startMail).
func withMail(srv *smtptest.Server) harnessOption {
	return func(c *config.Config) {
		c.Mail = config.Mail{Mode: config.MailModeSMTP, From: "Ganeti Manager <ganetimgr@example.org>",
			AdminEmails: []string{adminAddress},
			SMTP:        config.SMTP{Host: srv.Host(), Port: srv.Port(), TLS: "none"}}
	}
}

// newMailHarness is newHarness with a test SMTP server receiving the
// site's mail.
func newMailHarness(t *testing.T, opts ...harnessOption) (*harness, *smtptest.Server) {
	t.Helper()
	srv := smtptest.Start(t, smtptest.Options{})
	return newHarness(t, append(opts, withMail(srv))...), srv
}

// startMail starts the mail queue on the harness's database (a pool of its
// own, as serve has) with the configured SMTP sender, and returns the
// outbox the site enqueues with. Everything stops when the test ends.
func (h *harness) startMail(pool *pgxpool.Pool, cfg *config.Config, bundle *i18n.Bundle) *mail.Outbox {
	h.t.Helper()
	ctx := context.Background()
	pcfg := pool.Config()
	pcfg.MaxConns = 3
	qpool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(qpool.Close)
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sender, err := mail.NewSender(cfg.Mail, log)
	if err != nil {
		h.t.Fatal(err)
	}
	client, err := mail.NewQueueClient(qpool, sender, mail.QueueOptions{Logger: log, FetchPollInterval: 100 * time.Millisecond,
		Worker: mail.WorkerOptions{RetryBase: 100 * time.Millisecond, RetryMax: time.Second}})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(sctx)
	})
	outbox, err := mail.NewOutbox(h.store, client, bundle, mail.Options{BaseURL: cfg.BaseURL, From: cfg.Mail.From,
		Admins: cfg.Mail.AdminEmails})
	if err != nil {
		h.t.Fatal(err)
	}
	return outbox
}

// mailbox reads the messages a harness's SMTP server received, in order.
type mailbox struct {
	t    *testing.T
	srv  *smtptest.Server
	seen int
}

func newMailbox(t *testing.T, srv *smtptest.Server) *mailbox { return &mailbox{t: t, srv: srv} }

// next waits for the next n messages and returns them.
func (m *mailbox) next(n int) []smtptest.Message {
	m.t.Helper()
	all := m.srv.WaitMessages(m.t, m.seen+n, 30*time.Second)
	out := all[m.seen : m.seen+n]
	m.seen += n
	return out
}

// one waits for the next message, which must go to addr, and returns it.
func (m *mailbox) one(addr string) smtptest.Message {
	m.t.Helper()
	msg := m.next(1)[0]
	if len(msg.To) != 1 || !strings.EqualFold(msg.To[0], addr) {
		m.t.Fatalf("mail %q went to %v, want %s", msg.Subject, msg.To, addr)
	}
	return msg
}

// none checks that no further message arrives within a while (the queue
// polls every 100 ms, so a second is plenty).
func (m *mailbox) none() {
	m.t.Helper()
	time.Sleep(time.Second)
	if all := m.srv.Messages(); len(all) > m.seen {
		m.t.Fatalf("unexpected mail: %q to %v", all[m.seen].Subject, all[m.seen].To)
	}
}

// link returns the path (with the base URL's host checked) of the only
// link in the message that starts with prefix.
func (h *harness) link(msg smtptest.Message, prefix string) string {
	h.t.Helper()
	var found []string
	for _, l := range smtptest.Links(msg.Text) {
		u, err := url.Parse(l)
		if err != nil {
			h.t.Fatalf("bad link %q in mail %q", l, msg.Subject)
		}
		if u.Scheme+"://"+u.Host != h.baseURL {
			h.t.Fatalf("link %q in mail %q is not on the site %s", l, msg.Subject, h.baseURL)
		}
		if strings.HasPrefix(u.Path, prefix) {
			found = append(found, u.Path)
		}
	}
	if len(found) != 1 {
		h.t.Fatalf("mail %q has %d links under %s, want 1:\n%s", msg.Subject, len(found), prefix, msg.Text)
	}
	return found[0]
}

// tokenOf returns the token at the end of a link's path.
func tokenOf(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

var fieldErrorRE = regexp.MustCompile(`<span class="error" id="([a-z_0-9]+)-error">([^<]*)</span>`)

// fieldErrors returns a form page's field errors by field name.
func fieldErrors(body string) map[string]string {
	out := map[string]string{}
	for _, m := range fieldErrorRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// mailFingerprint is dbFingerprint for a harness with mail: it waits until
// every queued mail is sent (the worker marks the outbox row sent just
// after the SMTP server took the mail) and leaves out river's own tables,
// whose bookkeeping (job completion, leader election) changes on its own.
// A new mail still shows, as a new outbox row.
func mailFingerprint(t *testing.T, h *harness) string {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var pending int
		if err := h.store.Pool().QueryRow(ctx, `SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails still unsent", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rows, err := h.store.Pool().Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'
		AND tablename <> 'sessions' AND tablename NOT LIKE 'river%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.New()
	for _, tbl := range tables {
		var s string
		q := fmt.Sprintf(`SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t`, pgx.Identifier{tbl}.Sanitize())
		if err := h.store.Pool().QueryRow(ctx, q).Scan(&s); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(sum, "%s=%s;", tbl, s)
	}
	return hex.EncodeToString(sum.Sum(nil))
}
