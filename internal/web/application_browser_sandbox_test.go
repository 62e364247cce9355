package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/sandboxenv"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// choose sets the select field sel to value (which one of its options
// must have).
func (b *browser) choose(sel, value string) {
	b.t.Helper()
	s, _ := json.Marshal(sel)
	v, _ := json.Marshal(value)
	ok := run(b, "choose "+value+" in "+sel, chromedp.Evaluate[bool](`(() => { const s = document.querySelector(`+
		string(s)+`); s.value = `+string(v)+`; return s.value === `+string(v)+`; })()`))
	if !ok {
		b.t.Fatalf("%s has no option %q", sel, value)
	}
}

// TestBrowserSandboxApplication: on the real Ganeti sandbox, a user applies
// in the browser, a reviewer approves with a placement chosen on the
// review page, the VM is created with the right tags, memory, disk and
// NIC, and the user sees it in their list.
func TestBrowserSandboxApplication(t *testing.T) {
	env := sandboxenv.Load(t, "GANETI_OS", "GANETI_NODE_GROUP", "GANETI_NETWORK", "GANETI_NIC_LINK")
	requireChromium(t) // before creating anything on the sandbox
	rc := sandboxClient(t, env)
	rnd := make([]byte, 4)
	_, _ = rand.Read(rnd)
	name := "ba-" + hex.EncodeToString(rnd) + ".ganeti.test"
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

	h, b := newBrowserHarnessFor(t, 2*sandboxBrowserTimeout)
	ctx := context.Background()
	h.startApplications()
	const pw = "correct horse battery"
	h.user("ann", pw, false)
	h.user("rev", pw, false, auth.ChangeApplication)
	org, err := h.store.CreateOrganization(ctx, store.OrganizationInput{Title: "GRNET", Tag: "grnet"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.CreateOSImage(ctx, store.OSImageInput{ID: "sandbox-os", Description: "Sandbox OS",
		Provider: env["GANETI_OS"], OSParams: map[string]string{"image": "debian-12"}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(env["GANETI_RAPI_PORT"])
	sealed, err := h.passwords.Seal(env["GANETI_RAPI_PASS"])
	if err != nil {
		t.Fatal(err)
	}
	cl, err := h.store.CreateCluster(ctx, store.ClusterInput{Slug: "sandbox", Hostname: env["GANETI_RAPI_HOST"],
		Port: port, RAPIUsername: env["GANETI_RAPI_USER"], RAPIPassword: sealed,
		TLSFingerprint: env["GANETI_RAPI_FINGERPRINT"]})
	if err != nil {
		t.Fatal(err)
	}
	synced := startSyncer(t, h, clustersync.Options{Interval: 2 * time.Second, StaleAfter: 3,
		SyncTimeout: 60 * time.Second, ResponseTimeout: 45 * time.Second, ConnectTimeout: 20 * time.Second})
	for id := int64(0); id != cl.ID; {
		select {
		case id = <-synced:
		case <-time.After(sandboxSyncWait):
			t.Fatal("the sandbox was not synced")
		}
	}

	// The user applies.
	b.open("/applications/new")
	if status := b.loginAs("ann", pw); status != http.StatusOK {
		t.Fatalf("application form after login: status %d", status)
	}
	b.wantAt("/applications/new")
	b.fill("#hostname", name)
	b.choose("#memory", "1024")
	b.fill("#vcpus", "1")
	b.fill("#disk", "5")
	b.choose("#os", "sandbox-os")
	b.choose("#organization", strconv.FormatInt(org.ID, 10))
	run(b, "comments", chromedp.SendKeys(chromedp.CSS("#comments"), "A test machine."))
	run(b, "accept the terms", chromedp.Click(chromedp.CSS("#accept_terms")))
	if status := b.click("#application-submit").Status; status != http.StatusOK {
		t.Fatalf("apply: status %d", status)
	}
	m := regexp.MustCompile(`^/applications/([0-9]+)/$`).FindStringSubmatch(b.location().Path)
	if m == nil {
		t.Fatalf("after applying the browser is at %s", b.location())
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	b.wantText("#application-status", "Pending")
	b.logout()

	// The reviewer approves with a placement on the sandbox.
	b.open(fmt.Sprintf("/applications/%d/", id))
	if status := b.loginAs("rev", pw); status != http.StatusOK {
		t.Fatalf("review page after login: status %d", status)
	}
	b.choose("#cluster", strconv.FormatInt(cl.ID, 10))
	b.choose("#node_group", env["GANETI_NODE_GROUP"])
	b.choose("#network", "gnt:"+env["GANETI_NETWORK"])
	b.choose("#disk_template", "file")
	if status := b.click("#approve").Status; status != http.StatusOK {
		t.Fatalf("approve: status %d", status)
	}
	// The application's page follows the creation: it reloads itself
	// until the job is sent, then shows the job's progress live and, once
	// the VM exists, goes to the VM's page (or, when the job ended before
	// the page could follow it, shows it finished).
	vmPage := applications.InstancePath("sandbox", name)
	seen := b.watch("creation", sandboxJobTimeout, func(st pageState) bool {
		return st.Path == vmPage || st.Finished == "true"
	})
	t.Logf("application page states: %+v", seen)
	if last := seen[len(seen)-1]; last.Path != vmPage && last.Job != "success" {
		t.Errorf("the application page ended at %+v; seen %+v", last, seen)
	}
	if !slices.ContainsFunc(seen, func(st pageState) bool { return st.Job != "" }) {
		t.Errorf("the application page never showed the job's progress; seen %+v", seen)
	}
	if j, err := h.store.LatestApplicationJob(ctx, id); err != nil || j.Status != "success" || len(j.Log) == 0 ||
		j.ApplicationID != id || j.Instance != name {
		t.Errorf("tracked creation job: %+v, %v", j, err)
	}
	deadline := time.Now().Add(sandboxJobTimeout)
	var a *store.Application
	for {
		if a, err = h.store.Application(ctx, id); err != nil {
			t.Fatal(err)
		}
		if a.Status == store.AppCreated || a.Status == store.AppFailed || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if a.Status != store.AppCreated {
		t.Fatalf("status %s (%s), want created", a.Status, a.BackendMessage)
	}

	// On the cluster.
	in, err := rc.Instance(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"ganetimgr:user:ann", "ganetimgr:org:grnet", fmt.Sprintf("ganetimgr:application:%d", id)} {
		if !slices.Contains(in.Tags, tag) {
			t.Errorf("tags %v lack %s", in.Tags, tag)
		}
	}
	if in.BeParams.MaxMem != 1024 || in.BeParams.VCPUs != 1 || in.DiskTemplate != "file" ||
		!slices.Equal(in.DiskSizes, []int64{5 * 1024}) {
		t.Errorf("instance: maxmem %d vcpus %d template %s disks %v", in.BeParams.MaxMem, in.BeParams.VCPUs,
			in.DiskTemplate, in.DiskSizes)
	}
	if !slices.Equal(in.NICLinks, []string{env["GANETI_NIC_LINK"]}) {
		t.Errorf("nics: links %v", in.NICLinks)
	}
	b.logout()

	// The user sees the VM in their list.
	b.open("/instances/")
	if status := b.loginAs("ann", pw); status != http.StatusOK {
		t.Fatalf("instances after login: status %d", status)
	}
	b.open("/instances/")
	if !b.present(`[data-instance="` + name + `"]`) {
		if !regexp.MustCompile(regexp.QuoteMeta(name)).MatchString(b.text("main")) {
			t.Errorf("the new VM %s is not in the user's list", name)
		}
	}
	b.open(fmt.Sprintf("/applications/%d/", id))
	b.wantText("#application-status", "Created")
}
