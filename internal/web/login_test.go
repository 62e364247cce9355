package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/auth"
)

func TestLoginSuccessAndFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("alice", "correct horse battery", false)

	c := h.client()
	wrong := c.login("alice", "wrong password")
	unknown := c.login("nobody", "wrong password")
	for name, r := range map[string]*response{"wrong password": wrong, "unknown user": unknown} {
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: got status %d, want 422", name, r.StatusCode)
		}
		if !strings.Contains(loginError(r.body), "Please enter a correct username and password") {
			t.Errorf("%s: got error %q, want the generic failure message", name, loginError(r.body))
		}
	}
	if loginError(wrong.body) != loginError(unknown.body) {
		t.Errorf("unknown user and wrong password differ: %q vs %q", loginError(unknown.body), loginError(wrong.body))
	}
	if r := c.get("/"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("after failed logins GET / = %d %s, want a redirect to /login", r.StatusCode, r.Header.Get("Location"))
	}

	r := c.login("ALICE", "correct horse battery") // usernames are case-insensitive
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("login: got %d to %q, want 303 to /", r.StatusCode, r.Header.Get("Location"))
	}
	home := c.get("/")
	if home.StatusCode != http.StatusOK || !strings.Contains(home.body, `id="whoami">alice<`) {
		t.Fatalf("dashboard after login: got %d, user not shown:\n%s", home.StatusCode, home.body)
	}
	if !strings.Contains(home.body, "Welcome! Please take some time") {
		t.Error("first login: welcome message missing")
	}
	u, err := h.store.UserByUsername(context.Background(), "alice")
	if err != nil || u.LastLoginAt == nil {
		t.Errorf("last login not recorded: %v %v", u, err)
	}
	if strings.Contains(c.get("/").body, "Welcome! Please take some time") {
		t.Error("welcome message shown twice")
	}
}

func TestLoginRedirectsToNextOnlyOnSite(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("bob", "correct horse battery", true)
	for next, want := range map[string]string{
		"/admin/":               "/admin/",
		"https://evil.example/": "/",
		"//evil.example/":       "/",
		"/\\evil.example":       "/",
	} {
		c := h.client()
		r := c.post("/login", url.Values{"username": {"bob"}, "password": {"correct horse battery"}, "next": {next}})
		if got := r.Header.Get("Location"); got != want {
			t.Errorf("next=%q: redirected to %q, want %q", next, got, want)
		}
	}
	// An anonymous GET of a protected page remembers where it was going.
	r := h.client().get("/admin/")
	if loc := r.Header.Get("Location"); loc != "/login?next=%2Fadmin%2F" {
		t.Errorf("anonymous /admin/: redirected to %q", loc)
	}
}

