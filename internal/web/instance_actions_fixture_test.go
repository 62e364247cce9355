package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// The instance states of the action tests: every instance is running and
// owned by alice (user tag) and the group team (carol is a member).
const (
	stNormal      = "normal"
	stLocked      = "admin-locked" // tagged adminlock
	stIsolated    = "isolated"     // tagged isolate
	stMaintenance = "maintenance"  // its node group is tagged locked
	stPending     = "job-pending"  // a tracked job is still unfinished
)

// opsStates are the states in the order the tests go through them.
var opsStates = []string{stNormal, stLocked, stIsolated, stMaintenance, stPending}

// opsRoles are the users of the action tests: anonymous; alice, owner by
// a user tag; carol, owner as a member of the owner group team; bob, who
// owns nothing; helpdesk (view_instances); locker (view_instances,
// can_lock and can_isolate); root (superuser).
var opsRoles = []string{"anonymous", "alice", "carol", "bob", "helpdesk", "locker", "root"}

// opsPassword is every test user's password.
const opsPassword = "correct horse battery"

// opsFixture is a site with instance actions on a fake kvm cluster whose
// cache was filled by real syncs: for each state a "base" instance (for
// refused requests and reads, which change nothing) and a pool of fresh
// instances in the same state (one per allowed action, which starts a
// job and so makes its instance busy), a stopped instance, users in every
// role, logged in.
type opsFixture struct {
	*harness
	fake    *rapifake.Cluster
	cluster *store.Cluster
	base    map[string]string
	pool    map[string][]string
	// stopped is a stopped instance of alice and team.
	stopped string
	// finished is, per state, a finished tracked job of the base instance;
	// pendingJob the unfinished one of the job-pending base instance.
	finished   map[string]int64
	pendingJob int64
	users      map[string]*store.User
	clients    map[string]*client
}

// poolSizes are the fresh instances each state needs: one per request
// of the authorization matrix that is allowed and starts a job, and a few
// for the other tests.
var poolSizes = map[string]int{stNormal: 40, stLocked: 12, stIsolated: 32, stMaintenance: 10, stPending: 0}

// newOpsFixture builds the fixture with the confirmation mode confirm and
// fake jobs that take jobDelay (rapifake.NoJobDelay: instant).
func newOpsFixture(t *testing.T, confirm string, jobDelay time.Duration, opts ...harnessOption) *opsFixture {
	t.Helper()
	return newOpsFixtureOn(t, newHarness(t, append(opts, withConfirm(confirm))...), jobDelay)
}

