// Package clustersync keeps the cached view of every Ganeti cluster in
// PostgreSQL fresh, so that no page ever waits on a cluster.
//
// A Syncer runs in every replica of ganetimgr. For each enabled cluster it
// owns, a goroutine reads the cluster's info, instances, nodes, node groups,
// networks and recent jobs (one bulk RAPI call per resource) every interval,
// with ±10% jitter, and stores them with store.SaveClusterSnapshot, which
// writes only what changed and bumps the cluster's data version when
// anything did. Failures are recorded per cluster (never with the RAPI
// password); Freshness says when a cluster's data counts as stale.
//
// # One syncer per cluster across replicas
//
// Ownership of a cluster is a PostgreSQL session-level advisory lock
// (pg_try_advisory_lock(class, cluster id)) held on one dedicated
// connection per replica (store.ClusterLocks), outside the pool. Session
// locks were chosen over transaction-level ones because a sync is not one
// transaction (it waits on the network in between) and a transaction held
// open for the lifetime of the ownership would pin a snapshot and a pool
// connection. While a replica lives its connection keeps the locks; when it
// stops, it releases them after its workers have stopped; when it dies or
// loses the database, PostgreSQL ends the session and frees the locks, and
// another replica takes the clusters over at its next scan (at most one
// interval later). Writes of one cluster's cache are in addition serialized
// by a row lock on its cluster_sync row, so even the short overlap of a
// replica that lost its connection without noticing cannot interleave two
// snapshots. (The locks need a direct connection or a session-mode pooler:
// a transaction-mode PgBouncer would not keep session locks.)
//
// # Reacting to cluster changes
//
// A trigger on the clusters table notifies store.ClusterChannel on every
// insert, update and delete. Each replica listens on a second dedicated
// connection and rescans at once: a new or re-enabled cluster is locked and
// synced immediately, a disabled or deleted one is stopped and unlocked (a
// deleted cluster's cached rows go with it by ON DELETE CASCADE), changed
// credentials or address restart the cluster's sync with a new client. A
// periodic rescan (every interval) is the safety net for lost notifications
// and for taking over clusters of a dead replica.
//
// A slow or dead cluster never blocks others: every cluster has its own
// goroutine, every RAPI call is bounded by the client's connect and
// response timeouts, and every sync by Options.SyncTimeout.
package clustersync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

// Defaults for zero Options fields.
const (
	// DefaultInterval is the time between two syncs of a cluster.
	DefaultInterval = 30 * time.Second
	// DefaultStaleAfter is the number of missed intervals after which a
	// cluster's data is stale.
	DefaultStaleAfter = 3
	// DefaultSyncTimeout bounds one whole sync of a cluster.
	DefaultSyncTimeout = 60 * time.Second
	// jitterPercent is the ± spread of the interval.
	jitterPercent = 10
	// saveTimeout bounds storing one snapshot or recording a failure.
	saveTimeout = 30 * time.Second
)

// Store is what the syncer needs from the database (*store.Store).
type Store interface {
	Clusters(ctx context.Context) ([]*store.Cluster, error)
	SaveClusterSnapshot(ctx context.Context, snap *store.ClusterSnapshot) (store.SaveResult, error)
	RecordSyncFailure(ctx context.Context, clusterID int64, at time.Time, duration time.Duration, by, errText string) error
	PutCachedInstance(ctx context.Context, in *store.CachedInstance) (bool, error)
	DeleteCachedInstance(ctx context.Context, clusterID int64, name string) (bool, error)
	OpenClusterLocks(ctx context.Context) (*store.ClusterLocks, error)
	ListenClusterChanges(ctx context.Context) (*store.ClusterListener, error)
}

