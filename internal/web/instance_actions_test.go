package web_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
)

// TestInstanceActionCrossOrigin posts every action as its owner from
// another site (the Origin and Sec-Fetch-Site headers a browser sends):
// each is refused with 403 before anything happens (no cluster call, no
// job, no audit entry), and the same request from the site itself is
// accepted, so the refusal is the origin's doing. No special header (such
// as X-Requested-With) is what protects the actions.
func TestInstanceActionCrossOrigin(t *testing.T) {
	t.Parallel()
	f := newOpsFixture(t, config.ConfirmPassword, rapifake.NoJobDelay)
	alice := f.clients["alice"]
	for _, ep := range opsEndpoints() {
		if ep.method != http.MethodPost {
			continue
		}
		st := stNormal
		if ep.path == "allow-from" {
			st = stIsolated
		}
		if expectOps("alice", st, ep) != http.StatusSeeOther {
			continue // start and rename are refused anyway; still check them below
		}
		name := f.fresh(t, st)
		path := f.page(name) + ep.path
		form := ep.form(st).Encode()
		for _, h := range []map[string]string{
			{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
			{"Sec-Fetch-Site": "cross-site"},
			{"Origin": "https://evil.example"},
			{"Origin": "null"},
		} {
			calls := f.fake.RequestCount()
			r := alice.crossSite(path, form, h)
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s from another site %v: got %d, want 403", path, h, r.StatusCode)
			}
			if f.fake.RequestCount() != calls || f.jobs(t, name) != 0 || f.auditCount(t, "alice", name, "ok") != 0 ||
				f.auditCount(t, "alice", name, "refused") != 0 {
				t.Errorf("POST %s from another site %v: something was done", path, h)
			}
		}
		if r := alice.post(path, ep.form(st)); r.StatusCode != http.StatusSeeOther {
			t.Errorf("POST %s from the site: got %d, want 303", path, r.StatusCode)
		}
	}
	for _, p := range []string{"start", "rename"} {
		calls := f.fake.RequestCount()
		r := alice.crossSite(f.page(f.stopped)+p, "new_name=x.example.org", map[string]string{"Sec-Fetch-Site": "cross-site"})
		if r.StatusCode != http.StatusForbidden || f.fake.RequestCount() != calls || f.jobs(t, f.stopped) != 0 {
			t.Errorf("POST %s from another site: got %d or something was done", p, r.StatusCode)
		}
	}
	// Confirmation links too.
	r := alice.crossSite("/instances/confirm/abc", "", map[string]string{"Sec-Fetch-Site": "cross-site"})
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("POST a confirmation link from another site: got %d, want 403", r.StatusCode)
	}
}

// TestInstanceActionDoubleSubmit posts "start" on a stopped instance from
// several tabs at once: one Ganeti job is created (one startup request at
// the cluster), one request is accepted and the others are told a job is
// running, and the audit log has one accepted and the other attempts
// refused.
func TestInstanceActionDoubleSubmit(t *testing.T) {
	t.Parallel()
	f := newOpsFixture(t, config.ConfirmPassword, rapifake.NoJobDelay)
	const n = 4
	start := make(chan struct{})
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		who := "alice"
		if i%2 == 1 {
			who = "carol"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPost, f.baseURL+f.page(f.stopped)+"start", strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", f.baseURL)
			resp, err := f.clients[who].c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	accepted, busy := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusSeeOther:
			accepted++
		case http.StatusConflict:
			busy++
		default:
			t.Errorf("a concurrent start answered %d", s)
		}
	}
	if accepted != 1 || busy != n-1 {
		t.Errorf("%d accepted and %d refused as busy, want 1 and %d (statuses %v)", accepted, busy, n-1, statuses)
	}
	if got := f.fake.PathCount("/2/instances/" + f.stopped + "/startup"); got != 1 {
		t.Errorf("the cluster received %d startup requests, want 1", got)
	}
	if got := f.jobs(t, f.stopped); got != 1 {
		t.Errorf("%d tracked jobs, want 1", got)
	}
	ok := f.auditCount(t, "alice", f.stopped, "ok") + f.auditCount(t, "carol", f.stopped, "ok")
	refused := f.auditCount(t, "alice", f.stopped, "refused") + f.auditCount(t, "carol", f.stopped, "refused")
	if ok != 1 || refused != n-1 {
		t.Errorf("audit: %d ok and %d refused, want 1 and %d", ok, refused, n-1)
	}
	var details []string
	rows, err := f.store.Pool().Query(context.Background(), `SELECT detail FROM audit_log WHERE instance = $1 AND outcome = 'refused'`, f.stopped)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		details = append(details, d)
	}
	rows.Close()
	for _, d := range details {
		if !strings.Contains(d, "job_pending") {
			t.Errorf("a refused double submit was audited as %q, want a pending job", d)
		}
	}
}

