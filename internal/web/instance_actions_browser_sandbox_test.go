package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/sandboxenv"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// pageState is what the instance page shows of the instance and its job.
type pageState struct {
	Path     string `json:"path"`
	State    string `json:"state"`    // #instance-state's text
	Job      string `json:"job"`      // #job-progress-status's data-status
	Finished string `json:"finished"` // #job-progress's data-finished
	Log      int    `json:"log"`      // lines in #job-progress-log
	Marked   bool   `json:"marked"`   // the page has not been reloaded since mark()
}

// pageStateJS reads a pageState.
const pageStateJS = `(() => {
  const q = s => document.querySelector(s);
  return {path: location.pathname, state: q("#instance-state") ? q("#instance-state").textContent.trim() : "",
    job: q("#job-progress-status") ? q("#job-progress-status").dataset.status : "",
    finished: q("#job-progress") ? q("#job-progress").dataset.finished : "",
    log: document.querySelectorAll("#job-progress-log li").length, marked: window.__marked === true};
})()`

// watch polls the page until done says so or timeout passes, returning
// every distinct state seen (in order).
func (b *browser) watch(what string, timeout time.Duration, done func(pageState) bool) []pageState {
	b.t.Helper()
	var seen []pageState
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
		st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](pageStateJS))
		cancel()
		// A navigation in progress fails an evaluation: try again.
		if err == nil {
			if len(seen) == 0 || seen[len(seen)-1] != st {
				seen = append(seen, st)
			}
			if done(st) {
				return seen
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: not done within %s; seen %+v (last error %v)", what, timeout, seen, err)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// mark flags the current document, so watch tells an update in place
// from a reload.
func (b *browser) mark() {
	b.t.Helper()
	run(b, "mark the page", chromedp.Evaluate[bool](`window.__marked = true`))
}

// TestBrowserSandboxInstanceActions: on the real Ganeti sandbox, the owner
// of a new VM shuts it down from its page and watches the progress area
// follow the job live (server-sent events) until the page shows it
// stopped, starts it again the same way, then destroys it, confirming
// with the password, and lands on the list; the VM is gone from the
// cluster and every step is in the audit log.
func TestBrowserSandboxInstanceActions(t *testing.T) {
	env := sandboxenv.Load(t, "GANETI_NODE", "GANETI_OS", "GANETI_NIC_LINK")
	requireChromium(t) // before creating anything on the sandbox
	rc := sandboxClient(t, env)
	rnd := make([]byte, 4)
	_, _ = rand.Read(rnd)
	name := "ia-" + hex.EncodeToString(rnd) + ".example.org"
	const owner, pw = "olga", "correct horse battery"

	// The VM, running, tagged for its owner; deleted at the end whatever
	// happens.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), sandboxJobTimeout)
		defer cancel()
		if _, err := rc.Instance(ctx, name); rapi.IsNotFound(err) {
			return
		}
		id, err := rc.DeleteInstance(ctx, name, rapi.DeleteOptions{ShutdownTimeout: 10 * time.Second})
		if err == nil {
			_, err = rc.WaitJob(ctx, id)
		}
		if err != nil && !rapi.IsNotFound(err) {
			t.Errorf("cleanup: delete instance %s: %v", name, err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), sandboxJobTimeout)
	defer cancel()
	created, err := rc.CreateInstance(ctx, rapi.InstanceCreate{Name: name, DiskTemplate: "diskless", OS: env["GANETI_OS"],
		PNode: env["GANETI_NODE"], BeParams: map[string]any{"maxmem": 128, "minmem": 128, "vcpus": 1}, Start: true,
		NICs: []rapi.NICSpec{{Link: env["GANETI_NIC_LINK"], Mode: "bridged"}}, Tags: []string{"ganetimgr:user:" + owner}})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if _, err := rc.WaitJob(ctx, created); err != nil {
		t.Fatalf("create %s: job %s: %v", name, created, err)
	}

	h, b := newBrowserHarnessFor(t, 2*sandboxBrowserTimeout, withConfirm(config.ConfirmPassword))
	h.startInstanceOps()
	h.user(owner, pw, false)
	port, _ := strconv.Atoi(env["GANETI_RAPI_PORT"])
	sealed, err := h.passwords.Seal(env["GANETI_RAPI_PASS"])
	if err != nil {
		t.Fatal(err)
	}
	cl, err := h.store.CreateCluster(context.Background(), store.ClusterInput{Slug: "sandbox", Hostname: env["GANETI_RAPI_HOST"],
		Port: port, RAPIUsername: env["GANETI_RAPI_USER"], RAPIPassword: sealed, TLSFingerprint: env["GANETI_RAPI_FINGERPRINT"]})
	if err != nil {
		t.Fatal(err)
	}
	synced := startSyncer(t, h, clustersync.Options{Interval: 30 * time.Second, StaleAfter: 3,
		SyncTimeout: 60 * time.Second, ResponseTimeout: 45 * time.Second, ConnectTimeout: 20 * time.Second})
	for id := int64(0); id != cl.ID; {
		select {
		case id = <-synced:
		case <-time.After(sandboxSyncWait):
			t.Fatal("the sandbox was not synced")
		}
	}

	page := "/instances/sandbox/" + name + "/"
	b.open(page)
	if status := b.loginAs(owner, pw); status != http.StatusOK {
		t.Fatalf("instance page after login: status %d", status)
	}
	b.wantAt(page)
	b.wantText("#instance-state", "running")

	// act clicks an action and watches the page until the instance shows
	// want and its job has ended well.
	act := func(button, want string) {
		t.Helper()
		if status := b.click(button).Status; status != http.StatusOK {
			t.Fatalf("%s: status %d", button, status)
		}
		b.wantAt(page)
		b.mark()
		seen := b.watch(button, sandboxJobTimeout, func(st pageState) bool {
			return st.State == want && st.Finished == "true"
		})
		first, last := seen[0], seen[len(seen)-1]
		if first.Finished != "false" || !slices.Contains([]string{"submitting", "queued", "waiting", "running", "success"}, first.Job) {
			t.Errorf("%s: the page did not show the job in progress first: %+v", button, first)
		}
		if last.Job != "success" || last.Marked {
			t.Errorf("%s: the page was not reloaded with the job's result: %+v", button, last)
		}
		t.Logf("%s: the page went through %+v", button, seen)
	}
	b.choose("#shutdown-timeout", "10")
	act("#action-shutdown", "stopped")
	if b.present("#action-shutdown") || !b.present("#action-start") {
		t.Error("the stopped VM's page does not offer start instead of shutdown")
	}
	if got := b.text("#job-progress-what"); got != "Shut down" {
		t.Errorf("the last action is %q, want Shut down", got)
	}
	act("#action-start", "running")

	// Destroy, confirmed by password.
	if status := b.click("#action-destroy").Status; status != http.StatusOK {
		t.Fatalf("destroy form: status %d", status)
	}
	b.wantAt(page + "destroy")
	if w := b.text("#confirm-warning"); !strings.Contains(w, "All data will be lost") {
		t.Errorf("the destroy form's warning: %q", w)
	}
	b.fill("#current", pw)
	if status := b.click("#confirm-submit").Status; status != http.StatusOK {
		t.Fatalf("destroy: status %d", status)
	}
	b.watch("destroy", sandboxJobTimeout, func(st pageState) bool { return st.Path == "/instances/" })
	if b.present(`[data-instance="` + name + `"]`) {
		t.Error("the destroyed VM is still in the list")
	}
	gctx, gcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer gcancel()
	if _, err := rc.Instance(gctx, name); !rapi.IsNotFound(err) {
		t.Errorf("the VM is still on the cluster (%v)", err)
	}

	// The audit log has every step.
	rows, err := h.store.Pool().Query(context.Background(), `SELECT action || ':' || outcome FROM audit_log
		WHERE instance = $1 AND username = $2 ORDER BY id`, name, owner)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	rows.Close()
	want := []string{"instance.shutdown:ok", "instance.job_end:ok", "instance.start:ok", "instance.job_end:ok",
		"instance.destroy:ok", "instance.job_end:ok"}
	if !slices.Equal(got, want) {
		t.Errorf("audit entries %v, want %v", got, want)
	}
	// The progress came through the event stream.
	if !strings.Contains(h.logs.String(), "/jobs/{id:[0-9]+}/events") {
		t.Error("the page never opened the job's event stream")
	}
	b.noConsoleErrors("status of 404")
}
