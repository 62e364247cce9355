package applications

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// auditOf returns the audit entries of an application, oldest first.
func (h *harness) auditOf(id int64) []*store.AuditEntry {
	h.t.Helper()
	p, err := h.st.ListAudit(h.ctx, store.AuditQuery{All: true, Limit: store.MaxAuditPage})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*store.AuditEntry
	for i := len(p.Entries) - 1; i >= 0; i-- {
		if p.Entries[i].ApplicationID == id {
			out = append(out, p.Entries[i])
		}
	}
	return out
}

// from is a request context of the client at addr.
func from(addr string) context.Context {
	return audit.WithAddr(context.Background(), netip.MustParseAddr(addr))
}

// wantEntry checks one audit entry.
func wantEntry(t *testing.T, e *store.AuditEntry, action audit.Action, outcome audit.Outcome, actor *auth.Principal, addr string) {
	t.Helper()
	var uid int64
	var name string
	if actor != nil {
		uid, name = actor.User.ID, actor.User.Username
	}
	var a netip.Addr
	if addr != "" {
		a = netip.MustParseAddr(addr)
	}
	if e.Action != string(action) || e.Outcome != string(outcome) || e.UserID != uid || e.Username != name || e.ClientAddr != a {
		t.Errorf("entry %s/%s by %d %q from %v, want %s/%s by %d %q from %v", e.Action, e.Outcome, e.UserID, e.Username,
			e.ClientAddr, action, outcome, uid, name, a)
	}
}

// TestAuditApplicationLifecycle: filing, approval, the failed creation (by
// the system, with Ganeti's message and the job), the approval again and
// the creation each leave exactly one entry, with the actor, the client
// address and the job; the cluster and the hostname are the application's.
func TestAuditApplicationLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	a, err := h.svc.Apply(from("192.0.2.10"), h.applicant, h.form("audit1.example.org"))
	if err != nil {
		t.Fatal(err)
	}
	// Ganeti refuses this memory size: the creation fails.
	f := FormFromApplication(a)
	f.MemoryMB = 65536
	if _, err := h.svc.Approve(from("2001:db8::5"), h.reviewer, a.ID, Review{Request: &f, Placement: h.placement(),
		Comment: "welcome"}); err != nil {
		t.Fatal(err)
	}
	failed := h.waitStatus(a.ID, store.AppFailed, 20*time.Second)
	f.MemoryMB = 1024
	if _, err := h.svc.Approve(from("2001:db8::5"), h.reviewer, a.ID, Review{Request: &f, Placement: h.placement()}); err != nil {
		t.Fatal(err)
	}
	created := h.waitStatus(a.ID, store.AppCreated, 20*time.Second)

	es := h.auditOf(a.ID)
	if len(es) != 5 {
		for _, e := range es {
			t.Logf("%s %s %s", e.Action, e.Outcome, e.Detail)
		}
		t.Fatalf("%d entries, want 5", len(es))
	}
	wantEntry(t, es[0], audit.ApplicationFile, audit.OK, h.applicant, "192.0.2.10")
	wantEntry(t, es[1], audit.ApplicationApprove, audit.OK, h.reviewer, "2001:db8::5")
	if d := es[1].Detail; !strings.Contains(d, "cluster c1") || !strings.Contains(d, "node group default") ||
		!strings.Contains(d, "disk template file") || !strings.Contains(d, "welcome") {
		t.Errorf("approval detail %q", d)
	}
	wantEntry(t, es[2], audit.ApplicationCreate, audit.Failed, nil, "")
	if es[2].Detail != failed.BackendMessage || es[2].JobID == 0 || es[2].JobID != failed.JobID {
		t.Errorf("failure entry: detail %q job %d, want %q job %d", es[2].Detail, es[2].JobID, failed.BackendMessage, failed.JobID)
	}
	wantEntry(t, es[3], audit.ApplicationSubmit, audit.OK, h.reviewer, "2001:db8::5")
	if !strings.HasPrefix(es[3].Detail, "Submitted again after a failure.") {
		t.Errorf("re-submission detail %q", es[3].Detail)
	}
	wantEntry(t, es[4], audit.ApplicationCreate, audit.OK, nil, "")
	if es[4].JobID == 0 || es[4].JobID != created.JobID || es[4].JobID == es[2].JobID {
		t.Errorf("creation entry job %d, application's %d, failed one %d", es[4].JobID, created.JobID, es[2].JobID)
	}
	for _, e := range es {
		if e.Instance != "audit1.example.org" || e.ApplicationID != a.ID {
			t.Errorf("entry %s: instance %q application %d", e.Action, e.Instance, e.ApplicationID)
		}
		if e.Action != string(audit.ApplicationFile) && (e.ClusterSlug != "c1" || e.ClusterID != h.cluster.ID) {
			t.Errorf("entry %s: cluster %q (%d)", e.Action, e.ClusterSlug, e.ClusterID)
		}
	}
}

