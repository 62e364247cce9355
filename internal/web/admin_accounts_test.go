package web_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/web"
)

// admRegister registers an account the way the registration page does
// (pending approval, password adminPW) and, when verify is set, confirms
// its address with the mailed token.
func admRegister(t *testing.T, h *harness, name string, verify bool) *store.User {
	t.Helper()
	ctx := context.Background()
	hash, err := h.hasher.Hash(ctx, adminPW)
	if err != nil {
		t.Fatal(err)
	}
	token, tokenHash, err := accounts.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := h.store.Register(ctx, store.Registration{Username: name, Email: name + "@example.org",
		FirstName: "First", LastName: "Last", PasswordHash: hash, Language: "el", TokenHash: tokenHash, TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if verify {
		th, ok := accounts.HashToken(token)
		if !ok {
			t.Fatal("the new token does not parse")
		}
		if u, err = h.store.VerifyEmail(ctx, th); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// admLogin logs a new client in as name and consumes the first-login
// flash.
func admLogin(h *harness, name string) *client {
	h.t.Helper()
	c := h.client()
	c.mustLogin(name, adminPW)
	c.get("/")
	return c
}

// admFollow requests the page a 303 points to.
func admFollow(t *testing.T, c *client, r *response) *response {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("got %d, want 303: %s %s", r.StatusCode, pageError(r.body), r.body)
	}
	return c.get(r.Header.Get("Location"))
}

var (
	admUserRow  = regexp.MustCompile(`<tr data-user="([^"]+)">`)
	admFlash    = regexp.MustCompile(`(?s)<div class="flash flash-success" role="status">(.*?)</div>`)
	admEffPerm  = regexp.MustCompile(`<li data-permission="([^"]+)">`)
	admMemberOf = regexp.MustCompile(`data-member="([^"]+)"`)
)

// admUsersShown returns the usernames listed on a user list page.
func admUsersShown(body string) []string {
	var out []string
	for _, m := range admUserRow.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func admFlashText(body string) string {
	if m := admFlash.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

func admAll(re *regexp.Regexp, body string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func admUser(t *testing.T, h *harness, id int64) *store.User {
	t.Helper()
	u, err := h.store.UserByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func userURL(id int64, suffix string) string { return fmt.Sprintf("/admin/users/%d%s", id, suffix) }

func groupURL(id int64, suffix string) string { return fmt.Sprintf("/admin/groups/%d%s", id, suffix) }

func TestAdminUserListFiltersAndSearch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := adminClient(h) // root, an active superuser
	org, err := h.store.CreateOrganization(ctx, store.OrganizationInput{Title: "Research Network", Tag: "rnet"})
	if err != nil {
		t.Fatal(err)
	}
	alice := h.user("alice", adminPW, false)
	if _, err := h.store.UpdateProfile(ctx, alice.ID, store.Profile{FirstName: "Alice", LastName: "Liddell", Organization: org.ID}); err != nil {
		t.Fatal(err)
	}
	bob := h.user("bob", adminPW, false)
	if err := h.store.SetUserActive(ctx, bob.ID, false); err != nil {
		t.Fatal(err)
	}
	h.user("boss", adminPW, true)
	admRegister(t, h, "pat", true)
	admRegister(t, h, "una", false)
	rex := admRegister(t, h, "rex", true)
	if _, err := h.store.RejectUser(ctx, rex.ID, 0); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"alice", "bob", "boss", "pat", "rex", "root", "una"}},
		{"?filter=active", []string{"alice", "boss", "root"}},
		{"?filter=inactive", []string{"bob"}},
		{"?filter=pending", []string{"pat"}},
		{"?filter=unverified", []string{"una"}},
		{"?filter=rejected", []string{"rex"}},
		{"?filter=superuser", []string{"boss", "root"}},
		{"?q=ALI", []string{"alice"}},
		{"?q=liddell", []string{"alice"}},
		{"?q=research+net", []string{"alice"}},
		{"?q=pat%40example", []string{"pat"}},
		{"?q=o&filter=superuser", []string{"boss", "root"}},
		{"?q=%25", nil}, // a wildcard is taken literally
		{"?q=nobody", nil},
	}
	for _, tc := range cases {
		r := c.get("/admin/users" + tc.query)
		if r.StatusCode != http.StatusOK {
			t.Errorf("%s: got %d", tc.query, r.StatusCode)
			continue
		}
		if got := admUsersShown(r.body); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.query, got, tc.want)
		}
		if !strings.Contains(r.body, fmt.Sprintf("Accounts found: %d", len(tc.want))) {
			t.Errorf("%s: total missing", tc.query)
		}
	}
	// The state is shown on each row.
	r := c.get("/admin/users")
	for user, state := range map[string]string{"pat": "pending", "una": "unverified", "rex": "rejected", "bob": "inactive", "alice": "active"} {
		if !regexp.MustCompile(`(?s)<tr data-user="` + user + `">.*?data-state="` + state + `"`).MatchString(r.body) {
			t.Errorf("%s: state %s not shown", user, state)
		}
	}

	// Keyset pagination: pages of 3 cover everyone once, in order.
	var seen []string
	next := "/admin/users?size=3"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		r := c.get(next)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: got %d", next, r.StatusCode)
		}
		got := admUsersShown(r.body)
		if len(got) == 0 || len(got) > 3 {
			t.Fatalf("%s: %d rows", next, len(got))
		}
		seen = append(seen, got...)
		next = ""
		if m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(r.body); m != nil {
			next = html.UnescapeString(m[1])
			if !strings.Contains(next, "size=3") {
				t.Errorf("next link %q loses the page size", next)
			}
		}
	}
	if want := []string{"alice", "bob", "boss", "pat", "rex", "root", "una"}; !slices.Equal(seen, want) {
		t.Errorf("pages: got %v, want %v", seen, want)
	}

	// Bad queries are 400, translated.
	for _, q := range []string{"?filter=everyone", "?size=0", "?size=501", "?size=x", "?q=" + strings.Repeat("a", 201),
		"?q=" + url.QueryEscape(strings.Repeat("α", 101)), "?q=%ff", "?after=%ff"} {
		if r := c.get("/admin/users" + q); r.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", q, r.StatusCode)
		}
	}
	if r := c.get("/admin/users?q=" + url.QueryEscape(strings.Repeat("α", 100))); r.StatusCode != http.StatusOK {
		t.Errorf("a long Greek search: got %d", r.StatusCode)
	}
	c.headers.Set("Accept-Language", "el")
	if r := c.get("/admin/users?filter=pending"); !strings.Contains(r.body, "Αναμένουν έγκριση") || !strings.Contains(r.body, "Λογαριασμοί που βρέθηκαν: 1") {
		t.Error("the user list is not translated")
	}
	// The administration page counts the registrations awaiting approval.
	c.headers.Del("Accept-Language")
	if r := c.get("/admin/"); !strings.Contains(r.body, "Registrations awaiting approval: 1") || !strings.Contains(r.body, `id="admin-manage-users"`) {
		t.Error("the administration page does not link to the pending registrations")
	}
	if r := c.get("/"); !strings.Contains(r.body, `id="nav-users"`) || !strings.Contains(r.body, `id="nav-groups"`) || !strings.Contains(r.body, `id="nav-organizations"`) {
		t.Error("the navigation lacks the account administration links")
	}
	if r := admLogin(h, "alice").get("/"); strings.Contains(r.body, `id="nav-users"`) {
		t.Error("a plain user is offered the user administration")
	}
}

