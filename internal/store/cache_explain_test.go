package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestExplainVisibleInstances loads 10,000 instances (5 clusters × 2,000)
// and checks the plans of the instance list queries: the admin list walks
// the sort index (no sort of all rows, no OFFSET) and a user's list starts
// from the GIN indexes of the owner arrays. Plans and timings are logged
// (go test -run Explain -v ./internal/store).
func TestExplainVisibleInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10,000 instances")
	}
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	for c := range 5 {
		slug := fmt.Sprintf("cl%d", c+1)
		id := addCluster(t, s, slug)
		insts := testInstances(id, slug, 2000)
		// Spread ownership thinner than testInstances does: alice owns 1 in 10
		// of these (200 in all), as in PERFORMANCE.md's user list.
		for i := range insts {
			insts[i].OwnerUsers = nil
			if i%50 == c {
				insts[i].OwnerUsers = []string{"alice"}
			}
		}
		saveInstances(t, s, id, insts)
	}
	alice := addUser(t, s, "alice")
	if _, err := s.pool.Exec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	var size, heap string
	s.pool.QueryRow(ctx, `SELECT pg_size_pretty(pg_total_relation_size('cluster_instances')),
		pg_size_pretty(pg_relation_size('cluster_instances'))`).Scan(&size, &heap)
	t.Logf("cluster_instances with 10,000 rows: %s total (heap %s)", size, heap)

	page2 := func(q InstanceQuery) InstanceQuery {
		p, err := s.VisibleInstances(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		q.After = p.Next
		return q
	}
	cases := []struct {
		name      string
		q         InstanceQuery
		mustHave  []string
		mustNot   []string
		limit     int
		wantCount int
	}{
		{"admin, by name, page 1", InstanceQuery{All: true}, []string{"Index Scan using cluster_instances_name_idx"}, []string{"Sort"}, 50, 50},
		{"admin, by name, page 2", page2(InstanceQuery{All: true}), []string{"Index Scan using cluster_instances_name_idx"}, []string{"Sort"}, 50, 50},
		{"admin, by memory desc, page 2", page2(InstanceQuery{All: true, Sort: SortByMemory, Desc: true}),
			[]string{"Index Scan Backward using cluster_instances_memory_idx"}, []string{"Sort"}, 50, 50},
		{"admin, by status, one cluster", InstanceQuery{All: true, Sort: SortByStatus, ClusterIDs: []int64{2}}, nil, nil, 50, 50},
		{"admin, by cluster", InstanceQuery{All: true, Sort: SortByCluster}, nil, nil, 50, 50},
		{"admin, search", InstanceQuery{All: true, Search: "10.3.4"}, nil, nil, 50, -1},
		{"user, by name", InstanceQuery{UserID: alice.id}, []string{"cluster_instances_owner_users_idx"}, nil, 200, 200},
		{"user, page 2 of 50", page2(InstanceQuery{UserID: alice.id}), []string{"cluster_instances_owner_users_idx"}, nil, 50, 50},
		{"user, search", InstanceQuery{UserID: alice.id, Search: "cl3"}, []string{"cluster_instances_owner_users_idx"}, nil, 200, 40},
	}
	for _, tc := range cases {
		if tc.q.Limit == 0 {
			tc.q.Limit = tc.limit
		}
		if tc.q.Sort == "" {
			tc.q.Sort = SortByName
		}
		sql, args, err := visibleInstancesSQL(tc.q, tc.limit)
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
			rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", tc.name, text)
		for _, m := range tc.mustHave {
			if !strings.Contains(text, m) {
				t.Errorf("%s: plan lacks %q", tc.name, m)
			}
		}
		for _, m := range tc.mustNot {
			if strings.Contains(text, m) {
				t.Errorf("%s: plan has %q", tc.name, m)
			}
		}
		p, err := s.VisibleInstances(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if tc.wantCount >= 0 && len(p.Instances) != tc.wantCount {
			t.Errorf("%s: %d rows, want %d", tc.name, len(p.Instances), tc.wantCount)
		}
	}
}