// TestInstanceActionPanel checks what the instance page offers each role:
// the owner's buttons and the reasons of what is refused, the read-only
// panel of helpdesk, the administration card of a can_lock holder, the
// one reason of an admin-locked, maintained or busy instance, and a
// progress area of a running job that follows it through its event
// stream, with a link for browsers without JavaScript.
func TestInstanceActionPanel(t *testing.T) {
	t.Parallel()
	f := newOpsFixture(t, config.ConfirmMail, rapifake.NoJobDelay)
	has := func(who, st string, want map[string]bool) {
		t.Helper()
		r := f.clients[who].get(f.page(f.base[st]))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s's page of the %s instance: status %d", who, st, r.StatusCode)
		}
		for sel, in := range want {
			if got := strings.Contains(r.body, sel); got != in {
				t.Errorf("%s, %s instance: %s present = %v, want %v", who, st, sel, got, in)
			}
		}
	}
	has("alice", stNormal, map[string]bool{`id="action-shutdown"`: true, `id="action-reboot"`: true,
		`id="action-reinstall"`: true, `id="action-destroy"`: true, `id="action-start"`: false,
		`id="action-rename"`: false, `<li data-action="start">`: true, `<li data-action="rename">`: true,
		`id="owner-add-form"`: true, `autocomplete="off"`: true, `id="config-form"`: true,
		`id="instance-admin"`: false, `id="actions-notice"`: false, `id="instance-allowfrom"`: false,
		`id="job-progress"`: true, `data-finished="true"`: true, "js/job-progress.": true})
	has("carol", stNormal, map[string]bool{`id="action-shutdown"`: true, `id="config-form"`: true})
	has("helpdesk", stNormal, map[string]bool{`id="action-shutdown"`: false, `id="actions-notice"`: true,
		`id="config-form"`: false, `id="config-values"`: true, `id="owner-add-form"`: false, `id="instance-admin"`: false})
	has("locker", stNormal, map[string]bool{`id="action-shutdown"`: false, `id="instance-admin"`: true,
		`id="action-lock"`: true, `id="action-isolate"`: true})
	has("root", stNormal, map[string]bool{`id="action-shutdown"`: true, `id="action-lock"`: true, `id="config-form"`: true})
	has("alice", stLocked, map[string]bool{`id="action-shutdown"`: false, `id="actions-notice"`: true,
		`id="config-form"`: false, `id="owner-add-form"`: false})
	has("root", stLocked, map[string]bool{`id="action-shutdown"`: true, `id="action-lock"`: true})
	has("alice", stIsolated, map[string]bool{`id="action-shutdown"`: true, `id="allowfrom-form"`: true})
	has("helpdesk", stIsolated, map[string]bool{`id="allowfrom-form"`: false})
	has("alice", stMaintenance, map[string]bool{`id="action-shutdown"`: false, `id="actions-notice"`: true})
	has("root", stMaintenance, map[string]bool{`id="action-shutdown"`: true})
	has("alice", stPending, map[string]bool{`id="action-shutdown"`: false, `id="actions-notice"`: true,
		`id="instance-busy"`: true, `id="job-progress"`: true, `data-finished="false"`: true,
		`id="job-progress-refresh"`: true, "/jobs/": true, "/events": true})
	if got := f.clients["bob"].get(f.page(f.base[stNormal])).StatusCode; got != http.StatusNotFound {
		t.Errorf("bob's page of alice's instance: got %d, want 404", got)
	}
}

