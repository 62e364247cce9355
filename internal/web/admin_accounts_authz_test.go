package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestAdminAccountPagesAuthorizationMatrix requests every user, group and
// organization administration route, GET and POST, as anonymous, a user,
// the user the page is about, helpdesk (view_instances) and an
// administrator. Anonymous visitors are sent to the login page; users and
// helpdesk get 403 and change nothing in the database; the administrator
// gets the page or the action. Every such route in the route table must be
// in the matrix.
func TestAdminAccountPagesAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.user("root", adminPW, true)
	alice := h.user("alice", adminPW, false)
	bob := h.user("bob", adminPW, false)
	h.user("help", adminPW, false, auth.ViewInstances)
	pat := admRegister(t, h, "pat", true)
	rex := admRegister(t, h, "rex", true)
	staff, err := h.store.CreateGroup(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.AddGroupMember(ctx, staff.ID, alice.ID); err != nil {
		t.Fatal(err)
	}
	gone, err := h.store.CreateGroup(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	org1, err := h.store.CreateOrganization(ctx, store.OrganizationInput{Title: "One", Tag: "one"})
	if err != nil {
		t.Fatal(err)
	}
	org2, err := h.store.CreateOrganization(ctx, store.OrganizationInput{Title: "Two", Tag: "two"})
	if err != nil {
		t.Fatal(err)
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	u := func(n int64, suffix string) string { return "/admin/users/" + id(n) + suffix }
	g := func(n int64, suffix string) string { return "/admin/groups/" + id(n) + suffix }
	o := func(n int64, suffix string) string { return "/admin/organizations/" + id(n) + suffix }

	const ok, redirect, missing = http.StatusOK, http.StatusSeeOther, http.StatusNotFound
	// In order: the administrator's requests run in this order, so each
	// action finds the state it needs.
	cases := []struct {
		method, path string
		form         url.Values
		admin        int
	}{
		{"GET", "/admin/users", nil, ok},
		{"GET", "/admin/users?filter=pending&q=pat&size=10", nil, ok},
		{"GET", u(alice.ID, ""), nil, ok},
		{"GET", u(pat.ID, ""), nil, ok},
		{"GET", u(999999, ""), nil, missing},
		{"POST", u(pat.ID, "/approve"), nil, redirect},
		{"POST", u(rex.ID, "/reject"), url.Values{"reason": {"no"}}, redirect},
		{"POST", u(alice.ID, "/active"), url.Values{"active": {"off"}}, redirect},
		{"POST", u(alice.ID, "/active"), url.Values{"active": {"on"}}, redirect},
		{"POST", u(bob.ID, "/superuser"), url.Values{"superuser": {"on"}}, redirect},
		{"POST", u(bob.ID, "/superuser"), url.Values{"superuser": {"off"}}, redirect},
		{"POST", u(bob.ID, "/logout-everywhere"), nil, redirect},
		{"POST", u(alice.ID, "/groups"), url.Values{"group": {id(staff.ID), id(gone.ID)}}, redirect},
		{"POST", u(alice.ID, "/permissions"), url.Values{"permission": {"can_lock"}}, redirect},
		{"GET", u(rex.ID, "/delete"), nil, ok},
		{"POST", u(rex.ID, "/delete"), nil, redirect},
		{"GET", "/admin/groups", nil, ok},
		{"GET", "/admin/groups/new", nil, ok},
		{"POST", "/admin/groups/new", url.Values{"name": {"newgroup"}}, redirect},
		{"GET", g(staff.ID, ""), nil, ok},
		{"GET", g(999999, ""), nil, missing},
		{"POST", g(staff.ID, "/rename"), url.Values{"name": {"staff2"}}, redirect},
		{"POST", g(staff.ID, "/members"), url.Values{"member": {id(alice.ID)}, "add": {"bob"}}, redirect},
		{"POST", g(staff.ID, "/permissions"), url.Values{"permission": {"view_instances"}}, redirect},
		{"GET", g(gone.ID, "/delete"), nil, ok},
		{"POST", g(gone.ID, "/delete"), nil, redirect},
		{"GET", "/admin/organizations", nil, ok},
		{"GET", "/admin/organizations/new", nil, ok},
		{"POST", "/admin/organizations/new", url.Values{"title": {"Three"}, "tag": {"three"}}, redirect},
		{"GET", o(org1.ID, "/edit"), nil, ok},
		{"POST", o(org1.ID, "/edit"), url.Values{"title": {"One and only"}, "tag": {"one"}}, redirect},
		{"GET", o(org2.ID, "/delete"), nil, ok},
		{"POST", o(org2.ID, "/delete"), nil, redirect},
		{"GET", o(999999, "/edit"), nil, missing},
	}

	// Every account administration route is in the matrix.
	var routes []*regexp.Regexp
	var routeNames []string
	err = chi.Walk(h.site.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		for _, p := range []string{"/admin/users", "/admin/groups", "/admin/organizations"} {
			if strings.HasPrefix(route, p) {
				expr := strings.ReplaceAll(regexp.QuoteMeta(route), regexp.QuoteMeta("{id:[0-9]+}"), "[0-9]+")
				routes = append(routes, regexp.MustCompile("^"+method+" "+expr+"$"))
				routeNames = append(routeNames, method+" "+route)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 27 {
		t.Fatalf("found only %d account administration routes: %v", len(routes), routeNames)
	}
	for i, re := range routes {
		covered := false
		for _, c := range cases {
			path, _, _ := strings.Cut(c.path, "?")
			covered = covered || re.MatchString(c.method+" "+path)
		}
		if !covered {
			t.Errorf("route %s is not in the matrix", routeNames[i])
		}
	}

	do := func(c *client, method, path string, form url.Values) *response {
		if method == http.MethodGet {
			return c.get(path)
		}
		return c.post(path, form)
	}
	anon := h.client()
	others := map[string]*client{}
	for _, name := range []string{"alice", "bob", "help"} {
		others[name] = admLogin(h, name)
	}
	// Everyone but the administrator first, on the untouched state.
	for _, c := range cases {
		before := dbFingerprint(t, h)
		r := do(anon, c.method, c.path, c.form)
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("%s %s as anonymous: got %d %q, want 303 to the login page", c.method, c.path, r.StatusCode, r.Header.Get("Location"))
		}
		for name, cl := range others {
			if r := do(cl, c.method, c.path, c.form); r.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s as %s: got %d, want 403", c.method, c.path, name, r.StatusCode)
			}
		}
		if dbFingerprint(t, h) != before {
			t.Errorf("%s %s: a refused request changed the database", c.method, c.path)
		}
	}
	// Everyone is still logged in: nothing above ended a session.
	for name, cl := range others {
		if r := cl.get("/"); r.StatusCode != http.StatusOK {
			t.Errorf("%s was logged out by refused requests: %d", name, r.StatusCode)
		}
	}
	root := admLogin(h, "root")
	for _, c := range cases {
		r := do(root, c.method, c.path, c.form)
		if r.StatusCode != c.admin {
			t.Errorf("%s %s as root: got %d, want %d: %s", c.method, c.path, r.StatusCode, c.admin, pageError(r.body))
		}
	}
	// The administrator's actions took effect.
	if acct, _ := h.store.UserByID(ctx, pat.ID); acct.State() != store.StateActive {
		t.Errorf("pat: %s", acct.State())
	}
	if _, err := h.store.UserByID(ctx, rex.ID); err == nil {
		t.Error("rex's registration was not deleted")
	}
	if gr, _ := h.store.GroupByID(ctx, staff.ID); gr.Name != "staff2" {
		t.Errorf("staff renamed to %q", gr.Name)
	}
	if perms, _ := h.store.EffectivePermissions(ctx, bob.ID); len(perms) != 1 || perms[0] != "view_instances" {
		t.Errorf("bob's effective permissions: %v", perms)
	}
	if _, err := h.store.OrganizationByID(ctx, org2.ID); err == nil {
		t.Error("organization two was not deleted")
	}
}
