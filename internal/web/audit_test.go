package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// historyFixture is a site with an audit log written straight to the
// store: entries of ann, bob and the system, and users in every role of
// the history page, logged in.
type historyFixture struct {
	*harness
	clients map[string]*client
	users   map[string]*store.User
	cluster *store.Cluster
	ids     map[string]int64
	at      map[string]time.Time
}

// historyRoles are the roles of the history page's authorization matrix:
// ann and bob are ordinary users, help holds view_instances, vic holds
// view_applications only, root is a superuser.
var historyRoles = []string{"anonymous", "ann", "bob", "help", "vic", "root"}

func newHistoryFixture(t *testing.T, opts ...harnessOption) *historyFixture {
	t.Helper()
	h := newHarness(t, opts...)
	f := &historyFixture{harness: h, clients: map[string]*client{"anonymous": h.client()}, users: map[string]*store.User{},
		ids: map[string]int64{}, at: map[string]time.Time{}}
	f.users["ann"] = h.user("ann", adminPW, false)
	f.users["bob"] = h.user("bob", adminPW, false)
	f.users["help"] = h.user("help", adminPW, false, auth.ViewInstances)
	f.users["vic"] = h.user("vic", adminPW, false, auth.ViewApplications)
	f.users["root"] = h.user("root", adminPW, true)
	for _, role := range historyRoles[1:] {
		c := h.client()
		c.mustLogin(role, adminPW)
		c.get("/") // the first-login flash
		f.clients[role] = c
	}
	var err error
	if f.cluster, err = h.store.CreateCluster(context.Background(), store.ClusterInput{Slug: "c1",
		Hostname: "c1.example.org", Port: 5080}); err != nil {
		t.Fatal(err)
	}
	return f
}

// write appends an entry under key (its time: minutes ago).
func (f *historyFixture) write(t *testing.T, key string, minutesAgo int, e store.AuditEntry) {
	t.Helper()
	if u := f.users[e.Username]; u != nil {
		e.UserID = u.ID
	}
	e.At = time.Now().Add(-time.Duration(minutesAgo) * time.Minute)
	id, err := f.store.InsertAudit(context.Background(), &e)
	if err != nil {
		t.Fatal(err)
	}
	f.ids[key], f.at[key] = id, e.At
}

// standardLog writes ann's, bob's and the system's entries, and puts
// web1.example.org in the cache of cluster c1.
func (f *historyFixture) standardLog(t *testing.T) {
	t.Helper()
	if _, err := f.store.SaveClusterSnapshot(context.Background(), &store.ClusterSnapshot{ClusterID: f.cluster.ID,
		Info:      store.ClusterInfo{Name: "c1.example.org", SoftwareVersion: "3.0.2"},
		Instances: []store.CachedInstance{{ClusterID: f.cluster.ID, Name: "web1.example.org"}},
		Skipped:   []string{"nodes", "groups", "networks", "jobs"}, StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddr
	f.write(t, "ann-start", 60*24*3, store.AuditEntry{Username: "ann", ClientAddr: addr("192.0.2.1"), Action: "instance.start",
		Outcome: "ok", ClusterID: f.cluster.ID, ClusterSlug: "c1", Instance: "web1.example.org", JobID: 41})
	f.write(t, "ann-destroy", 60, store.AuditEntry{Username: "ann", ClientAddr: addr("192.0.2.1"), Action: "instance.destroy",
		Outcome: "refused", ClusterSlug: "c2", Instance: "db1.example.org", Detail: "not an owner"})
	f.write(t, "bob-reboot", 30, store.AuditEntry{Username: "bob", ClientAddr: addr("2001:db8::7"), Action: "instance.reboot",
		Outcome: "failed", ClusterID: f.cluster.ID, ClusterSlug: "c1", Instance: "web1.example.org", JobID: 42,
		Detail: "OpPrereqError: the node is offline"})
	f.write(t, "system-create", 20, store.AuditEntry{Action: "application.create", Outcome: "ok", ClusterID: f.cluster.ID,
		ClusterSlug: "c1", Instance: "new1.example.org", ApplicationID: 9, JobID: 43})
	f.write(t, "ann-file", 10, store.AuditEntry{Username: "ann", ClientAddr: addr("192.0.2.2"), Action: "application.file",
		Outcome: "ok", Instance: "new1.example.org", ApplicationID: 9})
}

var historyRowRE = regexp.MustCompile(`<tr data-entry="([0-9]+)"`)

// rows returns the entry ids a history page lists, in order.
func historyRows(body string) []int64 {
	var out []int64
	for _, m := range historyRowRE.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, id)
	}
	return out
}

