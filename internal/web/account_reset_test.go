package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

const newPassword = "seven quiet lanterns glowing"

func resetForm(pw string) url.Values { return url.Values{"password": {pw}, "password2": {pw}} }

// TestPasswordResetEndToEnd: the request page answers the same for a known
// and an unknown address; the known one gets a link over SMTP that opens
// a form (changing nothing), refuses a weak password, sets a good one
// once, ends the account's sessions, and mails a notice.
func TestPasswordResetEndToEnd(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t)
	box := newMailbox(t, srv)
	h.user("quinn", "correct horse battery", false)
	elsewhere := h.client()
	elsewhere.mustLogin("quinn", "correct horse battery")
	c := h.client()

	if r := c.get("/accounts/password/reset"); r.StatusCode != http.StatusOK {
		t.Fatalf("request form: %d", r.StatusCode)
	}
	known := c.post("/accounts/password/reset", url.Values{"email": {"QUINN@Example.org"}})
	unknown := c.post("/accounts/password/reset", url.Values{"email": {"nobody@example.org"}})
	for name, r := range map[string]*response{"known": known, "unknown": unknown} {
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/accounts/password/sent" || r.body != known.body {
			t.Errorf("%s address: %d to %q", name, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if sent := c.get("/accounts/password/sent"); !strings.Contains(sent.body, "If the address belongs to an account") {
		t.Errorf("sent page: %s", sent.body)
	}
	msg := box.one("quinn@example.org")
	if !strings.Contains(msg.Subject, "Password reset") || !strings.Contains(msg.Text, "quinn") {
		t.Errorf("reset mail %q\n%s", msg.Subject, msg.Text)
	}
	link := h.link(msg, "/accounts/password/reset/")

	before := mailFingerprint(t, h)
	page := c.get(link)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "quinn") {
		t.Fatalf("reset form: %d\n%s", page.StatusCode, page.body)
	}
	checkTokenPageHeaders(t, "reset form", page)
	if mailFingerprint(t, h) != before {
		t.Fatal("GET of the reset link changed the database")
	}
	if r := c.post(link, resetForm("quinn")); r.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(fieldErrors(r.body)["password"], "at least") {
		t.Errorf("weak password: %d %v", r.StatusCode, fieldErrors(r.body))
	}
	if r := c.post(link, url.Values{"password": {newPassword}, "password2": {"other"}}); r.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(fieldErrors(r.body)["password2"], "do not match") {
		t.Errorf("mismatch: %d %v", r.StatusCode, fieldErrors(r.body))
	}
	r := c.post(link, resetForm(newPassword))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("reset: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	if l := c.get("/login"); !strings.Contains(l.body, "Your password was changed") {
		t.Error("reset message missing")
	}
	notice := box.one("quinn@example.org")
	if !strings.Contains(notice.Subject, "Your password was changed") {
		t.Errorf("notice subject %q", notice.Subject)
	}
	h.link(notice, "/accounts/password/reset")

	for _, r := range []*response{c.get(link), c.post(link, resetForm("another fine passphrase"))} {
		if r.StatusCode != http.StatusGone || !strings.Contains(r.body, "already used") {
			t.Errorf("reused link: %d", r.StatusCode)
		}
	}
	if r := elsewhere.get("/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("a session survived the reset: %d", r.StatusCode)
	}
	if r := c.login("quinn", "correct horse battery"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("old password still works: %d", r.StatusCode)
	}
	c.mustLogin("quinn", newPassword)
	if strings.Contains(h.logs.String(), tokenOf(link)) {
		t.Error("a reset token was logged")
	}
	box.none() // nothing for the unknown address
}

// TestPasswordResetOnlyForAccountsThatMayLogIn: unconfirmed, pending and
// deactivated accounts get no link, and the page says the same.
func TestPasswordResetOnlyForAccountsThatMayLogIn(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t)
	box := newMailbox(t, srv)
	ctx := context.Background()
	c := h.client()
	if r := c.post("/accounts/register", registration("rosa", "rosa@example.org")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d", r.StatusCode)
	}
	box.one("rosa@example.org") // the confirmation link, not followed
	gone := h.user("stan", "correct horse battery", false)
	if _, err := h.store.Pool().Exec(ctx, `UPDATE users SET is_active = false WHERE id = $1`, gone.ID); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"rosa@example.org", "stan@example.org"} {
		if r := c.post("/accounts/password/reset", url.Values{"email": {addr}}); r.Header.Get("Location") != "/accounts/password/sent" {
			t.Errorf("%s: %d %q", addr, r.StatusCode, r.Header.Get("Location"))
		}
	}
	box.none()
}