// newOpsFixtureOn builds the fixture on the site of h.
func newOpsFixtureOn(t *testing.T, h *harness, jobDelay time.Duration) *opsFixture {
	t.Helper()
	ctx := context.Background()
	fake, err := rapifake.NewCluster(rapifake.Options{Name: "alpha.example.org", Nodes: 4, Groups: 2,
		GroupTags: map[string][]string{"group2": {"locked"}}, Instances: 200, Seed: 9, Hypervisor: "kvm",
		JobDelay: jobDelay, Users: []rapifake.User{{Name: "ganetimgr", Password: "rapi-secret", Write: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	f := &opsFixture{harness: h, fake: fake, base: map[string]string{}, pool: map[string][]string{},
		finished: map[string]int64{}, users: map[string]*store.User{}, clients: map[string]*client{}}
	for _, name := range fake.InstanceNames() {
		if err := fake.SetInstanceTags(name, nil); err != nil {
			t.Fatal(err)
		}
		if err := fake.SetInstanceState(name, "up", true); err != nil {
			t.Fatal(err)
		}
	}
	sealed, err := h.passwords.Seal("rapi-secret")
	if err != nil {
		t.Fatal(err)
	}
	f.cluster, err = h.store.CreateCluster(ctx, store.ClusterInput{Slug: "alpha", Hostname: fake.Host(), Port: fake.Port(),
		RAPIUsername: "ganetimgr", RAPIPassword: sealed, TLSFingerprint: fake.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	// A first sync tells which instances are in the node group under
	// maintenance.
	f.sync(t)
	var free, locked []string
	for _, name := range fake.InstanceNames() {
		in, err := h.store.CachedInstance(ctx, f.cluster.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		if in.NodeGroup == "group2" {
			locked = append(locked, name)
		} else {
			free = append(free, name)
		}
	}
	take := func(from *[]string, n int) []string {
		if len(*from) < n {
			t.Fatalf("the fake cluster has too few instances: %d left, %d needed", len(*from), n)
		}
		out := (*from)[:n]
		*from = (*from)[n:]
		return out
	}
	p := "ganetimgr"
	owners := []string{p + ":user:alice", p + ":group:team"}
	for _, st := range opsStates {
		from := &free
		if st == stMaintenance {
			from = &locked
		}
		names := take(from, 1+poolSizes[st])
		f.base[st], f.pool[st] = names[0], names[1:]
		tags := slices.Clone(owners)
		switch st {
		case stLocked:
			tags = append(tags, p+":adminlock")
		case stIsolated:
			tags = append(tags, p+":isolate")
		}
		for _, name := range names {
			if err := fake.SetInstanceTags(name, tags); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.stopped = take(&free, 1)[0]
	if err := fake.SetInstanceTags(f.stopped, owners); err != nil {
		t.Fatal(err)
	}
	if err := fake.SetInstanceState(f.stopped, "down", false); err != nil {
		t.Fatal(err)
	}
	f.sync(t)

	for _, u := range []struct {
		name  string
		super bool
		perms []auth.Permission
	}{{"alice", false, nil}, {"bob", false, nil}, {"carol", false, nil},
		{"helpdesk", false, []auth.Permission{auth.ViewInstances}},
		{"locker", false, []auth.Permission{auth.ViewInstances, auth.CanLock, auth.CanIsolate}},
		{"root", true, nil}} {
		f.users[u.name] = h.user(u.name, opsPassword, u.super, u.perms...)
	}
	team, err := h.store.CreateGroup(ctx, "team")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.AddGroupMember(ctx, team.ID, f.users["carol"].ID); err != nil {
		t.Fatal(err)
	}

	// A finished job on every base instance; then the unfinished one that
	// makes the job-pending instance busy.
	for _, st := range opsStates {
		j := f.claim(t, f.base[st], "reboot")
		if _, err := h.store.FinishInstanceJob(ctx, j.ID, "success", "", []store.JobLogLine{
			{Serial: 1, Time: time.Now(), Type: "message", Message: "rebooting " + f.base[st]}}); err != nil {
			t.Fatal(err)
		}
		f.finished[st] = j.ID
	}
	f.pendingJob = f.claim(t, f.base[stPending], "shutdown").ID

	f.clients["anonymous"] = h.client()
	for _, who := range opsRoles[1:] {
		c := h.client()
		c.mustLogin(who, opsPassword)
		c.get("/") // the first-login flash
		f.clients[who] = c
	}
	return f
}

// claim records a tracked job of kind on instance name, asked by root,
// without calling the cluster (as an action whose job still runs).
func (f *opsFixture) claim(t *testing.T, name, kind string) *store.InstanceJob {
	t.Helper()
	root := f.users["root"]
	user, username := int64(0), ""
	if root != nil {
		user, username = root.ID, root.Username
	}
	j, err := f.store.ClaimInstanceJob(context.Background(), store.InstanceJob{ClusterID: f.cluster.ID, Instance: name,
		Kind: kind, UserID: user, Username: username})
	if err != nil {
		t.Fatalf("claim a job on %s: %v", name, err)
	}
	return j
}

// fresh takes an unused instance in state st.
func (f *opsFixture) fresh(t *testing.T, st string) string {
	t.Helper()
	if len(f.pool[st]) == 0 {
		t.Fatalf("no fresh %s instance left", st)
	}
	name := f.pool[st][0]
	f.pool[st] = f.pool[st][1:]
	return name
}

// page is the path of an instance's page.
func (f *opsFixture) page(name string) string { return "/instances/alpha/" + name + "/" }

// sync runs the syncer until it has synced the fixture's cluster once.
func (f *opsFixture) sync(t *testing.T) {
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

// auditCount counts the audit entries of user on instance with outcome.
func (f *opsFixture) auditCount(t *testing.T, user, instance, outcome string) int {
	t.Helper()
	var n int
	if err := f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_log
		WHERE username = $1 AND instance = $2 AND outcome = $3`, user, instance, outcome).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// lastAudit returns the action and detail of the newest audit entry of
// user on instance with outcome.
func (f *opsFixture) lastAudit(t *testing.T, user, instance, outcome string) (action, detail string) {
	t.Helper()
	var d sql.NullString
	err := f.store.Pool().QueryRow(context.Background(), `SELECT action, detail FROM audit_log
		WHERE username = $1 AND instance = $2 AND outcome = $3 ORDER BY id DESC LIMIT 1`, user, instance, outcome).Scan(&action, &d)
	if err != nil {
		t.Fatalf("no %s audit entry of %s on %s: %v", outcome, user, instance, err)
	}
	return action, d.String
}

// jobs counts the tracked jobs of an instance.
func (f *opsFixture) jobs(t *testing.T, instance string) int {
	t.Helper()
	js, err := f.store.InstanceJobsOf(context.Background(), f.cluster.ID, instance, 200)
	if err != nil {
		t.Fatal(err)
	}
	return len(js)
}

// crossSite posts a form as a page of another site would make a browser
// post it, with the given headers.
func (c *client) crossSite(path string, form string, headers map[string]string) *response {
	req, _ := http.NewRequest(http.MethodPost, c.h.baseURL+path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

// describe names a request for test messages.
func describe(method, path, who string) string { return fmt.Sprintf("%s %s as %s", method, path, who) }
