package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// MaxAuditPage bounds AuditQuery.Limit.
const MaxAuditPage = 200

// DefaultAuditPage is the page size of a zero AuditQuery.Limit.
const DefaultAuditPage = 50

// AuditCursor is a position in the audit log's order: newest first by
// time, then by id (keyset pagination; entries written with an explicit
// time need not follow their ids).
type AuditCursor struct {
	At time.Time
	ID int64
}

// String encodes the cursor for a URL: "<microseconds since 1970>_<id>".
func (c AuditCursor) String() string {
	return strconv.FormatInt(c.At.UnixMicro(), 10) + "_" + strconv.FormatInt(c.ID, 10)
}

// ErrBadAuditCursor is the error of ParseAuditCursor.
var ErrBadAuditCursor = errors.New("store: invalid audit page cursor")

// ParseAuditCursor decodes AuditCursor.String.
func ParseAuditCursor(s string) (AuditCursor, error) {
	at, id, ok := strings.Cut(s, "_")
	if !ok || len(s) > 64 {
		return AuditCursor{}, ErrBadAuditCursor
	}
	us, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 {
		return AuditCursor{}, ErrBadAuditCursor
	}
	return AuditCursor{At: time.UnixMicro(us).UTC(), ID: n}, nil
}

// AuditQuery selects a page of the audit log, newest first. Every filter
// is part of the SQL; empty ones are left out of it.
type AuditQuery struct {
	// All lists every user's entries (helpdesk and administrators);
	// otherwise the query is restricted to UserID's entries, and a UserID
	// that is not positive is an error, so a forgotten restriction never
	// lists everyone's.
	All    bool
	UserID int64
	// Username keeps the entries of the user of that name as it was
	// written (exact, case-insensitive), deleted accounts' included.
	Username string
	// Instance keeps the entries about the instance of that exact name.
	Instance string
	// ClusterSlug keeps the entries about the cluster of that slug as it
	// was written (exact).
	ClusterSlug string
	// Action and Outcome keep entries with that code (exact).
	Action  string
	Outcome string
	// From and To keep entries with From <= at < To; zero times do not
	// bound.
	From, To time.Time
	// Before continues toward older entries (AuditPage.Older), After goes
	// back toward newer ones (AuditPage.Newer); at most one of them. Both
	// nil starts at the newest entry.
	Before, After *AuditCursor
	// Limit is the page size: 1 to MaxAuditPage, default DefaultAuditPage.
	Limit int
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Entries []*AuditEntry
	// Older is the Before of the next older page; nil on the oldest page.
	Older *AuditCursor
	// Newer is the After of the next newer page; nil on the newest page.
	Newer *AuditCursor
}

// auditSelect reads an audit entry and whether its instance is still in
// the cluster cache (one primary-key probe per row of the page).
const auditSelect = `SELECT a.id, a.at, coalesce(a.user_id, 0), a.username, a.client_addr, a.action, a.outcome,
	coalesce(a.cluster_id, 0), a.cluster_slug, a.instance, coalesce(a.application_id, 0), coalesce(a.job_id, 0),
	a.detail, (a.instance <> '' AND a.cluster_id IS NOT NULL AND EXISTS (SELECT 1 FROM cluster_instances ci
		WHERE ci.cluster_id = a.cluster_id AND ci.name = a.instance))
	FROM audit_log a`

