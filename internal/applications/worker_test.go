package applications

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// fakeClient is a RAPI client of the harness's fake cluster.
func (h *harness) fakeClient() *rapi.Client {
	h.t.Helper()
	c, err := rapi.New(rapi.Config{Host: h.fake.Host(), Port: h.fake.Port(), Username: testRAPIUser, Password: testRAPIPass,
		TLS: rapi.TLSConfig{PinnedSHA256: h.fake.Fingerprint()}})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(c.Close)
	return c
}

// createJob returns the creation job of hostname on the fake cluster.
func (h *harness) createJob(hostname string) []rapi.Job {
	h.t.Helper()
	jobs, err := h.fakeClient().JobsBulk(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []rapi.Job
	for _, j := range jobs {
		if len(j.Ops) > 0 && j.Ops[0].ID == "OP_INSTANCE_CREATE" && j.Ops[0].InstanceName == hostname {
			out = append(out, j)
		}
	}
	return out
}

func (h *harness) approve(a *store.Application, r Review) *store.Application {
	h.t.Helper()
	if r.Placement == (PlacementChoice{}) {
		r.Placement = h.placement()
	}
	out, err := h.svc.Approve(h.ctx, h.reviewer, a.ID, r)
	if err != nil {
		h.t.Fatalf("approve: %v", err)
	}
	return out
}

// TestSubmitCreatesVM: an application goes from filing to a running VM
// with everything it asked for, and everyone is told.
func TestSubmitCreatesVM(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{jobDelay: 100 * time.Millisecond})
	a := h.apply("web.example.org")
	if got := recipients(h.mails("application_received")); got != "rev@example.org" {
		t.Errorf("application received mailed to %q, want the reviewer", got)
	}
	a = h.approve(a, Review{Comment: "Enjoy."})
	if a.Status != store.AppSubmitted || a.SubmitAttempt != 1 || a.ReviewerUsername != "rev" || a.AdminComments != "Enjoy." {
		t.Fatalf("approved: %+v", a)
	}
	a = h.waitStatus(a.ID, store.AppCreated, 20*time.Second)
	if a.JobID == 0 || a.FinishedAt.IsZero() {
		t.Errorf("created: %+v", a)
	}

	in, ok := h.fake.Instance("web.example.org")
	if !ok {
		t.Fatal("no instance on the cluster")
	}
	wantTags := []string{"ganetimgr:application:" + itoa(a.ID), "ganetimgr:org:grnet", "ganetimgr:service:mail", "ganetimgr:user:ann"}
	if !slices.Equal(in.Tags, wantTags) || in.MaxMem != 1024 || in.VCPUs != 2 || in.DiskTemplate != "file" ||
		in.OS != "snf-image+default" || !in.Running {
		t.Errorf("instance: %+v", in)
	}
	full, err := h.fakeClient().Instance(h.ctx, "web.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(full.DiskSizes, []int64{5120}) || !slices.Equal(full.NICLinks, []string{"br-net1"}) ||
		!slices.Equal(full.NICModes, []string{"bridged"}) {
		t.Errorf("disks %v, nics %v %v", full.DiskSizes, full.NICLinks, full.NICModes)
	}
	// The instance is in the cache by the time the application reads
	// created (targeted refresh first, no sync), so the lists show it to
	// whoever sees the application created.
	c, err := h.st.CachedInstance(h.ctx, h.cluster.ID, "web.example.org")
	if err != nil {
		t.Fatalf("cached instance once created: %v", err)
	}
	if c.MemoryMB != 1024 || !slices.Equal(c.OwnerUsers, []string{"ann"}) {
		t.Errorf("cached instance: %+v", c)
	}

	created := h.mails("application_created")
	if got := recipients(created); got != "ann@example.org,"+testAdmins {
		t.Fatalf("created mailed to %q", got)
	}
	if !strings.Contains(created[0].Text, "Enjoy.") || strings.Contains(created[0].Text, "Approved by") ||
		!strings.Contains(created[0].Text, testBaseURL+"/instances/c1/web.example.org/") {
		t.Errorf("applicant's mail:\n%s", created[0].Text)
	}
	if !strings.Contains(created[1].Text, "Approved by: rev") {
		t.Errorf("administrators' mail:\n%s", created[1].Text)
	}
	events, _ := h.st.ApplicationEvents(h.ctx, a.ID)
	var steps []string
	for _, e := range events {
		steps = append(steps, string(e.To))
	}
	if got := strings.Join(steps, ","); got != "pending,approved,submitted,created" {
		t.Errorf("history %s", got)
	}

	// The creation carried the key URL; it serves the applicant's keys
	// for a while and nothing else.
	jobs := h.createJob("web.example.org")
	if len(jobs) != 1 {
		t.Fatalf("%d creation jobs", len(jobs))
	}
	var op struct {
		OSParams        map[string]string `json:"osparams"`
		OSParamsPrivate map[string]any    `json:"osparams_private"`
		Reason          [][]any           `json:"reason"`
	}
	if err := json.Unmarshal(jobs[0].Ops[0].Raw, &op); err != nil {
		t.Fatal(err)
	}
	keyURL := op.OSParams["img_ssh_key_url"]
	token, ok := strings.CutPrefix(keyURL, testBaseURL+"/applications/keys/")
	if !ok || op.OSParams["img_personality"] == "" || op.OSParams["img_id"] != "debian-12" {
		t.Fatalf("osparams %v", op.OSParams)
	}
	if text, err := h.svc.AuthorizedKeys(h.ctx, token); err != nil || text != testSSHKey+"\n" {
		t.Errorf("keys: %q %v", text, err)
	}
	if _, err := h.svc.AuthorizedKeys(h.ctx, strings.Repeat("A", 43)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	if _, err := h.svc.AuthorizedKeys(h.ctx, "short"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("malformed token: %v", err)
	}
	if _, err := h.pool.Exec(h.ctx, `UPDATE applications SET ssh_keys_until = now() - interval '1 second' WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.AuthorizedKeys(h.ctx, token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired token: %v", err)
	}
	if !slices.ContainsFunc(op.Reason, func(r []any) bool { return len(r) > 1 && r[1] == Marker(a.ID, 1) }) {
		t.Errorf("the job's reason lacks the marker: %v", op.Reason)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestSubmitPolicyViolation: Ganeti refuses the placement; the application
// fails with Ganeti's reason, the administrators are told, and a second
// submission with a fixed request creates the VM.
func TestSubmitPolicyViolation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	a := h.apply("big.example.org")
	f := FormFromApplication(a)
	f.MemoryMB = 65536
	a = h.approve(a, Review{Request: &f})
	a = h.waitStatus(a.ID, store.AppFailed, 20*time.Second)
	want := "violates policy: memory-size value 65536 is not in range [128, 32768]"
	if !strings.Contains(a.BackendMessage, want) || !strings.HasPrefix(a.BackendMessage, "OpPrereqError: ") ||
		!strings.HasSuffix(a.BackendMessage, "(wrong_input)") || a.JobID == 0 {
		t.Fatalf("failed application: %+v", a)
	}
	failed := h.mails("application_failed")
	if recipients(failed) != testAdmins || !strings.Contains(failed[0].Text, want) ||
		!strings.Contains(failed[0].Subject, "big.example.org") {
		t.Fatalf("failure mail: %+v", failed)
	}
	if _, ok := h.fake.Instance("big.example.org"); ok {
		t.Fatal("an instance exists")
	}
	// Submit again with a smaller memory: a new attempt.
	f.MemoryMB = 2048
	a = h.approve(a, Review{Request: &f})
	if a.SubmitAttempt != 2 || a.JobID != 0 || a.BackendMessage != "" {
		t.Fatalf("re-submitted: %+v", a)
	}
	a = h.waitStatus(a.ID, store.AppCreated, 20*time.Second)
	if in, _ := h.fake.Instance("big.example.org"); in.MaxMem != 2048 {
		t.Errorf("instance memory %d", in.MaxMem)
	}
}

// TestSubmitCrashWindow: the process dies right after the cluster accepted
// the creation and before the job was recorded. The retry finds the job by
// its marker: one creation request, one VM, and the application created.
func TestSubmitCrashWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		delay time.Duration
	}{{"job still running", 500 * time.Millisecond}, {"job finished", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{jobDelay: tc.delay})
			var calls atomic.Int32
			h.svc.afterCreate = func(ctx context.Context, id int64, job rapi.JobID) error {
				if calls.Add(1) == 1 {
					return errors.New("simulated crash after the creation request")
				}
				return nil
			}
			a := h.apply("crash.example.org")
			h.fake.ResetCounts()
			a = h.approve(a, Review{})
			a = h.waitStatus(a.ID, store.AppCreated, 20*time.Second)
			if n := h.fake.PathCount("/2/instances"); n != 1 {
				t.Errorf("%d creation requests, want 1", n)
			}
			if n := len(h.createJob("crash.example.org")); n != 1 {
				t.Errorf("%d creation jobs, want 1", n)
			}
			if got := h.fake.InstanceCount(); got != 1 {
				t.Errorf("%d instances, want 1", got)
			}
			if calls.Load() != 1 {
				t.Errorf("the hook ran %d times: the retry sent a second request", calls.Load())
			}
			if jobs := h.createJob("crash.example.org"); len(jobs) == 1 && a.JobID != int64(jobs[0].ID) {
				t.Errorf("recorded job %d, the cluster's is %d", a.JobID, jobs[0].ID)
			}
			attempts, errs := h.submitJobs()
			if len(attempts) != 1 || attempts[0] != 2 || errs != 1 {
				t.Errorf("submission job attempts %v, errors %d; want one job run twice", attempts, errs)
			}
			if got := recipients(h.mails("application_created")); got != "ann@example.org,"+testAdmins {
				t.Errorf("created mailed to %q", got)
			}
		})
	}
}

// TestSubmitFindsVMOfArchivedJob: the VM exists with the application's tag
// and its job is gone: the application is created without a request.
func TestSubmitFindsVMOfArchivedJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noQueue: true})
	a := h.apply("done.example.org")
	a = h.approve(a, Review{})
	c := h.fakeClient()
	id, err := c.CreateInstance(h.ctx, rapi.InstanceCreate{Name: "done.example.org", DiskTemplate: "diskless",
		OS: "noop", NICs: []rapi.NICSpec{{}}, Tags: []string{"ganetimgr:application:" + itoa(a.ID)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitJob(h.ctx, id); err != nil {
		t.Fatal(err)
	}
	h.fake.ResetCounts()
	h.startQueue()
	h.waitStatus(a.ID, store.AppCreated, 20*time.Second)
	if n := h.fake.PathCount("/2/instances"); n != 0 {
		t.Errorf("%d creation requests, want none", n)
	}
}

// TestSubmitNameTakenOnCluster: an instance of the name appeared on the
// cluster (not yet in the cache): the application fails, nothing is sent.
func TestSubmitNameTakenOnCluster(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noQueue: true})
	a := h.approve(h.apply("taken.example.org"), Review{})
	c := h.fakeClient()
	id, err := c.CreateInstance(h.ctx, rapi.InstanceCreate{Name: "taken.example.org", DiskTemplate: "diskless",
		OS: "noop", NICs: []rapi.NICSpec{{}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitJob(h.ctx, id); err != nil {
		t.Fatal(err)
	}
	h.fake.ResetCounts()
	h.startQueue()
	deadline := time.Now().Add(20 * time.Second)
	for a.Status != store.AppFailed && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		a, _ = h.st.Application(h.ctx, a.ID)
	}
	if a.Status != store.AppFailed || !strings.Contains(a.BackendMessage, "already exists on cluster c1") {
		t.Fatalf("application: %s %q", a.Status, a.BackendMessage)
	}
	if n := h.fake.PathCount("/2/instances"); n != 0 {
		t.Errorf("%d creation requests", n)
	}
}

// TestSubmitClusterUnreachable: while the cluster answers 503 the job is
// retried; once it answers the VM is created. On the last attempt the
// application fails with the error.
func TestSubmitClusterUnreachable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.fake.SetFaults(rapifake.Faults{Status: 503, PathPrefix: "/2/"})
	a := h.approve(h.apply("later.example.org"), Review{})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, errs := h.submitJobs(); errs >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the submission was not retried")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if cur, _ := h.st.Application(h.ctx, a.ID); cur.Status != store.AppSubmitted || cur.JobID != 0 {
		t.Fatalf("while unreachable: %+v", cur)
	}
	h.fake.ClearFaults()
	h.waitStatus(a.ID, store.AppCreated, 20*time.Second)

	// The last attempt gives up.
	h.fake.SetFaults(rapifake.Faults{Reset: true})
	b := h.approve(h.apply("never.example.org"), Review{})
	if err := h.queue.Stop(h.ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.submit(h.ctx, SubmitArgs{ApplicationID: b.ID, Attempt: 1}, true, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	b, _ = h.st.Application(h.ctx, b.ID)
	if b.Status != store.AppFailed || !strings.HasPrefix(b.BackendMessage, "The cluster could not be reached: ") {
		t.Fatalf("after the last attempt: %s %q", b.Status, b.BackendMessage)
	}
	if got := recipients(h.mails("application_failed")); got != testAdmins {
		t.Errorf("failure mailed to %q", got)
	}
}

// TestSubmitStaleJob: a job of an earlier attempt, or of a settled
// application, does nothing.
func TestSubmitStaleJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noQueue: true})
	a := h.approve(h.apply("stale.example.org"), Review{})
	h.fake.ResetCounts()
	if err := h.svc.submit(h.ctx, SubmitArgs{ApplicationID: a.ID, Attempt: 7}, false, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.submit(h.ctx, SubmitArgs{ApplicationID: 999999, Attempt: 1}, false, time.Millisecond); err == nil {
		t.Error("a job of a missing application was not cancelled")
	}
	if n := h.fake.RequestCount(); n != 0 {
		t.Errorf("a stale job made %d requests", n)
	}
	// The real attempt settles it; running it again changes nothing.
	if err := h.svc.submit(h.ctx, SubmitArgs{ApplicationID: a.ID, Attempt: 1}, false, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.submit(h.ctx, SubmitArgs{ApplicationID: a.ID, Attempt: 1}, false, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if a, _ = h.st.Application(h.ctx, a.ID); a.Status != store.AppCreated {
		t.Fatalf("status %s", a.Status)
	}
	if n := h.fake.PathCount("/2/instances"); n != 1 {
		t.Errorf("%d creation requests", n)
	}
	if n := len(h.mails("application_created")); n != 2 {
		t.Errorf("%d created mails", n)
	}
}
