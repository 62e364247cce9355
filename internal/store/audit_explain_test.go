package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestExplainAuditQueries loads 200,000 audit entries (a year of a busy
// site: 400 users, 20 clusters of which one small, 20,000 instances, one
// entry in 50 refused or failed, one in 1,000 a destruction) and checks
// that every filter of the history page starts from an index that serves
// both the filter and the order (no Sort of the matching rows, no
// sequential scan), on the first page and further ones, so a filter
// matching few entries reads only those.
// Plans are logged (go test -run ExplainAudit -v ./internal/store).
func TestExplainAuditQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 200,000 audit entries")
	}
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	for _, sql := range []string{
		`INSERT INTO users (username, email) SELECT 'user' || i, 'user' || i || '@example.org' FROM generate_series(1, 400) i`,
		`INSERT INTO clusters (slug, hostname) SELECT 'cl' || i, 'cl' || i || '.example.org' FROM generate_series(1, 20) i`,
		`INSERT INTO audit_log (at, user_id, username, client_addr, action, outcome, cluster_id, cluster_slug, instance,
			job_id, detail)
		SELECT now() - (i || ' minutes')::interval * 2.6, u.id, u.username, '192.0.2.1', a.action,
			CASE WHEN i % 100 = 0 THEN 'refused' WHEN i % 100 = 50 THEN 'failed' ELSE 'ok' END,
			c.id, c.slug, 'vm' || (i % 20000) || '.example.org', i, ''
		FROM generate_series(1, 200000) i
		JOIN users u ON u.id = (SELECT min(id) FROM users) + i % 400
		-- cl1 is a small cluster (one entry in 1,000), the others share the rest.
		JOIN clusters c ON c.id = (SELECT min(id) FROM clusters) + CASE WHEN i % 1000 = 0 THEN 0 ELSE 1 + i % 19 END
		-- Destroying is rare (one entry in 1,000).
		JOIN (SELECT row_number() OVER () - 1 AS n, action FROM unnest(ARRAY['instance.start', 'instance.shutdown',
			'instance.reboot', 'instance.reboot', 'instance.reboot', 'instance.configure', 'instance.lock',
			'application.approve', 'instance.reboot', 'instance.rename', 'instance.destroy']) action) a
			ON a.n = CASE WHEN i % 1000 = 500 THEN 10 ELSE i % 10 END`,
		`ANALYZE`,
	} {
		if _, err := s.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	// The user acting on vm7.
	var uid int64
	var uname string
	if err := s.pool.QueryRow(ctx, `SELECT user_id, username FROM audit_log WHERE instance = 'vm7.example.org' LIMIT 1`).
		Scan(&uid, &uname); err != nil {
		t.Fatal(err)
	}
	// A cursor in the middle of the log.
	var mid AuditCursor
	if err := s.pool.QueryRow(ctx, `SELECT at, id FROM audit_log ORDER BY at DESC, id DESC OFFSET 100000 LIMIT 1`).
		Scan(&mid.At, &mid.ID); err != nil {
		t.Fatal(err)
	}
	week := time.Now().Add(-7 * 24 * time.Hour)
	cases := []struct {
		name     string
		q        AuditQuery
		mustHave string
		// fewRows: the filter matches a handful of entries, which the
		// planner may fetch and sort.
		fewRows bool
	}{
		{"all, newest", AuditQuery{All: true}, "audit_log_at_idx", false},
		{"all, older", AuditQuery{All: true, Before: &mid}, "audit_log_at_idx", false},
		{"all, newer", AuditQuery{All: true, After: &mid}, "audit_log_at_idx", false},
		{"all, last week", AuditQuery{All: true, From: week}, "audit_log_at_idx", false},
		{"all, one day long ago", AuditQuery{All: true, From: mid.At.Add(-24 * time.Hour), To: mid.At}, "audit_log_at_idx", false},
		{"own", AuditQuery{UserID: uid}, "audit_log_user_idx", false},
		{"own, older", AuditQuery{UserID: uid, Before: &mid}, "audit_log_user_idx", false},
		{"own, one instance", AuditQuery{UserID: uid, Instance: "vm7.example.org"}, "audit_log_instance_idx", true},
		{"by username", AuditQuery{All: true, Username: strings.ToUpper(uname)}, "audit_log_username_idx", false},
		{"by username, older", AuditQuery{All: true, Username: uname, Before: &mid}, "audit_log_username_idx", false},
		{"by instance", AuditQuery{All: true, Instance: "vm7.example.org"}, "audit_log_instance_idx", true},
		// A large cluster or a frequent action: walking the log and
		// skipping the others is as good.
		{"by large cluster", AuditQuery{All: true, ClusterSlug: "cl3"}, "", false},
		{"by frequent action", AuditQuery{All: true, Action: "instance.reboot"}, "", false},
		{"by small cluster", AuditQuery{All: true, ClusterSlug: "cl1"}, "audit_log_cluster_idx", false},
		{"by small cluster, older", AuditQuery{All: true, ClusterSlug: "cl1", Before: &mid}, "audit_log_cluster_idx", false},
		{"by rare action", AuditQuery{All: true, Action: "instance.destroy"}, "audit_log_action_idx", false},
		{"by rare action, newer", AuditQuery{All: true, Action: "instance.destroy", After: &mid}, "audit_log_action_idx", false},
		{"refused", AuditQuery{All: true, Outcome: "refused"}, "audit_log_outcome_idx", false},
		{"failed, older", AuditQuery{All: true, Outcome: "failed", Before: &mid}, "audit_log_outcome_idx", false},
	}
	for _, tc := range cases {
		sql, args, err := auditSQL(tc.q, DefaultAuditPage)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", tc.name, text)
		if tc.mustHave != "" && !strings.Contains(text, tc.mustHave) {
			t.Errorf("%s: plan does not use %s", tc.name, tc.mustHave)
		}
		// The audit table is only ever read through an index; a page never
		// sorts the matching rows unless they are a handful.
		if strings.Contains(text, "Seq Scan on audit_log") {
			t.Errorf("%s: plan reads the whole table", tc.name)
		}
		if !tc.fewRows && strings.Contains(text, "Sort") {
			t.Errorf("%s: plan sorts the matching rows", tc.name)
		}
		p, err := s.ListAudit(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) == 0 {
			t.Errorf("%s: no entries", tc.name)
		}
	}
}