func TestAdminApproveRegistration(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := adminClient(h)
	root, _ := h.store.UserByUsername(ctx, "root")
	pat := admRegister(t, h, "pat", true)
	una := admRegister(t, h, "una", false)

	// Pending: the password is right, but the account may not log in.
	if r := h.client().login("pat", adminPW); r.StatusCode != http.StatusForbidden {
		t.Fatalf("pending login: got %d, want 403", r.StatusCode)
	}
	// The page the administrators' notification links to.
	r := c.get(userURL(pat.ID, ""))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="approve"`) || !strings.Contains(r.body, `id="reject"`) ||
		!strings.Contains(r.body, "Awaiting approval") {
		t.Fatalf("pending user page: %d\n%s", r.StatusCode, r.body)
	}
	r = admFollow(t, c, c.post(userURL(pat.ID, "/approve"), nil))
	if !strings.Contains(admFlashText(r.body), "approved") {
		t.Errorf("no confirmation after approval: %q", admFlashText(r.body))
	}
	got := admUser(t, h, pat.ID)
	if got.State() != store.StateActive || got.ApprovalDecidedBy == nil || *got.ApprovalDecidedBy != root.ID {
		t.Errorf("after approval: state %s, decided by %v", got.State(), got.ApprovalDecidedBy)
	}
	if !strings.Contains(r.body, `id="user-decided"`) || !strings.Contains(r.body, "(root)") {
		t.Error("the page does not say who decided")
	}
	// Now pat logs in.
	admLogin(h, "pat")
	// Approving again is refused clearly, and changes nothing.
	r = c.post(userURL(pat.ID, "/approve"), nil)
	if r.StatusCode != http.StatusConflict || !strings.Contains(pageError(r.body), "already decided") {
		t.Errorf("second approval: got %d %q", r.StatusCode, pageError(r.body))
	}

	// An unconfirmed address cannot be approved.
	r = c.get(userURL(una.ID, ""))
	if strings.Contains(r.body, `id="approve"`) || !strings.Contains(r.body, "not confirmed") {
		t.Error("the page offers to approve an unconfirmed address")
	}
	r = c.post(userURL(una.ID, "/approve"), nil)
	if r.StatusCode != http.StatusConflict || !strings.Contains(pageError(r.body), "has not confirmed") {
		t.Errorf("approve unverified: got %d %q", r.StatusCode, pageError(r.body))
	}
	if admUser(t, h, una.ID).State() != store.StateUnverified {
		t.Error("an unverified registration changed")
	}
	// An approved account cannot be activated as if it were one.
	if r := c.post(userURL(una.ID, "/active"), url.Values{"active": {"on"}}); r.StatusCode != http.StatusConflict ||
		!strings.Contains(pageError(r.body), "never approved") {
		t.Errorf("activate unapproved: got %d %q", r.StatusCode, pageError(r.body))
	}
	// Unknown accounts.
	if r := c.post("/admin/users/999999/approve", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("approve missing: got %d", r.StatusCode)
	}
	if r := c.get("/admin/users/999999"); r.StatusCode != http.StatusNotFound {
		t.Errorf("missing user page: got %d", r.StatusCode)
	}
}

func TestAdminRejectAndDeleteRegistration(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := adminClient(h)
	rex := admRegister(t, h, "rex", true)
	alice := h.user("alice", adminPW, false)

	// A reason too long, or with control characters, is refused on the form.
	for _, reason := range []string{strings.Repeat("x", 2001), "bad\x00reason"} {
		r := c.post(userURL(rex.ID, "/reject"), url.Values{"reason": {reason}})
		if r.StatusCode != http.StatusUnprocessableEntity || fieldError(r.body, "reason") == "" {
			t.Errorf("bad reason: got %d %q", r.StatusCode, fieldError(r.body, "reason"))
		}
	}
	if admUser(t, h, rex.ID).State() != store.StatePending {
		t.Fatal("a refused rejection changed the account")
	}
	r := admFollow(t, c, c.post(userURL(rex.ID, "/reject"), url.Values{"reason": {"Not a member\r\nof the institute."}}))
	if !strings.Contains(admFlashText(r.body), "rejected") || !strings.Contains(r.body, `data-state="rejected"`) {
		t.Errorf("after rejection: %q", admFlashText(r.body))
	}
	if admUser(t, h, rex.ID).State() != store.StateRejected {
		t.Error("not rejected")
	}
	if r := h.client().login("rex", adminPW); r.StatusCode != http.StatusForbidden {
		t.Errorf("rejected login: got %d, want 403", r.StatusCode)
	}
	if r := c.post(userURL(rex.ID, "/reject"), nil); r.StatusCode != http.StatusConflict {
		t.Errorf("second rejection: got %d, want 409", r.StatusCode)
	}

	// Deleting the registration: a confirmation page, then the account is
	// gone and its name free again.
	r = c.get(userURL(rex.ID, "/delete"))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "rex@example.org") || !strings.Contains(r.body, `id="delete-submit"`) {
		t.Fatalf("delete confirmation: %d", r.StatusCode)
	}
	r = admFollow(t, c, c.post(userURL(rex.ID, "/delete"), nil))
	if !strings.Contains(admFlashText(r.body), "deleted") {
		t.Errorf("after delete: %q", admFlashText(r.body))
	}
	if _, err := h.store.UserByID(ctx, rex.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("registration still there: %v", err)
	}
	admRegister(t, h, "rex", false)

	// An approved account is never deleted.
	for _, r := range []*response{c.get(userURL(alice.ID, "/delete")), c.post(userURL(alice.ID, "/delete"), nil)} {
		if r.StatusCode != http.StatusConflict || !strings.Contains(pageError(r.body), "deactivate the account instead") {
			t.Errorf("delete approved: got %d %q", r.StatusCode, pageError(r.body))
		}
	}
	if _, err := h.store.UserByID(ctx, alice.ID); err != nil {
		t.Errorf("approved account deleted: %v", err)
	}
}

// accountCache keeps principals and sessions for an hour, so a change
// reaches a logged-in user at once only if the server forgets their
// cached principal.
func accountCache() web.CacheOptions {
	return web.CacheOptions{PrincipalTTL: time.Hour, StateTTL: time.Nanosecond}
}

func TestAdminAccountChangesApplyAtOnce(t *testing.T) {
	t.Parallel()
	h := newCachedHarness(t, accountCache())
	c := adminClient(h)
	alice := h.user("alice", adminPW, false)
	bob := h.user("bob", adminPW, false)
	ac := admLogin(h, "alice")

	// Deactivation ends alice's session at her next request.
	r := admFollow(t, c, c.post(userURL(alice.ID, "/active"), url.Values{"active": {"off"}}))
	if !strings.Contains(admFlashText(r.body), "deactivated") || !strings.Contains(r.body, `id="activate"`) {
		t.Errorf("after deactivation: %q", admFlashText(r.body))
	}
	if r := ac.get("/"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("deactivated user's session: got %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := h.client().login("alice", adminPW); r.StatusCode != http.StatusForbidden {
		t.Errorf("deactivated login: got %d", r.StatusCode)
	}
	admFollow(t, c, c.post(userURL(alice.ID, "/active"), url.Values{"active": {"on"}}))
	ac = admLogin(h, "alice")

	// Superuser status, given and taken, applies at alice's next request.
	if r := ac.get("/admin/"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("user on /admin/: %d", r.StatusCode)
	}
	admFollow(t, c, c.post(userURL(alice.ID, "/superuser"), url.Values{"superuser": {"on"}}))
	if r := ac.get("/admin/users"); r.StatusCode != http.StatusOK {
		t.Errorf("new superuser on /admin/users: %d", r.StatusCode)
	}
	admFollow(t, c, c.post(userURL(alice.ID, "/superuser"), url.Values{"superuser": {"off"}}))
	if r := ac.get("/admin/users"); r.StatusCode != http.StatusForbidden {
		t.Errorf("former superuser on /admin/users: %d", r.StatusCode)
	}
	if u := admUser(t, h, alice.ID); u.IsSuperuser || !u.IsActive {
		t.Errorf("alice: superuser %v active %v", u.IsSuperuser, u.IsActive)
	}

	// Direct permissions apply at once too, and show on the user page.
	if r := ac.get("/nodes/"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("user on /nodes/: %d", r.StatusCode)
	}
	r = admFollow(t, c, c.post(userURL(alice.ID, "/permissions"), url.Values{"permission": {"view_instances", "can_lock"}}))
	if got := admAll(admEffPerm, r.body); !slices.Equal(got, []string{"can_lock", "view_instances"}) {
		t.Errorf("effective permissions shown: %v", got)
	}
	if r := ac.get("/nodes/"); r.StatusCode != http.StatusOK {
		t.Errorf("helpdesk by direct grant on /nodes/: %d", r.StatusCode)
	}
	// An unknown permission changes nothing.
	r = c.post(userURL(alice.ID, "/permissions"), url.Values{"permission": {"view_instances", "rule_the_world"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(r.body, "permissions"), "Unknown permission") {
		t.Errorf("unknown permission: got %d %q", r.StatusCode, fieldError(r.body, "permissions"))
	}
	if p, _ := h.store.UserPermissions(context.Background(), alice.ID); !slices.Equal(p, []string{"can_lock", "view_instances"}) {
		t.Errorf("permissions after a refused change: %v", p)
	}
	admFollow(t, c, c.post(userURL(alice.ID, "/permissions"), nil))
	if r := ac.get("/nodes/"); r.StatusCode != http.StatusForbidden {
		t.Errorf("revoked helpdesk on /nodes/: %d", r.StatusCode)
	}

	// Log out everywhere ends every session of bob, on every device.
	b1, b2 := admLogin(h, "bob"), admLogin(h, "bob")
	r = admFollow(t, c, c.post(userURL(bob.ID, "/logout-everywhere"), nil))
	if !strings.Contains(admFlashText(r.body), "Every session") {
		t.Errorf("after log out everywhere: %q", admFlashText(r.body))
	}
	for i, bc := range []*client{b1, b2} {
		if r := bc.get("/"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("bob's session %d survived: %d", i, r.StatusCode)
		}
	}
	admLogin(h, "bob")
	// The administrator is still logged in.
	if r := c.get("/admin/users"); r.StatusCode != http.StatusOK {
		t.Errorf("admin after logging bob out: %d", r.StatusCode)
	}
	// Logging oneself out everywhere ends this session too.
	root, _ := h.store.UserByUsername(context.Background(), "root")
	if r := c.post(userURL(root.ID, "/logout-everywhere"), nil); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Errorf("own log out everywhere: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := c.get("/admin/users"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("session after own log out everywhere: %d", r.StatusCode)
	}
}

func TestAdminLastSuperuserAndSelf(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := adminClient(h)
	root, _ := h.store.UserByUsername(context.Background(), "root")

	// The only administrator cannot step down.
	r := c.post(userURL(root.ID, "/superuser"), url.Values{"superuser": {"off"}})
	if r.StatusCode != http.StatusConflict || !strings.Contains(pageError(r.body), "last active administrator") {
		t.Errorf("last superuser: got %d %q", r.StatusCode, pageError(r.body))
	}
	// Nobody deactivates themselves.
	r = c.post(userURL(root.ID, "/active"), url.Values{"active": {"off"}})
	if r.StatusCode != http.StatusConflict || !strings.Contains(pageError(r.body), "your own account") {
		t.Errorf("deactivate self: got %d %q", r.StatusCode, pageError(r.body))
	}
	if u := admUser(t, h, root.ID); !u.IsSuperuser || !u.IsActive {
		t.Fatal("a refused change changed root")
	}
	if r := c.get(userURL(root.ID, "")); !strings.Contains(r.body, `id="deactivate" disabled`) {
		t.Error("the own page offers self-deactivation")
	}
	// Greek.
	c.headers.Set("Accept-Language", "el")
	r = c.post(userURL(root.ID, "/superuser"), url.Values{"superuser": {"off"}})
	if !strings.Contains(pageError(r.body), "τελευταίος ενεργός διαχειριστής") {
		t.Errorf("Greek refusal: %q", pageError(r.body))
	}
	c.headers.Del("Accept-Language")

	// With another administrator, root may step down, and leaves the
	// administration pages.
	h.user("boss", adminPW, true)
	r = c.post(userURL(root.ID, "/superuser"), url.Values{"superuser": {"off"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("step down: got %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := c.get("/admin/users"); r.StatusCode != http.StatusForbidden {
		t.Errorf("former administrator on /admin/users: %d", r.StatusCode)
	}
	// Bad switch values are 400 and change nothing.
	bc := admLogin(h, "boss")
	for _, v := range []string{"", "yes", "1"} {
		if r := bc.post(userURL(root.ID, "/superuser"), url.Values{"superuser": {v}}); r.StatusCode != http.StatusBadRequest {
			t.Errorf("superuser=%q: got %d", v, r.StatusCode)
		}
		if r := bc.post(userURL(root.ID, "/active"), url.Values{"active": {v}}); r.StatusCode != http.StatusBadRequest {
			t.Errorf("active=%q: got %d", v, r.StatusCode)
		}
	}
	if u := admUser(t, h, root.ID); u.IsSuperuser || !u.IsActive {
		t.Error("a bad request changed root")
	}
}

// admGroupID reads the group id from the address a group form redirected to.
func admGroupID(t *testing.T, r *response) int64 {
	t.Helper()
	loc := r.Header.Get("Location")
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/admin/groups/"), 10, 64)
	if r.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("got %d %q: %s", r.StatusCode, loc, fieldError(r.body, "name"))
	}
	return id
}

func TestAdminGroups(t *testing.T) {
	t.Parallel()
	f := newPagesFixtureWith(t, 8, accountCache())
	ctx := context.Background()
	c := f.clients["root"]
	c.get("/")
	alice, _ := f.store.UserByUsername(ctx, "alice")
	bob, _ := f.store.UserByUsername(ctx, "bob")
	carol, _ := f.store.UserByUsername(ctx, "carol")
	team, _ := f.store.GroupByName(ctx, "team")

	// Creating: the name is checked, and unique case-insensitively.
	if r := c.get("/admin/groups/new"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="group-form"`) {
		t.Fatalf("new group form: %d", r.StatusCode)
	}
	for name, want := range map[string]string{"": "required", "two words": "only Latin letters", "TEAM": "already has this name",
		strings.Repeat("g", 51): "At most 50", "ομάδα": "only Latin letters"} {
		r := c.post("/admin/groups/new", url.Values{"name": {name}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(r.body, "name"), want) {
			t.Errorf("name %q: got %d %q, want %q", name, r.StatusCode, fieldError(r.body, "name"), want)
		}
	}
	ops := admGroupID(t, c.post("/admin/groups/new", url.Values{"name": {" ops "}}))
	if g, err := f.store.GroupByID(ctx, ops); err != nil || g.Name != "ops" {
		t.Fatalf("created %+v %v", g, err)
	}

	// The team page: members and instance count; carol sees team's
	// instance through the group.
	r := c.get(groupURL(team.ID, ""))
	if r.StatusCode != http.StatusOK || !slices.Equal(admAll(admMemberOf, r.body), []string{"carol"}) ||
		!strings.Contains(r.body, `id="group-instances">1<`) {
		t.Fatalf("team page: %d members %v", r.StatusCode, admAll(admMemberOf, r.body))
	}
	teamInstance := "/instances/alpha/" + f.teamOnly + "/"
	if r := f.clients["bob"].get(teamInstance); r.StatusCode != http.StatusNotFound {
		t.Fatalf("bob sees team's instance before joining: %d", r.StatusCode)
	}
	// Members: keep carol, add bob and alice by name.
	r = admFollow(t, c, c.post(groupURL(team.ID, "/members"), url.Values{"member": {strconv.FormatInt(carol.ID, 10)},
		"add": {"bob,\nALICE"}}))
	if got := admAll(admMemberOf, r.body); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Errorf("members: %v", got)
	}
	if r := f.clients["bob"].get(teamInstance); r.StatusCode != http.StatusOK {
		t.Errorf("bob, new member, on team's instance: %d", r.StatusCode)
	}
	// An unknown name or id changes nothing.
	for _, v := range []url.Values{
		{"member": {strconv.FormatInt(carol.ID, 10)}, "add": {"bob nobody ghost"}},
		{"member": {"999999"}},
		{"member": {"x"}},
	} {
		r := c.post(groupURL(team.ID, "/members"), v)
		if r.StatusCode != http.StatusUnprocessableEntity || fieldError(r.body, "members") == "" {
			t.Errorf("%v: got %d %q", v, r.StatusCode, fieldError(r.body, "members"))
		}
	}
	if r := c.post(groupURL(team.ID, "/members"), url.Values{"add": {"nobody ghost"}}); !strings.Contains(fieldError(r.body, "members"), "nobody, ghost") {
		t.Errorf("unknown names not named: %q", fieldError(r.body, "members"))
	}
	if ms, _ := f.store.GroupMembers(ctx, team.ID); len(ms) != 3 {
		t.Errorf("a refused change changed the members: %d", len(ms))
	}
	// Unchecking bob removes him, at once.
	admFollow(t, c, c.post(groupURL(team.ID, "/members"), url.Values{"member": {strconv.FormatInt(carol.ID, 10), strconv.FormatInt(alice.ID, 10)}}))
	if r := f.clients["bob"].get(teamInstance); r.StatusCode != http.StatusNotFound {
		t.Errorf("bob, removed, on team's instance: %d", r.StatusCode)
	}

	// Group permissions reach every member at once and show as effective
	// (through a group) on the user page.
	if r := f.clients["carol"].get("/nodes/"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("carol on /nodes/: %d", r.StatusCode)
	}
	admFollow(t, c, c.post(groupURL(team.ID, "/permissions"), url.Values{"permission": {"view_instances", "can_isolate"}}))
	if r := f.clients["carol"].get("/nodes/"); r.StatusCode != http.StatusOK {
		t.Errorf("carol, helpdesk through team, on /nodes/: %d", r.StatusCode)
	}
	if r := c.post(groupURL(team.ID, "/permissions"), url.Values{"permission": {"superpowers"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown group permission: %d", r.StatusCode)
	}
	if p, _ := f.store.GroupPermissions(ctx, team.ID); !slices.Equal(p, []string{"can_isolate", "view_instances"}) {
		t.Errorf("group permissions: %v", p)
	}
	r = c.get(userURL(carol.ID, ""))
	if got := admAll(admEffPerm, r.body); !slices.Equal(got, []string{"can_isolate", "view_instances"}) {
		t.Errorf("carol's effective permissions shown: %v", got)
	}
	if !regexp.MustCompile(`id="perm-view_instances"> [^<]*<code>view_instances</code> <span class="badge" data-inherited>`).MatchString(r.body) {
		t.Error("the user page does not mark a permission held through a group")
	}
	if !strings.Contains(r.body, "owned: 0; through groups only: 1") {
		t.Error("carol's instance counts missing")
	}
	if r := c.get(userURL(alice.ID, "")); !strings.Contains(r.body, "owned: 4; through groups only: 1") {
		t.Error("alice's instance counts missing")
	}

	// A user's own groups, from the user page.
	r = admFollow(t, c, c.post(userURL(bob.ID, "/groups"), url.Values{"group": {strconv.FormatInt(ops, 10), strconv.FormatInt(team.ID, 10)}}))
	if !strings.Contains(r.body, fmt.Sprintf(`id="group-%d" checked`, ops)) {
		t.Error("bob's groups not shown")
	}
	if r := f.clients["bob"].get(teamInstance); r.StatusCode != http.StatusOK {
		t.Errorf("bob, added from his page, on team's instance: %d", r.StatusCode)
	}
	for _, v := range []url.Values{{"group": {"999999"}}, {"group": {"ops"}}} {
		if r := c.post(userURL(bob.ID, "/groups"), v); r.StatusCode != http.StatusUnprocessableEntity || fieldError(r.body, "groups") == "" {
			t.Errorf("%v: got %d", v, r.StatusCode)
		}
	}
	if gs, _ := f.store.UserGroups(ctx, bob.ID); len(gs) != 2 {
		t.Errorf("a refused change changed bob's groups: %v", gs)
	}

	// The list shows each group's counts.
	r = c.get("/admin/groups")
	if !regexp.MustCompile(`(?s)<tr data-group="team">.*?<td class="members">3</td>.*?can_isolate</code>, <code[^>]*>view_instances`).MatchString(r.body) {
		t.Errorf("group list:\n%s", r.body)
	}

	// Taking a group permission back applies at once too.
	admFollow(t, c, c.post(groupURL(team.ID, "/permissions"), url.Values{"permission": {"can_isolate"}}))
	if r := f.clients["carol"].get("/nodes/"); r.StatusCode != http.StatusForbidden {
		t.Errorf("carol, no longer helpdesk through team, on /nodes/: %d", r.StatusCode)
	}

	// Renaming: checked like a new name; the members lose the instances
	// tagged with the old name at once.
	for name, want := range map[string]string{"OPS": "already has this name", "a b": "only Latin letters"} {
		r := c.post(groupURL(team.ID, "/rename"), url.Values{"name": {name}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(r.body, "name"), want) {
			t.Errorf("rename to %q: got %d %q", name, r.StatusCode, fieldError(r.body, "name"))
		}
		if !strings.Contains(r.body, `value="`+html.EscapeString(name)+`"`) {
			t.Errorf("rename to %q: the typed name is not shown back", name)
		}
	}
	if r := c.get(groupURL(team.ID, "")); !strings.Contains(r.body, "current name (1) keep their tag") {
		t.Error("the rename form does not warn about tagged instances")
	}
	admFollow(t, c, c.post(groupURL(team.ID, "/rename"), url.Values{"name": {"Team"}})) // only the case changes
	admFollow(t, c, c.post(groupURL(team.ID, "/rename"), url.Values{"name": {"crew"}}))
	if g, _ := f.store.GroupByID(ctx, team.ID); g.Name != "crew" {
		t.Errorf("renamed to %q", g.Name)
	}
	if r := f.clients["bob"].get(teamInstance); r.StatusCode != http.StatusNotFound {
		t.Errorf("bob sees the old group's instance after the rename: %d", r.StatusCode)
	}
	admFollow(t, c, c.post(groupURL(team.ID, "/rename"), url.Values{"name": {"team"}}))
	if r := f.clients["bob"].get(teamInstance); r.StatusCode != http.StatusOK {
		t.Errorf("bob after renaming back: %d", r.StatusCode)
	}

	// Deleting: the confirmation says what is affected; afterwards the
	// members lose the group's permissions and instances at once.
	r = c.get(groupURL(team.ID, "/delete"))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Members who lose the group and its permissions: 3. Instances that stay tagged with its name, which nobody sees through the group any more: 1.") {
		t.Errorf("delete confirmation: %d\n%s", r.StatusCode, r.body)
	}
	r = admFollow(t, c, c.post(groupURL(team.ID, "/delete"), nil))
	if !strings.Contains(admFlashText(r.body), "deleted") || strings.Contains(r.body, `data-group="team"`) {
		t.Error("the group list still shows the deleted group")
	}
	if got := admAll(admEffPerm, c.get(userURL(carol.ID, "")).body); len(got) != 0 {
		t.Errorf("carol's permissions after the group's deletion: %v", got)
	}
	for _, who := range []string{"bob", "carol"} {
		if r := f.clients[who].get(teamInstance); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s after the group's deletion on its instance: %d", who, r.StatusCode)
		}
	}
	for _, p := range []string{"", "/delete"} {
		if r := c.get(groupURL(team.ID, p)); r.StatusCode != http.StatusNotFound {
			t.Errorf("deleted group %q: %d", p, r.StatusCode)
		}
	}
	if r := c.post(groupURL(team.ID, "/rename"), url.Values{"name": {"again"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("rename deleted group: %d", r.StatusCode)
	}
}

func TestAdminOrganizations(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := adminClient(h)
	orgs := func() []store.Organization {
		list, err := h.store.ListOrganizations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	values := func(title, website, email, phone, tag string) url.Values {
		return url.Values{"title": {title}, "website": {website}, "email": {email}, "phone": {phone}, "tag": {tag}}
	}
	if r := c.get("/admin/organizations"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="orgs-none"`) {
		t.Fatalf("empty list: %d", r.StatusCode)
	}
	if r := c.get("/admin/organizations/new"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "ganetimgr:org:") {
		t.Fatalf("new form: %d", r.StatusCode)
	}
	r := admFollow(t, c, c.post("/admin/organizations/new", values("  GRNET ", "https://grnet.gr/", "noc@GRNET.GR", "+30 210 7474 200", "grnet")))
	if !strings.Contains(admFlashText(r.body), "added") || !strings.Contains(r.body, "<code>ganetimgr:org:grnet</code>") {
		t.Errorf("list after adding:\n%s", r.body)
	}
	list := orgs()
	if len(list) != 1 || list[0].Title != "GRNET" || list[0].Email != "noc@grnet.gr" || list[0].Tag != "grnet" || list[0].Phone != "+30 210 7474 200" {
		t.Fatalf("stored %+v", list)
	}
	grnet := list[0]

	// Bad input: field errors, 422, nothing saved.
	cases := []struct {
		v            url.Values
		field, wants string
	}{
		{values("Other", "", "", "", "GRNET"), "tag", "The organization GRNET already has this tag"},
		{values("Other", "", "", "", "has space"), "tag", "only Latin letters"},
		{values("Other", "", "", "", "grnet:org"), "tag", "only Latin letters"},
		{values("Other", "", "", "", strings.Repeat("t", 51)), "tag", "At most 50"},
		{values("", "", "", "", ""), "title", "required"},
		{values("Other", "ftp://example.org", "", "", ""), "website", "http://"},
		{values("Other", "", "not-an-address", "", ""), "email", "valid e-mail"},
		{values("Other", "", "", "call me", ""), "phone", "phone number"},
		{values("Other", "", "", "", strings.Repeat("t", 1001)), "tag", "At most 1000"},
	}
	for _, tc := range cases {
		r := c.post("/admin/organizations/new", tc.v)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(r.body, tc.field), tc.wants) {
			t.Errorf("%v: got %d %q, want %q on %s", tc.v, r.StatusCode, fieldError(r.body, tc.field), tc.wants, tc.field)
		}
	}
	if len(orgs()) != 1 {
		t.Fatal("bad input was saved")
	}
	c.headers.Set("Accept-Language", "el")
	if r := c.post("/admin/organizations/new", values("Other", "", "", "", "grnet")); !strings.Contains(fieldError(r.body, "tag"), "έχει ήδη αυτή την ετικέτα") {
		t.Errorf("Greek duplicate tag: %q", fieldError(r.body, "tag"))
	}
	c.headers.Del("Accept-Language")

	// Editing: keeping its own tag is fine; another's is refused.
	edit := fmt.Sprintf("/admin/organizations/%d/edit", grnet.ID)
	if r := c.get(edit); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `value="grnet"`) || !strings.Contains(r.body, `id="tag-retag"`) {
		t.Fatalf("edit form: %d", r.StatusCode)
	}
	admFollow(t, c, c.post("/admin/organizations/new", values("Other", "", "", "", "other")))
	admFollow(t, c, c.post(edit, values("GRNET S.A.", "https://grnet.gr/", "", "", "GRNET")))
	if r := c.post(edit, values("GRNET S.A.", "", "", "", "Other")); r.StatusCode != http.StatusUnprocessableEntity || fieldError(r.body, "tag") == "" {
		t.Errorf("edit to another's tag: %d", r.StatusCode)
	}
	o, _ := h.store.OrganizationByID(ctx, grnet.ID)
	if o.Title != "GRNET S.A." || o.Tag != "GRNET" || o.Email != "" {
		t.Errorf("after edit: %+v", o)
	}
	if r := c.get("/admin/organizations/999999/edit"); r.StatusCode != http.StatusNotFound {
		t.Errorf("missing org: %d", r.StatusCode)
	}

	// Deleting: the confirmation counts the users, who are left without one.
	alice := h.user("alice", adminPW, false)
	if _, err := h.store.UpdateProfile(ctx, alice.ID, store.Profile{FirstName: "A", LastName: "L", Organization: grnet.ID}); err != nil {
		t.Fatal(err)
	}
	if r := c.get(userURL(alice.ID, "")); !strings.Contains(r.body, "GRNET S.A.") {
		t.Error("the user page does not show the organization")
	}
	del := fmt.Sprintf("/admin/organizations/%d/delete", grnet.ID)
	if r := c.get(del); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Users left without an organization: 1.") {
		t.Errorf("delete confirmation: %d", r.StatusCode)
	}
	r = admFollow(t, c, c.post(del, nil))
	if !strings.Contains(admFlashText(r.body), "deleted") || strings.Contains(r.body, "GRNET") {
		t.Error("the list still shows the deleted organization")
	}
	if u := admUser(t, h, alice.ID); u.OrganizationID != nil {
		t.Error("alice still belongs to the deleted organization")
	}
	if r := c.post(del, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("second delete: %d", r.StatusCode)
	}
}

// TestAdminPagesRenderEveryState renders the user page of an account in
// every state with the actions that state allows.
func TestAdminPagesRenderEveryState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := adminClient(h)
	active := h.user("active1", adminPW, false, auth.CanLock)
	inactive := h.user("inactive1", adminPW, false)
	if err := h.store.SetUserActive(ctx, inactive.ID, false); err != nil {
		t.Fatal(err)
	}
	unverified := admRegister(t, h, "unverified1", false)
	pending := admRegister(t, h, "pending1", true)
	rejected := admRegister(t, h, "rejected1", true)
	if _, err := h.store.RejectUser(ctx, rejected.ID, 0); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		id      int64
		state   string
		present []string
		absent  []string
	}{
		{active.ID, "active", []string{`id="deactivate"`, `id="make-superuser"`, `id="user-logout-everywhere"`, `id="perm-can_lock" checked`},
			[]string{`id="approve"`, `id="delete-registration"`}},
		{inactive.ID, "inactive", []string{`id="activate"`}, []string{`id="approve"`}},
		{unverified.ID, "unverified", []string{`id="reject"`, `id="delete-registration"`}, []string{`id="approve"`, `id="deactivate"`}},
		{pending.ID, "pending", []string{`id="approve"`, `id="reject"`, `id="delete-registration"`}, []string{`id="deactivate"`}},
		{rejected.ID, "rejected", []string{`id="approve"`, `id="delete-registration"`}, []string{`id="reject"`, `id="deactivate"`}},
	}
	for _, lang := range []string{"en", "el"} {
		c.headers.Set("Accept-Language", lang)
		for _, tc := range cases {
			r := c.get(userURL(tc.id, ""))
			if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="user-state" data-state="`+tc.state+`"`) {
				t.Errorf("%s %s: %d", lang, tc.state, r.StatusCode)
				continue
			}
			for _, s := range tc.present {
				if !strings.Contains(r.body, s) {
					t.Errorf("%s %s: %s missing", lang, tc.state, s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(r.body, s) {
					t.Errorf("%s %s: %s present", lang, tc.state, s)
				}
			}
			if regexp.MustCompile(`adminacct\.|nav\.admin\.`).MatchString(r.body) {
				t.Errorf("%s %s: untranslated message id", lang, tc.state)
			}
		}
	}
	for _, p := range []string{"/admin/users", "/admin/groups", "/admin/groups/new", "/admin/organizations", "/admin/organizations/new", "/admin/"} {
		if r := c.get(p); r.StatusCode != http.StatusOK || regexp.MustCompile(`adminacct\.|nav\.admin\.`).MatchString(r.body) {
			t.Errorf("%s: %d or an untranslated message id", p, r.StatusCode)
		}
	}
}

// TestAdminDecisionsMailTheApplicant: approving and rejecting mail the
// applicant in their language, through the outbox, in the transaction of
// the decision: a mail that cannot be queued undoes the decision.
func TestAdminDecisionsMailTheApplicant(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t)
	box := newMailbox(t, srv)
	c := adminClient(h)
	pat := admRegister(t, h, "pat", true) // writes Greek
	rex := admRegister(t, h, "rex", true)

	admFollow(t, c, c.post(userURL(pat.ID, "/approve"), nil))
	msg := box.one("pat@example.org")
	if !strings.Contains(msg.Subject, "Ο λογαριασμός σας εγκρίθηκε") || !strings.Contains(msg.Text, "pat") {
		t.Errorf("approval mail: %q\n%s", msg.Subject, msg.Text)
	}
	if got := h.link(msg, "/login"); got != "/login" {
		t.Errorf("approval mail links to %q", got)
	}

	admFollow(t, c, c.post(userURL(rex.ID, "/reject"), url.Values{"reason": {"Δεν είστε μέλος του ιδρύματος."}}))
	msg = box.one("rex@example.org")
	if !strings.Contains(msg.Subject, "Η αίτηση λογαριασμού σας") || !strings.Contains(msg.Text, "Δεν είστε μέλος του ιδρύματος.") {
		t.Errorf("rejection mail: %q\n%s", msg.Subject, msg.Text)
	}

	// An address the outbox refuses: the approval is undone with its mail.
	una := admRegister(t, h, "una", true)
	if _, err := h.store.Pool().Exec(context.Background(), `UPDATE users SET email = 'una at example' WHERE id = $1`, una.ID); err != nil {
		t.Fatal(err)
	}
	if r := c.post(userURL(una.ID, "/approve"), nil); r.StatusCode != http.StatusInternalServerError {
		t.Errorf("approve with an unmailable address: got %d, want 500", r.StatusCode)
	}
	if u := admUser(t, h, una.ID); u.State() != store.StatePending || u.IsActive {
		t.Errorf("the approval was kept without its mail: %s", u.State())
	}
	box.none()
}

// TestBrowserAdminApprovesRegistration walks an administrator in a real
// browser from the navigation to a pending registration, approves it,
// rejects another with a reason, and makes a group with the new user in
// it; the approved user then logs in.
func TestBrowserAdminApprovesRegistration(t *testing.T) {
	t.Parallel()
	h, b := newBrowserHarness(t)
	h.user("root", adminPW, true)
	admRegister(t, h, "pat", true)
	admRegister(t, h, "rex", true)

	b.open("/login")
	b.loginAs("root", adminPW)
	b.click("#nav-users")
	b.wantAt("/admin/users")
	b.click("#users-pending")
	b.wantAt("/admin/users?filter=pending")
	b.wantText("#users-total", "Accounts found: 2")

	b.click(`tr[data-user="pat"] a`)
	b.wantText("#user-state", "Awaiting approval")
	b.click("#approve")
	b.wantText(".flash-success", "The account was approved and activated; the user was told by mail.")
	b.wantText("#user-state", "Active")

	b.open("/admin/users?filter=pending")
	b.click(`tr[data-user="rex"] a`)
	run(b, "type the reason", chromedp.SendKeys(chromedp.CSS("#reason"), "Not a member of the institute."))
	b.click("#reject")
	b.wantText("#user-state", "Rejected")

	b.click("#nav-groups")
	b.click("#group-add")
	b.fill("#name", "staff")
	b.click("#group-submit")
	b.wantText("h1", "Group staff")
	run(b, "type the new member", chromedp.SendKeys(chromedp.CSS("#add"), "pat"))
	b.click("#members-submit")
	b.wantText(".flash-success", "The members were saved.")
	b.wantText(`[data-member="pat"] a`, "pat")

	b.click("#logout")
	if status := b.loginAs("pat", adminPW); status != http.StatusOK {
		t.Errorf("approved user's login: status %d", status)
	}
	b.wantText("#whoami", "pat")
	b.noConsoleErrors()
}
