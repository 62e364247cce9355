package instanceops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/sandboxenv"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// sandboxWait bounds a wait for a job on the real Ganeti (jobs of every
// test using the sandbox serialise).
const sandboxWait = 150 * time.Second

// TestInstanceSandboxActions runs every core action against the real
// Ganeti sandbox on an instance of its own and observes the result on the
// cluster (status and tags through the RAPI), the tracked job followed to
// success with its log, the cache refreshed as soon as the job ended, and
// the audit entry of each case; a double submit starts one Ganeti job; a
// refused attempt on someone else's instance is audited and mails the
// administrators.
func TestInstanceSandboxActions(t *testing.T) {
	env := sandboxenv.Load(t, "GANETI_OS", "GANETI_NODE", "GANETI_NIC_LINK")
	h := newHarness(t, harnessOptions{sandbox: env})
	cl, err := h.clients.RAPI(h.cluster)
	if err != nil {
		t.Fatal(err)
	}
	ctx := h.ctx
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "iops-" + hex.EncodeToString(b) + ".ganeti.test"
	ganeti := func(what string, id rapi.JobID, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		wctx, cancel := context.WithTimeout(ctx, sandboxWait)
		defer cancel()
		if _, err := cl.WaitJob(wctx, id); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// The creation is tracked the way an application's is: a row claimed
	// first, the RAPI call carrying its marker, the job id left
	// unrecorded. The follow job finds the job on the cluster by its
	// marker and follows it, storing its log lines, then reads the new
	// instance into the cache.
	created, err := h.st.ClaimInstanceJob(ctx, store.InstanceJob{ClusterID: h.cluster.ID, Instance: name, Kind: string(Create)})
	if err != nil {
		t.Fatal(err)
	}
	id, err := cl.CreateInstance(rapi.WithReason(ctx, Marker("", Create, created.ID)), rapi.InstanceCreate{Name: name,
		Mode: "create", DiskTemplate: "diskless", OS: env["GANETI_OS"], PNode: env["GANETI_NODE"],
		BeParams: map[string]any{"maxmem": 128, "minmem": 128, "vcpus": 1},
		NICs:     []rapi.NICSpec{{Link: env["GANETI_NIC_LINK"], Mode: "bridged"}}, Tags: []string{"ganetimgr:user:ann"}, Start: true})
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), sandboxWait)
		defer cancel()
		if _, err := cl.Instance(cctx, name); rapi.IsNotFound(err) {
			return
		}
		id, err := cl.DeleteInstance(cctx, name, rapi.DeleteOptions{ShutdownTimeout: 5 * time.Second})
		if err == nil {
			_, err = cl.WaitJob(cctx, id)
		}
		if err != nil && !rapi.IsNotFound(err) {
			t.Errorf("cleanup: delete %s: %v", name, err)
		}
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	follow := h.svc.followTx(created.ID, time.Time{})
	if err := pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error { return follow(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	created = h.wait(created, sandboxWait)
	if created.Status != "success" || created.JobID != int64(id) {
		t.Fatalf("tracked creation: %s job %d, want success and job %d (%s)", created.Status, created.JobID, id, created.Error)
	}
	if len(created.Log) == 0 || created.Log[0].Message != "* creating instance disks..." || created.Log[0].Time.IsZero() {
		t.Errorf("creation log: %+v", created.Log)
	}
	if c := h.cached(name); !c.OperState || !slices.Equal(c.OwnerUsers, []string{"ann"}) {
		t.Errorf("the new instance in the cache: %s %v", c.Status, c.OwnerUsers)
	}

	// observe reads the instance from the cluster.
	observe := func() *rapi.Instance {
		t.Helper()
		in, err := cl.Instance(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	hasTag := func(in *rapi.Instance, tag string) bool { return slices.Contains(in.Tags, tag) }
	// done checks a finished tracked job and the audit entries of its
	// submission and end.
	done := func(j *store.InstanceJob, by *byWhom, action audit.Action) *store.InstanceJob {
		t.Helper()
		j = h.succeed(j, nil)
		if j.JobID == 0 || j.Instance != name || j.ClusterSlug != "c1" {
			t.Errorf("tracked job: %+v", j)
		}
		// The stored log is the job's log on the cluster.
		gj, err := cl.Job(ctx, rapi.JobID(j.JobID))
		if err != nil {
			t.Fatal(err)
		}
		var want, got []string
		for _, e := range gj.Log() {
			want = append(want, e.Message)
		}
		for _, l := range j.Log {
			got = append(got, l.Message)
		}
		if !slices.Equal(got, want) {
			t.Errorf("stored log %q, the job's %q", got, want)
		}
		checkAudit(t, h.lastAudit(name, action), by.p, audit.OK, j.JobID)
		checkEnd(t, h.lastAudit(name, audit.InstanceJobEnd), by.p, audit.OK, j.JobID)
		return j
	}
	ann, gus, root := &byWhom{h.ann}, &byWhom{h.gus}, &byWhom{h.root}

	// A double submit: two concurrent shutdowns, one Ganeti job.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var accepted []*store.InstanceJob
	pending := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := h.svc.Shutdown(ctx, reqOf(h.ann), "c1", name, 20*time.Second)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				accepted = append(accepted, j)
				return
			}
			if r, ok := err.(*Refusal); ok && r.Code == JobPending {
				pending++
				return
			}
			t.Errorf("shutdown: %v", err)
		}()
	}
	wg.Wait()
	if len(accepted) != 1 || pending != 1 {
		t.Fatalf("double submit: %d accepted, %d pending", len(accepted), pending)
	}
	j := done(accepted[0], ann, audit.InstanceShutdown)
	// The cache was refreshed before the row was finished.
	if c := h.cached(name); c.OperState || c.AdminState != "down" {
		t.Errorf("cache right after the shutdown: %s %s", c.Status, c.AdminState)
	}
	if in := observe(); in.OperState || in.AdminState != "down" {
		t.Errorf("cluster after the shutdown: oper %v admin %s", in.OperState, in.AdminState)
	}
	jobs, err := cl.JobsBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shutdowns := 0
	for _, gj := range jobs {
		if gj.OpID() == "OP_INSTANCE_SHUTDOWN" && gj.Ops[0].InstanceName == name {
			shutdowns++
			if int64(gj.ID) != j.JobID || findMarked([]rapi.Job{gj}, Marker("ann", Shutdown, j.ID)) != gj.ID {
				t.Errorf("shutdown job %d, tracked %d, or its reason lacks the marker", gj.ID, j.JobID)
			}
		}
	}
	var rows int
	if err := h.pool.QueryRow(ctx, `SELECT count(*) FROM instance_jobs WHERE instance = $1 AND kind = 'shutdown'`, name).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if shutdowns != 1 || rows != 1 {
		t.Errorf("double submit: %d Ganeti shutdown jobs, %d tracked rows; want 1 and 1", shutdowns, rows)
	}
	if a := h.lastAudit(name, audit.InstanceShutdown); a.Detail != "timeout 20 s" {
		t.Errorf("shutdown audit detail %q", a.Detail)
	}

	// Start.
	done(h.mustRun(h.svc.Start(ctx, reqOf(h.ann), "c1", name)), ann, audit.InstanceStart)
	if c, in := h.cached(name), observe(); !c.OperState || !in.OperState || in.AdminState != "up" {
		t.Errorf("after start: cache %s, cluster oper %v admin %s", c.Status, in.OperState, in.AdminState)
	}

	// gus is not an owner yet: refused, audited, the administrators mailed.
	_, err = h.svc.Reboot(ctx, reqOf(h.gus), "c1", name, false)
	refusal(t, err, NotFound)
	checkAudit(t, h.lastAudit(name, audit.InstanceReboot), h.gus, audit.Refused, 0)
	if m := h.refusalMails(); len(m) != 1 {
		t.Errorf("refusal mails: %q", m)
	}

	// The group ops becomes an owner: its member gus may act.
	done(h.mustRun(h.svc.AddOwner(ctx, reqOf(h.root), "c1", name, true, "ops")), root, audit.InstanceOwnerAdd)
	if !hasTag(observe(), "ganetimgr:group:ops") {
		t.Error("the group tag is not on the cluster")
	}
	done(h.mustRun(h.svc.Reboot(ctx, reqOf(h.gus), "c1", name, false)), gus, audit.InstanceReboot)
	if a := h.lastAudit(name, audit.InstanceReboot); a.Detail != "soft" {
		t.Errorf("soft reboot audit detail %q", a.Detail)
	}
	if in := observe(); !in.OperState {
		t.Error("not running after the soft reboot")
	}

	// A hard reboot clears needsreboot (set as a configuration change
	// while running would).
	id, err = cl.AddInstanceTags(ctx, name, []string{"ganetimgr:needsreboot"})
	ganeti("tag needsreboot", id, err)
	h.refresh(name)
	if !h.cached(name).NeedsReboot {
		t.Fatal("needsreboot not in the cache")
	}
	done(h.mustRun(h.svc.Reboot(ctx, reqOf(h.ann), "c1", name, true)), ann, audit.InstanceReboot)
	if in := observe(); hasTag(in, "ganetimgr:needsreboot") || !in.OperState {
		t.Errorf("after the hard reboot: tags %v, running %v", in.Tags, in.OperState)
	}
	if h.cached(name).NeedsReboot {
		t.Error("the cache still says needsreboot")
	}

	// Owners: a user by e-mail address, then removed.
	done(h.mustRun(h.svc.AddOwner(ctx, reqOf(h.ann), "c1", name, false, "bob@example.org")), ann, audit.InstanceOwnerAdd)
	if !hasTag(observe(), "ganetimgr:user:bob") || !slices.Contains(h.cached(name).OwnerUsers, "bob") {
		t.Error("bob is not an owner")
	}
	if a := h.lastAudit(name, audit.InstanceOwnerAdd); a.Detail != "add user bob" {
		t.Errorf("owner audit detail %q", a.Detail)
	}
	done(h.mustRun(h.svc.RemoveOwner(ctx, reqOf(h.ann), "c1", name, false, "bob")), ann, audit.InstanceOwnerDel)
	if hasTag(observe(), "ganetimgr:user:bob") {
		t.Error("bob is still an owner")
	}

	// The admin lock blocks the owner until unlocked.
	locker, isolator := &byWhom{h.locker}, &byWhom{h.isolator}
	_, err = h.svc.SetLock(ctx, reqOf(h.ann), "c1", name, true)
	refusal(t, err, NotPermitted)
	checkAudit(t, h.lastAudit(name, audit.InstanceLock), h.ann, audit.Refused, 0)
	done(h.mustRun(h.svc.SetLock(ctx, reqOf(h.locker), "c1", name, true)), locker, audit.InstanceLock)
	if !hasTag(observe(), "ganetimgr:adminlock") || !h.cached(name).AdminLock {
		t.Error("the lock is not on the cluster or in the cache")
	}
	_, err = h.svc.Shutdown(ctx, reqOf(h.ann), "c1", name, 0)
	refusal(t, err, AdminLocked)
	checkAudit(t, h.lastAudit(name, audit.InstanceShutdown), h.ann, audit.Refused, 0)
	done(h.mustRun(h.svc.SetLock(ctx, reqOf(h.locker), "c1", name, false)), locker, audit.InstanceUnlock)
	if hasTag(observe(), "ganetimgr:adminlock") {
		t.Error("the lock is still on the cluster")
	}

	// Isolation, and the address allowed meanwhile.
	_, err = h.svc.SetAllowFrom(ctx, reqOf(h.ann), "c1", name, "192.0.2.10")
	refusal(t, err, WrongState)
	done(h.mustRun(h.svc.SetIsolate(ctx, reqOf(h.isolator), "c1", name, true)), isolator, audit.InstanceIsolate)
	if !hasTag(observe(), "ganetimgr:isolate") {
		t.Error("the isolation is not on the cluster")
	}
	_, err = h.svc.SetAllowFrom(ctx, reqOf(h.ann), "c1", name, "192.0.2.0/24")
	if r := refusal(t, err, Invalid); r.Field != "allow_from" {
		t.Errorf("field %q", r.Field)
	}
	done(h.mustRun(h.svc.SetAllowFrom(ctx, reqOf(h.ann), "c1", name, "192.0.2.10")), ann, audit.InstanceAllowFrom)
	if !hasTag(observe(), "ganetimgr:whitelist_ip:192.0.2.10/32") {
		t.Errorf("allow-from tag: %v", observe().Tags)
	}
	done(h.mustRun(h.svc.SetAllowFrom(ctx, reqOf(h.ann), "c1", name, "2001:0db8:0:0::/64")), ann, audit.InstanceAllowFrom)
	in := observe()
	if !hasTag(in, "ganetimgr:whitelist_ip:2001:db8::/64") || hasTag(in, "ganetimgr:whitelist_ip:192.0.2.10/32") {
		t.Errorf("replaced allow-from: %v", in.Tags)
	}
	if a := h.lastAudit(name, audit.InstanceAllowFrom); a.Detail != "set 2001:db8::/64" {
		t.Errorf("allow-from audit detail %q", a.Detail)
	}
	done(h.mustRun(h.svc.SetIsolate(ctx, reqOf(h.isolator), "c1", name, false)), isolator, audit.InstanceDeisolate)
	if c := h.cached(name); hasTag(observe(), "ganetimgr:isolate") || c.Isolate {
		t.Error("still isolated")
	}
}

// byWhom names the principal of an action in the sandbox test.
type byWhom struct{ p *auth.Principal }

// mustRun fails the test when an action was not accepted.
func (h *harness) mustRun(j *store.InstanceJob, err error) *store.InstanceJob {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("action: %v", err)
	}
	return j
}
