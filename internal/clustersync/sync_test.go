package clustersync_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

// TestSyncFillsCache syncs a fake cluster once and compares the cache with
// what the fake's RAPI reports.
func TestSyncFillsCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	f := e.fake(rapifake.Options{Name: "alpha.example.org", Instances: 40, Nodes: 4, Groups: 2, Networks: 2,
		Owners: []string{"alice", "bob"}, OwnerGroups: []string{"ops"}, Hypervisor: "kvm"})
	c := e.register("alpha", f, rapiPass)
	s := e.syncer(e.fastOptions(nil))
	if err := s.SyncNow(ctx, c); err != nil {
		t.Fatal(err)
	}

	st := e.status(c.ID)
	if st.LastSuccessAt.IsZero() || st.LastError != "" || st.ConsecutiveFailures != 0 || st.DataVersion == 0 {
		t.Errorf("status after a sync: %+v", st)
	}
	if st.InstanceCount != 40 || st.NodeCount != 4 {
		t.Errorf("counts: %d instances, %d nodes; want 40, 4", st.InstanceCount, st.NodeCount)
	}
	if st.Info.Name != "alpha.example.org" || !strings.HasPrefix(st.Info.SoftwareVersion, "3.0") ||
		st.Info.MasterNode == "" || len(st.Info.EnabledDiskTemplates) == 0 || len(st.Info.IPolicy) == 0 {
		t.Errorf("cluster info: %+v", st.Info)
	}
	for table, want := range map[string]int{"cluster_instances": 40, "cluster_nodes": 4, "cluster_node_groups": 2,
		"cluster_networks": 2} {
		if n := e.count(`SELECT count(*) FROM `+table+` WHERE cluster_id = $1`, c.ID); n != want {
			t.Errorf("%s: %d rows, want %d", table, n, want)
		}
	}

	// Field by field against the fake's own answers.
	rc := client(t, f)
	codec, _ := tags.New("")
	for _, name := range f.InstanceNames()[:5] {
		want, err := rc.Instance(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.st.CachedInstance(ctx, c.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		p := codec.Parse(want.Tags)
		checks := []struct {
			field     string
			got, want any
		}{
			{"status", got.Status, string(want.Status)},
			{"admin_state", got.AdminState, want.AdminState},
			{"oper_state", got.OperState, want.OperState},
			{"pnode", got.PNode, want.PNode},
			{"snodes", strings.Join(got.SNodes, ","), strings.Join(want.SNodes, ",")},
			{"os", got.OS, want.OS},
			{"memory", got.MemoryMB, want.BeParams.MaxMem},
			{"vcpus", got.VCPUs, want.BeParams.VCPUs},
			{"disk_template", got.DiskTemplate, want.DiskTemplate},
			{"disk_sizes", slices.Equal(got.DiskSizesMB, want.DiskSizes), true},
			{"nic_ips", strings.Join(got.NICIPs, ","), strings.Join(want.NICIPs, ",")},
			{"nic_macs", strings.Join(got.NICMACs, ","), strings.Join(want.NICMACs, ",")},
			{"nic_links", strings.Join(got.NICLinks, ","), strings.Join(want.NICLinks, ",")},
			{"nic_modes", strings.Join(got.NICModes, ","), strings.Join(want.NICModes, ",")},
			{"nic_networks", strings.Join(got.NICNetworks, ","), strings.Join(want.NICNetworkNames, ",")},
			{"network_port", got.NetworkPort, want.NetworkPort},
			{"tags", strings.Join(got.Tags, ","), strings.Join(want.Tags, ",")},
			{"owner_users", strings.Join(got.OwnerUsers, ","), strings.Join(p.Users, ",")},
			{"owner_groups", strings.Join(got.OwnerGroups, ","), strings.Join(p.Groups, ",")},
			{"ctime", got.CTime.Equal(want.CTime.Time), true},
			{"mtime", got.MTime.Equal(want.MTime.Time), true},
			{"cluster slug", got.ClusterSlug, "alpha"},
		}
		for _, ch := range checks {
			if ch.got != ch.want {
				t.Errorf("%s %s: got %v, want %v", name, ch.field, ch.got, ch.want)
			}
		}
		if got.NodeGroup == "" {
			t.Errorf("%s: node group of %s unknown", name, got.PNode)
		}
	}
	// Owners were distributed over the instances: both users and the group
	// own some.
	for _, q := range []string{`'alice' = ANY(owner_users)`, `'bob' = ANY(owner_users)`, `'ops' = ANY(owner_groups)`} {
		if n := e.count(`SELECT count(*) FROM cluster_instances WHERE ` + q); n == 0 {
			t.Errorf("no instance with %s", q)
		}
	}
	nodes, _ := e.st.CachedNodes(ctx, c.ID)
	masters := 0
	for _, n := range nodes {
		if n.Role == store.NodeRoleMaster {
			masters++
			if n.Name != st.Info.MasterNode {
				t.Errorf("master node %s, info says %s", n.Name, st.Info.MasterNode)
			}
		}
		if n.NodeGroup == "" || n.MemoryTotalMB == 0 || n.CPUs == 0 {
			t.Errorf("node %+v", n)
		}
	}
	if masters != 1 {
		t.Errorf("%d master nodes", masters)
	}
	groups, _ := e.st.CachedNodeGroups(ctx, c.ID)
	for _, g := range groups {
		if len(g.Nodes) == 0 || len(g.Networks) != 2 || len(g.IPolicy) == 0 {
			t.Errorf("group %+v", g)
		}
	}
	nets, _ := e.st.CachedNetworks(ctx, c.ID)
	for _, n := range nets {
		if n.Network == "" || len(n.Groups) != 2 || n.Groups[0].Link == "" || n.FreeCount == 0 {
			t.Errorf("network %+v", n)
		}
	}
}

// TestSyncChanges checks that an unchanged cluster does not bump the data
// version and that every kind of change does.
func TestSyncChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	f := e.fake(rapifake.Options{Instances: 12, Owners: []string{"alice"}})
	c := e.register("beta", f, rapiPass)
	s := e.syncer(e.fastOptions(nil))
	sync := func() int64 {
		t.Helper()
		if err := s.SyncNow(ctx, c); err != nil {
			t.Fatal(err)
		}
		return e.status(c.ID).DataVersion
	}
	v1 := sync()
	if v2 := sync(); v2 != v1 {
		t.Fatalf("data version went from %d to %d without a change", v1, v2)
	}
	synced := e.count(`SELECT count(*) FROM cluster_instances WHERE cluster_id = $1 AND synced_at > now() - interval '1 hour'`, c.ID)
	if synced != 12 {
		t.Fatalf("%d rows", synced)
	}

	// A state change.
	name := f.InstanceNames()[0]
	if err := f.SetInstanceState(name, "up", false); err != nil {
		t.Fatal(err)
	}
	v3 := sync()
	if v3 <= v1 {
		t.Errorf("data version %d after a state change, was %d", v3, v1)
	}
	in, err := e.st.CachedInstance(ctx, c.ID, name)
	if err != nil || in.Status != string(rapi.StatusErrorDown) || in.OperState {
		t.Errorf("after SetInstanceState: %+v, %v; want ERROR_down", in, err)
	}

	// A new instance through the RAPI, with ownership tags.
	rc := client(t, f)
	job, err := rc.CreateInstance(ctx, rapi.InstanceCreate{Name: "new1.example.org", DiskTemplate: "diskless",
		OS: "noop", BeParams: map[string]any{"maxmem": 256, "vcpus": 2}, NICs: []rapi.NICSpec{{}},
		Tags: []string{"ganetimgr:user:carol", "ganetimgr:group:devs", "ganetimgr:adminlock"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.WaitJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	v4 := sync()
	if v4 <= v3 {
		t.Errorf("data version %d after a new instance, was %d", v4, v3)
	}
	in, err = e.st.CachedInstance(ctx, c.ID, "new1.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.OwnerUsers, []string{"carol"}) || !slices.Equal(in.OwnerGroups, []string{"devs"}) ||
		!in.AdminLock || in.Isolate || in.MemoryMB != 256 || in.VCPUs != 2 {
		t.Errorf("new instance: %+v", in)
	}
	jobs, _ := e.st.CachedJobs(ctx, c.ID, 10)
	if len(jobs) == 0 || jobs[0].ID != int64(job) || jobs[0].Status != "success" ||
		!slices.Contains(jobs[0].OpIDs, "OP_INSTANCE_CREATE") || !slices.Contains(jobs[0].Instances, "new1.example.org") {
		t.Errorf("jobs: %+v", jobs)
	}

	// A deleted instance.
	job, err = rc.DeleteInstance(ctx, name, rapi.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.WaitJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	v5 := sync()
	if v5 <= v4 {
		t.Errorf("data version %d after a deletion, was %d", v5, v4)
	}
	if _, err := e.st.CachedInstance(ctx, c.ID, name); err != store.ErrNotFound {
		t.Errorf("deleted instance still cached: %v", err)
	}
	if st := e.status(c.ID); st.InstanceCount != 12 {
		t.Errorf("instance count %d, want 12", st.InstanceCount)
	}
	if v6 := sync(); v6 != v5 {
		t.Errorf("data version %d, want %d (no change)", v6, v5)
	}
}

// TestRefreshInstance updates, then deletes, one cached instance.
func TestRefreshInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	f := e.fake(rapifake.Options{Instances: 5, Hypervisor: "kvm"})
	c := e.register("gamma", f, rapiPass)
	s := e.syncer(e.fastOptions(nil))
	if err := s.SyncNow(ctx, c); err != nil {
		t.Fatal(err)
	}
	name := f.InstanceNames()[1]
	before, _ := e.st.CachedInstance(ctx, c.ID, name)
	v0 := e.status(c.ID).DataVersion
	f.ResetCounts()

	// Unchanged: no new version.
	if err := s.RefreshInstance(ctx, c.ID, name); err != nil {
		t.Fatal(err)
	}
	if v := e.status(c.ID).DataVersion; v != v0 {
		t.Errorf("refresh without change bumped the version %d → %d", v0, v)
	}
	if err := f.SetInstanceState(name, "down", false); err != nil {
		t.Fatal(err)
	}
	if err := s.RefreshInstance(ctx, c.ID, name); err != nil {
		t.Fatal(err)
	}
	after, _ := e.st.CachedInstance(ctx, c.ID, name)
	if after.Status != string(rapi.StatusAdminDown) || after.NodeGroup != before.NodeGroup ||
		after.Hypervisor != before.Hypervisor || e.status(c.ID).DataVersion <= v0 {
		t.Errorf("after refresh: %+v (before %+v)", after, before)
	}
	if n := f.RequestCount(); n != 2 || f.PathCount("/2/instances/"+name) != 2 {
		t.Errorf("refresh made %d requests (%v), want 2 GET /2/instances/<name>", n, f.PathCounts())
	}
	// A full sync afterwards finds the row as the bulk answer has it (it
	// does change the nodes: the stopped instance freed memory).
	if err := s.SyncNow(ctx, c); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.st.CachedInstance(ctx, c.ID, name); !again.SyncedAt.Equal(after.SyncedAt) {
		t.Errorf("full sync rewrote the refreshed row: %+v", again)
	}

	rc := client(t, f)
	job, err := rc.DeleteInstance(ctx, name, rapi.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.WaitJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := s.RefreshInstance(ctx, c.ID, name); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CachedInstance(ctx, c.ID, name); err != store.ErrNotFound {
		t.Errorf("refresh of a deleted instance left it cached: %v", err)
	}
}

// TestFaultyClustersDoNotBlock runs a hung cluster, one answering 503 and
// a healthy one together.
func TestFaultyClustersDoNotBlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	healthyF := e.fake(rapifake.Options{Name: "ok.example.org", Instances: 20})
	hungF := e.fake(rapifake.Options{Name: "hung.example.org", Instances: 20})
	badF := e.fake(rapifake.Options{Name: "bad.example.org", Instances: 20})
	authF := e.fake(rapifake.Options{Name: "auth.example.org", Instances: 2})
	healthy := e.register("healthy", healthyF, rapiPass)
	hung := e.register("hung", hungF, rapiPass)
	bad := e.register("bad", badF, rapiPass)
	wrongPass := "wrong-password-do-not-leak"
	auth := e.register("auth", authF, wrongPass)
	hungF.SetHang(true)
	badF.SetErrorStatus(http.StatusServiceUnavailable)

	log := newSyncLog()
	opts := e.fastOptions(log)
	// A hung call ends after the response timeout; each cluster waits on
	// its own.
	opts.Interval, opts.ResponseTimeout = 500*time.Millisecond, time.Second
	s := e.syncer(opts)
	start := time.Now()
	stop := run(t, s)
	time.Sleep(3 * time.Second)
	stop()
	elapsed := time.Since(start)

	// The healthy cluster kept its pace while the hung one blocked for a
	// response timeout per sync: at least one sync per interval (+10%
	// jitter) plus the time a sync takes here.
	ok, fail := log.counts(healthy.ID)
	last := e.status(healthy.ID).LastDuration
	wantMin := int(elapsed/(opts.Interval*11/10+last)) - 1
	if fail != 0 || ok < wantMin || ok < 2 {
		t.Errorf("healthy cluster: %d syncs, %d failures in %s; want at least %d syncs", ok, fail, elapsed, max(wantMin, 2))
	}
	fr := s.Freshness()
	now := time.Now()
	if st := e.status(healthy.ID); fr.Stale(st, now) || st.LastError != "" || st.InstanceCount != 20 {
		t.Errorf("healthy cluster status: %+v", st)
	}
	for _, c := range []*store.Cluster{hung, bad, auth} {
		st := e.status(c.ID)
		ok, fail := log.counts(c.ID)
		t.Logf("%s: %d failures, last error %q", c.Slug, fail, st.LastError)
		if ok != 0 || fail < 2 || st.ConsecutiveFailures < 2 || st.LastError == "" || !st.LastSuccessAt.IsZero() {
			t.Errorf("%s: %d ok, %d failed, status %+v", c.Slug, ok, fail, st)
		}
		if !fr.Stale(st, now) {
			t.Errorf("%s not stale after %s (age %s)", c.Slug, elapsed, fr.DataAge(st, now))
		}
		if strings.Contains(st.LastError, wrongPass) || strings.Contains(st.LastError, rapiPass) {
			t.Errorf("%s: the recorded error holds the RAPI password: %q", c.Slug, st.LastError)
		}
	}
	if st := e.status(hung.ID); !strings.Contains(st.LastError, "did not answer in time") {
		t.Errorf("hung cluster error %q", st.LastError)
	}
	if st := e.status(bad.ID); !strings.Contains(st.LastError, "503") {
		t.Errorf("5xx cluster error %q", st.LastError)
	}
	if st := e.status(auth.ID); !strings.Contains(st.LastError, "401") {
		t.Errorf("wrong password error %q", st.LastError)
	}

	// The hung cluster comes back: it syncs and is fresh again.
	hungF.SetHang(false)
	stop2 := run(t, e.syncer(opts))
	eventually(t, 10*time.Second, "the recovered cluster to sync", func() bool {
		st := e.status(hung.ID)
		return st.ConsecutiveFailures == 0 && !st.LastSuccessAt.IsZero() && st.InstanceCount == 20
	})
	if st := e.status(hung.ID); st.LastError != "" || fr.Stale(st, st.LastSuccessAt) {
		t.Errorf("recovered cluster: %+v", st)
	}
	stop2()
}

// TestOneSyncerPerCluster runs two syncers (two replicas) on one database.
func TestOneSyncerPerCluster(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var fakes []*rapifake.Cluster
	var clusters []*store.Cluster
	for _, slug := range []string{"c1", "c2", "c3", "c4"} {
		f := e.fake(rapifake.Options{Name: slug + ".example.org", Instances: 5})
		fakes = append(fakes, f)
		clusters = append(clusters, e.register(slug, f, rapiPass))
	}
	logA, logB := newSyncLog(), newSyncLog()
	optsA, optsB := e.fastOptions(logA), e.fastOptions(logB)
	optsA.ReplicaID, optsB.ReplicaID = "replica-a", "replica-b"
	stopA := run(t, e.syncer(optsA))
	stopB := run(t, e.syncer(optsB))
	time.Sleep(2 * time.Second)

	// Every cluster synced, each by exactly one replica, and the fake saw
	// exactly one /2/info per sync.
	owner := map[int64]string{}
	for i, c := range clusters {
		okA, failA := logA.counts(c.ID)
		okB, failB := logB.counts(c.ID)
		okA, okB = okA+failA, okB+failB // attempts: a slow machine may time out
		if (okA == 0) == (okB == 0) {
			t.Errorf("%s synced %d times by A and %d by B; want one replica only", c.Slug, okA, okB)
		}
		if info := fakes[i].PathCount("/2/info"); info != int64(okA+okB) && info != int64(okA+okB+1) {
			// (+1: a sync may be in flight at the moment of counting)
			t.Errorf("%s: %d /2/info requests for %d syncs", c.Slug, info, okA+okB)
		}
		owner[c.ID] = "replica-a"
		if okB > 0 {
			owner[c.ID] = "replica-b"
		}
		if st := e.status(c.ID); st.SyncedBy != owner[c.ID] {
			t.Errorf("%s synced_by %q, want %q", c.Slug, st.SyncedBy, owner[c.ID])
		}
	}
	holders, err := e.st.ClusterSyncHolders(context.Background())
	if err != nil || len(holders) != len(clusters) {
		t.Errorf("lock holders %v, %v; want one per cluster", holders, err)
	}

	// Stop the replica that owns the first cluster: the other takes over.
	first := clusters[0]
	stopOwner, survivorLog, survivor := stopA, logB, "replica-b"
	if owner[first.ID] == "replica-b" {
		stopOwner, survivorLog, survivor = stopB, logA, "replica-a"
	}
	before, _ := survivorLog.counts(first.ID)
	stopOwner()
	eventually(t, 5*time.Second, "the surviving replica to take over", func() bool {
		n, _ := survivorLog.counts(first.ID)
		return n > before+1
	})
	if st := e.status(first.ID); st.SyncedBy != survivor {
		t.Errorf("after takeover synced_by %q, want %q", st.SyncedBy, survivor)
	}
}

// TestClusterLifecycle adds, disables, re-enables and deletes a cluster
// while a syncer runs with a long interval: only notifications can make it
// react in time.
func TestClusterLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	log := newSyncLog()
	opts := e.fastOptions(log)
	opts.Interval = time.Hour
	run(t, e.syncer(opts))
	time.Sleep(200 * time.Millisecond) // the syncer listens

	f := e.fake(rapifake.Options{Instances: 7})
	c := e.register("life", f, rapiPass)
	eventually(t, 3*time.Second, "a new cluster to sync at once", func() bool {
		ok, _ := log.counts(c.ID)
		return ok == 1
	})
	if n := e.count(`SELECT count(*) FROM cluster_instances WHERE cluster_id = $1`, c.ID); n != 7 {
		t.Errorf("%d instances cached", n)
	}

	e.exec(`UPDATE clusters SET disabled = true WHERE id = $1`, c.ID)
	eventually(t, 3*time.Second, "the sync lock of a disabled cluster to go", func() bool {
		h, _ := e.st.ClusterSyncHolders(context.Background())
		_, held := h[c.ID]
		return !held
	})
	e.exec(`UPDATE clusters SET disabled = false WHERE id = $1`, c.ID)
	eventually(t, 3*time.Second, "a re-enabled cluster to sync at once", func() bool {
		ok, _ := log.counts(c.ID)
		return ok == 2
	})

	// New credentials (an admin edit): the sync restarts with them.
	if err := f.SetInstanceState(f.InstanceNames()[0], "down", false); err != nil {
		t.Fatal(err)
	}
	sealed, _ := e.box.Seal(rapiPass)
	e.exec(`UPDATE clusters SET rapi_password = $2 WHERE id = $1`, c.ID, sealed)
	eventually(t, 3*time.Second, "a cluster with new credentials to sync at once", func() bool {
		ok, _ := log.counts(c.ID)
		return ok == 3
	})

	requests := f.RequestCount()
	e.exec(`DELETE FROM clusters WHERE id = $1`, c.ID)
	eventually(t, 3*time.Second, "a deleted cluster's lock to go", func() bool {
		h, _ := e.st.ClusterSyncHolders(context.Background())
		_, held := h[c.ID]
		return !held
	})
	for _, table := range []string{"cluster_sync", "cluster_instances", "cluster_nodes", "cluster_node_groups",
		"cluster_networks", "cluster_jobs"} {
		if n := e.count(`SELECT count(*) FROM `+table+` WHERE cluster_id = $1`, c.ID); n != 0 {
			t.Errorf("%s: %d rows of the deleted cluster", table, n)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := f.RequestCount(); n != requests {
		t.Errorf("%d requests to a deleted cluster", n-requests)
	}
}