func TestInactiveIsSaidOnlyAfterCorrectPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := h.user("carol", "correct horse battery", false)
	if _, err := h.store.Pool().Exec(context.Background(), `UPDATE users SET is_active = false WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	c := h.client()
	r := c.login("carol", "wrong password")
	if strings.Contains(r.body, "inactive") || r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("wrong password on inactive account: got %d %q, want the generic message", r.StatusCode, loginError(r.body))
	}
	r = c.login("carol", "correct horse battery")
	if r.StatusCode != http.StatusForbidden || !strings.Contains(loginError(r.body), "inactive") {
		t.Errorf("correct password on inactive account: got %d %q, want 403 inactive", r.StatusCode, loginError(r.body))
	}
	if c.get("/").StatusCode != http.StatusSeeOther {
		t.Error("inactive account got a session")
	}
}

func TestLoginThrottlingPerAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"))
	h.user("dave", "correct horse battery", false)
	c := h.client()
	c.headers.Set("X-Forwarded-For", "192.0.2.1")
	for i := 0; i < 5; i++ {
		if r := c.login("dave", "wrong"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: got %d, want 422", i+1, r.StatusCode)
		}
	}
	// Blocked now, even with the right password and from another address.
	other := h.client()
	other.headers.Set("X-Forwarded-For", "198.51.100.7")
	r := other.login("dave", "correct horse battery")
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("6th attempt: got %d (Retry-After %q), want 429 with Retry-After", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if !strings.Contains(loginError(r.body), "Too many failed attempts") {
		t.Errorf("throttle message missing: %q", loginError(r.body))
	}
	// Another account is not affected.
	h.user("erin", "correct horse battery", false)
	if r := other.login("erin", "correct horse battery"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("other account: got %d, want 303", r.StatusCode)
	}
}

func TestLoginThrottlingPerAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"))
	h.user("frank", "correct horse battery", false)
	c := h.client()
	c.headers.Set("X-Forwarded-For", "203.0.113.9")
	for i := 0; i < 30; i++ { // spread over accounts, so no account limit trips
		if r := c.login(fmt.Sprintf("user%d", i), "wrong"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: got %d", i+1, r.StatusCode)
		}
	}
	if r := c.login("frank", "correct horse battery"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("from the flooding address: got %d, want 429", r.StatusCode)
	}
	// X-Forwarded-For from an untrusted peer would be ignored; here the
	// proxy is trusted, so another client address is a different key.
	c2 := h.client()
	c2.headers.Set("X-Forwarded-For", "203.0.113.10")
	if r := c2.login("frank", "correct horse battery"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("from another address: got %d, want 303", r.StatusCode)
	}
}

func TestUntrustedForwardedForIsIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t) // no trusted proxies
	for i := 0; i < 30; i++ {
		c := h.client()
		c.headers.Set("X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i)) // spoofed, must not help
		c.login(fmt.Sprintf("u%d", i), "wrong")
	}
	h.user("gina", "correct horse battery", false)
	if r := h.client().login("gina", "correct horse battery"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("spoofed X-Forwarded-For escaped the address throttle: got %d", r.StatusCode)
	}
}

func TestSessionTokenRenewedOnLoginAndLogout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("hank", "correct horse battery", false)
	c := h.client()
	// An anonymous session exists after switching language.
	c.post("/language", url.Values{"lang": {"el"}, "next": {"/login"}})
	c.post("/logout", nil) // anonymous: redirected, no session change
	c.mustLogin("hank", "correct horse battery")
	first := c.sessionCookie()
	if first == "" {
		t.Fatal("no session cookie after login")
	}
	// Logging in again (for example as someone else) replaces the token.
	c.mustLogin("hank", "correct horse battery")
	second := c.sessionCookie()
	if second == first {
		t.Fatal("session token not renewed on login")
	}
	stale := h.client()
	stale.c.Jar.SetCookies(mustURL(h.baseURL), []*http.Cookie{{Name: "ganetimgr_session", Value: first}})
	if r := stale.get("/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("old token still valid after renewal: got %d", r.StatusCode)
	}
	if r := c.post("/logout", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: got %d", r.StatusCode)
	}
	if c.sessionCookie() == second {
		t.Error("session token not renewed on logout")
	}
	if r := c.get("/login"); !strings.Contains(r.body, "Αποσυνδεθήκατε") && !strings.Contains(r.body, "logged out") {
		t.Error("logout message missing")
	}
	replay := h.client()
	replay.c.Jar.SetCookies(mustURL(h.baseURL), []*http.Cookie{{Name: "ganetimgr_session", Value: second}})
	if r := replay.get("/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("token still valid after logout: got %d", r.StatusCode)
	}
}

func TestLogoutEverywhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("ivy", "correct horse battery", false)
	h.user("jack", "correct horse battery", false)
	laptop, phone, other := h.client(), h.client(), h.client()
	laptop.mustLogin("ivy", "correct horse battery")
	phone.mustLogin("ivy", "correct horse battery")
	other.mustLogin("jack", "correct horse battery")
	if r := phone.post("/account/logout-everywhere", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout everywhere: got %d", r.StatusCode)
	}
	for name, c := range map[string]*client{"laptop": laptop, "phone": phone} {
		if r := c.get("/"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("%s still logged in after logout everywhere: got %d", name, r.StatusCode)
		}
	}
	if r := other.get("/"); r.StatusCode != http.StatusOK {
		t.Errorf("another user's session ended too: got %d", r.StatusCode)
	}
	// Logging in again works.
	laptop.mustLogin("ivy", "correct horse battery")
	if r := laptop.get("/"); r.StatusCode != http.StatusOK {
		t.Errorf("login after logout everywhere: got %d", r.StatusCode)
	}
}

func TestAdminPageNeedsSuperuser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("root", "correct horse battery", true)
	h.user("helpdesk", "correct horse battery", false, auth.ViewInstances)
	h.user("plain", "correct horse battery", false)
	for name, want := range map[string]int{"root": 200, "helpdesk": 403, "plain": 403} {
		c := h.client()
		c.mustLogin(name, "correct horse battery")
		r := c.get("/admin/")
		if r.StatusCode != want {
			t.Errorf("%s: GET /admin/ = %d, want %d", name, r.StatusCode, want)
		}
		home := c.get("/")
		hasAdmin := strings.Contains(home.body, `data-role="admin"`)
		hasHelpdesk := strings.Contains(home.body, `data-role="helpdesk"`)
		if hasAdmin != (name == "root") || hasHelpdesk != (name != "plain") {
			t.Errorf("%s: navigation admin=%v helpdesk=%v", name, hasAdmin, hasHelpdesk)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
