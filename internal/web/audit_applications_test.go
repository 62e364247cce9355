package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// auditOfApplication returns the audit entries of an application, oldest
// first.
func (f *appFixture) auditOfApplication(t *testing.T, id int64) []*store.AuditEntry {
	t.Helper()
	p, err := f.store.ListAudit(context.Background(), store.AuditQuery{All: true, Limit: store.MaxAuditPage})
	if err != nil {
		t.Fatal(err)
	}
	var out []*store.AuditEntry
	for i := len(p.Entries) - 1; i >= 0; i-- {
		if p.Entries[i].ApplicationID == id {
			out = append(out, p.Entries[i])
		}
	}
	return out
}

// checkEntry checks an entry's action, outcome, actor and address.
func (f *appFixture) checkEntry(t *testing.T, e *store.AuditEntry, action audit.Action, outcome audit.Outcome, user, addr string) {
	t.Helper()
	u, err := f.store.UserByUsername(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	if e.Action != string(action) || e.Outcome != string(outcome) || e.UserID != u.ID || e.Username != user ||
		e.ClientAddr != netip.MustParseAddr(addr) {
		t.Errorf("entry %s/%s by %q (%d) from %v, want %s/%s by %q (%d) from %s", e.Action, e.Outcome, e.Username, e.UserID,
			e.ClientAddr, action, outcome, user, u.ID, addr)
	}
}

// TestAuditApplicationDecisions: behind a trusted proxy, every decision
// taken in the pages (filing, approval, refusal with its reason, discard,
// submission, fast creation) and a refused approval attempt leave exactly
// one entry each, with the actor, the client address the proxy forwarded,
// the outcome and the application. The applicant's history shows their
// own entries and nobody else's.
func TestAuditApplicationDecisions(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, newHarness(t, withTrustedProxy("127.0.0.0/8")))
	forwarded := map[string]string{"ann": "198.51.100.1", "sam": "198.51.100.2", "rev": "2001:db8::3", "root": "198.51.100.4"}
	for user, addr := range forwarded {
		// A client address, and one forwarded by another proxy: the
		// right-most address the trusted proxy added is the client's.
		f.clients[user].headers.Set("X-Forwarded-For", "203.0.113.250, "+addr)
	}
	rev := f.clients["rev"]

	// Filed, then a refused approval attempt by someone who may not
	// review, then approved.
	approved := f.create(t, "dec1.example.org")
	path := fmt.Sprintf("/applications/%d/", approved)
	if r := f.clients["ann"].post(path+"approve", f.placement(t, "dec1.example.org")); r.StatusCode != http.StatusNotFound {
		t.Fatalf("approval by the applicant: got %d, want 404", r.StatusCode)
	}
	if r := f.clients["sam"].post(path+"refuse", url.Values{"comment": {"mine now"}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("refusal by another user: got %d, want 404", r.StatusCode)
	}
	if r := rev.post(path+"approve", f.placement(t, "dec1.example.org")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: got %d\n%v", r.StatusCode, fieldErrorsOf(r.body))
	}
	es := f.auditOfApplication(t, approved)
	if len(es) != 4 {
		t.Fatalf("approved application: %d entries, want 4", len(es))
	}
	f.checkEntry(t, es[0], audit.ApplicationFile, audit.OK, "ann", forwarded["ann"])
	f.checkEntry(t, es[1], audit.ApplicationApprove, audit.Refused, "ann", forwarded["ann"])
	f.checkEntry(t, es[2], audit.ApplicationRefuse, audit.Refused, "sam", forwarded["sam"])
	f.checkEntry(t, es[3], audit.ApplicationApprove, audit.OK, "rev", forwarded["rev"])
	if es[2].Instance != "" {
		t.Errorf("another user's refused attempt names the application's host %q", es[2].Instance)
	}
	if es[3].ClusterSlug != "c1" || es[3].Instance != "dec1.example.org" || !strings.Contains(es[3].Detail, "cluster c1") {
		t.Errorf("approval entry: %+v", es[3])
	}

	// Refused with a reason, discarded.
	refused := f.create(t, "dec2.example.org")
	if r := rev.post(fmt.Sprintf("/applications/%d/refuse", refused), url.Values{"comment": {"No budget this year."}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("refuse: got %d", r.StatusCode)
	}
	discarded := f.create(t, "dec3.example.org")
	if r := rev.post(fmt.Sprintf("/applications/%d/discard", discarded), url.Values{"comment": {"test entry"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("discard: got %d", r.StatusCode)
	}
	es = f.auditOfApplication(t, refused)
	if len(es) != 2 {
		t.Fatalf("refused application: %d entries, want 2", len(es))
	}
	f.checkEntry(t, es[1], audit.ApplicationRefuse, audit.OK, "rev", forwarded["rev"])
	if es[1].Detail != "No budget this year." {
		t.Errorf("refusal detail %q", es[1].Detail)
	}
	es = f.auditOfApplication(t, discarded)
	if len(es) != 2 {
		t.Fatalf("discarded application: %d entries, want 2", len(es))
	}
	f.checkEntry(t, es[1], audit.ApplicationDiscard, audit.OK, "rev", forwarded["rev"])

	// Left approved (as by an older ganetimgr), then submitted.
	left := f.create(t, "dec4.example.org")
	v := f.placement(t, "dec4.example.org")
	clusterID, _ := strconv.ParseInt(v.Get("cluster"), 10, 64)
	opts, err := f.apps.PlacementOptions(context.Background(), f.principal(t, "rev"), false)
	if err != nil {
		t.Fatal(err)
	}
	pl, verr := opts[0].Resolve(applications.PlacementChoice{ClusterID: clusterID, NodeGroup: v.Get("node_group"),
		Network: v.Get("network"), DiskTemplate: v.Get("disk_template")})
	if verr != nil {
		t.Fatal(verr)
	}
	if _, err := f.store.TransitionApplication(context.Background(), store.ApplicationTransition{ID: left,
		From: store.AppPending, To: store.AppApproved, Placement: &pl}); err != nil {
		t.Fatal(err)
	}
	if r := rev.post(fmt.Sprintf("/applications/%d/submit", left), nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: got %d", r.StatusCode)
	}
	es = f.auditOfApplication(t, left)
	if len(es) != 2 {
		t.Fatalf("submitted application: %d entries, want 2", len(es))
	}
	f.checkEntry(t, es[1], audit.ApplicationSubmit, audit.OK, "rev", forwarded["rev"])

	// Created directly by an administrator.
	f.setFastCreate(t, true)
	r := f.clients["root"].post("/admin/applications/fast", f.fastForm(t, "dec5.example.org"))
	m := applicationIDRE.FindStringSubmatch(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("fast create: got %d %q\n%v", r.StatusCode, r.Header.Get("Location"), fieldErrorsOf(r.body))
	}
	fast, _ := strconv.ParseInt(m[1], 10, 64)
	es = f.auditOfApplication(t, fast)
	if len(es) != 1 {
		t.Fatalf("fast creation: %d entries, want 1", len(es))
	}
	f.checkEntry(t, es[0], audit.ApplicationFast, audit.OK, "root", forwarded["root"])
	if !strings.Contains(es[0].Detail, "Created for the lab.") {
		t.Errorf("fast creation detail %q", es[0].Detail)
	}

	// The applicant's history: her filings and her refused attempt, not
	// the reviewer's decisions nor the forwarded addresses.
	h := f.clients["ann"].get("/history/")
	if h.StatusCode != http.StatusOK {
		t.Fatalf("history: %d", h.StatusCode)
	}
	if n := len(historyRows(h.body)); n != 5 {
		t.Errorf("the applicant's history has %d entries, want 4 filings and 1 refused attempt", n)
	}
	if strings.Contains(h.body, `data-action="application.approve" data-outcome="ok"`) || strings.Contains(h.body, forwarded["ann"]) {
		t.Error("the applicant's history shows others' decisions or client addresses")
	}
	// The administrator's: everything, with the addresses, filterable.
	h = f.clients["root"].get("/history/?user=rev&outcome=ok")
	if n := len(historyRows(h.body)); n != 4 || !strings.Contains(h.body, forwarded["rev"]) {
		t.Errorf("the reviewer's decisions: %d entries (want 4), address shown: %v", n, strings.Contains(h.body, forwarded["rev"]))
	}
}

// TestAuditClientAddressUntrustedPeer: without a trusted proxy the
// X-Forwarded-For header is ignored; the connection's peer is recorded.
func TestAuditClientAddressUntrustedPeer(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, newHarness(t))
	f.clients["ann"].headers.Set("X-Forwarded-For", "203.0.113.9")
	f.clients["sam"].headers.Set("X-Forwarded-For", "203.0.113.10")
	id := f.create(t, "spoof.example.org")
	if r := f.clients["sam"].post(fmt.Sprintf("/applications/%d/discard", id), nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("discard by another user: got %d", r.StatusCode)
	}
	es := f.auditOfApplication(t, id)
	if len(es) != 2 {
		t.Fatalf("%d entries, want 2", len(es))
	}
	f.checkEntry(t, es[0], audit.ApplicationFile, audit.OK, "ann", "127.0.0.1")
	f.checkEntry(t, es[1], audit.ApplicationDiscard, audit.Refused, "sam", "127.0.0.1")
}
