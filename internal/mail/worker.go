package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// SendArgs is the river job that delivers one outbox mail.
type SendArgs struct {
	// OutboxID is the mail_outbox row to send.
	OutboxID int64 `json:"outbox_id"`
}

// Kind returns the job kind, "mail.send".
func (SendArgs) Kind() string { return "mail.send" }

// InsertOpts puts the job in the mail queue with DefaultMaxAttempts (the
// Outbox sets its own MaxAttempts when it inserts).
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: DefaultMaxAttempts}
}

// WorkerOptions configure a Worker; the zero value takes the defaults.
type WorkerOptions struct {
	// Logger receives a line per sent, failed and abandoned mail; nil
	// discards them.
	Logger *slog.Logger
	// Timeout bounds one delivery attempt; 0 means 2 minutes. A job of a
	// process that died is retried no sooner than this after it started.
	Timeout time.Duration
	// RetryBase is the delay after the first failed attempt, doubling with
	// each further one up to RetryMax; 0 means 30 seconds. Tests shorten it.
	RetryBase time.Duration
	// RetryMax caps the delay between attempts; 0 means 6 hours.
	RetryMax time.Duration
}

// Worker is the river worker that sends outbox mails (see the package
// documentation for its guarantees). Register it with river.AddWorker.
type Worker struct {
	river.WorkerDefaults[SendArgs]
	store  *store.Store
	sender Sender
	log    *slog.Logger
	opts   WorkerOptions
}

// NewWorker returns a worker that reads and updates the outbox through st
// and delivers through sender.
func NewWorker(st *store.Store, sender Sender, o WorkerOptions) *Worker {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 30 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 6 * time.Hour
	}
	o.RetryMax = max(o.RetryMax, o.RetryBase)
	return &Worker{store: st, sender: sender, log: o.Logger, opts: o}
}

// Timeout bounds one attempt (WorkerOptions.Timeout).
func (w *Worker) Timeout(*river.Job[SendArgs]) time.Duration { return w.opts.Timeout }

// NextRetry schedules the next attempt after job's failed one.
func (w *Worker) NextRetry(job *river.Job[SendArgs]) time.Time {
	return time.Now().Add(w.backoff(job.Attempt))
}

// backoff is the delay after failed attempt n (1-based): RetryBase doubled
// n-1 times, at most RetryMax, less up to 10% jitter so that mails failed
// together do not retry in lockstep.
func (w *Worker) backoff(n int) time.Duration {
	d := w.opts.RetryBase
	for i := 1; i < n && d < w.opts.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.opts.RetryMax)
	return d - time.Duration(rand.Int64N(int64(d)/10+1))
}

// Work sends the job's outbox mail unless it was sent already.
func (w *Worker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	id := job.Args.OutboxID
	m, err := w.store.StartOutboxAttempt(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// The row is inserted with the job, so it was deleted since.
		return river.JobCancel(fmt.Errorf("mail: outbox mail %d does not exist", id))
	}
	if err != nil {
		return err
	}
	if m.SentAt != nil || m.FailedAt != nil {
		w.log.DebugContext(ctx, "mail already handled", "outbox_id", id, "sent", m.SentAt != nil)
		return nil
	}

	sendErr := w.sender.Send(ctx, m)
	// Record the outcome even when ctx has just ended: the mail's fate is
	// known now and must not be lost with the attempt.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	attrs := []any{"outbox_id", id, "to", m.Recipient, "template", m.Template, "message_id", m.MessageID, "attempt", job.Attempt}
	if sendErr == nil {
		if err := w.markSent(dctx, id); err != nil {
			// The server has the mail; the retry this causes sends it again
			// under the same Message-ID (at least once).
			w.log.ErrorContext(ctx, "mail sent but not marked sent", append(attrs, "error", err)...)
			return err
		}
		w.log.InfoContext(ctx, "mail sent", attrs...)
		return nil
	}

	rejected := errors.Is(sendErr, ErrRejected)
	final := rejected || job.Attempt >= job.MaxAttempts
	if err := w.store.RecordOutboxFailure(dctx, id, sendErr.Error(), final); err != nil {
		return errors.Join(sendErr, err)
	}
	attrs = append(attrs, "error", sendErr.Error())
	switch {
	case rejected:
		w.log.ErrorContext(ctx, "mail refused by the server; not retried", attrs...)
		return river.JobCancel(sendErr)
	case final:
		w.log.ErrorContext(ctx, "mail not sent; giving up after the last attempt", attrs...)
	default:
		w.log.WarnContext(ctx, "mail not sent; will retry", attrs...)
	}
	return sendErr
}

// markSent marks the mail sent, retrying briefly: a failure here means a
// second delivery.
func (w *Worker) markSent(ctx context.Context, id int64) error {
	var err error
	for i := range 3 {
		if _, err = w.store.MarkOutboxSent(ctx, id); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(i+1) * 500 * time.Millisecond):
		}
	}
	return err
}