func (f *historyFixture) want(keys ...string) []int64 {
	var out []int64
	for _, k := range keys {
		out = append(out, f.ids[k])
	}
	return out
}

// TestHistoryAuthorizationMatrix: anonymous visitors are sent to log in;
// users see only their own entries, without client addresses; holders of
// view_instances and superusers see everyone's (view_applications alone
// does not); a user filter from a user is ignored.
func TestHistoryAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	f := newHistoryFixture(t)
	f.standardLog(t)
	everything := f.want("ann-file", "system-create", "bob-reboot", "ann-destroy", "ann-start")
	cases := map[string][]int64{
		"ann":  f.want("ann-file", "ann-destroy", "ann-start"),
		"bob":  f.want("bob-reboot"),
		"vic":  nil,
		"help": everything,
		"root": everything,
	}
	for _, role := range historyRoles {
		c := f.clients[role]
		for _, path := range []string{"/history/", "/history/?user=bob"} {
			r := c.get(path)
			if role == "anonymous" {
				if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
					t.Errorf("%s as anonymous: got %d %q, want a redirect to the login", path, r.StatusCode, r.Header.Get("Location"))
				}
				continue
			}
			if r.StatusCode != http.StatusOK {
				t.Fatalf("%s as %s: got %d", path, role, r.StatusCode)
			}
			want := cases[role]
			if path != "/history/" && (role == "help" || role == "root") {
				want = f.want("bob-reboot")
			}
			if got := historyRows(r.body); !slices.Equal(got, want) {
				t.Errorf("%s as %s: entries %v, want %v", path, role, got, want)
			}
			all := role == "help" || role == "root"
			if strings.Contains(r.body, `name="user"`) != all {
				t.Errorf("%s as %s: user filter offered: %v", path, role, !all)
			}
			if strings.Contains(r.body, "192.0.2.1") && !all {
				t.Errorf("%s as %s: client addresses shown", path, role)
			}
			if !strings.Contains(r.body, `id="nav-history"`) {
				t.Errorf("%s as %s: no navigation link", path, role)
			}
		}
	}
	// Helpdesk: client addresses, job pages, instance pages only for
	// cached instances, the application's page, the system as the actor.
	r := f.clients["help"].get("/history/")
	for _, want := range []string{"192.0.2.1", "2001:db8::7", `href="/jobs/c1/42/"`, `href="/applications/9/"`,
		`class="badge outcome badge-isolate">Refused`, `class="badge outcome badge-lock">Failed`,
		`class="badge outcome state-running">Done`, "<em>system</em>", "not an owner", "Entries are kept 365 days."} {
		if !strings.Contains(r.body, want) {
			t.Errorf("helpdesk page lacks %s", want)
		}
	}
	if !strings.Contains(r.body, `<a href="/instances/c1/web1.example.org/">web1.example.org</a>`) {
		t.Error("no link to the cached instance")
	}
	if strings.Contains(r.body, `href="/instances/c2/`) || strings.Contains(r.body, `href="/instances/c1/new1`) {
		t.Error("links to instances that are not in the cluster cache")
	}
	// A user: job ids without links (the job pages are the helpdesk's).
	r = f.clients["ann"].get("/history/")
	if !strings.Contains(r.body, ">41<") || strings.Contains(r.body, `href="/jobs/`) {
		t.Error("a user's page shows the job id wrongly")
	}
}

