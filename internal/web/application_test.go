package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

const appPassword = "correct horse battery"

// appFixture is a site with a fake cluster synced into the cache, an OS
// image, an organization and users in every role of the application
// pages, logged in.
type appFixture struct {
	*harness
	fake    *rapifake.Cluster
	cluster *store.Cluster
	orgID   int64
	clients map[string]*client
}

// Roles of the application pages' authorization matrix.
var appRoles = []string{"anonymous", "ann", "sam", "vic", "rev", "root"}

func newAppFixture(t *testing.T, h *harness) *appFixture {
	t.Helper()
	ctx := context.Background()
	fake, err := rapifake.NewCluster(rapifake.Options{Name: "c1.example.org", Seed: 11, Nodes: 2, Instances: 3,
		Networks: 1, JobDelay: rapifake.NoJobDelay, DiskTemplates: []string{"diskless", "file", "plain"},
		OSNames: []string{"noop", "snf-image+default"},
		Users:   []rapifake.User{{Name: "ganetimgr", Password: "rapi-secret", Write: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	sealed, err := h.passwords.Seal("rapi-secret")
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.store.CreateCluster(ctx, store.ClusterInput{Slug: "c1", Hostname: fake.Host(), Port: fake.Port(),
		RAPIUsername: "ganetimgr", RAPIPassword: sealed, TLSFingerprint: fake.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	f := &appFixture{harness: h, fake: fake, cluster: c, clients: map[string]*client{"anonymous": h.client()}}
	f.sync(t)
	if _, err := h.store.CreateOSImage(ctx, store.OSImageInput{ID: "debian-12", Description: "Debian 12",
		Provider: "snf-image+default", OSParams: map[string]string{"img_id": "debian-12"}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	org, err := h.store.CreateOrganization(ctx, store.OrganizationInput{Title: "GRNET", Tag: "grnet"})
	if err != nil {
		t.Fatal(err)
	}
	f.orgID = org.ID
	h.user("ann", appPassword, false)
	h.user("sam", appPassword, false)
	h.user("vic", appPassword, false, auth.ViewApplications)
	h.user("rev", appPassword, false, auth.ChangeApplication)
	h.user("root", appPassword, true)
	for _, u := range appRoles[1:] {
		cl := h.client()
		cl.mustLogin(u, appPassword)
		cl.get("/") // consume the first-login flash
		f.clients[u] = cl
	}
	return f
}

// sync reads the fake cluster into the cache.
func (f *appFixture) sync(t *testing.T) {
	t.Helper()
	syncer, err := clustersync.New(f.store, clustersync.Options{Passwords: f.passwords})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.store.ClusterByID(context.Background(), f.cluster.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := syncer.SyncNow(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// applicationOf files an application of u through the service (an OS
// image and an organization must exist).
func (h *harness) applicationOf(u *store.User, hostname string, orgID int64) *store.Application {
	h.t.Helper()
	ctx := context.Background()
	if _, err := h.store.OSImage(ctx, "debian-12"); err != nil {
		if _, err := h.store.CreateOSImage(ctx, store.OSImageInput{ID: "debian-12", Description: "Debian 12",
			Provider: "snf-image+default", Enabled: true}); err != nil {
			h.t.Fatal(err)
		}
	}
	p, err := auth.LoadPrincipal(ctx, h.store, u)
	if err != nil {
		h.t.Fatal(err)
	}
	a, err := h.apps.Apply(ctx, p, applications.Form{Hostname: hostname, MemoryMB: 512, VCPUs: 1, DiskGB: 5,
		OSImage: "debian-12", OrganizationID: orgID, Comments: "test", AcceptTerms: true})
	if err != nil {
		h.t.Fatalf("apply %s: %v", hostname, err)
	}
	return a
}

// applyForm is a valid application form.
func (f *appFixture) applyForm(hostname string) url.Values {
	return url.Values{"hostname": {hostname}, "memory": {"1024"}, "vcpus": {"2"}, "disk": {"5"},
		"os": {"debian-12"}, "organization": {strconv.FormatInt(f.orgID, 10)}, "comments": {"A web server."},
		"accept_terms": {"1"}}
}

// placement returns a valid review form for an application: its request
// and the first allocatable group of the cluster with its default network.
func (f *appFixture) placement(t *testing.T, hostname string) url.Values {
	t.Helper()
	rev := f.principal(t, "rev")
	opts, err := f.apps.PlacementOptions(context.Background(), rev, false)
	if err != nil || len(opts) != 1 {
		t.Fatalf("placement options: %v %v", opts, err)
	}
	v := f.applyForm(hostname)
	v.Set("cluster", strconv.FormatInt(opts[0].ClusterID, 10))
	for _, g := range opts[0].Groups {
		if g.Allocatable {
			v.Set("node_group", g.Name)
			v.Set("network", g.DefaultNetwork(""))
			v.Set("disk_template", "plain")
			return v
		}
	}
	t.Fatal("no allocatable group")
	return nil
}

func (f *appFixture) principal(t *testing.T, name string) *auth.Principal {
	t.Helper()
	u, err := f.store.UserByUsername(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := auth.LoadPrincipal(context.Background(), f.store, u)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *appFixture) application(t *testing.T, id int64) *store.Application {
	t.Helper()
	a, err := f.store.Application(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// fieldErrors returns the field errors a page shows, by field.
func fieldErrorsOf(body string) map[string]string {
	out := map[string]string{}
	for _, m := range fieldErrorRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

var applicationIDRE = regexp.MustCompile(`^/applications/([0-9]+)/$`)

// create files ann's application through the form and returns its id.
func (f *appFixture) create(t *testing.T, hostname string) int64 {
	t.Helper()
	r := f.clients["ann"].post("/applications/new", f.applyForm(hostname))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("apply %s: got %d, want 303\n%v", hostname, r.StatusCode, fieldErrorsOf(r.body))
	}
	m := applicationIDRE.FindStringSubmatch(r.Header.Get("Location"))
	if m == nil {
		t.Fatalf("apply redirected to %q", r.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

func TestApplicationApplyValidation(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, newHarness(t))
	ann := f.clients["ann"]

	r := ann.get("/applications/new")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="application-form"`) {
		t.Fatalf("form: got %d\n%s", r.StatusCode, r.body)
	}
	// Prefilled: the user as administrative contact.
	if !strings.Contains(r.body, `value="ann@example.org"`) {
		t.Error("the form is not prefilled with the user's address")
	}

	// Every field wrong: 422, each error at its field, translated.
	bad := url.Values{"hostname": {"not a host"}, "memory": {"3"}, "vcpus": {"99"}, "disk": {"0"}, "os": {"nope"}}
	r = ann.post("/applications/new", bad)
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid form: got %d, want 422", r.StatusCode)
	}
	errs := fieldErrorsOf(r.body)
	for _, field := range []string{"hostname", "memory", "vcpus", "disk", "os", "accept_terms"} {
		if errs[field] == "" || strings.Contains(errs[field], "applications.") {
			t.Errorf("field %s: error %q, want a translated message (all: %v)", field, errs[field], errs)
		}
	}
	if !strings.Contains(r.body, `value="not a host"`) {
		t.Error("the invalid form does not keep what was typed")
	}
	// In Greek too.
	ann.headers.Set("Accept-Language", "el")
	r = ann.post("/applications/new", bad)
	ann.headers.Del("Accept-Language")
	if !strings.Contains(r.body, "Διορθώστε") {
		t.Errorf("Greek form error missing:\n%v", fieldErrorsOf(r.body))
	}

	// Hostname collisions: an instance of the cluster, an open application.
	instance := f.fake.InstanceNames()[0]
	r = ann.post("/applications/new", f.applyForm(instance))
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldErrorsOf(r.body)["hostname"], "c1") {
		t.Errorf("existing instance %s: got %d, hostname error %q", instance, r.StatusCode, fieldErrorsOf(r.body)["hostname"])
	}
	id := f.create(t, "web1.example.org")
	r = f.clients["sam"].post("/applications/new", f.applyForm("web1.example.org"))
	if r.StatusCode != http.StatusUnprocessableEntity || fieldErrorsOf(r.body)["hostname"] == "" {
		t.Errorf("open application: got %d, errors %v", r.StatusCode, fieldErrorsOf(r.body))
	}
	var n int
	if err := f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM applications`).Scan(&n); err != nil || n != 1 {
		t.Errorf("applications stored: %d (%v), want 1", n, err)
	}

	// The applicant's list and page.
	r = ann.get("/applications/")
	if !strings.Contains(r.body, fmt.Sprintf(`data-application="%d"`, id)) || !strings.Contains(r.body, "web1.example.org") {
		t.Errorf("my applications lack %d:\n%s", id, r.body)
	}
	r = ann.get(fmt.Sprintf("/applications/%d/", id))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `data-status="pending"`) || strings.Contains(r.body, `id="review-form"`) {
		t.Errorf("application page: got %d\n%s", r.StatusCode, r.body)
	}
	// The reviewer sees the pending count and the review form, with the
	// locked group marked and the cluster's default network preselected.
	r = f.clients["rev"].get(fmt.Sprintf("/applications/%d/", id))
	if !strings.Contains(r.body, `id="nav-pending"`) || !strings.Contains(r.body, `id="review-form"`) {
		t.Errorf("review page lacks the badge or the form:\n%s", r.body)
	}
	if !strings.Contains(r.body, `<option value="`+strconv.FormatInt(f.cluster.ID, 10)+`" selected>c1`) {
		t.Errorf("the cluster is not preselected")
	}
	if r = ann.get("/"); strings.Contains(r.body, `id="nav-pending"`) {
		t.Error("an applicant sees the pending count")
	}
}

func TestApplicationApproveCreatesInstance(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, newHarness(t))
	f.startApplications()
	id := f.create(t, "vm1.example.org")
	rev := f.clients["rev"]
	path := fmt.Sprintf("/applications/%d/", id)

	// A placement that does not exist: 422, nothing changes.
	v := f.placement(t, "vm1.example.org")
	bad := url.Values{}
	for k, x := range v {
		bad[k] = x
	}
	bad.Set("node_group", "no-such-group")
	r := rev.post(path+"approve", bad)
	if r.StatusCode != http.StatusUnprocessableEntity || fieldErrorsOf(r.body)["node_group"] == "" {
		t.Fatalf("bad placement: got %d, errors %v", r.StatusCode, fieldErrorsOf(r.body))
	}
	if a := f.application(t, id); a.Status != store.AppPending {
		t.Fatalf("after a refused approval the status is %s", a.Status)
	}

	// The reviewer edits the memory and approves.
	v.Set("memory", "2048")
	r = rev.post(path+"approve", v)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: got %d\n%v\n%s", r.StatusCode, fieldErrorsOf(r.body), r.body)
	}
	deadline := time.Now().Add(30 * time.Second)
	var a *store.Application
	for {
		a = f.application(t, id)
		if a.Status == store.AppCreated || a.Status == store.AppFailed || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a.Status != store.AppCreated {
		t.Fatalf("status %s (%s), want created\n%s", a.Status, a.BackendMessage, f.logs.String())
	}
	if a.MemoryMB != 2048 || a.ClusterSlug != "c1" {
		t.Errorf("stored: memory %d, cluster %q", a.MemoryMB, a.ClusterSlug)
	}

	// The applicant sees the result, the history and the VM in their list.
	r = f.clients["ann"].get(path)
	for _, want := range []string{`data-status="created"`, `data-to="approved"`, `data-to="submitted"`, `data-to="created"`, `id="application-instance"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("application page lacks %s", want)
		}
	}
	r = f.clients["ann"].get("/instances/")
	if !strings.Contains(r.body, "vm1.example.org") {
		t.Errorf("the new instance is not in the applicant's list:\n%s", r.body)
	}
	if r = f.clients["sam"].get("/instances/"); strings.Contains(r.body, "vm1.example.org") {
		t.Error("another user sees the new instance")
	}
	// Nothing more to decide: the actions are refused.
	if r = rev.post(path+"refuse", url.Values{"comment": {"late"}}); r.StatusCode != http.StatusConflict {
		t.Errorf("refuse a created application: got %d, want 409", r.StatusCode)
	}
}

func TestApplicationRefusalMail(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t)
	f := newAppFixture(t, h)
	box := newMailbox(t, srv)
	id := f.create(t, "mail1.example.org")
	// The reviewers (rev and the superuser) are told about the new
	// application, with a link to its page.
	var to []string
	for _, msg := range box.next(2) {
		to = append(to, msg.To...)
		if got := h.link(msg, "/applications/"); got != fmt.Sprintf("/applications/%d/", id) {
			t.Errorf("received mail links to %s", got)
		}
	}
	if !slices.Contains(to, "rev@example.org") {
		t.Errorf("the reviewer was not mailed: %v", to)
	}
	path := fmt.Sprintf("/applications/%d/", id)
	r := f.clients["rev"].post(path+"refuse", url.Values{"comment": {"  "}})
	if r.StatusCode != http.StatusUnprocessableEntity || fieldErrorsOf(r.body)["comment"] == "" {
		t.Fatalf("refuse without a reason: got %d, errors %v", r.StatusCode, fieldErrorsOf(r.body))
	}
	r = f.clients["rev"].post(path+"refuse", url.Values{"comment": {"No such project here."}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("refuse: got %d", r.StatusCode)
	}
	msg := box.one("ann@example.org")
	if !strings.Contains(msg.Text, "No such project here.") {
		t.Errorf("refusal mail lacks the reason:\n%s", msg.Text)
	}
	if a := f.application(t, id); a.Status != store.AppRefused {
		t.Errorf("status %s, want refused", a.Status)
	}
	// A discard mails nobody.
	id2 := f.create(t, "mail2.example.org")
	box.next(2)
	if r := f.clients["rev"].post(fmt.Sprintf("/applications/%d/discard", id2), nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("discard: got %d", r.StatusCode)
	}
	box.none()
}

// TestApplicationPagesAuthorizationMatrix requests every application page
// and action as every role and checks the status; the route table must
// hold no application route the matrix misses.
func TestApplicationPagesAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, newHarness(t))
	id := f.create(t, "authz.example.org")
	a := fmt.Sprintf("/applications/%d/", id)
	const (
		ok, redirect, forbidden, missing, invalid, conflict = 200, 303, 403, 404, 422, 409
	)
	type want map[string]int
	everyone := func(anon, user int) want {
		return want{"anonymous": anon, "ann": user, "sam": user, "vic": user, "rev": user, "root": user}
	}
	// superuser: the administrators' application pages refuse everyone
	// else, reviewers included.
	superuser := func(root int) want {
		return want{"anonymous": redirect, "ann": forbidden, "sam": forbidden, "vic": forbidden, "rev": forbidden, "root": root}
	}
	// A tracked creation job of the application (finished, so its event
	// stream answers at once), and one of another application.
	track := func(appID int64, name string) string {
		t.Helper()
		ctx := context.Background()
		j, err := f.store.ClaimInstanceJob(ctx, store.InstanceJob{ClusterID: f.cluster.ID, Instance: name,
			Kind: applications.TrackedKind, ApplicationID: appID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.FinishInstanceJob(ctx, j.ID, "success", "", nil); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("/applications/%d/jobs/%d/events", id, j.ID)
	}
	events := track(id, "authz.example.org")
	otherEvents := track(f.create(t, "authz2.example.org"), "authz2.example.org")
	imagesBefore := f.count(t, "os_images")
	imageBefore, err := f.store.OSImage(context.Background(), "debian-12")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, path string
		form         url.Values
		want         want
	}{
		{"GET", "/applications/", nil, everyone(redirect, ok)},
		{"GET", "/applications/new", nil, everyone(redirect, ok)},
		{"POST", "/applications/new", url.Values{"hostname": {"x"}}, everyone(redirect, invalid)},
		{"GET", "/applications/all", nil, want{"anonymous": redirect, "ann": missing, "sam": missing, "vic": ok, "rev": ok, "root": ok}},
		{"GET", "/applications/all?status=pending", nil, want{"anonymous": redirect, "ann": missing, "sam": missing, "vic": ok, "rev": ok, "root": ok}},
		{"GET", a, nil, want{"anonymous": redirect, "ann": ok, "sam": missing, "vic": ok, "rev": ok, "root": ok}},
		{"GET", "/applications/999999/", nil, want{"anonymous": redirect, "ann": missing, "sam": missing, "vic": missing, "rev": missing, "root": missing}},
		// Reviewer actions with forms that cannot succeed: only reviewers
		// get as far as the form's errors or the status check.
		{"POST", a + "approve", url.Values{}, want{"anonymous": redirect, "ann": missing, "sam": missing, "vic": missing, "rev": invalid, "root": invalid}},
		{"POST", a + "refuse", url.Values{}, want{"anonymous": redirect, "ann": missing, "sam": missing, "vic": missing, "rev": invalid, "root": invalid}},
		{"POST", a + "discard", url.Values{"comment": {"\x01"}}, want{"anonymous": redirect, "ann": missing, "sam": missing, "vic": missing, "rev": invalid, "root": invalid}},
		{"POST", a + "submit", nil, want{"anonymous": redirect, "ann": missing, "sam": missing, "vic": missing, "rev": conflict, "root": conflict}},
		{"GET", "/applications/keys/" + strings.Repeat("A", 43), nil, everyone(missing, missing)},
		// The creation job's progress: whoever may see the application.
		{"GET", events, nil, want{"anonymous": redirect, "ann": ok, "sam": missing, "vic": ok, "rev": ok, "root": ok}},
		{"GET", otherEvents, nil, everyone(redirect, missing)},
		// Administrators: fast creation and the OS catalogue, with forms
		// that cannot succeed (the image is in use: its deletion is refused).
		{"GET", "/admin/applications/fast", nil, superuser(ok)},
		{"POST", "/admin/applications/fast", url.Values{"hostname": {"x"}}, superuser(invalid)},
		{"GET", "/admin/os-images", nil, superuser(ok)},
		{"GET", fmt.Sprintf("/admin/os-images/clusters/%d", f.cluster.ID), nil, superuser(ok)},
		{"GET", "/admin/os-images/clusters/999999", nil, superuser(missing)},
		{"GET", "/admin/os-images/new", nil, superuser(ok)},
		{"POST", "/admin/os-images/new", url.Values{"id": {"Bad ID"}, "secrets": {"img_passwd=x"}}, superuser(invalid)},
		{"GET", "/admin/os-images/debian-12/edit", nil, superuser(ok)},
		{"POST", "/admin/os-images/debian-12/edit", url.Values{"description": {""}, "remove_secrets": {"1"}}, superuser(invalid)},
		{"GET", "/admin/os-images/debian-12/delete", nil, superuser(ok)},
		{"POST", "/admin/os-images/debian-12/delete", nil, superuser(conflict)},
	}
	for _, c := range cases {
		for _, role := range appRoles {
			cl := f.clients[role]
			var r *response
			if c.method == "GET" {
				r = cl.get(c.path)
			} else {
				r = cl.post(c.path, c.form)
			}
			if r.StatusCode != c.want[role] {
				t.Errorf("%s %s as %s: got %d, want %d", c.method, c.path, role, r.StatusCode, c.want[role])
			}
		}
	}
	if got := f.application(t, id); got.Status != store.AppPending {
		t.Errorf("the matrix changed the application: %s", got.Status)
	}
	if n := f.count(t, "applications"); n != 2 {
		t.Errorf("the matrix filed applications: %d, want 1", n)
	}
	if n := f.count(t, "os_images"); n != imagesBefore {
		t.Errorf("the matrix changed the catalogue: %d images, want %d", n, imagesBefore)
	}
	if im, err := f.store.OSImage(context.Background(), "debian-12"); err != nil || !im.UpdatedAt.Equal(imageBefore.UpdatedAt) {
		t.Errorf("the matrix changed the image debian-12 (%v)", err)
	}
	// The SSH-key URL's token never reaches the logs.
	if strings.Contains(f.logs.String(), strings.Repeat("A", 43)) {
		t.Error("the token of an SSH-key URL was logged")
	}
	// A reviewer's real actions succeed (and the list's filter works).
	if r := f.clients["rev"].post(a+"discard", nil); r.StatusCode != redirect {
		t.Errorf("discard: got %d", r.StatusCode)
	}
	if r := f.clients["vic"].get("/applications/all?status=discarded"); !strings.Contains(r.body, fmt.Sprintf(`data-application="%d"`, id)) {
		t.Error("the discarded application is not listed under its status")
	}
	if r := f.clients["vic"].get("/applications/all?status=pending"); strings.Contains(r.body, fmt.Sprintf(`data-application="%d"`, id)) {
		t.Error("the discarded application is listed as pending")
	}
	if r := f.clients["vic"].get("/applications/all?status=bogus"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bogus status filter: got %d", r.StatusCode)
	}

	// Every application route is in the matrix.
	n := 0
	err = chi.Walk(f.site.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if !strings.HasPrefix(route, "/applications") && !strings.HasPrefix(route, "/admin/applications") &&
			!strings.HasPrefix(route, "/admin/os-images") {
			return nil
		}
		n++
		expr := regexp.QuoteMeta(route)
		expr = strings.ReplaceAll(expr, regexp.QuoteMeta("{id:[0-9]+}"), "[0-9]+")
		expr = strings.ReplaceAll(expr, regexp.QuoteMeta("{id}"), "[^/]+")
		expr = strings.ReplaceAll(expr, regexp.QuoteMeta("{token}"), "[^/]+")
		expr = strings.ReplaceAll(expr, regexp.QuoteMeta("{job:[0-9]+}"), "[0-9]+")
		re := regexp.MustCompile("^" + method + " " + expr + "$")
		for _, c := range cases {
			path, _, _ := strings.Cut(c.path, "?")
			if re.MatchString(c.method + " " + path) {
				return nil
			}
		}
		t.Errorf("route %s %s is not in the authorization matrix", method, route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 19 {
		t.Errorf("found only %d application routes", n)
	}
}

// TestPendingBadgeOnCachedPages: the reviewers' pending-application count
// is part of the cached instance list's key, so a new application shows on
// a page already cached (within the cluster-state bound), and it goes away
// once the application is decided.
func TestPendingBadgeOnCachedPages(t *testing.T) {
	h := newCachedHarness(t, cachedOptions())
	f := newAppFixture(t, h)
	rev := f.clients["rev"]
	for range 2 { // the second view comes from the page cache
		if r := rev.get("/instances/"); strings.Contains(r.body, `id="nav-pending"`) {
			t.Fatal("a badge with nothing pending")
		}
	}
	id := f.create(t, "badge.example.org")
	time.Sleep(cacheBound + 100*time.Millisecond)
	if r := rev.get("/instances/"); !strings.Contains(r.body, `id="nav-pending"`) {
		t.Fatal("the cached list does not show the new application")
	}
	if r := rev.post(fmt.Sprintf("/applications/%d/discard", id), url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("discard: %d", r.StatusCode)
	}
	time.Sleep(cacheBound + 100*time.Millisecond)
	if r := rev.get("/instances/"); strings.Contains(r.body, `id="nav-pending"`) {
		t.Error("the badge stays after the application was decided")
	}
}
