package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/web"
)

const pagesPassword = "correct horse battery"

// pagesFixture is a site whose cluster cache was filled by one real sync
// of a fake Ganeti cluster, with users in every role.
type pagesFixture struct {
	*harness
	fake    *rapifake.Cluster
	cluster *store.Cluster
	names   []string // instance names of the fake, sorted
	// Instances by what the fixture tagged them with.
	aliceOnly, aliceFlags, bobOnly, teamOnly, stopped, shouldRun string
	clients                                                      map[string]*client
}

// newPagesFixture starts a fake cluster of n instances, tags a few for
// alice, bob and the group "team", registers it, runs one sync and logs
// in alice, bob, carol (member of team), helpdesk and root.
func newPagesFixture(t *testing.T, n int) *pagesFixture {
	t.Helper()
	return newPagesFixtureWith(t, n, uncachedHarness())
}

// newPagesFixtureWith is newPagesFixture with the given cache bounds.
func newPagesFixtureWith(t *testing.T, n int, co web.CacheOptions) *pagesFixture {
	t.Helper()
	ctx := context.Background()
	h := newCachedHarness(t, co)
	fake, err := rapifake.NewCluster(rapifake.Options{Name: "alpha.example.org", Nodes: 4, Groups: 2,
		GroupTags: map[string][]string{"group2": {"locked"}}, Instances: n, Seed: 7, JobDelay: rapifake.NoJobDelay,
		Users: []rapifake.User{{Name: "ganetimgr", Password: "rapi-secret", Write: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	f := &pagesFixture{harness: h, fake: fake, names: fake.InstanceNames()}
	f.aliceOnly, f.aliceFlags, f.bobOnly, f.teamOnly, f.stopped, f.shouldRun = f.names[0], f.names[1], f.names[2], f.names[3], f.names[4], f.names[5]
	p := "ganetimgr"
	tagsOf := map[string][]string{
		f.aliceOnly:  {p + ":user:alice"},
		f.aliceFlags: {p + ":user:alice", p + ":adminlock", p + ":isolate", p + ":needsreboot"},
		f.bobOnly:    {p + ":user:bob"},
		f.teamOnly:   {p + ":group:team"},
		f.stopped:    {p + ":user:alice"},
		f.shouldRun:  {p + ":user:alice"},
	}
	for _, name := range f.names {
		if err := fake.SetInstanceTags(name, tagsOf[name]); err != nil {
			t.Fatal(err)
		}
		if err := fake.SetInstanceState(name, "up", true); err != nil {
			t.Fatal(err)
		}
	}
	if err := fake.SetInstanceState(f.stopped, "down", false); err != nil {
		t.Fatal(err)
	}
	if err := fake.SetInstanceState(f.shouldRun, "up", false); err != nil {
		t.Fatal(err)
	}
	// One finished job, so the jobs pages have something to show.
	req, _ := http.NewRequest(http.MethodPost, fake.URL()+"/2/instances/"+f.aliceOnly+"/reboot", nil)
	req.SetBasicAuth("ganetimgr", "rapi-secret")
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: fake.ClientTLSConfig()}, Timeout: 10 * time.Second}
	if resp, err := hc.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("reboot job: %s", resp.Status)
		}
	}
	fake.WaitJobs(5 * time.Second)

	sealed, err := h.passwords.Seal("rapi-secret")
	if err != nil {
		t.Fatal(err)
	}
	f.cluster, err = h.store.CreateCluster(ctx, store.ClusterInput{Slug: "alpha", Hostname: fake.Host(), Port: fake.Port(),
		RAPIUsername: "ganetimgr", RAPIPassword: sealed, TLSFingerprint: fake.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	f.sync(t)

	h.user("alice", pagesPassword, false)
	h.user("bob", pagesPassword, false)
	carol := h.user("carol", pagesPassword, false)
	team, err := h.store.CreateGroup(ctx, "team")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.AddGroupMember(ctx, team.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	h.user("helpdesk", pagesPassword, false, auth.ViewInstances)
	h.user("root", pagesPassword, true)
	f.clients = map[string]*client{"anonymous": h.client()}
	for _, u := range []string{"alice", "bob", "carol", "helpdesk", "root"} {
		c := h.client()
		c.mustLogin(u, pagesPassword)
		f.clients[u] = c
	}
	return f
}

// sync runs the syncer until it has synced the fixture's cluster once.
func (f *pagesFixture) sync(t *testing.T) {
	t.Helper()
	done := make(chan error, 16)
	ctx, cancel := context.WithCancel(context.Background())
	syncer, err := clustersync.New(f.store, clustersync.Options{Interval: time.Hour, Passwords: f.passwords,
		OnSync: func(id int64, err error) {
			if id == f.cluster.ID {
				select {
				case done <- err:
				default:
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { _ = syncer.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sync: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no sync within 30 s")
	}
}