// TestHistoryFilters: each filter of the form, alone and for a user whose
// entries they narrow further; bad values are refused with a message.
func TestHistoryFilters(t *testing.T) {
	t.Parallel()
	f := newHistoryFixture(t)
	f.standardLog(t)
	// ann-start is three days old, the others an hour old at most.
	startDay := f.at["ann-start"].UTC().Format("2006-01-02")
	nextDay := f.at["ann-start"].UTC().AddDate(0, 0, 1).Format("2006-01-02")
	cases := []struct {
		role, query string
		want        []int64
	}{
		{"help", "user=ANN", f.want("ann-file", "ann-destroy", "ann-start")},
		{"help", "user=an", nil},
		{"help", "instance=web1.example.org", f.want("bob-reboot", "ann-start")},
		{"help", "instance=WEB1.example.org", f.want("bob-reboot", "ann-start")},
		{"help", "instance=web1", nil},
		{"help", "cluster=c2", f.want("ann-destroy")},
		{"help", "action=application.create", f.want("system-create")},
		{"help", "outcome=failed", f.want("bob-reboot")},
		{"help", "outcome=ok&cluster=c1", f.want("system-create", "ann-start")},
		{"help", "to=" + startDay, f.want("ann-start")},
		{"help", "from=" + nextDay, f.want("ann-file", "system-create", "bob-reboot", "ann-destroy")},
		{"help", "from=" + startDay + "&to=" + startDay, f.want("ann-start")},
		{"ann", "from=" + nextDay, f.want("ann-file", "ann-destroy")},
		{"root", "user=bob&instance=web1.example.org", f.want("bob-reboot")},
		{"ann", "instance=web1.example.org", f.want("ann-start")},
		{"ann", "outcome=refused", f.want("ann-destroy")},
		{"ann", "action=instance.reboot", nil},
		{"ann", "cluster=c1", f.want("ann-start")},
		{"ann", "user=bob&instance=web1.example.org", f.want("ann-start")},
	}
	for _, tc := range cases {
		r := f.clients[tc.role].get("/history/?" + tc.query)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s as %s: got %d", tc.query, tc.role, r.StatusCode)
		}
		if got := historyRows(r.body); !slices.Equal(got, tc.want) {
			t.Errorf("%s as %s: entries %v, want %v", tc.query, tc.role, got, tc.want)
		}
	}
	// The form keeps what was chosen.
	r := f.clients["help"].get("/history/?user=ann&action=instance.start&outcome=ok&cluster=c1&from=" + startDay)
	for _, want := range []string{`name="user" value="ann"`, `<option value="instance.start" selected>`,
		`<option value="ok" selected>`, `<option value="c1" selected>`, `name="from" value="` + startDay + `"`, `id="audit-clear"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the filtered form lacks %s", want)
		}
	}
	// Bad values: 400 with a translated message, in Greek too.
	for _, q := range []string{"action=instance.fly", "outcome=maybe", "cluster=C%201", "from=yesterday",
		"from=2026-02-10&to=2026-02-01", "user=a%20b", "instance=a%20b", "before=x", "before=1_2&after=1_2"} {
		r := f.clients["help"].get("/history/?" + q)
		if r.StatusCode != http.StatusBadRequest || strings.Contains(r.body, "audit.bad") {
			t.Errorf("%s: got %d, want 400 with a translated message", q, r.StatusCode)
		}
	}
	f.clients["help"].headers.Set("Accept-Language", "el")
	r = f.clients["help"].get("/history/?outcome=maybe")
	f.clients["help"].headers.Del("Accept-Language")
	if !strings.Contains(r.body, "Άγνωστο αποτέλεσμα") {
		t.Errorf("Greek error missing:\n%s", r.body)
	}
}

// TestHistoryLabels: every action code has its name in every language
// (none is shown as a message id), and the page states the retention.
func TestHistoryLabels(t *testing.T) {
	t.Parallel()
	f := newHistoryFixture(t)
	for i, a := range audit.Actions() {
		f.write(t, string(a), i, store.AuditEntry{Username: "ann", Action: string(a), Outcome: "ok"})
	}
	for _, lang := range []string{"en", "el"} {
		c := f.clients["ann"]
		c.headers.Set("Accept-Language", lang)
		r := c.get("/history/")
		c.headers.Del("Accept-Language")
		if got := len(historyRows(r.body)); got != len(audit.Actions()) {
			t.Fatalf("%s: %d rows, want %d", lang, got, len(audit.Actions()))
		}
		if strings.Contains(r.body, "audit.") {
			i := strings.Index(r.body, "audit.")
			t.Errorf("%s: an untranslated message: …%s…", lang, r.body[max(0, i-80):min(len(r.body), i+80)])
		}
		retention := map[string]string{"en": "Entries are kept 365 days.", "el": "Οι εγγραφές διατηρούνται 365 ημέρες."}[lang]
		if !strings.Contains(r.body, retention) {
			t.Errorf("%s: the retention is not stated", lang)
		}
	}
	// Greek names are Greek.
	c := f.clients["ann"]
	c.headers.Set("Accept-Language", "el")
	r := c.get("/history/?action=instance.reboot")
	c.headers.Del("Accept-Language")
	if !strings.Contains(r.body, `<td class="action">Επανεκκίνηση</td>`) {
		t.Error("the Greek name of a reboot is missing")
	}
	// Kept for ever.
	g := newHistoryFixture(t, func(c *config.Config) { c.AuditRetention = 0 })
	if r := g.clients["ann"].get("/history/"); !strings.Contains(r.body, "Entries are kept for ever.") {
		t.Error("a retention of 0 is not stated as for ever")
	}
}

// TestHistoryPagination: 120 entries of one user in pages of 50, walked
// toward older entries and back; the filters stay in the links.
func TestHistoryPagination(t *testing.T) {
	t.Parallel()
	f := newHistoryFixture(t)
	var all []int64 // newest first
	for i := range 120 {
		key := fmt.Sprintf("e%d", i)
		f.write(t, key, i, store.AuditEntry{Username: "ann", Action: "instance.start", Outcome: "ok", ClusterSlug: "c1",
			Instance: "web1.example.org"})
		all = append(all, f.ids[key])
	}
	f.write(t, "other", 5, store.AuditEntry{Username: "ann", Action: "instance.start", Outcome: "ok", Instance: "other.example.org"})
	link := regexp.MustCompile(`id="audit-(older|newer|newest)"`)
	href := func(body, which string) string {
		m := regexp.MustCompile(`<a href="([^"]+)" id="audit-` + which + `"`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	for _, role := range []string{"ann", "help"} {
		c := f.clients[role]
		r := c.get("/history/?instance=web1.example.org")
		var seen []int64
		var pages []string
		for len(pages) < 10 {
			seen = append(seen, historyRows(r.body)...)
			pages = append(pages, r.body)
			older := href(r.body, "older")
			if older == "" {
				break
			}
			u, err := url.Parse(older)
			if err != nil || u.Query().Get("instance") != "web1.example.org" || u.Query().Get("before") == "" {
				t.Fatalf("%s: older link %q", role, older)
			}
			r = c.get(older)
		}
		if !slices.Equal(seen, all) || len(pages) != 3 {
			t.Fatalf("%s: walked %d pages, %d entries, want 3 pages of %v", role, len(pages), len(seen), len(all))
		}
		if got := link.FindAllStringSubmatch(pages[0], -1); len(got) != 1 {
			t.Errorf("%s: first page links %v, want only older", role, got)
		}
		// Back: the newer link of the last page gives the middle page, and
		// its newer link the first.
		r = c.get(href(pages[2], "newer"))
		if got := historyRows(r.body); !slices.Equal(got, all[50:100]) {
			t.Errorf("%s: newer page %v", role, got)
		}
		r = c.get(href(r.body, "newer"))
		if got := historyRows(r.body); !slices.Equal(got, all[:50]) || href(r.body, "newer") != "" {
			t.Errorf("%s: newest page %v (newer link %q)", role, got, href(r.body, "newer"))
		}
		if got := href(pages[2], "newest"); got != "/history/?instance=web1.example.org" {
			t.Errorf("%s: newest link %q", role, got)
		}
	}
}

// TestSweepAuditRetention: the sweep purges entries older than the
// retention window and keeps the rest; with a window of 0 it keeps
// everything.
func TestSweepAuditRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, days := range []int{30, 0} {
		h := newHarness(t, func(c *config.Config) { c.AuditRetention = time.Duration(days) * 24 * time.Hour })
		for _, age := range []int{400, 31, 29, 0} {
			if _, err := h.store.InsertAudit(ctx, &store.AuditEntry{At: time.Now().AddDate(0, 0, -age), Action: "instance.start",
				Outcome: "ok", Detail: strconv.Itoa(age)}); err != nil {
				t.Fatal(err)
			}
		}
		h.site.SweepOnce(ctx, time.Now())
		p, err := h.store.ListAudit(ctx, store.AuditQuery{All: true})
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, e := range p.Entries {
			left = append(left, e.Detail)
		}
		want := []string{"0", "29"}
		if days == 0 {
			want = []string{"0", "29", "31", "400"}
		}
		if !slices.Equal(left, want) {
			t.Errorf("retention %d days: entries %v days old left, want %v", days, left, want)
		}
		if days == 30 && !strings.Contains(h.logs.String(), "old audit entries") {
			t.Error("the purge is not logged")
		}
	}
}