// TestPasswordResetLinkExpires: an expired link is refused, offers a new
// one, and leaves the password alone.
func TestPasswordResetLinkExpires(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t, withAccounts(func(a *config.Accounts) { a.PasswordResetTTL = time.Second }))
	box := newMailbox(t, srv)
	h.user("tina", "correct horse battery", false)
	c := h.client()
	c.post("/accounts/password/reset", url.Values{"email": {"tina@example.org"}})
	link := h.link(box.one("tina@example.org"), "/accounts/password/reset/")
	time.Sleep(1500 * time.Millisecond)
	for _, r := range []*response{c.get(link), c.post(link, resetForm(newPassword))} {
		if r.StatusCode != http.StatusGone || !strings.Contains(r.body, "has expired") ||
			!strings.Contains(r.body, `href="/accounts/password/reset"`) {
			t.Errorf("expired link: %d\n%s", r.StatusCode, r.body)
		}
	}
	c.mustLogin("tina", "correct horse battery")
	box.none()
}

// TestPasswordResetTampered: a changed token or another purpose's is not
// valid.
func TestPasswordResetTampered(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t)
	box := newMailbox(t, srv)
	h.user("ugo", "correct horse battery", false)
	c := h.client()
	c.post("/accounts/password/reset", url.Values{"email": {"ugo@example.org"}})
	link := h.link(box.one("ugo@example.org"), "/accounts/password/reset/")
	tok := tokenOf(link)
	swap := map[byte]string{'A': "B"}[tok[len(tok)-1]]
	if swap == "" {
		swap = "A"
	}
	for _, bad := range []string{tok[:len(tok)-1] + swap, strings.ToUpper(tok), "x"} {
		for _, r := range []*response{c.get("/accounts/password/reset/" + bad), c.post("/accounts/password/reset/"+bad, resetForm(newPassword))} {
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("token %q: %d", bad, r.StatusCode)
			}
		}
	}
	// Nor is a reset token an e-mail change token, even for its owner.
	c.mustLogin("ugo", "correct horse battery")
	if r := c.get("/profile/email/confirm/" + tok); r.StatusCode != http.StatusNotFound {
		t.Errorf("reset token as e-mail change token: %d", r.StatusCode)
	}
	c.post("/logout", nil)
	if r := c.post(link, resetForm(newPassword)); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the real link after tampered ones: %d", r.StatusCode)
	}
}

// TestPasswordResetLimits: an account gets resetMailsPerAccount links an
// hour (the page still says the same), only the newest link works, and a
// client address may ask resetRequestsPerAddress times an hour.
func TestPasswordResetLimits(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t, withTrustedProxy("127.0.0.1/32"))
	box := newMailbox(t, srv)
	h.user("vera", "correct horse battery", false)
	c := h.client()
	c.headers.Set("X-Forwarded-For", "192.0.2.77")
	var links []string
	for i := range 3 {
		if r := c.post("/accounts/password/reset", url.Values{"email": {"vera@example.org"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("request %d: %d", i+1, r.StatusCode)
		}
		links = append(links, h.link(box.one("vera@example.org"), "/accounts/password/reset/"))
	}
	if r := c.post("/accounts/password/reset", url.Values{"email": {"vera@example.org"}}); r.StatusCode != http.StatusSeeOther ||
		r.Header.Get("Location") != "/accounts/password/sent" {
		t.Fatalf("4th request: %d", r.StatusCode)
	}
	box.none()
	for _, l := range links[:2] {
		if r := c.get(l); r.StatusCode != http.StatusGone {
			t.Errorf("a replaced link still opens: %d", r.StatusCode)
		}
	}
	if r := c.get(links[2]); r.StatusCode != http.StatusOK {
		t.Errorf("newest link: %d", r.StatusCode)
	}

	for i := 4; i < 10; i++ {
		if r := c.post("/accounts/password/reset", url.Values{"email": {"someone@example.org"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("request %d: %d", i+1, r.StatusCode)
		}
	}
	r := c.post("/accounts/password/reset", url.Values{"email": {"someone@example.org"}})
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" ||
		!strings.Contains(r.body, "Too many requests from your address") {
		t.Fatalf("11th request from one address: %d", r.StatusCode)
	}
	other := h.client()
	other.headers.Set("X-Forwarded-For", "192.0.2.78")
	if r := other.post("/accounts/password/reset", url.Values{"email": {"someone@example.org"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("another address: %d", r.StatusCode)
	}
	if n, err := h.store.CountRecentAccountTokens(context.Background(), mustUser(t, h, "vera").ID, store.TokenResetPassword, time.Now().Add(-time.Hour)); err != nil || n != 3 {
		t.Errorf("reset tokens made: %d %v, want 3", n, err)
	}
}

func mustUser(t *testing.T, h *harness, name string) *store.User {
	t.Helper()
	u, err := h.store.UserByUsername(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