// auditSQL builds the query of one page: only the filters q sets become
// conditions (so each can use its index), the keyset condition is a row
// comparison on (at, id), and limit+1 rows are asked for to tell whether
// there is more. A page going toward newer entries (After) is read oldest
// first.
func auditSQL(q AuditQuery, limit int) (string, []any, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !q.All {
		if q.UserID <= 0 {
			return "", nil, errors.New("store: an audit query is restricted to a user or lists all")
		}
		where = append(where, "a.user_id = "+arg(q.UserID))
	}
	if q.Username != "" {
		where = append(where, "lower(a.username) = lower("+arg(q.Username)+")")
	}
	if q.Instance != "" {
		where = append(where, "a.instance = "+arg(q.Instance))
	}
	if q.ClusterSlug != "" {
		where = append(where, "a.cluster_slug = "+arg(q.ClusterSlug))
	}
	if q.Action != "" {
		where = append(where, "a.action = "+arg(q.Action))
	}
	switch q.Outcome {
	case "":
	case "ok", "refused", "failed":
		// A literal (from this fixed set), which the planner matches to
		// the partial index of the outcomes other than ok.
		where = append(where, "a.outcome = '"+q.Outcome+"'")
	default:
		return "", nil, fmt.Errorf("store: unknown audit outcome %q", q.Outcome)
	}
	if !q.From.IsZero() {
		where = append(where, "a.at >= "+arg(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "a.at < "+arg(q.To))
	}
	order := "a.at DESC, a.id DESC"
	switch {
	case q.Before != nil && q.After != nil:
		return "", nil, errors.New("store: an audit query goes either before or after a cursor")
	case q.Before != nil:
		where = append(where, "(a.at, a.id) < ("+arg(q.Before.At)+", "+arg(q.Before.ID)+")")
	case q.After != nil:
		where = append(where, "(a.at, a.id) > ("+arg(q.After.At)+", "+arg(q.After.ID)+")")
		order = "a.at, a.id"
	}
	sql := auditSelect
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY " + order + " LIMIT " + arg(limit+1)
	return sql, args, nil
}

// ListAudit returns one page of the audit log (see AuditQuery). A page
// toward newer entries that reaches the newest is the first page (no
// cursor), so going back always ends on the same full page.
func (s *Store) ListAudit(ctx context.Context, q AuditQuery) (*AuditPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultAuditPage
	}
	limit = min(limit, MaxAuditPage)
	entries, err := s.auditRows(ctx, q, limit)
	if err != nil {
		return nil, err
	}
	page := &AuditPage{}
	switch {
	case q.After != nil && len(entries) <= limit:
		q.After = nil
		return s.ListAudit(ctx, q)
	case q.After != nil:
		entries = entries[:limit]
		slices.Reverse(entries)
		page.Newer = cursorOf(entries[0])
		page.Older = cursorOf(entries[len(entries)-1])
	default:
		if len(entries) > limit {
			entries = entries[:limit]
			page.Older = cursorOf(entries[limit-1])
		}
		if q.Before != nil && len(entries) > 0 {
			page.Newer = cursorOf(entries[0])
		}
	}
	page.Entries = entries
	return page, nil
}

func cursorOf(e *AuditEntry) *AuditCursor { return &AuditCursor{At: e.At, ID: e.ID} }

func (s *Store) auditRows(ctx context.Context, q AuditQuery, limit int) ([]*AuditEntry, error) {
	sql, args, err := auditSQL(q, limit)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr("list audit entries", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*AuditEntry, error) {
		var e AuditEntry
		var addr *netip.Addr
		if err := r.Scan(&e.ID, &e.At, &e.UserID, &e.Username, &addr, &e.Action, &e.Outcome, &e.ClusterID,
			&e.ClusterSlug, &e.Instance, &e.ApplicationID, &e.JobID, &e.Detail, &e.InstanceCached); err != nil {
			return nil, err
		}
		if addr != nil {
			e.ClientAddr = addr.Unmap()
		}
		return &e, nil
	})
	if err != nil {
		return nil, mapErr("list audit entries", err)
	}
	return entries, nil
}

// auditPurgeBatch is the most rows one statement of PurgeAudit deletes,
// so a large purge never holds long locks or builds one huge transaction.
const auditPurgeBatch = 5000

// PurgeAudit deletes the entries written before before, in batches of
// their own transactions (oldest first, walking the time index), and
// returns how many went. A cancelled ctx stops it between batches.
func (s *Store) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM audit_log WHERE id IN (
			SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)`, before, auditPurgeBatch)
		if err != nil {
			return total, fmt.Errorf("store: purge audit log: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < auditPurgeBatch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("store: purge audit log: %w", err)
		}
	}
}
