package instanceops

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// fakeInstances gives the fake cluster's first n instances to ann (and
// the group ops), in the given states ("up" running, "down" stopped), and
// reads them into the cache.
func (h *harness) fakeInstances(states ...string) []string {
	h.t.Helper()
	names := h.fake.InstanceNames()[:len(states)]
	for i, name := range names {
		if err := h.fake.SetInstanceTags(name, []string{"ganetimgr:user:ann", "ganetimgr:group:ops"}); err != nil {
			h.t.Fatal(err)
		}
		if err := h.fake.SetInstanceState(name, states[i], states[i] == "up"); err != nil {
			h.t.Fatal(err)
		}
	}
	h.sync()
	return names
}

// TestInstanceFollowFaults drives the follow worker through a fake
// cluster's faults: a job that ends in error, a call whose job id was
// never recorded (found again by its reason marker), a call that never
// reached the cluster (finished "lost" after the grace period) and a call
// the cluster answered with an error.
func TestInstanceFollowFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{grace: 800 * time.Millisecond, responseTimeout: time.Second})
	vms := h.fakeInstances("down", "down", "down", "up")

	// A job that errors: the row keeps Ganeti's message, the end is
	// audited as failed, and the cache is refreshed.
	if err := h.fake.SetInstanceState(vms[0], "offline", false); err != nil {
		t.Fatal(err)
	}
	h.refresh(vms[0])
	j, err := h.svc.Start(h.ctx, reqOf(h.ann), "c1", vms[0])
	if err != nil {
		t.Fatal(err)
	}
	if j.JobID == 0 || j.Status == store.JobSubmitting || j.UserID != h.ann.User.ID {
		t.Errorf("submitted: %+v", j)
	}
	j = h.wait(j, 10*time.Second)
	if j.Status != "error" || !strings.Contains(j.Error, "is marked to be offline") || !strings.Contains(j.Error, "OpPrereqError") {
		t.Errorf("failed job: %s %q", j.Status, j.Error)
	}
	checkAudit(t, h.lastAudit(vms[0], audit.InstanceStart), h.ann, audit.OK, j.JobID)
	end := h.lastAudit(vms[0], audit.InstanceJobEnd)
	if end.Outcome != string(audit.Failed) || end.JobID != j.JobID || end.UserID != h.ann.User.ID ||
		!strings.Contains(end.Detail, "is marked to be offline") {
		t.Errorf("job end audit: %+v", end)
	}

	// The process "dies" between the RAPI call and recording its job: the
	// follow job scheduled with the claim finds the job by its marker
	// and follows it to the end.
	var lost rapi.JobID
	h.svc.afterCall = func(_ context.Context, tracked int64, job rapi.JobID) error {
		lost = job
		return errors.New("the process died")
	}
	if _, err := h.svc.Start(h.ctx, reqOf(h.ann), "c1", vms[1]); err == nil {
		t.Fatal("the interrupted action reported success")
	}
	h.svc.afterCall = nil
	row, err := h.st.ActiveInstanceJob(h.ctx, h.cluster.ID, vms[1])
	if err != nil || row.JobID != 0 || row.Status != store.JobSubmitting {
		t.Fatalf("interrupted row: %+v %v", row, err)
	}
	// Meanwhile the instance is busy: another action is refused.
	_, err = h.svc.Shutdown(h.ctx, reqOf(h.ann), "c1", vms[1], 0)
	if r := refusal(t, err, JobPending); r.Msg.ID() != "instance_ops.busy.start" {
		t.Errorf("busy message %s", r.Msg.ID())
	}
	row = h.wait(row, 15*time.Second)
	if row.Status != "success" || row.JobID != int64(lost) || lost == 0 {
		t.Errorf("resolved row: %s job %d, want success and job %d", row.Status, row.JobID, lost)
	}
	if info, _ := h.fake.Instance(vms[1]); !info.Running {
		t.Error("the found job's instance is not running on the cluster")
	}
	if c := h.cached(vms[1]); !c.OperState {
		t.Errorf("cache not refreshed: %s", c.Status)
	}
	checkEnd(t, h.lastAudit(vms[1], audit.InstanceJobEnd), h.ann, audit.OK, int64(lost))

	// The call never reaches the cluster's job queue (the cluster does
	// not answer): the outcome is unknown, the row stays "submitting"
	// until the grace period ends, then it is finished as lost.
	h.fake.SetFaults(rapifake.Faults{Hang: true, PathPrefix: "/2/instances/" + vms[2] + "/startup"})
	_, err = h.svc.Start(h.ctx, reqOf(h.ann), "c1", vms[2])
	if r := refusal(t, err, Unavailable); r.Msg.ID() != "instance_ops.refusal.uncertain" {
		t.Errorf("uncertain call: %s", r.Msg.ID())
	}
	h.fake.ClearFaults()
	row, err = h.st.LatestInstanceJob(h.ctx, h.cluster.ID, vms[2])
	if err != nil {
		t.Fatal(err)
	}
	row = h.wait(row, 15*time.Second)
	if row.Status != store.JobLost || row.JobID != 0 || row.Error == "" {
		t.Errorf("lost row: %+v", row)
	}
	checkAudit(t, h.lastAudit(vms[2], audit.InstanceStart), h.ann, audit.Failed, 0)
	if e := h.lastAudit(vms[2], audit.InstanceJobEnd); e.Outcome != string(audit.Failed) || !strings.Contains(e.Detail, "lost") {
		t.Errorf("lost job end audit: %+v", e)
	}
	// The instance is free again.
	h.succeed(h.svc.Start(h.ctx, reqOf(h.ann), "c1", vms[2]))

	// The cluster answers the call with an error: nothing was started, the
	// row is finished as error at once, the attempt audited as failed.
	h.fake.SetFaults(rapifake.Faults{Status: 502, PathPrefix: "/2/instances/" + vms[3] + "/reboot"})
	_, err = h.svc.Reboot(h.ctx, reqOf(h.ann), "c1", vms[3], true)
	if r := refusal(t, err, Unavailable); r.Detail == "" {
		t.Error("the cluster's error is not in the refusal")
	}
	h.fake.ClearFaults()
	row, err = h.st.LatestInstanceJob(h.ctx, h.cluster.ID, vms[3])
	if err != nil || row.Status != "error" || !row.Finished() || row.Error == "" {
		t.Errorf("row of a refused call: %+v %v", row, err)
	}
	checkAudit(t, h.lastAudit(vms[3], audit.InstanceReboot), h.ann, audit.Failed, 0)
}

