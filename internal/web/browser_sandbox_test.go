package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/sandboxenv"
)

const (
	// sandboxJobTimeout bounds one job on the real Ganeti (jobs serialise
	// on the cluster; a busy machine is slow).
	sandboxJobTimeout = 120 * time.Second
	// sandboxBrowserTimeout bounds the browser part of the sandbox test,
	// which waits for real syncs.
	sandboxBrowserTimeout = 180 * time.Second
	// sandboxSyncWait bounds the wait for the sync to show the instances.
	sandboxSyncWait = 60 * time.Second
)

// sandboxClient returns a RAPI client of the sandbox's write user.
func sandboxClient(t *testing.T, env map[string]string) *rapi.Client {
	t.Helper()
	port, err := strconv.Atoi(env["GANETI_RAPI_PORT"])
	if err != nil {
		t.Fatalf("GANETI_RAPI_PORT: %v", err)
	}
	c, err := rapi.New(rapi.Config{Host: env["GANETI_RAPI_HOST"], Port: port,
		Username: env["GANETI_RAPI_USER"], Password: env["GANETI_RAPI_PASS"],
		TLS:             rapi.TLSConfig{PinnedSHA256: env["GANETI_RAPI_FINGERPRINT"]},
		ResponseTimeout: 45 * time.Second, ConnectTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// createSandboxInstance creates a small diskless instance with tags on the
// sandbox, deleted at cleanup (also when the test fails), and returns the
// creation job's id.
func createSandboxInstance(t *testing.T, c *rapi.Client, env map[string]string, name string, tags ...string) rapi.JobID {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), sandboxJobTimeout)
		defer cancel()
		if _, err := c.Instance(ctx, name); rapi.IsNotFound(err) {
			return
		}
		id, err := c.DeleteInstance(ctx, name, rapi.DeleteOptions{ShutdownTimeout: 10 * time.Second})
		if err == nil {
			_, err = c.WaitJob(ctx, id)
		}
		if err != nil && !rapi.IsNotFound(err) {
			t.Errorf("cleanup: delete instance %s: %v", name, err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), sandboxJobTimeout)
	defer cancel()
	id, err := c.CreateInstance(ctx, rapi.InstanceCreate{Name: name, DiskTemplate: "diskless", OS: env["GANETI_OS"],
		PNode: env["GANETI_NODE"], BeParams: map[string]any{"maxmem": 128, "minmem": 128, "vcpus": 1},
		NICs: []rapi.NICSpec{{Link: env["GANETI_NIC_LINK"], Mode: "bridged"}}, Tags: tags})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if _, err := c.WaitJob(ctx, id); err != nil {
		t.Fatalf("create %s: job %s: %v", name, id, err)
	}
	return id
}

// startSyncer runs a real syncer against the harness's database, with the
// passwords box the site seals RAPI passwords with, until the test ends.
// synced receives the id of every cluster synced without error.
func startSyncer(t *testing.T, h *harness, opts clustersync.Options) (synced <-chan int64) {
	t.Helper()
	ch := make(chan int64, 64)
	opts.Passwords = h.passwords
	opts.OnSync = func(id int64, err error) {
		if err != nil {
			return
		}
		select {
		case ch <- id:
		default:
		}
	}
	s, err := clustersync.New(h.store, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return ch
}

// logout logs the current user out through the page's button.
func (b *browser) logout() {
	b.t.Helper()
	b.click("#logout")
	b.wantAt("/login")
}

// TestBrowserSandboxVisibility registers the real Ganeti sandbox through
// the admin pages in a browser (fingerprint confirmation, test
// connection), lets a real syncer sync it, and checks who sees two
// instances tagged for a user and for a group, and that a real job's log
// appears on the job page.
func TestBrowserSandboxVisibility(t *testing.T) {
	env := sandboxenv.Load(t, "GANETI_NODE", "GANETI_OS", "GANETI_NIC_LINK")
	requireChromium(t) // before creating anything on the sandbox
	rc := sandboxClient(t, env)

	// Unique names: the sandbox is shared by every run.
	rnd := make([]byte, 4)
	_, _ = rand.Read(rnd)
	rid := "bt-" + hex.EncodeToString(rnd)
	aliceVM, opsVM := rid+"-alice.example.org", rid+"-ops.example.org"
	aliceJob := createSandboxInstance(t, rc, env, aliceVM, "ganetimgr:user:alice")
	createSandboxInstance(t, rc, env, opsVM, "ganetimgr:group:ops")

	h, b := newBrowserHarnessFor(t, sandboxBrowserTimeout)
	ctx := context.Background()
	const pw = "correct horse battery"
	h.user("root", pw, true)
	h.user("alice", pw, false)
	h.user("bob", pw, false)
	dave := h.user("dave", pw, false)
	h.user("helpdesk", pw, false, auth.ViewInstances)
	ops, err := h.store.CreateGroup(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.AddGroupMember(ctx, ops.ID, dave.ID); err != nil {
		t.Fatal(err)
	}
	// The syncer runs from the start: a cluster the admin adds syncs at
	// once, without waiting for an interval.
	synced := startSyncer(t, h, clustersync.Options{Interval: 2 * time.Second, StaleAfter: 3,
		SyncTimeout: 60 * time.Second, ResponseTimeout: 45 * time.Second, ConnectTimeout: 20 * time.Second})

	// The administrator registers the sandbox.
	b.open("/admin/clusters/new")
	b.wantAt("/login?next=%2Fadmin%2Fclusters%2Fnew")
	if status := b.loginAs("root", pw); status != http.StatusOK {
		t.Fatalf("cluster form after login: status %d", status)
	}
	b.wantAt("/admin/clusters/new")
	b.fill("#hostname", env["GANETI_RAPI_HOST"])
	b.fill("#slug", "sandbox")
	b.fill("#port", env["GANETI_RAPI_PORT"])
	b.fill("#description", "Ganeti sandbox "+rid)
	b.fill("#rapi_username", env["GANETI_RAPI_USER"])
	b.fill("#rapi_password", env["GANETI_RAPI_PASS"])
	if !run(b, "pin mode", chromedp.Evaluate[bool](`document.querySelector("#tls_mode-pin").checked`)) {
		t.Error("pinning the certificate is not the default")
	}
	if status := b.click("#cluster-submit").Status; status != http.StatusOK {
		t.Fatalf("certificate confirmation: status %d", status)
	}
	b.wantText("#fingerprint", env["GANETI_RAPI_FINGERPRINT"])
	if _, err := h.store.ClusterBySlug(ctx, "sandbox"); err == nil {
		t.Error("the cluster is saved before the fingerprint is confirmed")
	}
	if status := b.click("#confirm-submit").Status; status != http.StatusOK {
		t.Fatalf("cluster page after confirming: status %d", status)
	}
	cl, err := h.store.ClusterBySlug(ctx, "sandbox")
	if err != nil {
		t.Fatalf("the confirmed cluster is not saved: %v", err)
	}
	b.wantAt(fmt.Sprintf("/admin/clusters/%d", cl.ID))
	b.wantText("#pinned-fingerprint", env["GANETI_RAPI_FINGERPRINT"])

	// Test connection.
	if status := b.click("#test-connection").Status; status != http.StatusOK {
		t.Fatalf("test connection: status %d", status)
	}
	if ok := run(b, "test result", chromedp.Evaluate[string](`document.querySelector("#test-result").dataset.ok`)); ok != "true" {
		t.Fatalf("test connection failed: %s", b.text("#test-result"))
	}
	if v := b.text("#test-version"); !strings.HasPrefix(v, "3.0.") {
		t.Errorf("Ganeti version %q, want 3.0.x", v)
	}
	if name := env["GANETI_CLUSTER_NAME"]; name != "" {
		b.wantText("#test-name", name)
	}
	if w := run(b, "write access", chromedp.Evaluate[string](`document.querySelector("#test-access").dataset.write`)); w != "true" {
		t.Errorf("the write user is reported as data-write=%q", w)
	}

	// The syncer picks the new cluster up and syncs it.
	deadline := time.After(sandboxSyncWait)
wait:
	for {
		select {
		case id := <-synced:
			if id == cl.ID {
				break wait
			}
		case <-deadline:
			st, _ := h.store.ClusterSyncStatuses(ctx)
			for _, s := range st {
				t.Logf("sync status %s: %+v", s.Slug, *s)
			}
			t.Fatalf("no successful sync of the sandbox within %s", sandboxSyncWait)
		}
	}

	search := "/instances/?q=" + rid
	detail := func(name string) string { return "/instances/sandbox/" + name + "/" }
	sees := func(who string, want map[string]bool) {
		t.Helper()
		if status := b.openStatus(search); status != http.StatusOK {
			t.Fatalf("%s: instance list: status %d", who, status)
		}
		rows := run(b, "rows", chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("tr[data-instance]"), tr => tr.dataset.instance)`))
		for name, visible := range want {
			if got := slices.Contains(rows, name); got != visible {
				t.Errorf("%s: %s in the list = %v, want %v (rows %v)", who, name, got, visible, rows)
			}
			status := b.openStatus(detail(name))
			if visible && status != http.StatusOK {
				t.Errorf("%s: detail of %s: status %d, want 200", who, name, status)
			} else if visible && !strings.Contains(b.text("h1"), name) {
				t.Errorf("%s: detail of %s: title %q", who, name, b.text("h1"))
			}
			if !visible && status != http.StatusNotFound {
				t.Errorf("%s: detail of %s: status %d, want 404", who, name, status)
			}
		}
	}

	// The administrator sees both.
	sees("root", map[string]bool{aliceVM: true, opsVM: true})
	// A real job's log is on the job page.
	if status := b.openStatus(fmt.Sprintf("/jobs/sandbox/%d/", aliceJob)); status != http.StatusOK {
		t.Fatalf("job %s page: status %d", aliceJob, status)
	}
	b.wantText("#job-status", "success")
	if log := b.text("#job-log"); !strings.Contains(log, "creating instance disks") || !strings.Contains(log, aliceVM) {
		t.Errorf("job %s log on the page lacks Ganeti's messages:\n%s", aliceJob, log)
	}
	b.logout()

	for _, tc := range []struct {
		who  string
		want map[string]bool
	}{
		{"alice", map[string]bool{aliceVM: true, opsVM: false}},
		{"dave", map[string]bool{aliceVM: false, opsVM: true}}, // member of ops
		{"helpdesk", map[string]bool{aliceVM: true, opsVM: true}},
		{"bob", map[string]bool{aliceVM: false, opsVM: false}},
	} {
		b.open("/login")
		if status := b.loginAs(tc.who, pw); status != http.StatusOK {
			t.Fatalf("%s: login: status %d", tc.who, status)
		}
		sees(tc.who, tc.want)
		b.logout()
	}
	if strings.Contains(h.logs.String(), env["GANETI_RAPI_PASS"]) {
		t.Error("the RAPI password appears in the server log")
	}
	b.noConsoleErrors("status of 404")
}