// Options configure a Syncer.
type Options struct {
	// Interval is the time between syncs of one cluster (default
	// DefaultInterval), spread by ±10%.
	Interval time.Duration
	// StaleAfter is the number of missed intervals after which a cluster
	// is stale (default DefaultStaleAfter).
	StaleAfter int
	// RescanInterval is how often the cluster list is read again even
	// without a notification (default Interval).
	RescanInterval time.Duration
	// SyncTimeout bounds one sync (default DefaultSyncTimeout).
	SyncTimeout time.Duration
	// ConnectTimeout and ResponseTimeout are given to the RAPI clients
	// (defaults: the rapi package's).
	ConnectTimeout  time.Duration
	ResponseTimeout time.Duration
	// TagPrefix is the ownership tag prefix (default tags.DefaultPrefix).
	TagPrefix string
	// Passwords opens the sealed RAPI passwords (required).
	Passwords *secretbox.Box
	// ReplicaID names this replica in the sync status (default
	// "<hostname>:<pid>").
	ReplicaID string
	// Logger receives the syncer's log (default slog.Default()).
	Logger *slog.Logger
	// OnSync, when set, is called after every sync of a cluster with its
	// result (for tests and metrics). It must not block.
	OnSync func(clusterID int64, err error)
}

// Syncer keeps the cluster cache fresh. Create it with New and run it with
// Run; RefreshInstance may be called from any goroutine.
type Syncer struct {
	st    Store
	opts  Options
	codec tags.Codec
	log   *slog.Logger

	mu      sync.Mutex
	clients map[int64]*clusterClient
}

// clusterClient is a RAPI client built from one version of a cluster row.
type clusterClient struct {
	key      string
	client   *rapi.Client
	password string
}

