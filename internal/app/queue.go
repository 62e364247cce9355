package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// queueMaxConns bounds the connections of the job queue's own pool: river's
// listener holds one for good, and fetching, completing and the workers'
// short queries share the rest, apart from the web requests' pool.
const queueMaxConns = 6

// queueRescueAfter is river's RescueStuckJobsAfter: a job left running by
// a process that died is retried this long after it started. It must
// exceed the longest worker timeout (the mail worker's is 2 minutes, the
// application submission worker's 5).
const queueRescueAfter = 10 * time.Minute

// jobQueue is the durable background job queue (river on PostgreSQL) of a
// serving process, with its workers: the mail worker and the worker that
// creates the VMs of approved applications.
type jobQueue struct {
	client *river.Client[pgx.Tx]
	pool   *pgxpool.Pool
	log    *slog.Logger
	// outbox enqueues mails for the queue's mail worker.
	outbox *mail.Outbox
	// submit creates approved applications' VMs once bound to the
	// application service (see applications).
	submit *applications.SubmitWorker
	// follow follows instance actions' Ganeti jobs once bound to the
	// instance action service (see instanceOps).
	follow *instanceops.FollowWorker
}

// newJobQueue prepares the queue on the database behind db (a pool of its
// own, with the same settings) and the mail outbox that feeds it. Nothing
// runs before start.
func newJobQueue(ctx context.Context, cfg *config.Config, db *pgxpool.Pool, st *store.Store, bundle *i18n.Bundle, log *slog.Logger) (q *jobQueue, err error) {
	pcfg := db.Config()
	pcfg.MaxConns = queueMaxConns
	pcfg.MinConns = 0
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("app: job queue pool: %w", err)
	}
	defer func() {
		if err != nil {
			pool.Close()
		}
	}()
	sender, err := mail.NewSender(cfg.Mail, log)
	if err != nil {
		return nil, err
	}
	submit := applications.NewSubmitWorker(applications.WorkerOptions{})
	follow := instanceops.NewFollowWorker(nil)
	client, err := mail.NewQueueClient(pool, sender, mail.QueueOptions{Logger: log, RescueStuckJobsAfter: queueRescueAfter,
		Extra: func(workers *river.Workers, queues map[string]river.QueueConfig) error {
			queues[applications.Queue] = river.QueueConfig{MaxWorkers: 4}
			queues[instanceops.Queue] = river.QueueConfig{MaxWorkers: 6}
			if err := river.AddWorkerSafely(workers, follow); err != nil {
				return err
			}
			return river.AddWorkerSafely(workers, submit)
		}})
	if err != nil {
		return nil, err
	}
	outbox, err := mail.NewOutbox(st, client, bundle, mail.Options{BaseURL: cfg.BaseURL, From: cfg.Mail.From, Admins: cfg.Mail.AdminEmails})
	if err != nil {
		return nil, err
	}
	if cfg.Mail.Mode == config.MailModeLog {
		log.Warn("mail is written to the log, not sent (GANETIMGR_MAIL_MODE=log)")
	}
	return &jobQueue{client: client, pool: pool, log: log, outbox: outbox, submit: submit, follow: follow}, nil
}

// applications returns the instance application workflow on this queue
// and binds the queue's submission worker to it. passwords opens the RAPI
// passwords, secretKey derives the key of the images' secret OS
// parameters, refresh re-reads a new instance into the cluster cache.
func (q *jobQueue) applications(cfg *config.Config, st *store.Store, passwords *secretbox.Box, secretKey []byte,
	refresh func(ctx context.Context, clusterID int64, name string) error) (*applications.Service, error) {
	secrets, err := secretbox.New(secretKey, applications.SecretsPurpose)
	if err != nil {
		return nil, err
	}
	svc, err := applications.New(applications.Deps{Store: st, Mail: q.outbox, Queue: q.client,
		Clients: applications.NewClients(passwords, 0, 0), Secrets: secrets, Refresh: refresh,
		Audit: audit.New(st), Config: cfg.Applications, BaseURL: cfg.BaseURL, TagPrefix: cfg.TagPrefix, Logger: q.log})
	if err != nil {
		return nil, err
	}
	q.submit.Bind(svc)
	return svc, nil
}

// instanceOps returns the instance action service on this queue and binds
// the queue's follow worker to it. passwords opens the RAPI passwords,
// refresh re-reads an instance into the cluster cache when its job ends.
func (q *jobQueue) instanceOps(cfg *config.Config, st *store.Store, passwords *secretbox.Box,
	refresh func(ctx context.Context, clusterID int64, name string) error) (*instanceops.Service, error) {
	svc, err := instanceops.New(instanceops.Deps{Store: st, Clients: applications.NewClients(passwords, 0, 0),
		Queue: q.client, Audit: audit.New(st), Mail: q.outbox, Refresh: refresh,
		Config: cfg.Instances, BaseURL: cfg.BaseURL, TagPrefix: cfg.TagPrefix, Logger: q.log})
	if err != nil {
		return nil, err
	}
	q.follow.Bind(svc)
	return svc, nil
}

// start starts working jobs in the background.
func (q *jobQueue) start(ctx context.Context) error {
	// The client stops on stop, not when ctx ends, so shutdown can drain it.
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("app: start job queue: %w", err)
	}
	return nil
}

// stop lets running jobs finish for at most timeout, then cancels them (a
// cancelled mail is retried later, by this or another process). It does
// nothing for a queue that was never started.
func (q *jobQueue) stop(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := q.client.Stop(ctx); err != nil {
		q.log.Warn("job queue did not stop in time; cancelling its jobs", "error", err)
		hctx, hcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer hcancel()
		if err := q.client.StopAndCancel(hctx); err != nil {
			q.log.Error("job queue did not stop", "error", err)
		}
	}
}

// close releases the queue's pool; call it after stop.
func (q *jobQueue) close() { q.pool.Close() }
