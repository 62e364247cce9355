package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
)

// migratedStore returns a Store on a fresh database with every migration.
func migratedStore(t testing.TB) *Store {
	t.Helper()
	pool := pgtest.NewPool(t)
	m, err := NewMigrator(pool, ganetimgr.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	return New(pool)
}

func addCluster(t testing.TB, s *Store, slug string) int64 {
	t.Helper()
	var id int64
	err := s.pool.QueryRow(context.Background(), `INSERT INTO clusters (slug, hostname) VALUES ($1, $1 || '.example.org')
		RETURNING id`, slug).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var testStatuses = []string{"running", "ADMIN_down", "ERROR_down", "running"}

// testInstances makes n instances whose owners follow i: alice owns every
// third, bob every seventh, group devs every fifth.
func testInstances(clusterID int64, slug string, n int) []CachedInstance {
	out := make([]CachedInstance, 0, n)
	for i := range n {
		in := CachedInstance{
			ClusterID: clusterID, Name: fmt.Sprintf("vm%05d.%s.example.org", i, slug),
			UUID: fmt.Sprintf("uuid-%d-%d", clusterID, i), Status: testStatuses[i%4], AdminState: "up",
			OperState: i%4 != 1 && i%4 != 2, PNode: fmt.Sprintf("%s-node%d", slug, i%4+1),
			OS: "debootstrap+default", Hypervisor: "kvm", MemoryMB: 512 * (i%8 + 1), VCPUs: i%4 + 1,
			DiskTemplate: "plain", DiskSizesMB: []int64{10240},
			NICIPs:   []string{fmt.Sprintf("10.%d.%d.%d", clusterID, i/250, i%250+1)},
			NICMACs:  []string{fmt.Sprintf("aa:00:%02x:%02x:%02x:01", clusterID, i/256, i%256)},
			NICModes: []string{"bridged"}, NICLinks: []string{"br0"}, NICNetworks: []string{""},
			CTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), MTime: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		}
		if i%3 == 0 {
			in.OwnerUsers = append(in.OwnerUsers, "alice")
		}
		if i%7 == 0 {
			in.OwnerUsers = append(in.OwnerUsers, "bob")
		}
		if i%5 == 0 {
			in.OwnerGroups = append(in.OwnerGroups, "devs")
		}
		for _, u := range in.OwnerUsers {
			in.Tags = append(in.Tags, "ganetimgr:user:"+u)
		}
		for _, g := range in.OwnerGroups {
			in.Tags = append(in.Tags, "ganetimgr:group:"+g)
		}
		out = append(out, in)
	}
	return out
}

func saveInstances(t testing.TB, s *Store, clusterID int64, insts []CachedInstance) SaveResult {
	t.Helper()
	res, err := s.SaveClusterSnapshot(context.Background(), &ClusterSnapshot{ClusterID: clusterID,
		Info: ClusterInfo{Name: "c", SoftwareVersion: "3.0.2"}, Instances: insts,
		Skipped: []string{"nodes", "groups", "networks", "jobs"}, StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

type testUser struct {
	id     int64
	name   string
	groups []string
}

func addUser(t testing.TB, s *Store, name string, groups ...string) testUser {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, NewUser{Username: name, Email: name + "@example.org", IsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		var gid int64
		err := s.pool.QueryRow(ctx, `INSERT INTO groups (name) VALUES ($1)
			ON CONFLICT (lower(name)) DO UPDATE SET name = EXCLUDED.name RETURNING id`, g).Scan(&gid)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddGroupMember(ctx, gid, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	return testUser{id: u.ID, name: name, groups: groups}
}

// walk reads every page of q with a small page size.
func walk(t *testing.T, s *Store, q InstanceQuery, pageSize int) []string {
	t.Helper()
	var out []string
	q.Limit = pageSize
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("pagination does not end")
		}
		p, err := s.VisibleInstances(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Instances) > pageSize || (p.Next != "" && len(p.Instances) != pageSize) {
			t.Fatalf("page of %d rows (size %d), next %q", len(p.Instances), pageSize, p.Next)
		}
		for _, in := range p.Instances {
			out = append(out, fmt.Sprintf("%d/%s", in.ClusterID, in.Name))
		}
		if p.Next == "" {
			return out
		}
		q.After = p.Next
	}
}

func TestVisibleInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	east, west, off := addCluster(t, s, "east"), addCluster(t, s, "west"), addCluster(t, s, "off")
	all := map[int64][]CachedInstance{}
	for id, slug := range map[int64]string{east: "east", west: "west", off: "off"} {
		all[id] = testInstances(id, slug, 150)
		saveInstances(t, s, id, all[id])
	}
	if _, err := s.pool.Exec(ctx, `UPDATE clusters SET disabled = true WHERE id = $1`, off); err != nil {
		t.Fatal(err)
	}
	alice := addUser(t, s, "alice")
	carol := addUser(t, s, "carol", "devs", "other")
	bob := addUser(t, s, "bob")
	dave := addUser(t, s, "dave", "nobody")
	inactive := addUser(t, s, "erin", "devs")
	if _, err := s.pool.Exec(ctx, `UPDATE users SET is_active = false WHERE id = $1`, inactive.id); err != nil {
		t.Fatal(err)
	}

	// expect lists, in Go, the instances of enabled clusters matching f.
	expect := func(f func(in *CachedInstance, slug string) bool) []string {
		var out []string
		for id, list := range all {
			if id == off {
				continue
			}
			slug := map[int64]string{east: "east", west: "west"}[id]
			for i := range list {
				if f(&list[i], slug) {
					out = append(out, fmt.Sprintf("%d/%s", id, list[i].Name))
				}
			}
		}
		slices.Sort(out)
		return out
	}
	owns := func(u testUser) func(*CachedInstance, string) bool {
		return func(in *CachedInstance, _ string) bool {
			if slices.Contains(in.OwnerUsers, u.name) {
				return true
			}
			for _, g := range u.groups {
				if slices.Contains(in.OwnerGroups, g) {
					return true
				}
			}
			return false
		}
	}
	everything := func(*CachedInstance, string) bool { return true }

	cases := []struct {
		name string
		q    InstanceQuery
		want []string
	}{
		{"alice by tag", InstanceQuery{UserID: alice.id}, expect(owns(alice))},
		{"carol by group", InstanceQuery{UserID: carol.id}, expect(owns(carol))},
		{"bob", InstanceQuery{UserID: bob.id, Sort: SortByMemory, Desc: true}, expect(owns(bob))},
		{"dave owns nothing", InstanceQuery{UserID: dave.id}, nil},
		{"inactive user sees nothing", InstanceQuery{UserID: inactive.id}, nil},
		{"unknown user sees nothing", InstanceQuery{UserID: 999999}, nil},
		{"all", InstanceQuery{All: true}, expect(everything)},
		{"all with disabled", InstanceQuery{All: true, IncludeDisabled: true}, func() []string {
			var out []string
			for id, list := range all {
				for _, in := range list {
					out = append(out, fmt.Sprintf("%d/%s", id, in.Name))
				}
			}
			slices.Sort(out)
			return out
		}()},
		{"status filter", InstanceQuery{All: true, Statuses: []string{"ADMIN_down", "ERROR_down"}, Sort: SortByStatus},
			expect(func(in *CachedInstance, _ string) bool { return in.Status != "running" })},
		{"cluster filter", InstanceQuery{UserID: alice.id, ClusterIDs: []int64{west}, Sort: SortByCluster},
			expect(func(in *CachedInstance, s string) bool { return s == "west" && owns(alice)(in, s) })},
		{"search name", InstanceQuery{All: true, Search: "VM0012", Sort: SortByVCPUs},
			expect(func(in *CachedInstance, _ string) bool { return strings.Contains(in.Name, "vm0012") })},
		{"search ip", InstanceQuery{All: true, Search: "10.2.0.1"},
			expect(func(in *CachedInstance, _ string) bool { return strings.Contains(in.NICIPs[0], "10.2.0.1") })},
		{"search mac", InstanceQuery{All: true, Search: "AA:00:01:00:1"},
			expect(func(in *CachedInstance, _ string) bool { return strings.Contains(in.NICMACs[0], "aa:00:01:00:1") })},
		{"search owner", InstanceQuery{All: true, Search: "bo"},
			expect(func(in *CachedInstance, _ string) bool { return slices.Contains(in.OwnerUsers, "bob") })},
		{"search group owner", InstanceQuery{All: true, Search: "devs"},
			expect(func(in *CachedInstance, _ string) bool { return slices.Contains(in.OwnerGroups, "devs") })},
		{"search cluster and node", InstanceQuery{All: true, Search: "east node3", Sort: SortByNode},
			expect(func(in *CachedInstance, s string) bool { return s == "east" && strings.HasSuffix(in.PNode, "node3") })},
		{"search wildcard is literal", InstanceQuery{All: true, Search: "%"}, nil},
		{"user search", InstanceQuery{UserID: carol.id, Search: "west"},
			expect(func(in *CachedInstance, s string) bool { return s == "west" && owns(carol)(in, s) })},
	}
	for _, tc := range cases {
		for _, sort := range []InstanceSort{tc.q.Sort, SortByName} {
			for _, desc := range []bool{tc.q.Desc, !tc.q.Desc} {
				q := tc.q
				q.Sort, q.Desc = sort, desc
				full := walk(t, s, q, 1000)
				got := slices.Clone(full)
				slices.Sort(got)
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s (sort %s desc %v): got %d instances, want %d\n got %.300v\nwant %.300v",
						tc.name, sort, desc, len(got), len(tc.want), got, tc.want)
					continue
				}
				// Keyset pages of 7 give the same sequence: no duplicate,
				// no gap.
				if paged := walk(t, s, q, 7); !slices.Equal(paged, full) {
					t.Errorf("%s (sort %s desc %v): pages differ from the whole list", tc.name, sort, desc)
				}
			}
		}
	}

	// Order checks on the whole list.
	p, err := s.VisibleInstances(ctx, InstanceQuery{All: true, Sort: SortByMemory, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(p.Instances); i++ {
		if p.Instances[i-1].MemoryMB > p.Instances[i].MemoryMB {
			t.Fatalf("memory order broken at %d", i)
		}
	}
	p, _ = s.VisibleInstances(ctx, InstanceQuery{All: true, Sort: SortByCluster, Limit: 1000})
	if p.Instances[0].ClusterSlug != "east" || p.Instances[len(p.Instances)-1].ClusterSlug != "west" {
		t.Errorf("cluster order: first %s, last %s", p.Instances[0].ClusterSlug, p.Instances[len(p.Instances)-1].ClusterSlug)
	}

	// Bad input.
	if _, err := s.VisibleInstances(ctx, InstanceQuery{All: true, Sort: "bogus"}); err == nil {
		t.Error("unknown sort accepted")
	}
	p, _ = s.VisibleInstances(ctx, InstanceQuery{All: true, Limit: 5})
	if _, err := s.VisibleInstances(ctx, InstanceQuery{All: true, Sort: SortByMemory, After: p.Next}); err == nil {
		t.Error("cursor of another sort accepted")
	}
	if _, err := s.VisibleInstances(ctx, InstanceQuery{All: true, After: "!!"}); err == nil {
		t.Error("garbage cursor accepted")
	}
}

// TestSaveSnapshotOnlyWritesChanges checks the diffing of
// SaveClusterSnapshot at the row level.
func TestSaveSnapshotOnlyWritesChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	id := addCluster(t, s, "diff")
	insts := testInstances(id, "diff", 50)
	if r := saveInstances(t, s, id, insts); r.Changed != 51 { // 50 rows + the cluster info
		t.Errorf("first save changed %d", r.Changed)
	}
	r1 := saveInstances(t, s, id, insts)
	if r1.Changed != 0 {
		t.Errorf("unchanged save changed %d", r1.Changed)
	}
	insts[3].Status = "ERROR_down"
	insts = append(insts[:10], insts[11:]...)
	r2 := saveInstances(t, s, id, insts)
	if r2.Changed != 2 || r2.DataVersion <= r1.DataVersion {
		t.Errorf("one update and one delete: changed %d, version %d → %d", r2.Changed, r1.DataVersion, r2.DataVersion)
	}
	var n int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM cluster_instances WHERE cluster_id = $1`, id).Scan(&n)
	if n != 49 {
		t.Errorf("%d rows, want 49", n)
	}
	// Editing the cluster row bumps the version (what pages show depends
	// on it), and so does the cache version.
	v0, _ := s.ClusterCacheVersion(ctx)
	s.pool.Exec(ctx, `UPDATE clusters SET description = 'x' WHERE id = $1`, id)
	st, _ := s.ClusterSyncStatus(ctx, id)
	v1, _ := s.ClusterCacheVersion(ctx)
	if st.DataVersion <= r2.DataVersion || v1 == v0 {
		t.Errorf("cluster edit: data version %d (was %d), cache version %s (was %s)", st.DataVersion, r2.DataVersion, v1, v0)
	}
}
