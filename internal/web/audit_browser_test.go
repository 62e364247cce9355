package web_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestBrowserHistory walks a helpdesk user through the history page:
// from the navigation, filtering the refused attempts with the form,
// clearing the filter and paging to older entries and back.
func TestBrowserHistory(t *testing.T) {
	t.Parallel()
	h, b := newBrowserHarness(t)
	h.user("help", adminPW, false, auth.ViewInstances)
	ann := h.user("ann", adminPW, false)
	ctx := context.Background()
	for i := range 60 {
		if _, err := h.store.InsertAudit(ctx, &store.AuditEntry{At: time.Now().Add(-time.Duration(i+1) * time.Minute),
			UserID: ann.ID, Username: "ann", ClientAddr: netip.MustParseAddr("192.0.2.44"), Action: "instance.reboot",
			Outcome: "ok", ClusterSlug: "c1", Instance: "web1.example.org", JobID: int64(100 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.store.InsertAudit(ctx, &store.AuditEntry{UserID: ann.ID, Username: "ann",
		ClientAddr: netip.MustParseAddr("192.0.2.44"), Action: "instance.destroy", Outcome: "refused", ClusterSlug: "c1",
		Instance: "db1.example.org", Detail: "not an owner"}); err != nil {
		t.Fatal(err)
	}

	b.open("/login")
	b.loginAs("help", adminPW)
	b.click("#nav-history")
	b.wantAt("/history/")
	b.wantText("h1", "History")
	b.wantText("#audit-retention", "Entries are kept 365 days.")
	b.wantText("#audit tbody tr:first-child td.action", "Destroy")
	b.wantText("#audit tbody tr:first-child td.addr", "192.0.2.44")

	// Only the refused attempts.
	run(b, "choose refused", chromedp.SetValue(chromedp.CSS(`select[name=outcome]`), "refused"))
	b.click(`#audit-filter button[type=submit]`)
	if got := b.location().Query().Get("outcome"); got != "refused" {
		t.Fatalf("filtered to outcome %q", got)
	}
	b.wantText("#audit tbody tr td.detail", "not an owner")
	b.wantText("#audit tbody tr span.outcome", "Refused")
	if n := run(b, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#audit tbody tr").length`)); n != 1 {
		t.Errorf("%d rows, want the refused attempt", n)
	}

	// All again, then older and back to newer.
	b.click("#audit-clear")
	b.wantAt("/history/")
	b.click("#audit-older")
	if n := run(b, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#audit tbody tr").length`)); n != 11 {
		t.Errorf("older page: %d rows, want 11", n)
	}
	b.click("#audit-newer")
	b.wantText("#audit tbody tr:first-child td.action", "Destroy")
	if b.present("#audit-newer") || !b.present("#audit-older") {
		t.Error("the newest page links to newer entries, or not to older ones")
	}
}
