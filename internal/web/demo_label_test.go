package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

func TestDemoClusterIsLabelled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("root", "correct horse battery", true)
	h.user("pat", "correct horse battery", false)
	admin, user := h.client(), h.client()
	admin.mustLogin("root", "correct horse battery")
	user.mustLogin("pat", "correct horse battery")
	if strings.Contains(user.get("/").body, `id="demo-notice"`) {
		t.Error("demo notice shown without a demo cluster")
	}
	if !strings.Contains(admin.get("/admin/").body, "No cluster is registered yet.") {
		t.Error("admin page without clusters does not say so")
	}
	if _, err := h.store.UpsertDemoCluster(context.Background(), store.Cluster{Slug: "demo", Hostname: "127.0.0.1", Port: 5081,
		RAPIUsername: "ganetimgr", TLSFingerprint: strings.Repeat("AB:", 31) + "AB"}); err != nil {
		t.Fatal(err)
	}
	if body := user.get("/").body; !strings.Contains(body, `id="demo-notice"`) || !strings.Contains(body, "demo (simulated)") {
		t.Error("dashboard does not label the demo cluster")
	}
	body := admin.get("/admin/").body
	if !strings.Contains(body, `<span class="badge badge-demo"`) || !strings.Contains(body, "127.0.0.1:5081") {
		t.Errorf("admin page does not list the demo cluster:\n%s", body)
	}
}