// New checks opts, fills in defaults and returns a Syncer.
func New(st Store, opts Options) (*Syncer, error) {
	if opts.Passwords == nil {
		return nil, errors.New("clustersync: Options.Passwords is required")
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = DefaultStaleAfter
	}
	if opts.RescanInterval <= 0 {
		opts.RescanInterval = opts.Interval
	}
	if opts.SyncTimeout <= 0 {
		opts.SyncTimeout = DefaultSyncTimeout
	}
	if opts.ReplicaID == "" {
		host, _ := os.Hostname()
		opts.ReplicaID = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	codec, err := tags.New(opts.TagPrefix)
	if err != nil {
		return nil, fmt.Errorf("clustersync: %w", err)
	}
	return &Syncer{st: st, opts: opts, codec: codec, log: opts.Logger.With("component", "clustersync"),
		clients: map[int64]*clusterClient{}}, nil
}

// Freshness returns the staleness rule matching the syncer's interval.
func (s *Syncer) Freshness() Freshness {
	return Freshness{Interval: s.opts.Interval, StaleAfter: s.opts.StaleAfter}
}

// Run syncs the clusters this replica owns until ctx ends. A lost database
// session stops every owned cluster's sync and is retried with backoff.
// Run returns nil when ctx ends.
func (s *Syncer) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		start := time.Now()
		err := s.session(ctx)
		if ctx.Err() != nil {
			s.closeClients()
			return nil
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		s.log.Warn("cluster sync session ended; retrying", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			s.closeClients()
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// session runs one database session: a listener, a lock connection, and
// the workers of the clusters it locked. It returns when ctx ends or either
// connection fails, after stopping every worker and releasing the locks.
func (s *Syncer) session(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listener, err := s.st.ListenClusterChanges(ctx)
	if err != nil {
		return err
	}
	locks, err := s.st.OpenClusterLocks(ctx)
	if err != nil {
		listener.Close(context.Background())
		return err
	}
	changes := make(chan struct{}, 1)
	listenErr := make(chan error, 1)
	listenDone := make(chan struct{})
	go func() {
		defer close(listenDone)
		for {
			if _, err := listener.Wait(ctx); err != nil {
				listenErr <- err
				return
			}
			select {
			case changes <- struct{}{}:
			default: // a rescan is already pending
			}
		}
	}()

	owned := map[int64]*worker{}
	defer func() {
		// Workers first, then the locks: no replica may take a cluster over
		// while this one still writes it.
		for id, w := range owned {
			w.stop()
			delete(owned, id)
		}
		locks.Close(context.Background())
		cancel()
		<-listenDone
		listener.Close(context.Background())
	}()

	ticker := time.NewTicker(s.opts.RescanInterval)
	defer ticker.Stop()
	for {
		if err := s.rescan(ctx, locks, owned); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-listenErr:
			return err
		case <-changes:
		case <-ticker.C:
		}
	}
}

// connKey is what a RAPI client is built from: a change restarts the sync.
func connKey(c *store.Cluster) string {
	return fmt.Sprintf("%s\x00%d\x00%s\x00%x\x00%s\x00%s", c.Hostname, c.Port, c.RAPIUsername, c.RAPIPassword,
		c.TLSFingerprint, c.TLSCAPEM)
}

// rescan brings the set of owned clusters in line with the clusters table.
func (s *Syncer) rescan(ctx context.Context, locks *store.ClusterLocks, owned map[int64]*worker) error {
	clusters, err := s.st.Clusters(ctx)
	if err != nil {
		return err
	}
	// The lock connection must be alive for the locks to mean anything.
	if err := locks.Ping(ctx); err != nil {
		return err
	}
	byID := make(map[int64]*store.Cluster, len(clusters))
	for _, c := range clusters {
		byID[c.ID] = c
	}
	for id, w := range owned {
		c, ok := byID[id]
		if ok && !c.Disabled {
			if connKey(c) != connKey(w.cluster) {
				w.update(c)
			}
			continue
		}
		w.stop()
		delete(owned, id)
		if err := locks.Unlock(ctx, id); err != nil {
			return err
		}
		s.forgetClient(id)
		reason := "deleted"
		if ok {
			reason = "disabled"
		}
		s.log.Info("cluster sync stopped", "cluster_id", id, "reason", reason)
	}
	for _, c := range clusters {
		if c.Disabled || owned[c.ID] != nil {
			continue
		}
		got, err := locks.TryLock(ctx, c.ID)
		if err != nil {
			return err
		}
		if !got {
			continue // another replica syncs it
		}
		owned[c.ID] = s.startWorker(ctx, c)
		s.log.Info("cluster sync started", "cluster", c.Slug, "cluster_id", c.ID, "replica", s.opts.ReplicaID)
	}
	return nil
}

// clientFor returns the RAPI client of a cluster, building a new one when
// the row's connection settings changed.
func (s *Syncer) clientFor(c *store.Cluster) (*clusterClient, error) {
	key := connKey(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cc := s.clients[c.ID]; cc != nil && cc.key == key {
		return cc, nil
	}
	password := ""
	if len(c.RAPIPassword) > 0 {
		pw, err := s.opts.Passwords.Open(c.RAPIPassword)
		if err != nil {
			return nil, fmt.Errorf("clustersync: cluster %s: open the RAPI password: %w", c.Slug, err)
		}
		password = pw
	}
	cfg := rapi.Config{Host: c.Hostname, Port: c.Port, Username: c.RAPIUsername, Password: password,
		ConnectTimeout: s.opts.ConnectTimeout, ResponseTimeout: s.opts.ResponseTimeout}
	if c.TLSFingerprint != "" {
		cfg.TLS.PinnedSHA256 = c.TLSFingerprint
	} else if c.TLSCAPEM != "" {
		cfg.TLS.CAPEM = []byte(c.TLSCAPEM)
	}
	client, err := rapi.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("clustersync: cluster %s: %s", c.Slug, scrub(err.Error(), password))
	}
	if old := s.clients[c.ID]; old != nil {
		old.client.Close()
	}
	cc := &clusterClient{key: key, client: client, password: password}
	s.clients[c.ID] = cc
	return cc, nil
}

func (s *Syncer) forgetClient(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cc := s.clients[id]; cc != nil {
		cc.client.Close()
		delete(s.clients, id)
	}
}

func (s *Syncer) closeClients() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, cc := range s.clients {
		cc.client.Close()
		delete(s.clients, id)
	}
}

// SyncNow syncs one cluster at once in the calling goroutine, whoever owns
// its background sync (writes of one cluster are serialized in the store,
// so this is safe), and records the result like a background sync. It is
// meant for tests, benchmarks and an administrator's "sync now".
func (s *Syncer) SyncNow(ctx context.Context, c *store.Cluster) error {
	return s.syncCluster(ctx, c)
}
