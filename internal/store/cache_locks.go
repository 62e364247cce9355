package store

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// ClusterChannel is the notification channel on which the clusters table's
// trigger announces every inserted, updated or deleted cluster (payload:
// the cluster id).
const ClusterChannel = "ganetimgr_clusters"

// syncLockClass is the first key of the two-key advisory locks that say
// which replica syncs a cluster (the second key is the cluster id). The
// value spells "gant" and keeps these locks apart from any other use of
// advisory locks.
const syncLockClass = 0x67616e74

// dedicatedConn opens a connection outside the pool with the pool's
// settings. Context cancellation interrupts it with a read deadline rather
// than a cancel request, which could otherwise arrive late and cancel the
// next statement on the connection.
func (s *Store) dedicatedConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: pc.Conn()}
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// ClusterLocks is a dedicated database connection holding session-level
// advisory locks, one per cluster a replica syncs. A lock lasts until it is
// released or the connection ends, so a replica that dies (or loses its
// database connection) frees its clusters for the others. It is not safe
// for concurrent use.
type ClusterLocks struct {
	conn *pgx.Conn
}

// OpenClusterLocks opens the connection for ClusterLocks.
func (s *Store) OpenClusterLocks(ctx context.Context) (*ClusterLocks, error) {
	conn, err := s.dedicatedConn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: open cluster locks: %w", err)
	}
	return &ClusterLocks{conn: conn}, nil
}

func lockKey(clusterID int64) (int32, error) {
	if clusterID <= 0 || clusterID > math.MaxInt32 {
		return 0, fmt.Errorf("store: cluster id %d out of the advisory lock key range", clusterID)
	}
	return int32(clusterID), nil
}

// TryLock takes the sync lock of a cluster without waiting and reports
// whether it got it. Taking a lock this connection already holds succeeds
// (and must be released as many times).
func (l *ClusterLocks) TryLock(ctx context.Context, clusterID int64) (bool, error) {
	key, err := lockKey(clusterID)
	if err != nil {
		return false, err
	}
	var ok bool
	err = l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1::int, $2::int)`, int32(syncLockClass), key).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("store: try cluster lock: %w", err)
	}
	return ok, nil
}

// Unlock releases the sync lock of a cluster.
func (l *ClusterLocks) Unlock(ctx context.Context, clusterID int64) error {
	key, err := lockKey(clusterID)
	if err != nil {
		return err
	}
	var ok bool
	err = l.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1::int, $2::int)`, int32(syncLockClass), key).Scan(&ok)
	if err != nil {
		return fmt.Errorf("store: release cluster lock: %w", err)
	}
	if !ok {
		return fmt.Errorf("store: release cluster lock %d: not held", clusterID)
	}
	return nil
}

// Ping checks that the connection (and so every lock on it) is alive.
func (l *ClusterLocks) Ping(ctx context.Context) error {
	if err := l.conn.Ping(ctx); err != nil {
		return fmt.Errorf("store: cluster locks: %w", err)
	}
	return nil
}

// Close ends the connection, which releases every lock it holds.
func (l *ClusterLocks) Close(ctx context.Context) error {
	if err := l.conn.Close(ctx); err != nil {
		return fmt.Errorf("store: close cluster locks: %w", err)
	}
	return nil
}

// ClusterSyncHolders returns the ids of the clusters whose sync lock some
// session holds (for tests and diagnostics).
func (s *Store) ClusterSyncHolders(ctx context.Context) (map[int64]int32, error) {
	rows, err := s.pool.Query(ctx, `SELECT objid::bigint, pid FROM pg_locks
		WHERE locktype = 'advisory' AND classid = $1::int::oid AND objsubid = 2 AND granted`, int32(syncLockClass))
	if err != nil {
		return nil, mapErr("cluster sync holders", err)
	}
	defer rows.Close()
	out := map[int64]int32{}
	for rows.Next() {
		var id int64
		var pid int32
		if err := rows.Scan(&id, &pid); err != nil {
			return nil, mapErr("cluster sync holders", err)
		}
		out[id] = pid
	}
	return out, mapErr("cluster sync holders", rows.Err())
}

// ClusterListener is a dedicated connection listening on ClusterChannel.
// It is not safe for concurrent use.
type ClusterListener struct {
	conn *pgx.Conn
}

// ListenClusterChanges opens a connection and listens on ClusterChannel.
// Changes made before the call are not reported: read the clusters after
// it returns.
func (s *Store) ListenClusterChanges(ctx context.Context) (*ClusterListener, error) {
	conn, err := s.dedicatedConn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: listen for cluster changes: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+ClusterChannel); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("store: listen for cluster changes: %w", err)
	}
	return &ClusterListener{conn: conn}, nil
}

// Wait blocks until a cluster changes and returns its id (0 when the
// payload is not an id), or until ctx ends or the connection fails.
func (l *ClusterListener) Wait(ctx context.Context) (int64, error) {
	n, err := l.conn.WaitForNotification(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: wait for cluster changes: %w", err)
	}
	id, _ := strconv.ParseInt(n.Payload, 10, 64)
	return id, nil
}

// Close ends the connection.
func (l *ClusterListener) Close(ctx context.Context) error {
	if err := l.conn.Close(ctx); err != nil {
		return fmt.Errorf("store: close cluster listener: %w", err)
	}
	return nil
}
