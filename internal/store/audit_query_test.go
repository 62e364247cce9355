package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// auditIDs lists the ids of a page's entries.
func auditIDs(p *AuditPage) []int64 {
	var ids []int64
	for _, e := range p.Entries {
		ids = append(ids, e.ID)
	}
	return ids
}

// TestAuditListFilters writes a small log and checks every filter, the
// restriction to one user, and what an entry reads back as.
func TestAuditListFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	c1 := addCluster(t, s, "c1")
	addCluster(t, s, "c2")
	alice, bob := addUser(t, s, "Alice"), addUser(t, s, "bob")
	saveInstances(t, s, c1, []CachedInstance{{ClusterID: c1, Name: "web1.example.org"}})
	day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
	ids := map[string]int64{}
	for _, e := range []struct {
		key string
		AuditEntry
	}{
		{"a-start", AuditEntry{At: day(1), UserID: alice.id, Username: "Alice", Action: "instance.start", Outcome: "ok",
			ClusterID: c1, ClusterSlug: "c1", Instance: "web1.example.org", JobID: 11,
			ClientAddr: netip.MustParseAddr("192.0.2.7")}},
		{"a-destroy-refused", AuditEntry{At: day(2), UserID: alice.id, Username: "Alice", Action: "instance.destroy",
			Outcome: "refused", ClusterSlug: "c2", Instance: "db1.example.org", Detail: "not an owner"}},
		{"b-reboot", AuditEntry{At: day(3), UserID: bob.id, Username: "bob", Action: "instance.reboot", Outcome: "failed",
			ClusterID: c1, ClusterSlug: "c1", Instance: "web1.example.org", ClientAddr: netip.MustParseAddr("2001:db8::1")}},
		{"system", AuditEntry{At: day(4), Action: "application.create", Outcome: "ok", ClusterID: c1, ClusterSlug: "c1",
			Instance: "new1.example.org", ApplicationID: 5, JobID: 12}},
		{"b-approve", AuditEntry{At: day(5), UserID: bob.id, Username: "bob", Action: "application.approve", Outcome: "ok",
			ApplicationID: 5}},
	} {
		id, err := s.InsertAudit(ctx, &e.AuditEntry)
		if err != nil {
			t.Fatal(err)
		}
		ids[e.key] = id
	}
	want := func(keys ...string) []int64 {
		var out []int64
		for _, k := range keys {
			out = append(out, ids[k])
		}
		return out
	}
	cases := []struct {
		name string
		q    AuditQuery
		want []int64
	}{
		{"everything, newest first", AuditQuery{All: true}, want("b-approve", "system", "b-reboot", "a-destroy-refused", "a-start")},
		{"alice's own", AuditQuery{UserID: alice.id}, want("a-destroy-refused", "a-start")},
		{"bob's own, even filtered by alice's name", AuditQuery{UserID: bob.id, Username: "alice"}, nil},
		{"username in another case", AuditQuery{All: true, Username: "ALICE"}, want("a-destroy-refused", "a-start")},
		{"username is exact", AuditQuery{All: true, Username: "ali"}, nil},
		{"instance", AuditQuery{All: true, Instance: "web1.example.org"}, want("b-reboot", "a-start")},
		{"instance is exact", AuditQuery{All: true, Instance: "web1"}, nil},
		{"cluster", AuditQuery{All: true, ClusterSlug: "c2"}, want("a-destroy-refused")},
		{"action", AuditQuery{All: true, Action: "application.approve"}, want("b-approve")},
		{"outcome refused", AuditQuery{All: true, Outcome: "refused"}, want("a-destroy-refused")},
		{"outcome failed", AuditQuery{All: true, Outcome: "failed"}, want("b-reboot")},
		{"outcome ok", AuditQuery{All: true, Outcome: "ok"}, want("b-approve", "system", "a-start")},
		{"from", AuditQuery{All: true, From: day(4)}, want("b-approve", "system")},
		{"to (exclusive)", AuditQuery{All: true, To: day(2)}, want("a-start")},
		{"from and to", AuditQuery{All: true, From: day(2), To: day(4)}, want("b-reboot", "a-destroy-refused")},
		{"filters together", AuditQuery{All: true, ClusterSlug: "c1", Outcome: "ok", Instance: "web1.example.org"}, want("a-start")},
		{"own and filtered", AuditQuery{UserID: bob.id, Action: "instance.reboot"}, want("b-reboot")},
	}
	for _, tc := range cases {
		p, err := s.ListAudit(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := auditIDs(p); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		if p.Older != nil || p.Newer != nil {
			t.Errorf("%s: one page has cursors %v %v", tc.name, p.Older, p.Newer)
		}
	}

	// What reads back: addresses, the system's zero ids, whether the
	// instance is in the cache.
	p, err := s.ListAudit(ctx, AuditQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]*AuditEntry{}
	for _, e := range p.Entries {
		byID[e.ID] = e
	}
	if e := byID[ids["a-start"]]; e.ClientAddr != netip.MustParseAddr("192.0.2.7") || !e.InstanceCached ||
		e.JobID != 11 || e.ClusterID != c1 || !e.At.Equal(day(1)) {
		t.Errorf("a-start read back as %+v", e)
	}
	if e := byID[ids["b-reboot"]]; e.ClientAddr != netip.MustParseAddr("2001:db8::1") {
		t.Errorf("IPv6 address read back as %v", e.ClientAddr)
	}
	if e := byID[ids["a-destroy-refused"]]; e.InstanceCached || e.ClusterID != 0 || e.ClientAddr.IsValid() || e.Detail != "not an owner" {
		t.Errorf("refused entry read back as %+v", e)
	}
	if e := byID[ids["system"]]; e.UserID != 0 || e.Username != "" || e.InstanceCached || e.ApplicationID != 5 {
		t.Errorf("system entry read back as %+v", e)
	}

	// A deleted account's entries stay, found by the name they were
	// written with, no longer by the id.
	if _, err := s.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, alice.id); err != nil {
		t.Fatal(err)
	}
	if p, err := s.ListAudit(ctx, AuditQuery{All: true, Username: "alice"}); err != nil || len(p.Entries) != 2 || p.Entries[0].UserID != 0 {
		t.Errorf("deleted user's entries: %v %v", p, err)
	}

	// A query restricted to nobody, both cursors, an unknown outcome: errors.
	for _, q := range []AuditQuery{{}, {UserID: -1}, {All: true, Before: &AuditCursor{ID: 1}, After: &AuditCursor{ID: 1}},
		{All: true, Outcome: "maybe"}} {
		if _, err := s.ListAudit(ctx, q); err == nil {
			t.Errorf("query %+v: no error", q)
		}
	}
}

