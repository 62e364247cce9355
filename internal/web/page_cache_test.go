package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/web"
)

// cacheBound is the principal and state TTL of the cache tests: what the
// tests check is that changes apply within it.
const cacheBound = 300 * time.Millisecond

func cachedFixture(t *testing.T) *pagesFixture {
	t.Helper()
	return newPagesFixtureWith(t, 40, web.CacheOptions{PrincipalTTL: cacheBound, StateTTL: cacheBound})
}

// TestPageCacheSeparatesViewers: a cached list is never served to another
// user, nor a helpdesk page to a user.
func TestPageCacheSeparatesViewers(t *testing.T) {
	f := cachedFixture(t)
	for range 2 {
		for who, mine := range map[string]string{"alice": f.aliceOnly, "bob": f.bobOnly, "helpdesk": f.bobOnly} {
			r := f.clients[who].get("/instances/")
			if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="whoami">`+who+`<`) {
				t.Fatalf("%s: status %d, not their page", who, r.StatusCode)
			}
			if !strings.Contains(r.body, `data-instance="`+mine+`"`) {
				t.Errorf("%s: %s missing", who, mine)
			}
		}
		if r := f.clients["alice"].get("/instances/"); strings.Contains(r.body, `data-instance="`+f.bobOnly+`"`) ||
			strings.Contains(r.body, "col-owners") {
			t.Errorf("alice got bob's or the helpdesk's rows")
		}
	}
	a, b := f.clients["alice"].get("/instances/"), f.clients["bob"].get("/instances/")
	if a.Header.Get("ETag") == "" || a.Header.Get("ETag") == b.Header.Get("ETag") {
		t.Errorf("etags %q and %q", a.Header.Get("ETag"), b.Header.Get("ETag"))
	}
}

// TestPageCacheGzipAndNotModified: the gzip form decodes to the page, and
// a known ETag gives 304.
func TestPageCacheGzipAndNotModified(t *testing.T) {
	f := cachedFixture(t)
	c := f.clients["root"]
	c.get("/") // consumes the welcome flash
	plain := c.get("/instances/")
	c.headers.Set("Accept-Encoding", "gzip")
	gz := c.get("/instances/")
	c.headers.Del("Accept-Encoding")
	for _, r := range []*response{plain, gz} {
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("cached page Cache-Control = %q, want no-store", cc)
		}
		// The session is not re-saved, nor its cookie re-sent, on a view
		// that changes nothing (the idle timeout is the store's).
		if sc := r.Header.Get("Set-Cookie"); sc != "" {
			t.Errorf("a page view re-sent the session cookie: %q", sc)
		}
	}
	if gz.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(strings.Join(gz.Header.Values("Vary"), ","), "Accept-Encoding") {
		t.Fatalf("headers %v", gz.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	if !bytes.Equal(b, []byte(plain.body)) {
		t.Errorf("gzip body differs from the plain one")
	}
	// A page asked for once is streamed, not kept; the second request keeps it.
	before := f.site.CacheStats().Pages
	c.get("/instances/?size=3")
	if n := f.site.CacheStats().Pages; n != before {
		t.Errorf("a page asked for once was cached (%d → %d pages)", before, n)
	}
	c.get("/instances/?size=3")
	if n := f.site.CacheStats().Pages; n != before+1 {
		t.Errorf("a page asked for twice was not cached (%d → %d pages)", before, n)
	}
	// A page served once is not compressed for a single use.
	c.headers.Set("Accept-Encoding", "gzip")
	once := c.get("/instances/?size=7")
	c.headers.Del("Accept-Encoding")
	if once.Header.Get("Content-Encoding") != "" || !strings.Contains(once.body, "data-instance=") {
		t.Errorf("a page's first use was compressed: %v", once.Header)
	}
	c.headers.Set("If-None-Match", plain.Header.Get("ETag"))
	if r := c.get("/instances/"); r.StatusCode != http.StatusNotModified || r.body != "" {
		t.Errorf("If-None-Match: %d", r.StatusCode)
	}
	c.headers.Del("If-None-Match")
}

// TestPageCacheInvalidation: a sync changing an instance, a group
// membership change and a language change each give a new page.
func TestPageCacheInvalidation(t *testing.T) {
	f := cachedFixture(t)
	ctx := context.Background()
	carol := f.clients["carol"]
	if r := carol.get("/instances/"); !strings.Contains(r.body, `data-instance="`+f.teamOnly+`"`) {
		t.Fatal("carol does not see the team's instance")
	}
	// A sync changing an instance.
	if err := f.fake.SetInstanceTags(f.aliceOnly, []string{"ganetimgr:user:alice", "ganetimgr:adminlock"}); err != nil {
		t.Fatal(err)
	}
	before := f.clients["alice"].get("/instances/")
	f.sync(t)
	time.Sleep(cacheBound + 100*time.Millisecond)
	after := f.clients["alice"].get("/instances/")
	if before.Header.Get("ETag") == after.Header.Get("ETag") ||
		strings.Count(after.body, "badge-lock") != strings.Count(before.body, "badge-lock")+1 {
		t.Errorf("page not changed by the sync")
	}
	// Group membership.
	groups, err := f.store.UserGroups(ctx, uidOf(t, f, "carol"))
	if err != nil || len(groups) == 0 {
		t.Fatalf("carol's groups: %v %v", groups, err)
	}
	if err := f.store.RemoveGroupMember(ctx, groups[0].ID, uidOf(t, f, "carol")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(cacheBound + 100*time.Millisecond)
	if r := carol.get("/instances/"); strings.Contains(r.body, `data-instance="`+f.teamOnly+`"`) {
		t.Errorf("carol still sees the team's instance after leaving the group")
	}
	// Language.
	en := f.clients["alice"].get("/instances/")
	f.clients["alice"].post("/language", map[string][]string{"lang": {"el"}, "next": {"/instances/"}})
	el := f.clients["alice"].get("/instances/")
	if en.Header.Get("ETag") == el.Header.Get("ETag") || !strings.Contains(el.body, `lang="el"`) {
		t.Errorf("language change not applied")
	}
}

// TestPageCacheSecurityBounds: deactivation, permission revocation, log
// out everywhere (made outside this server: straight in the database) and
// logout take effect within the documented bound.
func TestPageCacheSecurityBounds(t *testing.T) {
	f := cachedFixture(t)
	ctx := context.Background()
	// Logout: at once.
	bob := f.clients["bob"]
	cookie := bob.sessionCookie()
	bob.post("/logout", nil)
	stolen := f.client()
	stolen.headers.Set("Cookie", "ganetimgr_session="+cookie)
	if r := stolen.get("/instances/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("old token after logout: %d", r.StatusCode)
	}
	// Permission revoked elsewhere: helpdesk loses the wide list.
	if r := f.clients["helpdesk"].get("/instances/"); !strings.Contains(r.body, "col-owners") {
		t.Fatal("helpdesk has no wide list")
	}
	if err := f.store.RevokeUserPermission(ctx, uidOf(t, f, "helpdesk"), "view_instances"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(cacheBound + 100*time.Millisecond)
	if r := f.clients["helpdesk"].get("/instances/"); strings.Contains(r.body, "col-owners") {
		t.Errorf("revoked permission still applies after %s", cacheBound)
	}
	// Log out everywhere elsewhere (epoch bumped in the database).
	if _, err := f.store.BumpSessionEpoch(ctx, uidOf(t, f, "alice")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(cacheBound + 100*time.Millisecond)
	if r := f.clients["alice"].get("/instances/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("alice still in after log out everywhere: %d", r.StatusCode)
	}
	// Deactivation elsewhere.
	if _, err := f.store.Pool().Exec(ctx, `UPDATE users SET is_active = false WHERE id = $1`, uidOf(t, f, "carol")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(cacheBound + 100*time.Millisecond)
	if r := f.clients["carol"].get("/instances/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("deactivated carol still in: %d", r.StatusCode)
	}
}

// TestPageCacheSingleFlight: concurrent first requests for one page all
// get the same page (rendered once: one entry, one ETag).
func TestPageCacheSingleFlight(t *testing.T) {
	f := cachedFixture(t)
	c := f.clients["root"]
	c.get("/") // shows (and so consumes) the welcome flash: pages with flashes are not cached
	var wg sync.WaitGroup
	etags := make([]string, 16)
	for i := range etags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, f.baseURL+"/instances/?sort=memory", nil)
			req.Header.Set("Cookie", "ganetimgr_session="+c.sessionCookie())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			etags[i] = resp.Header.Get("ETag")
		}()
	}
	wg.Wait()
	for _, e := range etags {
		if e == "" || e != etags[0] {
			t.Fatalf("etags %v", etags)
		}
	}
	if st := f.site.CacheStats(); st.Pages != 1 {
		t.Errorf("%d cached pages, want 1", st.Pages)
	}
}

func uidOf(t *testing.T, f *pagesFixture, name string) int64 {
	t.Helper()
	u, err := f.store.UserByUsername(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestRowsRenderedAhead: once a kind of list (language, column set) has
// been shown, every instance's row is rendered for it in the background,
// and after a sync only the changed rows are rendered again, still ahead
// of any page: a page nobody has seen finds its rows ready.
func TestRowsRenderedAhead(t *testing.T) {
	f := cachedFixture(t)
	total := len(f.names)
	waitFragments := func(what string, want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for f.site.CacheStats().Fragments != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d row fragments, want %d", what, f.site.CacheStats().Fragments, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Alice sees a few instances; the rows of all of them are rendered
	// in her language and column set.
	if r := f.clients["alice"].get("/instances/"); r.StatusCode != http.StatusOK {
		t.Fatalf("alice's list: %d", r.StatusCode)
	}
	waitFragments("after a user's list", total)
	// The helpdesk's wide rows are another kind.
	f.clients["helpdesk"].get("/instances/")
	waitFragments("after the helpdesk's list", 2*total)

	// A sync changes one instance: the next index keeps the other rows'
	// fragments, and the changed row is rendered again in both kinds
	// before anyone asks for it.
	if err := f.fake.SetInstanceTags(f.bobOnly, []string{"ganetimgr:user:bob", "ganetimgr:adminlock"}); err != nil {
		t.Fatal(err)
	}
	f.sync(t)
	time.Sleep(cacheBound + 100*time.Millisecond)
	f.clients["alice"].get("/instances/") // alice does not see the changed row
	waitFragments("after the sync", 2*total)
	if r := f.clients["bob"].get("/instances/"); strings.Count(r.body, "badge-lock") != 1 {
		t.Errorf("bob's list does not show the change:\n%s", r.body)
	}
}
