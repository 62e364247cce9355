package listindex_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/listindex"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var (
	statuses = []string{"running", "ADMIN_down", "ERROR_down", "ERROR_nodedown", "ERROR_wrongnode"}
	people   = []string{"alice", "bob", "carol", "dave"}
	teams    = []string{"devs", "ops", "lab"}
	// name shapes whose bytewise order differs from a natural-language one
	shapes = []string{"vm%d.example.org", "VM-%d.example.org", "web_%d.lab.example.net", "a%d", "z-%d.x", "db.%d"}
)

// fixture fills a database with three clusters of instances with random
// owners, statuses, sizes and nodes, and returns the store, the cluster
// ids and the entries as the web loads them.
func fixture(t *testing.T, rng *rand.Rand) (*store.Store, []int64, []*store.CachedInstance) {
	t.Helper()
	ctx := context.Background()
	s := storetest.NewStore(t)
	var ids []int64
	var entries []*store.CachedInstance
	for c, slug := range []string{"alpha", "beta", "gamma-2"} {
		cl, err := s.CreateCluster(ctx, store.ClusterInput{Slug: slug, Hostname: slug + ".example.org", Port: 5080,
			RAPIUsername: "u", RAPIPassword: []byte("sealed"), TLSFingerprint: strings.Repeat("ab", 32)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cl.ID)
		var insts []store.CachedInstance
		for i := range 150 + 50*c {
			in := store.CachedInstance{ClusterID: cl.ID, Name: fmt.Sprintf(shapes[rng.IntN(len(shapes))], rng.IntN(400)),
				Status: statuses[rng.IntN(len(statuses))], AdminState: "up", PNode: fmt.Sprintf("node%d", rng.IntN(5)),
				MemoryMB: 512 * (1 + rng.IntN(4)), VCPUs: 1 + rng.IntN(3), DiskTemplate: "plain",
				NICIPs:  []string{fmt.Sprintf("10.%d.%d.%d", c, i/200, i%200)},
				NICMACs: []string{fmt.Sprintf("aa:00:00:%02x:%02x:%02x", c, i/256, i%256)}}
			if slices.ContainsFunc(insts, func(o store.CachedInstance) bool { return o.Name == in.Name }) {
				continue
			}
			for _, p := range people {
				if rng.IntN(4) == 0 {
					in.OwnerUsers = append(in.OwnerUsers, p)
				}
			}
			for _, g := range teams {
				if rng.IntN(5) == 0 {
					in.OwnerGroups = append(in.OwnerGroups, g)
				}
			}
			insts = append(insts, in)
		}
		_, err = s.SaveClusterSnapshot(ctx, &store.ClusterSnapshot{ClusterID: cl.ID,
			Info: store.ClusterInfo{Name: slug, SoftwareVersion: "3.0.2"}, Instances: insts,
			Skipped: []string{"nodes", "groups", "networks", "jobs"}, StartedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		es, err := s.InstanceListEntries(ctx, cl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(insts) {
			t.Fatalf("%s: %d entries, want %d", slug, len(es), len(insts))
		}
		entries = append(entries, es...)
	}
	return s, ids, entries
}

// TestIndexMatchesSQL pages through many random queries both in SQL
// (store.VisibleInstances, the reference) and in the index, and requires
// the same rows in the same order and the same cursors, page by page.
func TestIndexMatchesSQL(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 2))
	s, clusterIDs, entries := fixture(t, rng)
	ix := listindex.New(entries)
	if ix.Len() != len(entries) {
		t.Fatalf("Len = %d, want %d", ix.Len(), len(entries))
	}
	type viewer struct {
		id     int64
		name   string
		groups []string
	}
	groupIDs := map[string]int64{}
	for _, g := range teams {
		gr, err := s.CreateGroup(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		groupIDs[g] = gr.ID
	}
	var viewers []viewer
	for i, p := range people {
		u, err := s.CreateUser(ctx, store.NewUser{Username: p, Email: p + "@example.org", IsActive: true})
		if err != nil {
			t.Fatal(err)
		}
		var groups []string
		for j, g := range teams {
			if (i+j)%2 == 0 {
				continue
			}
			if err := s.AddGroupMember(ctx, groupIDs[g], u.ID); err != nil {
				t.Fatal(err)
			}
			groups = append(groups, g)
		}
		viewers = append(viewers, viewer{u.ID, p, groups})
	}
	sorts := []store.InstanceSort{store.SortByName, store.SortByCluster, store.SortByStatus, store.SortByMemory,
		store.SortByVCPUs, store.SortByNode}
	searches := []string{"", "vm", "EXAMPLE org", "10.1.", "aa:00:00:02", "alice", "devs", "node3", "beta", "gamma-2 vm",
		"nomatch", "_", "%"}
	for n := range 300 {
		v := viewers[rng.IntN(len(viewers))]
		q := store.InstanceQuery{UserID: v.id, All: rng.IntN(3) == 0, Sort: sorts[rng.IntN(len(sorts))],
			Desc: rng.IntN(2) == 0, Limit: 1 + rng.IntN(60), KeysOnly: true}
		if rng.IntN(4) == 0 {
			q.ClusterIDs = []int64{clusterIDs[rng.IntN(len(clusterIDs))]}
		}
		if rng.IntN(4) == 0 {
			q.Statuses = []string{statuses[rng.IntN(len(statuses))], statuses[rng.IntN(len(statuses))]}
		}
		if rng.IntN(3) == 0 {
			q.Search = searches[rng.IntN(len(searches))]
		}
		iq := listindex.Query{All: q.All, Username: v.name, Groups: v.groups, ClusterIDs: q.ClusterIDs,
			Statuses: q.Statuses, Search: q.Search, Sort: q.Sort, Desc: q.Desc, Limit: q.Limit}
		total := 0
		for page := 0; ; page++ {
			want, err := s.VisibleInstances(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ix.Page(iq)
			if err != nil {
				t.Fatal(err)
			}
			if w, g := keys(want), keys(&got.InstancePage); !slices.Equal(w, g) || want.Next != got.Next {
				t.Fatalf("query %d (%+v) page %d:\nSQL   %v next %q\nindex %v next %q", n, iq, page, w, want.Next, g, got.Next)
			}
			total += len(got.Instances)
			if got.Next == "" {
				break
			}
			q.After, iq.After = got.Next, got.Next
		}
		if n == 0 && total == 0 {
			t.Fatal("the first query found nothing: the fixture is wrong")
		}
	}
}

func keys(p *store.InstancePage) []string {
	out := make([]string, len(p.Instances))
	for i, in := range p.Instances {
		out[i] = fmt.Sprintf("%d/%s", in.ClusterID, in.Name)
	}
	return out
}

// TestIndexVisibility checks the visibility rule on a small hand-made set,
// twice: the second time a user's rows come from the index's memory, which
// must not confuse two lists of groups (joined, they would read alike).
func TestIndexVisibility(t *testing.T) {
	mk := func(name string, users, groups []string) *store.CachedInstance {
		return &store.CachedInstance{ClusterID: 1, ClusterSlug: "c", Name: name, Status: "running",
			OwnerUsers: users, OwnerGroups: groups, SearchText: name}
	}
	rows := []*store.CachedInstance{
		mk("a", []string{"alice"}, nil),
		mk("b", []string{"bob", "bob"}, []string{"ops"}),
		mk("c", nil, []string{"devs", "ops"}),
		mk("d", nil, nil),
		mk("e", []string{"Alice"}, nil),
	}
	ix := listindex.New(rows)
	for pass := range 2 {
		for _, tc := range []struct {
			q    listindex.Query
			want []string
		}{
			{listindex.Query{Username: "alice"}, []string{"a"}},
			{listindex.Query{Username: "alice", Groups: []string{"ops"}}, []string{"a", "b", "c"}},
			{listindex.Query{Username: "bob", Groups: []string{"ops", "devs"}}, []string{"b", "c"}},
			{listindex.Query{Username: "nobody"}, []string{}},
			{listindex.Query{Groups: []string{"Ops"}}, []string{}},
			{listindex.Query{All: true}, []string{"a", "b", "c", "d", "e"}},
			{listindex.Query{All: true, Desc: true, Limit: 2}, []string{"e", "d"}},
			{listindex.Query{Username: "bob", Groups: []string{"ops\x00devs"}}, []string{"b"}},
			{listindex.Query{Username: "bob", Groups: []string{"devs"}}, []string{"b", "c"}},
			{listindex.Query{Username: "alice", Groups: []string{"ops"}, Desc: true}, []string{"c", "b", "a"}},
			{listindex.Query{Username: "alice", Groups: []string{"ops"}, Sort: store.SortByMemory}, []string{"a", "b", "c"}},
		} {
			p, err := ix.Page(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for i, in := range p.Instances {
				got = append(got, in.Name)
				if p.Rows[i] < 0 || int(p.Rows[i]) >= len(rows) || rows[p.Rows[i]] != in {
					t.Errorf("%+v: instance %s is not at its row %d", tc.q, in.Name, p.Rows[i])
				}
			}
			if len(p.Rows) != len(p.Instances) {
				t.Errorf("%+v: %d rows for %d instances", tc.q, len(p.Rows), len(p.Instances))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("pass %d, %+v: got %v, want %v", pass, tc.q, got, tc.want)
			}
		}
	}
	if _, err := ix.Page(listindex.Query{All: true, Sort: "bogus"}); err == nil {
		t.Error("an unknown sort was accepted")
	}
	if _, err := ix.Page(listindex.Query{All: true, After: "not-a-cursor"}); err == nil {
		t.Error("a bad cursor was accepted")
	}
}