// TestInstanceRefusalsAndViews checks refusals on the server against the
// fake cluster: audit entries for every refused attempt, the
// administrators mailed (once an hour) about attempts on instances that
// are not the user's, maintenance, the View of each kind of user, the
// jobs a user may see, and a double submit starting one job.
func TestInstanceRefusalsAndViews(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{jobDelay: 300 * time.Millisecond})
	vms := h.fakeInstances("up", "down")
	vm := vms[0]

	// Helpdesk sees but cannot act: refused, audited, nobody mailed.
	_, err := h.svc.Reboot(h.ctx, reqOf(h.help), "c1", vm, false)
	refusal(t, err, ReadOnly)
	checkAudit(t, h.lastAudit(vm, audit.InstanceReboot), h.help, audit.Refused, 0)
	// A stranger: not found, audited, the administrators mailed once an
	// hour per user and instance.
	_, err = h.svc.Shutdown(h.ctx, reqOf(h.sam), "c1", vm, 0)
	refusal(t, err, NotFound)
	checkAudit(t, h.lastAudit(vm, audit.InstanceShutdown), h.sam, audit.Refused, 0)
	_, err = h.svc.AddOwner(h.ctx, reqOf(h.sam), "c1", vm, false, "sam")
	refusal(t, err, NotFound)
	if a := h.lastAudit(vm, audit.InstanceOwnerAdd); a.Outcome != string(audit.Refused) || !strings.Contains(a.Detail, "add user sam") {
		t.Errorf("refused owner change audit: %+v", a)
	}
	_, err = h.svc.Start(h.ctx, reqOf(h.bob), "c1", vm)
	refusal(t, err, NotFound)
	mails := h.refusalMails()
	if len(mails) != 2 || !strings.HasPrefix(mails[0], testAdmins+": Refused attempt by sam on "+vm) ||
		!strings.HasPrefix(mails[1], testAdmins+": Refused attempt by bob") {
		t.Errorf("refusal mails: %q", mails)
	}
	var body string
	if err := h.pool.QueryRow(h.ctx, `SELECT text_body FROM mail_outbox WHERE template = 'instance_refused' ORDER BY id LIMIT 1`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, `"shutdown"`) || !strings.Contains(body, addrOf(h.sam).String()) ||
		!strings.Contains(body, testBaseURL+"/instances/c1/"+vm+"/") {
		t.Errorf("refusal mail body:\n%s", body)
	}
	// An instance that does not exist: refused and audited, nobody mailed.
	_, err = h.svc.Start(h.ctx, reqOf(h.sam), "c1", "nosuch.example.org")
	refusal(t, err, NotFound)
	checkAudit(t, h.lastAudit("nosuch.example.org", audit.InstanceStart), h.sam, audit.Refused, 0)
	_, err = h.svc.Start(h.ctx, reqOf(h.ann), "nosuch", vm)
	refusal(t, err, NotFound)
	if n := len(h.refusalMails()); n != 2 {
		t.Errorf("%d refusal mails, want 2", n)
	}

	// Views.
	v, err := h.svc.View(h.ctx, h.gus, "c1", vm)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Owner || v.Last != nil || !v.Allowed(Shutdown) || v.Allowed(Start) || v.Refusals[Lock].Code != NotPermitted {
		t.Errorf("group member's view: %+v", v)
	}
	if v, err = h.svc.View(h.ctx, h.help, "c1", vm); err != nil || v.Owner || v.Refusals[Shutdown].Code != ReadOnly {
		t.Errorf("helpdesk view: %+v %v", v, err)
	}
	if _, err = h.svc.View(h.ctx, h.sam, "c1", vm); err == nil {
		t.Error("a stranger got a view")
	} else {
		refusal(t, err, NotFound)
	}

	// A double submit: two concurrent shutdowns start one Ganeti job and
	// one tracked row; the other is told what the instance is doing.
	before := h.fake.JobCount()
	var wg sync.WaitGroup
	results := make([]error, 2)
	jobs := make([]*store.InstanceJob, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jobs[i], results[i] = h.svc.Shutdown(h.ctx, reqOf(h.ann), "c1", vm, 30*time.Second)
		}()
	}
	wg.Wait()
	var won *store.InstanceJob
	for i, err := range results {
		if err == nil {
			won = jobs[i]
			continue
		}
		if r := refusal(t, err, JobPending); r.Msg.ID() != "instance_ops.busy.shutdown" {
			t.Errorf("pending message %s", r.Msg.ID())
		}
	}
	if won == nil {
		t.Fatal("neither shutdown was accepted")
	}
	if n := h.fake.JobCount() - before; n != 1 {
		t.Errorf("%d Ganeti jobs for a double submit, want 1", n)
	}
	var rows int
	if err := h.pool.QueryRow(h.ctx, `SELECT count(*) FROM instance_jobs WHERE instance = $1`, vm).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("%d tracked rows, want 1 (%v)", rows, err)
	}
	// While it runs the view shows it.
	if v, err := h.svc.View(h.ctx, h.ann, "c1", vm); err != nil || !v.Busy() || v.Refusals[Start].Code != JobPending || v.Last.ID != won.ID {
		t.Errorf("busy view: %+v %v", v, err)
	}
	won = h.succeed(won, nil)
	if won.Detail != "timeout 30 s" {
		t.Errorf("shutdown detail %q", won.Detail)
	}
	if c := h.cached(vm); c.OperState || c.AdminState != "down" {
		t.Errorf("cache after shutdown: %s %s", c.Status, c.AdminState)
	}
	if v, err := h.svc.View(h.ctx, h.ann, "c1", vm); err != nil || v.Busy() || !v.Allowed(Start) || v.Last.Status != "success" {
		t.Errorf("view after the job: %+v %v", v, err)
	}
	// Who may see the tracked job.
	if _, err := h.svc.Job(h.ctx, h.ann, won.ID); err != nil {
		t.Errorf("owner's job: %v", err)
	}
	if _, err := h.svc.Job(h.ctx, h.gus, won.ID); err != nil {
		t.Errorf("co-owner's job: %v", err)
	}
	if _, err := h.svc.Job(h.ctx, h.help, won.ID); err != nil {
		t.Errorf("helpdesk's job: %v", err)
	}
	if _, err := h.svc.Job(h.ctx, h.sam, won.ID); err == nil {
		t.Error("a stranger sees the job")
	} else {
		refusal(t, err, NotFound)
	}

	// Invalid input is refused with its field.
	_, err = h.svc.Shutdown(h.ctx, reqOf(h.ann), "c1", vms[1], 2*time.Hour)
	if r := refusal(t, err, WrongState); r == nil {
		t.Error("shutdown of a stopped instance")
	}
	h.succeed(h.svc.Start(h.ctx, reqOf(h.ann), "c1", vms[1]))
	_, err = h.svc.Shutdown(h.ctx, reqOf(h.ann), "c1", vms[1], 2*time.Hour)
	if r := refusal(t, err, Invalid); r.Field != "timeout" {
		t.Errorf("field %q", r.Field)
	}
	for _, c := range []struct {
		group bool
		who   string
		code  RefusalCode
		msg   string
	}{
		{false, "", Invalid, "instance_ops.invalid.owner_empty"},
		{false, "nobody", Invalid, "instance_ops.invalid.unknown_user"},
		{false, "ann", Invalid, "instance_ops.invalid.already_owner"},
		{false, "ANN@example.org", Invalid, "instance_ops.invalid.already_owner"},
		{true, "staff", Invalid, "instance_ops.invalid.unknown_group"},
	} {
		_, err := h.svc.AddOwner(h.ctx, reqOf(h.ann), "c1", vms[1], c.group, c.who)
		if r := refusal(t, err, c.code); r.Msg.ID() != c.msg {
			t.Errorf("add owner %q: %s, want %s", c.who, r.Msg.ID(), c.msg)
		}
	}
	_, err = h.svc.RemoveOwner(h.ctx, reqOf(h.ann), "c1", vms[1], false, "bob")
	if r := refusal(t, err, Invalid); r.Msg.ID() != "instance_ops.invalid.not_owner" {
		t.Errorf("remove a non-owner: %s", r.Msg.ID())
	}
	// gus is in ops, not in "admins": a group he is not in is unknown to him.
	if _, err := h.st.CreateGroup(h.ctx, "admins"); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.AddOwner(h.ctx, reqOf(h.gus), "c1", vms[1], true, "admins")
	if r := refusal(t, err, Invalid); r.Msg.ID() != "instance_ops.invalid.unknown_group" {
		t.Errorf("foreign group: %s", r.Msg.ID())
	}
	// A group is removed by its members (or a superuser), and the last
	// owner cannot be removed by a non-superuser.
	_, err = h.svc.RemoveOwner(h.ctx, reqOf(h.ann), "c1", vms[1], true, "ops")
	if r := refusal(t, err, Invalid); r.Msg.ID() != "instance_ops.invalid.unknown_group" {
		t.Errorf("removing a group one is not in: %s", r.Msg.ID())
	}
	j := h.succeed(h.svc.RemoveOwner(h.ctx, reqOf(h.gus), "c1", vms[1], true, "ops"))
	checkAudit(t, h.lastAudit(vms[1], audit.InstanceOwnerDel), h.gus, audit.OK, j.JobID)
	checkEnd(t, h.lastAudit(vms[1], audit.InstanceJobEnd), h.gus, audit.OK, j.JobID)
	_, err = h.svc.RemoveOwner(h.ctx, reqOf(h.ann), "c1", vms[1], false, "ann")
	if r := refusal(t, err, Invalid); r.Msg.ID() != "instance_ops.invalid.last_owner" {
		t.Errorf("last owner: %s", r.Msg.ID())
	}
	if c := h.cached(vms[1]); len(c.OwnerGroups) != 0 || len(c.OwnerUsers) != 1 {
		t.Errorf("owners after removal: %v %v", c.OwnerUsers, c.OwnerGroups)
	}

	// Maintenance: the node group tagged locked blocks the owner, not a
	// superuser.
	if err := h.fake.SetGroupTags(h.cached(vm).NodeGroup, []string{"locked"}); err != nil {
		t.Fatal(err)
	}
	h.sync()
	_, err = h.svc.Start(h.ctx, reqOf(h.ann), "c1", vm)
	refusal(t, err, Maintenance)
	checkAudit(t, h.lastAudit(vm, audit.InstanceStart), h.ann, audit.Refused, 0)
	j = h.succeed(h.svc.Start(h.ctx, reqOf(h.root), "c1", vm))
	checkAudit(t, h.lastAudit(vm, audit.InstanceStart), h.root, audit.OK, j.JobID)
}