// TestAuditReviewDecisions: refusal (with its reason), discard, fast
// creation, and the refused attempts of users who may not review.
func TestAuditReviewDecisions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noQueue: true})
	a := h.apply("audit2.example.org")
	b := h.apply("audit3.example.org")

	// Someone who may not review: refused, recorded, nothing named that
	// they may not see.
	if _, err := h.svc.Refuse(from("203.0.113.4"), h.stranger, a.ID, "no"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("refusal by a stranger: %v", err)
	}
	if _, err := h.svc.Approve(from("203.0.113.4"), h.viewer, a.ID, Review{Placement: h.placement()}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("approval by a viewer: %v", err)
	}
	h.svc.RecordRefusedReview(from("203.0.113.4"), h.applicant, audit.ApplicationDiscard, b.ID)
	if _, err := h.svc.FastCreate(from("203.0.113.4"), h.applicant, h.form("audit4.example.org"), h.placement(), ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("fast creation by a user: %v", err)
	}

	if _, err := h.svc.Refuse(from("192.0.2.20"), h.reviewer, a.ID, "Not for a personal blog."); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Discard(from("192.0.2.20"), h.reviewer, b.ID, "duplicate"); err != nil {
		t.Fatal(err)
	}
	fast, err := h.svc.FastCreate(from("192.0.2.20"), h.reviewer, h.form("audit5.example.org"), h.placement(), "lab")
	if err != nil {
		t.Fatal(err)
	}

	es := h.auditOf(a.ID)
	if len(es) != 4 {
		t.Fatalf("application a: %d entries, want 4", len(es))
	}
	wantEntry(t, es[1], audit.ApplicationRefuse, audit.Refused, h.stranger, "203.0.113.4")
	wantEntry(t, es[2], audit.ApplicationApprove, audit.Refused, h.viewer, "203.0.113.4")
	if es[1].Instance != "" || es[1].ClusterSlug != "" || !strings.Contains(es[1].Detail, "change_application") {
		t.Errorf("a stranger's refused attempt names %q on %q (%q)", es[1].Instance, es[1].ClusterSlug, es[1].Detail)
	}
	if es[2].Instance != "audit2.example.org" {
		t.Errorf("a viewer's refused attempt names %q, want the hostname they may see", es[2].Instance)
	}
	wantEntry(t, es[3], audit.ApplicationRefuse, audit.OK, h.reviewer, "192.0.2.20")
	if es[3].Detail != "Not for a personal blog." {
		t.Errorf("refusal detail %q", es[3].Detail)
	}

	es = h.auditOf(b.ID)
	if len(es) != 3 {
		t.Fatalf("application b: %d entries, want 3", len(es))
	}
	wantEntry(t, es[1], audit.ApplicationDiscard, audit.Refused, h.applicant, "203.0.113.4")
	if es[1].Instance != "audit3.example.org" {
		t.Errorf("the applicant's refused attempt names %q", es[1].Instance)
	}
	wantEntry(t, es[2], audit.ApplicationDiscard, audit.OK, h.reviewer, "192.0.2.20")
	if es[2].Detail != "duplicate" {
		t.Errorf("discard detail %q", es[2].Detail)
	}

	es = h.auditOf(fast.ID)
	if len(es) != 1 {
		t.Fatalf("fast creation: %d entries, want 1", len(es))
	}
	wantEntry(t, es[0], audit.ApplicationFast, audit.OK, h.reviewer, "192.0.2.20")
	if es[0].Instance != "audit5.example.org" || es[0].ClusterSlug != "c1" || !strings.Contains(es[0].Detail, "lab") {
		t.Errorf("fast creation entry %+v", es[0])
	}
	es = h.auditOf(0)
	if len(es) != 1 {
		t.Fatalf("entries without an application: %d, want the refused fast creation", len(es))
	}
	wantEntry(t, es[0], audit.ApplicationFast, audit.Refused, h.applicant, "203.0.113.4")
}
