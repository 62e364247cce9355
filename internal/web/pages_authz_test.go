package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestPagesAuthorizationMatrix requests every page of the instance, node,
// job and cluster information views as anonymous, a user, another user,
// helpdesk and an administrator, for objects the user owns, does not own,
// and that do not exist.
func TestPagesAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	f := newPagesFixture(t, 8)
	js, err := f.store.ListJobs(context.Background(), store.JobQuery{})
	if err != nil || len(js) == 0 {
		t.Fatalf("no cached job: %v", err)
	}
	job := fmt.Sprintf("/jobs/alpha/%d/", js[0].ID)
	const (
		redirect = http.StatusSeeOther
		ok       = http.StatusOK
		forbid   = http.StatusForbidden
		missing  = http.StatusNotFound
	)
	// Columns: anonymous, alice (owner), bob (other user), helpdesk, root.
	cases := []struct {
		path string
		want [5]int
	}{
		{"/instances/", [5]int{redirect, ok, ok, ok, ok}},
		{"/instances/?status=running&sort=memory&desc=1", [5]int{redirect, ok, ok, ok, ok}},
		{"/instances/alpha/" + f.aliceOnly + "/", [5]int{redirect, ok, missing, ok, ok}},
		{"/instances/alpha/" + f.bobOnly + "/", [5]int{redirect, missing, ok, ok, ok}},
		{"/instances/alpha/" + f.teamOnly + "/", [5]int{redirect, missing, missing, ok, ok}},
		{"/instances/alpha/no-such.example.org/", [5]int{redirect, missing, missing, missing, missing}},
		{"/instances/nosuchcluster/" + f.aliceOnly + "/", [5]int{redirect, missing, missing, missing, missing}},
		{"/nodes/", [5]int{redirect, forbid, forbid, ok, ok}},
		{"/nodes/?role=master&cluster=alpha", [5]int{redirect, forbid, forbid, ok, ok}},
		{"/jobs/", [5]int{redirect, forbid, forbid, ok, ok}},
		{"/jobs/?status=success&cluster=alpha", [5]int{redirect, forbid, forbid, ok, ok}},
		{job, [5]int{redirect, forbid, forbid, ok, ok}},
		{"/jobs/alpha/999999/", [5]int{redirect, forbid, forbid, missing, missing}},
		{"/jobs/nosuchcluster/1/", [5]int{redirect, forbid, forbid, missing, missing}},
		{"/clusters/alpha/", [5]int{redirect, forbid, forbid, ok, ok}},
		{"/clusters/nosuchcluster/", [5]int{redirect, forbid, forbid, missing, missing}},
	}
	roles := []string{"anonymous", "alice", "bob", "helpdesk", "root"}
	for _, c := range cases {
		for i, who := range roles {
			r := f.clients[who].get(c.path)
			if r.StatusCode != c.want[i] {
				t.Errorf("GET %s as %s: got %d, want %d", c.path, who, r.StatusCode, c.want[i])
				continue
			}
			if r.StatusCode == redirect && !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
				t.Errorf("GET %s as %s: redirected to %q, want the login page", c.path, who, r.Header.Get("Location"))
			}
		}
	}
	// The navigation offers each role what it may open.
	for who, want := range map[string]bool{"alice": false, "helpdesk": true, "root": true} {
		body := f.clients[who].get("/").body
		if !strings.Contains(body, `id="nav-instances"`) || strings.Contains(body, `id="nav-nodes"`) != want ||
			strings.Contains(body, `id="nav-jobs"`) != want {
			t.Errorf("%s: navigation links wrong", who)
		}
	}
}

// TestStaleBanner: a cluster whose last success is older than the allowed
// number of intervals, or whose last sync failed, is named with its data
// age on every logged-in page; a fresh one is not.
func TestStaleBanner(t *testing.T) {
	t.Parallel()
	f := newPagesFixture(t, 8)
	ctx := context.Background()
	pages := []string{"/", "/instances/", "/instances/alpha/" + f.aliceOnly + "/"}
	for _, p := range pages {
		if body := f.clients["alice"].get(p).body; strings.Contains(body, `id="stale-banner"`) {
			t.Errorf("%s: banner shown for a fresh cluster", p)
		}
	}
	if _, err := f.store.Pool().Exec(ctx, `UPDATE cluster_sync SET last_success_at = now() - interval '3 hours 5 minutes'
		WHERE cluster_id = $1`, f.cluster.ID); err != nil {
		t.Fatal(err)
	}
	check := func(who string, paths []string, want string) {
		t.Helper()
		for _, p := range paths {
			r := f.clients[who].get(p)
			i := strings.Index(r.body, `id="stale-banner"`)
			if i < 0 {
				t.Errorf("%s as %s: no banner", p, who)
				continue
			}
			banner := r.body[i:min(len(r.body), i+600)]
			if !strings.Contains(banner, `data-cluster="alpha"`) || !strings.Contains(banner, want) {
				t.Errorf("%s as %s: banner lacks %q:\n%s", p, who, want, banner)
			}
		}
	}
	check("alice", pages, "stale, data age 3 h")
	check("helpdesk", append(pages, "/nodes/", "/jobs/", "/clusters/alpha/"), "stale, data age 3 h")
	check("root", []string{"/admin/", "/no-such-page"}, "stale, data age 3 h")
	if _, err := f.store.Pool().Exec(ctx, `UPDATE cluster_sync SET last_success_at = now(), consecutive_failures = 2,
		last_error = 'connection refused' WHERE cluster_id = $1`, f.cluster.ID); err != nil {
		t.Fatal(err)
	}
	check("bob", []string{"/", "/instances/"}, "unreachable, data age")
	// Greek.
	c := f.clients["alice"]
	c.headers.Set("Accept-Language", "el")
	check("alice", []string{"/instances/"}, "μη προσβάσιμη")
	// Anonymous pages have no banner.
	if body := f.clients["anonymous"].get("/login").body; strings.Contains(body, `id="stale-banner"`) {
		t.Error("banner on the login page")
	}
}
