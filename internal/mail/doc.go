// Package mail sends ganetimgr's mails through a durable outbox.
//
// # The outbox
//
// A mail is enqueued with Outbox.EnqueueTx inside the caller's own
// transaction: the mail is rendered there (translated into the recipient's
// language, every link built from the configured public base URL), stored
// as a row of the mail_outbox table, and a river job (SendArgs, queue
// "mail") is inserted with river's InsertTx in the same transaction. So the
// mail exists exactly when the change it reports does: a rolled-back
// registration sends nothing, a committed one cannot lose its mail.
// Outbox.Enqueue is the same in a transaction of its own.
//
// The tables: mail_outbox comes from ganetimgr's migration 00006_mail.sql;
// river's own tables (river_job, river_leader, ...) from river's migrations,
// which the store's Migrator applies with rivermigrate together with
// ganetimgr's (`ganetimgr migrate`, serve with GANETIMGR_AUTO_MIGRATE) and
// reports together (`migrate status`, /readyz).
//
// # Delivery
//
// The Worker is the river worker of SendArgs. For each job it records the
// attempt in the outbox row (attempts, last_attempt_at), hands the stored
// mail to a Sender, and marks the row sent (sent_at), which also erases the
// stored bodies: they may carry one-time links. A row already sent is not
// sent again, so a job that runs twice is harmless. NewQueueClient builds
// the river client that runs the Worker on the mail queue (and inserts the
// jobs an Outbox enqueues).
//
// A failed attempt keeps its error in last_error and is retried with
// exponential backoff (WorkerOptions.RetryBase doubling up to RetryMax, with
// jitter: by default 30 s, 1 min, 2 min, ... capped at 6 h). A mail is tried
// at most DefaultMaxAttempts (20) times, about two and a half days with the
// default backoff; after the last failure the row gets failed_at and river
// discards the job. A recipient or message the server refuses for good (an
// SMTP 5xx reply to RCPT TO or DATA, ErrRejected) is given up at once: the
// row gets failed_at and the job is cancelled. Everything else (connection
// refused, timeouts, 4xx replies, failed authentication) is temporary, so
// an SMTP server that is down only delays mail.
//
// # Delivery semantics: at least once
//
// Durability comes from PostgreSQL: the job is a row until the worker
// finishes it, and a process that dies mid-send leaves the job "running"
// with no one working it. River's rescuer (run by the elected leader among
// the processes) makes such a job available again once it has been running
// longer than the worker's timeout (WorkerOptions.Timeout, 2 min by
// default) and the client's RescueStuckJobsAfter, and another worker sends
// the mail. Nothing is lost.
//
// The price is that a mail can be delivered twice: when the process dies
// after the SMTP server accepted the message but before sent_at was
// committed, the next attempt sends it again. Every outbox row has a fixed
// Message-ID header, generated when it is enqueued and reused by every
// attempt, so such a duplicate is recognisable as the same message (and
// many mail stores drop it). Exactly-once delivery over SMTP is not
// possible; at-least-once with a stable Message-ID is the honest promise.
//
// # Senders
//
// SMTPSender delivers through an SMTP server with go-mail (STARTTLS,
// implicit TLS or plain, optional authentication). LogSender is the
// development mode (GANETIMGR_MAIL_MODE=log): it writes each mail, links
// included, to the log and sends nothing; the outbox and the job work the
// same way. No sender ever logs the SMTP password.
package mail
