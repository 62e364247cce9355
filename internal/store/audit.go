package store

import (
	"context"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one row of the audit log (table audit_log).
type AuditEntry struct {
	ID            int64
	At            time.Time
	UserID        int64 // 0: the system or an anonymous request
	Username      string
	ClientAddr    netip.Addr // invalid when unknown
	Action        string     // e.g. instance.start
	Outcome       string     // ok, refused, failed
	ClusterID     int64      // 0: none, or the cluster was deleted
	ClusterSlug   string
	Instance      string
	ApplicationID int64
	JobID         int64
	Detail        string
	// InstanceCached is set by ListAudit (never written): the instance is
	// in its cluster's cache now, so its page exists.
	InstanceCached bool
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func nullAddr(a netip.Addr) *netip.Addr {
	if !a.IsValid() {
		return nil
	}
	return &a
}

// InsertAuditTx appends e to the audit log inside tx (the caller's
// transaction, so the entry exists exactly when the change does) and
// returns its id. At is set by the database when zero.
func InsertAuditTx(ctx context.Context, tx pgx.Tx, e *AuditEntry) (int64, error) {
	var at *time.Time
	if !e.At.IsZero() {
		at = &e.At
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO audit_log (at, user_id, username, client_addr, action, outcome,
		cluster_id, cluster_slug, instance, application_id, job_id, detail)
		VALUES (coalesce($1, now()), $2, $3, $4, $5, $6,
		        (SELECT id FROM clusters WHERE id = $7), $8, $9, $10, $11, $12)
		RETURNING id`,
		at, nullID(e.UserID), e.Username, nullAddr(e.ClientAddr), e.Action, e.Outcome,
		nullID(e.ClusterID), e.ClusterSlug, e.Instance, nullID(e.ApplicationID), nullID(e.JobID), e.Detail).Scan(&id)
	if err != nil {
		return 0, mapErr("insert audit entry", err)
	}
	return id, nil
}

// InsertAudit appends e to the audit log in a transaction of its own.
func (s *Store) InsertAudit(ctx context.Context, e *AuditEntry) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		id, err = InsertAuditTx(ctx, tx, e)
		return err
	})
	return id, err
}
