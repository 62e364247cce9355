package mail

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// QueueOptions configure NewQueueClient; the zero value takes the defaults.
type QueueOptions struct {
	// Logger receives the queue's logs (tagged component=queue) and the
	// worker's; nil discards them.
	Logger *slog.Logger
	// MaxWorkers bounds how many mails are sent at once; 0 means 4.
	MaxWorkers int
	// RescueStuckJobsAfter is how long after it started a job left running
	// by a process that died is retried; 0 means river's default. It must
	// exceed Worker.Timeout.
	RescueStuckJobsAfter time.Duration
	// FetchPollInterval is how often the queue looks for jobs besides
	// being notified of new ones; 0 means river's default. Tests shorten it.
	FetchPollInterval time.Duration
	// Worker configures the mail worker; its Logger defaults to Logger.
	Worker WorkerOptions
	// Extra, when set, adds the process's other workers and their queues
	// (the serving process adds the application submission worker), so
	// that one client works every queue.
	Extra func(workers *river.Workers, queues map[string]river.QueueConfig) error
}

// NewQueueClient returns a river client on pool that works the mail queue:
// a Worker reading the outbox through pool and delivering through sender.
// Nothing runs before the client's Start; stop it with Stop before closing
// pool. The same client inserts jobs, so it can back an Outbox.
func NewQueueClient(pool *pgxpool.Pool, sender Sender, o QueueOptions) (*river.Client[pgx.Tx], error) {
	if pool == nil || sender == nil {
		return nil, fmt.Errorf("mail: NewQueueClient needs a pool and a sender")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Worker.Logger == nil {
		o.Worker.Logger = o.Logger
	}
	if o.MaxWorkers <= 0 {
		o.MaxWorkers = 4
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, NewWorker(store.New(pool), sender, o.Worker)); err != nil {
		return nil, fmt.Errorf("mail: job queue: %w", err)
	}
	queues := map[string]river.QueueConfig{Queue: {MaxWorkers: o.MaxWorkers}}
	if o.Extra != nil {
		if err := o.Extra(workers, queues); err != nil {
			return nil, fmt.Errorf("mail: job queue: %w", err)
		}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:               queues,
		Workers:              workers,
		RescueStuckJobsAfter: o.RescueStuckJobsAfter,
		FetchPollInterval:    o.FetchPollInterval,
		Logger:               o.Logger.With("component", "queue"),
	})
	if err != nil {
		return nil, fmt.Errorf("mail: job queue: %w", err)
	}
	return client, nil
}
