package mail_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestSMTPConversation sends a mail through a real SMTP conversation with
// STARTTLS and authentication and checks what the server received.
func TestSMTPConversation(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{TLS: true, Username: "mailer", Password: "s3cret-pw"})
	e := newEnv(t, mail.Options{})
	sender, err := mail.NewSMTPSender(mail.SMTPOptions{Host: srv.Host(), Port: srv.Port(), TLS: "starttls",
		Username: "mailer", Password: "s3cret-pw", From: "Ganeti Manager <ganetimgr@example.org>",
		TLSConfig: srv.ClientTLSConfig(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.startWorker(workerConfig{sender: sender})

	id := e.enqueue(mail.Recipient{Address: "anna@example.org", Name: "Άννα Παπαδοπούλου", Lang: "el"},
		mail.VerifyEmail{Username: "anna", Path: "/accounts/verify/t0ken", Expiry: 48 * time.Hour})
	got := srv.WaitMessages(t, 1, 10*time.Second)[0]
	row := e.outboxRow(id)

	if got.From != "ganetimgr@example.org" || !slices.Equal(got.To, []string{"anna@example.org"}) {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	if got.Subject != "Επιβεβαίωση της διεύθυνσης email σας – Διαχείριση Ganeti" || got.Subject != row.Subject {
		t.Errorf("subject %q, row %q", got.Subject, row.Subject)
	}
	if got.MessageID != row.MessageID || !strings.HasSuffix(got.MessageID, ".ganetimgr@example.org>") {
		t.Errorf("Message-ID %q, row %q", got.MessageID, row.MessageID)
	}
	to, err := got.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Άννα Παπαδοπούλου" || to[0].Address != "anna@example.org" {
		t.Errorf("To header %v %v", to, err)
	}
	from, err := got.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Ganeti Manager" {
		t.Errorf("From header %v %v", from, err)
	}
	for h, want := range map[string]string{"Content-Language": "el", "Auto-Submitted": "auto-generated"} {
		if v := got.Header.Get(h); v != want {
			t.Errorf("%s: %q, want %q", h, v, want)
		}
	}
	if _, err := got.Header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	if !strings.Contains(got.Text, "Γεια σας Άννα Παπαδοπούλου,") || !strings.Contains(got.Text, "ισχύει για 2 ημέρες") {
		t.Errorf("decoded body:\n%s", got.Text)
	}
	if links := smtptest.Links(got.Text); len(links) == 0 || links[0] != baseURL+"/accounts/verify/t0ken" {
		t.Errorf("links %q", links)
	}

	// The row is marked sent and no longer holds the link.
	waitFor(t, 5*time.Second, "the row marked sent", func() bool { return e.outboxRow(id).SentAt != nil })
	row = e.outboxRow(id)
	if row.Attempts != 1 || row.TextBody != "" || row.LastError != "" || row.FailedAt != nil {
		t.Errorf("sent row: %+v", row)
	}
	waitFor(t, 5*time.Second, "the job completed", func() bool { return e.jobState(id) == "completed" })
}

// TestEnqueueInRolledBackTransactionSendsNothing: the mail is part of the
// caller's transaction.
func TestEnqueueInRolledBackTransactionSendsNothing(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	e := newEnv(t, mail.Options{})
	e.startWorker(workerConfig{sender: smtpSender(t, srv)})
	ctx := context.Background()

	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.outbox.EnqueueTx(ctx, tx, mail.Recipient{Address: "gone@example.org"}, mail.AccountApproved{Username: "gone", Path: "/login"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var kept int64
	err = pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		kept, err = e.outbox.EnqueueTx(ctx, tx, mail.Recipient{Address: "kept@example.org"}, mail.AccountApproved{Username: "kept", Path: "/login"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.WaitMessages(t, 1, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // time for a wrong second mail to arrive
	if msgs = srv.Messages(); len(msgs) != 1 || msgs[0].To[0] != "kept@example.org" {
		t.Fatalf("received %d mails: %+v", len(msgs), msgs)
	}
	c, err := e.store.CountOutbox(ctx)
	if err != nil || c.Pending+c.Sent+c.Failed != 1 {
		t.Errorf("outbox holds %+v, %v; want only the committed mail", c, err)
	}
	var jobs int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&jobs); err != nil || jobs != 1 {
		t.Errorf("%d jobs, %v; want 1", jobs, err)
	}
	waitFor(t, 5*time.Second, "the row marked sent", func() bool { return e.outboxRow(kept).SentAt != nil })
}

// TestSMTPDownThenUp: mails enqueued while the server is down are retried
// and, once it is back, each is delivered exactly once.
func TestSMTPDownThenUp(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	srv.Stop()
	e := newEnv(t, mail.Options{})
	e.startWorker(workerConfig{sender: smtpSender(t, srv)})

	const n = 6
	var ids []int64
	for i := range n {
		ids = append(ids, e.enqueue(mail.Recipient{Address: fmt.Sprintf("user%d@example.org", i), Lang: []string{"en", "el"}[i%2]},
			mail.PasswordReset{Username: fmt.Sprintf("user%d", i), Path: fmt.Sprintf("/reset/%d", i), Expiry: time.Hour}))
	}
	// Every mail fails a few times: connection refused.
	waitFor(t, 10*time.Second, "failed attempts", func() bool {
		for _, id := range ids {
			if r := e.outboxRow(id); r.Attempts < 3 || r.SentAt != nil {
				return false
			}
		}
		return true
	})
	if r := e.outboxRow(ids[0]); !strings.Contains(r.LastError, "connection refused") || r.FailedAt != nil {
		t.Errorf("row while the server is down: last error %q, failed at %v", r.LastError, r.FailedAt)
	}

	srv.Restart(t)
	msgs := srv.WaitMessages(t, n, 10*time.Second)
	waitFor(t, 5*time.Second, "all rows marked sent", func() bool {
		for _, id := range ids {
			if e.outboxRow(id).SentAt == nil {
				return false
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond) // time for a duplicate to arrive
	msgs = srv.Messages()
	if len(msgs) != n {
		t.Fatalf("received %d mails, want %d", len(msgs), n)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.To[0]+" "+m.MessageID] = true
	}
	for _, id := range ids {
		r := e.outboxRow(id)
		if !seen[r.Recipient+" "+r.MessageID] {
			t.Errorf("mail %d (%s) not received once with its Message-ID", id, r.Recipient)
		}
		if e.jobState(id) != "completed" {
			t.Errorf("job of mail %d: %s", id, e.jobState(id))
		}
	}
}

// TestTemporaryRefusalKeepsMessageID: a 4xx after the message is retried
// under the same Message-ID.
func TestTemporaryRefusalKeepsMessageID(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	srv.SetFault(smtptest.TempFailData)
	e := newEnv(t, mail.Options{})
	e.startWorker(workerConfig{sender: smtpSender(t, srv)})

	id := e.enqueue(mail.Recipient{Address: "ann@example.org"}, mail.PasswordChanged{Username: "ann", Path: "/accounts/reset"})
	waitFor(t, 10*time.Second, "two refusals", func() bool { return len(srv.Refused()) >= 2 })
	srv.SetFault(smtptest.NoFault)
	got := srv.WaitMessages(t, 1, 10*time.Second)[0]
	for _, r := range srv.Refused() {
		if r.MessageID != got.MessageID {
			t.Errorf("a retry changed the Message-ID: %q then %q", r.MessageID, got.MessageID)
		}
	}
	waitFor(t, 5*time.Second, "the row marked sent", func() bool { return e.outboxRow(id).SentAt != nil })
	if r := e.outboxRow(id); r.Attempts < 3 || !strings.Contains(r.LastError, "451") {
		t.Errorf("row: %d attempts, last error %q", r.Attempts, r.LastError)
	}
}

// TestPermanentRefusalIsNotRetried: a 5xx to the recipient gives up at once.
func TestPermanentRefusalIsNotRetried(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	srv.SetFault(smtptest.RejectRcpt)
	e := newEnv(t, mail.Options{})
	e.startWorker(workerConfig{sender: smtpSender(t, srv)})

	id := e.enqueue(mail.Recipient{Address: "nobody@example.org"}, mail.AccountApproved{Username: "x", Path: "/login"})
	waitFor(t, 10*time.Second, "the job cancelled", func() bool { return e.jobState(id) == "cancelled" })
	r := e.outboxRow(id)
	if r.FailedAt == nil || r.SentAt != nil || r.Attempts != 1 || !strings.Contains(r.LastError, "550") || r.TextBody != "" {
		t.Errorf("row after a permanent refusal: %+v", r)
	}
}

// TestLastAttemptGivesUp: attempts are bounded.
func TestLastAttemptGivesUp(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	srv.SetFault(smtptest.TempFailRcpt)
	e := newEnv(t, mail.Options{MaxAttempts: 3})
	e.startWorker(workerConfig{sender: smtpSender(t, srv)})

	id := e.enqueue(mail.Recipient{Address: "busy@example.org"}, mail.AccountApproved{Username: "x", Path: "/login"})
	waitFor(t, 10*time.Second, "the job discarded", func() bool { return e.jobState(id) == "discarded" })
	r := e.outboxRow(id)
	if r.FailedAt == nil || r.Attempts != 3 || !strings.Contains(r.LastError, "451") {
		t.Errorf("row after the last attempt: %+v", r)
	}
	if len(srv.Messages()) != 0 {
		t.Error("a mail was delivered")
	}
}

// TestSentMailIsNotSentAgain: a second job for a sent row does nothing.
func TestSentMailIsNotSentAgain(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	e := newEnv(t, mail.Options{})
	client := e.startWorker(workerConfig{sender: smtpSender(t, srv)})

	id := e.enqueue(mail.Recipient{Address: "ann@example.org"}, mail.AccountApproved{Username: "ann", Path: "/login"})
	srv.WaitMessages(t, 1, 10*time.Second)
	waitFor(t, 5*time.Second, "the row marked sent", func() bool { return e.outboxRow(id).SentAt != nil })

	res, err := client.Insert(context.Background(), mail.SendArgs{OutboxID: id}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the second job done", func() bool {
		j, err := client.JobGet(context.Background(), res.Job.ID)
		return err == nil && j.State == "completed"
	})
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d mails delivered, want 1", n)
	}
	if r := e.outboxRow(id); r.Attempts != 1 {
		t.Errorf("attempts %d, want 1", r.Attempts)
	}
}

// TestWorkerKilledMidSend: a process dies while the SMTP server holds its
// message (the server never accepted it). Its job stays "running"; another
// process rescues it and delivers the mail. Nothing is lost, nothing is
// delivered twice.
func TestWorkerKilledMidSend(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	srv.SetFault(smtptest.StallData)
	e := newEnv(t, mail.Options{})
	ctx := context.Background()

	// The doomed process has a pool of its own, which the "kill" cuts off
	// from the database: its connections are terminated and no new one
	// can be made, so it can record nothing more. It takes no part in
	// leader election, like any replica that is not the leader.
	killed := make(chan struct{})
	isKilled := func() bool {
		select {
		case <-killed:
			return true
		default:
			return false
		}
	}
	doomedPool := newPool(t, e.dbURL, func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["application_name"] = "doomed-worker"
		c.BeforeConnect = func(context.Context, *pgx.ConnConfig) error {
			if isKilled() {
				return fmt.Errorf("process killed")
			}
			return nil
		}
		c.PrepareConn = func(context.Context, *pgx.Conn) (bool, error) {
			if isKilled() {
				return false, fmt.Errorf("process killed")
			}
			return true, nil
		}
	})
	doomed := e.startWorker(workerConfig{pool: doomedPool, sender: smtpSender(t, srv), noLeader: true})

	id := e.enqueue(mail.Recipient{Address: "ann@example.org"}, mail.PasswordReset{Username: "ann", Path: "/reset/x", Expiry: time.Hour})
	srv.WaitStalled(t, 10*time.Second)
	stalledAt := time.Now()

	// Kill: database first, then the SMTP connection goes down with the
	// process (the server never answered DATA, so nothing was delivered).
	close(killed)
	if _, err := e.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'doomed-worker' AND datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	stopCtx, cancel := context.WithTimeout(ctx, time.Second)
	_ = doomed.StopAndCancel(stopCtx)
	cancel()

	if st := e.jobState(id); st != "running" {
		t.Fatalf("job of the killed process is %q, want running", st)
	}
	if r := e.outboxRow(id); r.SentAt != nil || r.Attempts != 1 {
		t.Fatalf("row after the kill: %+v", r)
	}
	if len(srv.Messages()) != 0 || len(srv.Refused()) != 1 {
		t.Fatalf("server: %d accepted, %d refused; want 0 and 1", len(srv.Messages()), len(srv.Refused()))
	}

	// A new process starts once the job counts as stuck (its attempt ran
	// longer than the worker timeout and RescueStuckJobsAfter).
	srv.SetFault(smtptest.NoFault)
	srv.Restart(t)
	time.Sleep(time.Until(stalledAt.Add(2200 * time.Millisecond)))
	e.startWorker(workerConfig{sender: smtpSender(t, srv), timeout: time.Second, rescueAfter: 2 * time.Second})

	got := srv.WaitMessages(t, 1, 20*time.Second)[0]
	waitFor(t, 5*time.Second, "the row marked sent", func() bool { return e.outboxRow(id).SentAt != nil })
	r := e.outboxRow(id)
	if got.MessageID != r.MessageID || got.MessageID != srv.Refused()[0].MessageID || r.Attempts != 2 {
		t.Errorf("delivered %q; row %+v; stalled attempt %q", got.MessageID, r, srv.Refused()[0].MessageID)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d mails delivered, want 1", n)
	}
}

// TestLogModeWritesTheMailToTheLog: development mode sends nothing and
// logs the mail, never the SMTP password.
func TestLogModeWritesTheMailToTheLog(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	e := newEnv(t, mail.Options{})
	cfg := config.Mail{Mode: config.MailModeLog, From: "ganetimgr@example.org",
		SMTP: config.SMTP{Host: srv.Host(), Port: srv.Port(), Username: "mailer", Password: "pw-never-logged", TLS: "none"}}
	sender, err := mail.NewSender(cfg, e.log)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sender.(*mail.LogSender); !ok {
		t.Fatalf("log mode gave a %T", sender)
	}
	e.startWorker(workerConfig{sender: sender})

	id := e.enqueue(mail.Recipient{Address: "ann@example.org", Lang: "el"}, mail.PasswordReset{Username: "ann", Path: "/reset/l0g", Expiry: time.Hour})
	waitFor(t, 10*time.Second, "the row marked sent", func() bool { return e.outboxRow(id).SentAt != nil })
	logs := e.logs.String()
	for _, want := range []string{"GANETIMGR_MAIL_MODE=log", "to=ann@example.org", baseURL + "/reset/l0g", "Επαναφορά κωδικού πρόσβασης"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(logs, "pw-never-logged") {
		t.Error("the SMTP password is in the log")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d mails sent in log mode", n)
	}
}

// TestSMTPPasswordNeverLogged: failing authentication is retried and
// recorded without the password.
func TestSMTPPasswordNeverLogged(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{TLS: true, Username: "mailer", Password: "right"})
	e := newEnv(t, mail.Options{})
	cfg := config.Mail{Mode: config.MailModeSMTP, From: "ganetimgr@example.org",
		SMTP: config.SMTP{Host: srv.Host(), Port: srv.Port(), Username: "mailer", Password: "wrong-pw-secret", TLS: "starttls"}}
	if _, err := mail.NewSender(cfg, e.log); err != nil {
		t.Fatal(err)
	}
	// NewSender has no TLS override, so the test builds the same sender
	// with the server's certificate trusted.
	sender, err := mail.NewSMTPSender(mail.SMTPOptions{Host: srv.Host(), Port: srv.Port(), Username: "mailer",
		Password: "wrong-pw-secret", TLS: "starttls", From: cfg.From, TLSConfig: srv.ClientTLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprint(sender), "wrong-pw-secret") || strings.Contains(fmt.Sprintf("%+v", sender), "wrong-pw-secret") {
		t.Error("the sender prints its password")
	}
	e.startWorker(workerConfig{sender: sender})
	id := e.enqueue(mail.Recipient{Address: "ann@example.org"}, mail.AccountApproved{Username: "ann", Path: "/login"})
	waitFor(t, 10*time.Second, "failed attempts", func() bool { return e.outboxRow(id).Attempts >= 2 })
	r := e.outboxRow(id)
	if !strings.Contains(r.LastError, "535") || r.FailedAt != nil {
		t.Errorf("row after failed authentication: %+v", r)
	}
	if strings.Contains(r.LastError, "wrong-pw-secret") || strings.Contains(e.logs.String(), "wrong-pw-secret") {
		t.Error("the SMTP password was recorded or logged")
	}
	var errs string
	if err := e.pool.QueryRow(context.Background(), `SELECT errors::text FROM river_job`).Scan(&errs); err != nil || strings.Contains(errs, "wrong-pw-secret") {
		t.Errorf("river's job errors hold the password (or %v)", err)
	}
}

// TestAdminNotifications go to every configured administrator, in the
// default language.
func TestAdminNotifications(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	e := newEnv(t, mail.Options{Admins: []string{"root@example.org", "Ops <ops@example.org>"}})
	e.startWorker(workerConfig{sender: smtpSender(t, srv)})
	ctx := context.Background()
	var ids []int64
	err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		var err error
		ids, err = e.outbox.EnqueueAdminsTx(ctx, tx, mail.ApprovalRequest{Username: "ann", Email: "ann@example.org", Path: "/admin/users/1"})
		return err
	})
	if err != nil || len(ids) != 2 {
		t.Fatalf("EnqueueAdminsTx: %v %v", ids, err)
	}
	msgs := srv.WaitMessages(t, 2, 10*time.Second)
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
		if !strings.HasPrefix(m.Subject, "Account awaiting approval: ann") {
			t.Errorf("subject %q", m.Subject)
		}
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"ops@example.org", "root@example.org"}) {
		t.Errorf("sent to %v", to)
	}

	none := newEnv(t, mail.Options{})
	err = pgx.BeginFunc(ctx, none.pool, func(tx pgx.Tx) error {
		ids, err = none.outbox.EnqueueAdminsTx(ctx, tx, mail.ApprovalRequest{Username: "ann", Email: "ann@example.org", Path: "/admin/users/1"})
		return err
	})
	if err != nil || len(ids) != 0 {
		t.Errorf("without administrators: %v %v", ids, err)
	}
}

// TestEnqueueRefusesBadInput: nothing is stored for a bad address or a
// mail that does not render.
func TestEnqueueRefusesBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Options{})
	for _, c := range []struct {
		to mail.Recipient
		m  mail.Mail
	}{
		{mail.Recipient{Address: "Ann <ann@example.org>"}, mail.AccountApproved{Path: "/login"}},
		{mail.Recipient{Address: "not an address"}, mail.AccountApproved{Path: "/login"}},
		{mail.Recipient{Address: "ann@example.org"}, mail.AccountApproved{Path: "http://evil.example.org/"}},
	} {
		if _, err := e.outbox.Enqueue(context.Background(), c.to, c.m); err == nil {
			t.Errorf("enqueued %+v %+v", c.to, c.m)
		}
	}
	if c, _ := e.store.CountOutbox(context.Background()); c != (store.OutboxCounts{}) {
		t.Errorf("outbox: %+v", c)
	}
}