// TestAuditPagination walks a log of 23 entries, some written at the same
// time, in pages of 5 toward older entries and back toward newer ones.
func TestAuditPagination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	u := addUser(t, s, "ann")
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var all []int64 // newest first
	for i := range 23 {
		// Pairs of entries share their time; ids do not follow the times.
		at := base.Add(time.Duration(100-i/2) * time.Minute)
		id, err := s.InsertAudit(ctx, &AuditEntry{At: at, UserID: u.id, Username: "ann", Action: "instance.start",
			Outcome: "ok", Instance: fmt.Sprintf("vm%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, id)
	}
	// Equal times: the larger id is the newer.
	for i := 0; i+1 < len(all); i += 2 {
		all[i], all[i+1] = all[i+1], all[i]
	}
	// Toward older.
	q := AuditQuery{UserID: u.id, Limit: 5}
	var seen []int64
	var pages []*AuditPage
	for range 10 {
		p, err := s.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		seen = append(seen, auditIDs(p)...)
		if (len(pages) == 1) != (p.Newer == nil) {
			t.Errorf("page %d: newer cursor %v", len(pages), p.Newer)
		}
		if p.Older == nil {
			break
		}
		q.Before = p.Older
	}
	if !slices.Equal(seen, all) {
		t.Fatalf("walking older: got %v, want %v", seen, all)
	}
	if len(pages) != 5 || len(pages[4].Entries) != 3 {
		t.Fatalf("%d pages, the last of %d", len(pages), len(pages[len(pages)-1].Entries))
	}
	// Back toward newer from the last page: the same pages again, and the
	// newest page has no cursor toward newer.
	q = AuditQuery{UserID: u.id, Limit: 5, After: pages[4].Newer}
	for i := 3; i >= 0; i-- {
		p, err := s.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := auditIDs(p), auditIDs(pages[i]); !slices.Equal(got, want) {
			t.Fatalf("newer page %d: got %v, want %v", i+1, got, want)
		}
		if (i == 0) != (p.Newer == nil) || p.Older == nil {
			t.Fatalf("newer page %d: cursors %v %v", i+1, p.Newer, p.Older)
		}
		q.After = p.Newer
	}
	// A newer page short of a full one is the newest page, whole.
	second := pages[0].Entries[3]
	p, err := s.ListAudit(ctx, AuditQuery{UserID: u.id, Limit: 5, After: &AuditCursor{At: second.At, ID: second.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(auditIDs(p), all[:5]) || p.Newer != nil {
		t.Errorf("short newer page: got %v (newer %v), want %v", auditIDs(p), p.Newer, all[:5])
	}

	// Cursors survive their URL form; bad ones are refused.
	c := *pages[1].Older
	back, err := ParseAuditCursor(c.String())
	if err != nil || !back.At.Equal(c.At) || back.ID != c.ID {
		t.Errorf("cursor %v came back as %v (%v)", c, back, err)
	}
	for _, bad := range []string{"", "12", "x_1", "1_x", "1_0", "1_-4", "99999999999999999999_1"} {
		if _, err := ParseAuditCursor(bad); !errors.Is(err, ErrBadAuditCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}

// TestPurgeAudit deletes, in several batches, only the entries older than
// the bound.
func TestPurgeAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	bound := time.Now().Add(-365 * 24 * time.Hour)
	old := 2*auditPurgeBatch + 7
	if _, err := s.pool.Exec(ctx, `INSERT INTO audit_log (at, action, outcome)
		SELECT $1::timestamptz - (i || ' seconds')::interval, 'instance.start', 'ok' FROM generate_series(1, $2) i`,
		bound, old); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{bound.Add(time.Second), time.Now()} {
		if _, err := s.InsertAudit(ctx, &AuditEntry{At: at, Action: "instance.stop", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PurgeAudit(ctx, bound)
	if err != nil || n != int64(old) {
		t.Fatalf("purged %d (%v), want %d", n, err, old)
	}
	p, err := s.ListAudit(ctx, AuditQuery{All: true})
	if err != nil || len(p.Entries) != 2 {
		t.Fatalf("left %v (%v), want the 2 recent entries", p, err)
	}
	if n, err := s.PurgeAudit(ctx, bound); err != nil || n != 0 {
		t.Errorf("second purge: %d %v", n, err)
	}
}
