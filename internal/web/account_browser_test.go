package web_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
)

// TestBrowserSelfService walks a newcomer through the self-service pages in
// a real browser: the registration form, the confirmation link from the
// mail (received over SMTP), the first login with its welcome, adding an
// SSH key from the welcome's link, and changing the password.
func TestBrowserSelfService(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{})
	h, b := newBrowserHarness(t, withMail(srv))
	box := newMailbox(t, srv)

	b.open("/login")
	b.click("#login-register")
	b.wantAt("/accounts/register")
	b.fill("#username", "zoe")
	b.fill("#email", "zoe@example.org")
	b.fill("#password", "password")
	b.fill("#password2", "password")
	b.fill("#first_name", "Zoe")
	b.fill("#last_name", "Kravitz")
	if status := b.click("#register-submit").Status; status != http.StatusUnprocessableEntity {
		t.Fatalf("weak password: status %d", status)
	}
	if got := b.text("#password-error"); !strings.Contains(got, "at least 10 characters") {
		t.Errorf("#password-error %q", got)
	}
	if b.value("#username") != "zoe" || b.value("#password") != "" {
		t.Error("the form must keep the username and drop the password")
	}
	b.fill("#password", goodPassword)
	b.fill("#password2", goodPassword)
	b.click("#register-submit")
	b.wantAt("/accounts/register/done")
	b.wantText("h1", "Check your mail")

	link := h.link(box.one("zoe@example.org"), "/accounts/verify/")
	b.open(link)
	if got := b.text("#verify-address"); !strings.Contains(got, "zoe@example.org") {
		t.Errorf("confirmation page says %q", got)
	}
	b.click("#verify-submit")
	b.wantAt("/login")
	if got := b.text(".flash"); !strings.Contains(got, "Your e-mail address is confirmed") {
		t.Errorf("flash %q", got)
	}
	box.one(adminAddress)

	if status := b.loginAs("zoe", goodPassword); status != http.StatusForbidden {
		t.Errorf("login before approval: status %d", status)
	}
	if got := b.text("#login-error"); !strings.Contains(got, "awaiting approval") {
		t.Errorf("#login-error %q", got)
	}
	// An administrator approves the registration in the browser; the
	// outcome is mailed.
	h.user("root", goodPassword, true)
	b.loginAs("root", goodPassword)
	b.open("/admin/users?filter=pending")
	b.click(`tr[data-user="zoe"] a`)
	b.click("#approve")
	b.wantText("#user-state", "Active")
	if m := box.one("zoe@example.org"); !strings.Contains(m.Text, "/login") {
		t.Errorf("approval mail without the login link: %q", m.Text)
	}
	b.click("#logout")
	b.loginAs("zoe", goodPassword)
	b.wantAt("/")
	if got := b.text("#welcome"); !strings.Contains(got, "Welcome!") {
		t.Errorf("welcome %q", got)
	}

	b.click(`#welcome a[href="/profile/keys"]`)
	b.wantAt("/profile/keys")
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	line, fp := authorizedKey(t, pub, "zoe@laptop")
	run(b, "type the key", chromedp.SendKeys(chromedp.CSS("#keys-text"), line)) // empty: nothing to clear
	b.click("#keys-submit")
	b.wantAt("/profile/keys")
	if got := b.text("#keys code.fingerprint"); got != fp {
		t.Errorf("fingerprint shown %q, want %q", got, fp)
	}

	b.click("#nav-profile")
	b.wantAt("/profile")
	b.click("#profile-password-change")
	b.fill("#current", goodPassword)
	b.fill("#password", newPassword)
	b.fill("#password2", newPassword)
	b.click("#password-submit")
	b.wantAt("/profile")
	if got := b.text(".flash"); !strings.Contains(got, "Your password was changed") {
		t.Errorf("flash %q", got)
	}
	if n := box.one("zoe@example.org"); !strings.Contains(n.Subject, "Your password was changed") {
		t.Errorf("notice %q", n.Subject)
	}
	b.noConsoleErrors("status of 422", "status of 403")
}