// TestRestartWhileSMTPDown: mails that failed while the server was down
// survive the worker process stopping; the next process delivers each once.
func TestRestartWhileSMTPDown(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	srv.Stop()
	e := newEnv(t, mail.Options{})
	first := e.startWorker(workerConfig{sender: smtpSender(t, srv)})

	ids := []int64{
		e.enqueue(mail.Recipient{Address: "a@example.org"}, mail.AccountApproved{Username: "a", Path: "/login"}),
		e.enqueue(mail.Recipient{Address: "b@example.org"}, mail.AccountApproved{Username: "b", Path: "/login"}),
	}
	waitFor(t, 10*time.Second, "failed attempts", func() bool {
		return e.outboxRow(ids[0]).Attempts >= 2 && e.outboxRow(ids[1]).Attempts >= 2
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	srv.Restart(t)
	e.startWorker(workerConfig{sender: smtpSender(t, srv)})
	srv.WaitMessages(t, 2, 10*time.Second)
	waitFor(t, 5*time.Second, "both rows marked sent", func() bool {
		return e.outboxRow(ids[0]).SentAt != nil && e.outboxRow(ids[1]).SentAt != nil
	})
	time.Sleep(300 * time.Millisecond)
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("%d mails delivered, want 2", n)
	}
}

// TestSMTPSenderHTMLAlternative: a row with an HTML body goes out as
// multipart/alternative; the server decodes both parts.
func TestSMTPSenderHTMLAlternative(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	m := &store.OutboxMail{ID: 1, Recipient: "ann@example.org", Language: "el", Template: "x",
		Subject: "Δοκιμή", TextBody: "Γεια σας\nhttps://ganeti.example.org/a?b=c&d=e\n",
		HTMLBody:  `<p>Γεια σας <a href="https://ganeti.example.org/a">σύνδεσμος</a></p>`,
		MessageID: "<abc.ganetimgr@example.org>", CreatedAt: time.Now()}
	if err := smtpSender(t, srv).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitMessages(t, 1, 5*time.Second)[0]
	if got.Text != m.TextBody || got.HTML != m.HTMLBody || got.Subject != "Δοκιμή" || got.MessageID != m.MessageID {
		t.Errorf("received text %q, html %q, subject %q, id %q", got.Text, got.HTML, got.Subject, got.MessageID)
	}
	if links := smtptest.Links(got.Text); len(links) != 1 || links[0] != "https://ganeti.example.org/a?b=c&d=e" {
		t.Errorf("links %q", links)
	}
}

// TestSMTPImplicitTLS: GANETIMGR_SMTP_TLS=tls speaks TLS from the start.
func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{ImplicitTLS: true, Username: "u", Password: "p"})
	sender, err := mail.NewSMTPSender(mail.SMTPOptions{Host: srv.Host(), Port: srv.Port(), TLS: "tls",
		Username: "u", Password: "p", From: "ganetimgr@example.org", TLSConfig: srv.ClientTLSConfig(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m := &store.OutboxMail{ID: 1, Recipient: "ann@example.org", Language: "en", Template: "x", Subject: "Hi",
		TextBody: "Hello\n", MessageID: "<tls.ganetimgr@example.org>", CreatedAt: time.Now()}
	if err := sender.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := srv.WaitMessages(t, 1, 5*time.Second)[0]; got.Text != "Hello\n" || got.MessageID != m.MessageID {
		t.Errorf("received %+v", got)
	}

	// A sender that does not trust the certificate never talks.
	untrusting, err := mail.NewSMTPSender(mail.SMTPOptions{Host: srv.Host(), Port: srv.Port(), TLS: "tls",
		Username: "u", Password: "p", From: "ganetimgr@example.org", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := untrusting.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("send with an untrusted certificate: %v", err)
	}
}