// TestInstanceJobProgress follows a real job: a reinstall (its fake job
// takes a few seconds and logs) is started from the page; the progress
// fragment shows it running, the event stream sends its status and log
// lines as they come and ends with the page to go to once the follower
// has seen the job end; the instance is refreshed at once, and the
// fragment then shows the result. Other users do not see the job.
func TestInstanceJobProgress(t *testing.T) {
	t.Parallel()
	f := newOpsFixture(t, config.ConfirmPassword, 3*time.Second)
	f.startInstanceOps()
	name := f.fresh(t, stNormal)
	alice := f.clients["alice"]
	r := alice.post(f.page(name)+"reinstall", url.Values{"os": {""}, "current": {opsPassword}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reinstall: status %d\n%s", r.StatusCode, r.body)
	}
	js, err := f.store.InstanceJobsOf(context.Background(), f.cluster.ID, name, 1)
	if err != nil || len(js) != 1 {
		t.Fatalf("tracked job: %v %v", js, err)
	}
	job := js[0]
	frag := f.page(name) + "jobs/" + strconv.FormatInt(job.ID, 10)
	page := alice.get(f.page(name))
	if !strings.Contains(page.body, `data-events="`+frag+`/events"`) || !strings.Contains(page.body, `data-finished="false"`) {
		t.Fatalf("the page does not follow the running job:\n%s", page.body)
	}
	if !strings.Contains(page.body, "The machine is being reinstalled.") {
		t.Error("no flash after the reinstall")
	}
	fr := alice.get(frag)
	if fr.StatusCode != http.StatusOK || !strings.HasPrefix(fr.body, `<section class="card jobprogress" id="job-progress"`) ||
		strings.Contains(fr.body, "<html") {
		t.Fatalf("fragment: status %d\n%s", fr.StatusCode, fr.body)
	}
	for who, want := range map[string]int{"bob": http.StatusNotFound, "helpdesk": http.StatusOK, "carol": http.StatusOK} {
		if got := f.clients[who].get(frag).StatusCode; got != want {
			t.Errorf("fragment as %s: got %d, want %d", who, got, want)
		}
	}
	if got := f.clients["bob"].get(frag + "/events").StatusCode; got != http.StatusNotFound {
		t.Errorf("events as bob: got %d, want 404", got)
	}
	// Another instance's URL with this job: not found.
	if got := alice.get(f.page(f.base[stNormal]) + "jobs/" + strconv.FormatInt(job.ID, 10)).StatusCode; got != http.StatusNotFound {
		t.Errorf("the job under another instance: got %d, want 404", got)
	}

	events := readEvents(t, alice, frag+"/events", 60*time.Second)
	if len(events) < 2 {
		t.Fatalf("events: %v", events)
	}
	var statuses []string
	logged := false
	for _, e := range events[:len(events)-1] {
		if e.name != "progress" {
			t.Errorf("event %q before the end", e.name)
		}
		if i := strings.Index(e.data, `data-status="`); i >= 0 {
			s := e.data[i+len(`data-status="`):]
			statuses = append(statuses, s[:strings.IndexByte(s, '"')])
		}
		logged = logged || strings.Contains(e.data, "Changing OS scripts")
	}
	end := events[len(events)-1]
	if end.name != "end" || !strings.Contains(end.data, `"status":"success"`) ||
		!strings.Contains(end.data, `"location":"`+f.page(name)+`"`) {
		t.Errorf("last event: %+v", end)
	}
	if !logged {
		t.Errorf("no progress event shows the job's log lines: %v", events)
	}
	if len(statuses) < 2 || statuses[len(statuses)-1] != "success" {
		t.Errorf("statuses sent: %v, want the job's progress ending in success", statuses)
	}
	// Finished: the row, the refreshed instance, the fragment and the
	// stream of a finished job (which ends at once).
	j, err := f.store.InstanceJobByID(context.Background(), job.ID)
	if err != nil || !j.Finished() || j.Status != "success" {
		t.Fatalf("tracked job after the end event: %+v %v", j, err)
	}
	fr = alice.get(frag)
	if !strings.Contains(fr.body, `data-finished="true"`) || !strings.Contains(fr.body, "Changing OS scripts") ||
		strings.Contains(fr.body, `id="job-progress-refresh"`) {
		t.Errorf("fragment of the finished job:\n%s", fr.body)
	}
	if ev := readEvents(t, alice, frag+"/events", 10*time.Second); len(ev) != 2 || ev[1].name != "end" {
		t.Errorf("events of a finished job: %v", ev)
	}
	page = alice.get(f.page(name))
	if !strings.Contains(page.body, `id="action-shutdown"`) || strings.Contains(page.body, `id="instance-busy"`) {
		t.Error("the page still shows the instance busy after its job ended")
	}
	for _, action := range []string{"instance.reinstall", "instance.job_end"} {
		var n int
		if err := f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE instance = $1
			AND action = $2 AND outcome = 'ok'`, name, action).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s audited %d times (%v), want 1", action, n, err)
		}
	}
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// readEvents reads an event stream until the server closes it (or the
// timeout), checking its headers.
func readEvents(t *testing.T, c *client, path string, timeout time.Duration) []sseEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.h.baseURL+path, nil)
	hc := *c.c
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("events %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("events %s: %d %s\n%s", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	var out []sseEvent
	var cur sseEvent
	var data []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" {
				cur.data = strings.Join(data, "\n")
				out = append(out, cur)
			}
			cur, data = sseEvent{}, nil
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("events %s: the stream did not end within %s (%d events)", path, timeout, len(out))
	}
	return out
}

// TestInstanceConfirmByMail: in mail mode, destroying asks for nothing but
// mails a single-use link; the link's page says what will happen; another
// user who opens it finds nothing (audited as refused); the owner's POST
// starts the job and the link is then used up.
func TestInstanceConfirmByMail(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	f := newOpsFixture(t, config.ConfirmMail, rapifake.NoJobDelay, withMail(srv))
	box := newMailbox(t, srv)
	name := f.fresh(t, stNormal)
	alice := f.clients["alice"]
	form := alice.get(f.page(name) + "destroy")
	if form.StatusCode != http.StatusOK || !strings.Contains(form.body, `id="confirm-mail-hint"`) ||
		strings.Contains(form.body, `name="current"`) || !strings.Contains(form.body, "All data will be lost") {
		t.Fatalf("destroy form: %d\n%s", form.StatusCode, form.body)
	}
	calls := f.fake.RequestCount()
	r := alice.post(f.page(name)+"destroy", url.Values{})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != f.page(name) {
		t.Fatalf("destroy request: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	if f.fake.RequestCount() != calls || f.jobs(t, name) != 0 {
		t.Fatal("asking for a confirmation did something on the cluster")
	}
	if action, _ := f.lastAudit(t, "alice", name, "ok"); action != "instance.confirm_request" {
		t.Errorf("the request was audited as %s", action)
	}
	msg := box.one("alice@example.org")
	link := f.link(msg, "/instances/confirm/")
	if strings.Contains(f.logs.String(), tokenOf(link)) {
		t.Error("the confirmation token appears in the server log")
	}
	// Another user: nothing, audited.
	for _, who := range []string{"bob", "carol"} {
		if got := f.clients[who].get(link).StatusCode; got != http.StatusNotFound {
			t.Errorf("%s opens alice's link: got %d, want 404", who, got)
		}
		if got := f.clients[who].post(link, nil).StatusCode; got != http.StatusNotFound {
			t.Errorf("%s uses alice's link: got %d, want 404", who, got)
		}
		if f.auditCount(t, who, name, "refused") == 0 {
			t.Errorf("%s's use of alice's link was not audited", who)
		}
	}
	page := alice.get(link)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "Destroy "+name) ||
		page.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the link's page: %d\n%s", page.StatusCode, page.body)
	}
	if f.fake.RequestCount() != calls {
		t.Fatal("opening the link did something on the cluster")
	}
	r = alice.post(link, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != f.page(name) {
		t.Fatalf("confirm: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	if f.jobs(t, name) != 1 || f.fake.PathCount("/2/instances/"+name) == 0 {
		t.Error("confirming did not start the destroy")
	}
	if _, ok := f.fake.Instance(name); ok {
		t.Error("the instance is still on the cluster")
	}
	if action, _ := f.lastAudit(t, "alice", name, "ok"); action != "instance.destroy" {
		t.Errorf("the destroy was audited as %s", action)
	}
	if got := alice.post(link, nil).StatusCode; got != http.StatusNotFound {
		t.Errorf("the link used again: got %d, want 404", got)
	}
}

// TestInstanceConfirmByPassword: in password mode a wrong password starts
// nothing and counts against the account like a failed login (after
// five the account is blocked, the right password included); the right
// one starts the job at once. A non-owner learns nothing from a wrong
// password that the 404 of the form would not tell.
func TestInstanceConfirmByPassword(t *testing.T) {
	t.Parallel()
	f := newOpsFixture(t, config.ConfirmPassword, rapifake.NoJobDelay)
	name := f.fresh(t, stNormal)
	alice := f.clients["alice"]
	form := alice.get(f.page(name) + "reinstall")
	if form.StatusCode != http.StatusOK || !strings.Contains(form.body, `name="current"`) ||
		!strings.Contains(form.body, `<option value="">Keep the current operating system`) {
		t.Fatalf("reinstall form: %d\n%s", form.StatusCode, form.body)
	}
	calls := f.fake.RequestCount()
	r := alice.post(f.page(name)+"reinstall", url.Values{"os": {""}, "current": {"wrong password"}})
	if r.StatusCode != http.StatusUnprocessableEntity || fieldErrors(r.body)["current"] == "" {
		t.Fatalf("wrong password: %d %v", r.StatusCode, fieldErrors(r.body))
	}
	if f.fake.RequestCount() != calls || f.jobs(t, name) != 0 {
		t.Fatal("a wrong password started something")
	}
	// A name that is taken, with the right password: the field says so.
	r = alice.post(f.page(f.stopped)+"rename", url.Values{"new_name": {f.base[stNormal]}, "current": {opsPassword}})
	if r.StatusCode != http.StatusUnprocessableEntity || fieldErrors(r.body)["new_name"] == "" {
		t.Errorf("rename to a name in use: %d %v", r.StatusCode, fieldErrors(r.body))
	}
	// Rename a stopped instance.
	r = alice.post(f.page(f.stopped)+"rename", url.Values{"new_name": {"Renamed-VM.example.org"}, "current": {opsPassword}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d\n%s", r.StatusCode, r.body)
	}
	if _, ok := f.fake.Instance("renamed-vm.example.org"); !ok {
		t.Error("the instance was not renamed on the cluster")
	}
	// bob: 404 whatever the password.
	for _, pw := range []string{"wrong", opsPassword} {
		if got := f.clients["bob"].post(f.page(name)+"destroy", url.Values{"current": {pw}}).StatusCode; got != http.StatusNotFound {
			t.Errorf("bob destroys alice's instance with password %q: got %d, want 404", pw, got)
		}
	}
	// Wrong passwords block the account.
	for range 5 {
		alice.post(f.page(name)+"destroy", url.Values{"current": {"wrong"}})
	}
	r = alice.post(f.page(name)+"destroy", url.Values{"current": {opsPassword}})
	if r.StatusCode != http.StatusTooManyRequests || f.jobs(t, name) != 0 {
		t.Errorf("after five wrong passwords: got %d, want 429 and nothing done", r.StatusCode)
	}
	if _, ok := f.fake.Instance(name); !ok {
		t.Error("the instance was destroyed")
	}
}

// TestInstanceListJobBadge: the instance list shows "job pending" with
// what the job does for an instance with an unfinished tracked job, also
// on a cached page, and stops once the job has ended.
func TestInstanceListJobBadge(t *testing.T) {
	t.Parallel()
	f := newOpsFixture(t, config.ConfirmPassword, rapifake.NoJobDelay)
	alice := f.clients["alice"]
	row := func(name string) string {
		t.Helper()
		body := alice.get("/instances/?q=" + url.QueryEscape(name)).body
		i := strings.Index(body, `data-instance="`+name+`"`)
		if i < 0 {
			t.Fatalf("%s is not in the list", name)
		}
		j := strings.Index(body[i:], "</tr>")
		return body[i : i+j]
	}
	if r := row(f.base[stPending]); !strings.Contains(r, "Job pending: Shutting down") {
		t.Errorf("the busy instance's row: %s", r)
	}
	name := f.fresh(t, stNormal)
	if r := row(name); strings.Contains(r, "badge-busy") {
		t.Errorf("an idle instance's row has the badge: %s", r)
	}
	row(name) // cached now
	if r := alice.post(f.page(name)+"shutdown", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("shutdown: %d", r.StatusCode)
	}
	if r := row(name); !strings.Contains(r, "Job pending: Shutting down") {
		t.Errorf("the row after the shutdown was asked for: %s", r)
	}
	js, err := f.store.InstanceJobsOf(context.Background(), f.cluster.ID, name, 1)
	if err != nil || len(js) != 1 {
		t.Fatal(err)
	}
	if _, err := f.store.FinishInstanceJob(context.Background(), js[0].ID, "success", "", nil); err != nil {
		t.Fatal(err)
	}
	if r := row(name); strings.Contains(r, "badge-busy") {
		t.Errorf("the row after the job ended: %s", r)
	}
}

// TestInstanceActionInvalidInput: a form with a bad value gets the
// instance page back with 422, the reason at the field and the value
// typed kept, and nothing reaches the cluster; the page is translated.
func TestInstanceActionInvalidInput(t *testing.T) {
	t.Parallel()
	f := newOpsFixture(t, config.ConfirmPassword, rapifake.NoJobDelay)
	alice := f.clients["alice"]
	normal, isolated := f.fresh(t, stNormal), f.fresh(t, stIsolated)
	for _, c := range []struct {
		name, path string
		form       url.Values
		want       []string // in the answer
	}{
		{normal, "config", url.Values{"boot_order": {"disk"}, "cdrom_url": {"ftp://example.org/x.iso"},
			"nic_type": {"paravirtual"}, "disk_type": {"paravirtual"}},
			[]string{`id="cdrom_url" name="cdrom_url" type="url" maxlength="1000" value="ftp://example.org/x.iso" placeholder="https://" aria-invalid="true"`}},
		{normal, "config", url.Values{"boot_order": {"floppy"}, "nic_type": {"paravirtual"}, "disk_type": {"paravirtual"}},
			[]string{`id="boot_order" name="boot_order" aria-invalid="true"`}},
		{normal, "owners/add", url.Values{"kind": {"user"}, "who": {"nobody-such"}},
			[]string{`id="owner-who-error"`, `value="nobody-such"`}},
		{normal, "owners/add", url.Values{"kind": {"robot"}, "who": {"bob"}}, []string{"Choose a user or a group."}},
		{normal, "shutdown", url.Values{"timeout": {"forever"}}, []string{"from 0 to 3600"}},
		{normal, "reboot", url.Values{"type": {"gentle"}}, []string{"soft or a hard reboot"}},
		{isolated, "allow-from", url.Values{"allow_from": {"10.0.0.0/8"}}, []string{`id="allow_from"`, `value="10.0.0.0/8"`}},
		{isolated, "allow-from", url.Values{"allow_from": {"0.0.0.0"}}, []string{`aria-invalid="true"`}},
	} {
		calls := f.fake.RequestCount()
		r := alice.post(f.page(c.name)+c.path, c.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="action-error"`) {
			t.Errorf("POST %s %v: got %d, want 422 with the reason", c.path, c.form, r.StatusCode)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(r.body, w) {
				t.Errorf("POST %s %v: the page lacks %s", c.path, c.form, w)
			}
		}
		if f.fake.RequestCount() != calls || f.jobs(t, c.name) != 0 {
			t.Errorf("POST %s %v: something was done", c.path, c.form)
		}
	}
	// In Greek, with no message id left untranslated.
	alice.headers.Set("Accept-Language", "el")
	for _, p := range []string{f.page(isolated), f.page(f.base[stPending]), f.page(normal) + "destroy", f.page(normal) + "reinstall"} {
		r := alice.get(p)
		if r.StatusCode != http.StatusOK || strings.Contains(r.body, "instanceactions.") || strings.Contains(r.body, "instance_ops.") {
			t.Errorf("%s in Greek: status %d or an untranslated message", p, r.StatusCode)
		}
		if !strings.Contains(r.body, `lang="el"`) {
			t.Errorf("%s is not in Greek", p)
		}
	}
	if r := alice.get(f.page(isolated)); !strings.Contains(r.body, "Τερματισμός") || !strings.Contains(r.body, "Επιτρεπόμενη διεύθυνση") {
		t.Error("the actions panel is not in Greek")
	}
}
