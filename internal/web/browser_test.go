package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// loginAs fills and submits the login form of the current page.
func (b *browser) loginAs(username, password string) int64 {
	b.t.Helper()
	b.fill("#username", username)
	b.fill("#password", password)
	return b.click("#login-submit").Status
}

// TestBrowserLoginLanguageLogout walks an administrator through logging in,
// switching the interface to Greek and logging out.
func TestBrowserLoginLanguageLogout(t *testing.T) {
	t.Parallel()
	h, b := newBrowserHarness(t)
	h.user("alice", "correct horse battery", true)

	// An anonymous visitor is sent to the login page.
	b.open("/")
	b.wantAt("/login?next=%2F")
	b.wantText("h1", "Log in")
	b.wantLang("en")

	if status := b.loginAs("alice", "correct horse battery"); status != http.StatusOK {
		t.Errorf("dashboard after login: status %d", status)
	}
	b.wantAt("/")
	b.wantText("#dashboard-title", "Dashboard")
	b.wantText("#whoami", "alice")
	b.wantText(".mainnav a[data-role=admin]", "Administration")
	b.wantText("#role", "Administrator")

	// Switch to Greek: the same page comes back, in Greek.
	b.click(`.langswitch button[name=lang][value=el]`)
	b.wantAt("/")
	b.wantLang("el")
	b.wantText("#dashboard-title", "Πίνακας ελέγχου")
	b.wantText("#whoami", "alice")
	b.wantText(".mainnav a[data-role=admin]", "Διαχείριση")
	b.wantText("#logout", "Αποσύνδεση")
	if got := b.text(`.langswitch button[aria-pressed=true]`); got != "Ελληνικά" {
		t.Errorf("current language button %q, want Ελληνικά", got)
	}

	// Log out: the login page, still in Greek (the cookie keeps the
	// language), says so.
	b.click("#logout")
	b.wantAt("/login")
	b.wantLang("el")
	b.wantText(".flash", "Αποσυνδεθήκατε.")
	b.wantText("h1", "Σύνδεση")
	if b.present("#whoami") || b.present("#logout") {
		t.Error("the login page after logging out still shows the user")
	}

	// The session is gone: the dashboard asks for a login again.
	b.open("/")
	b.wantAt("/login?next=%2F")
	b.wantText("h1", "Σύνδεση")
	if b.present(".flash") {
		t.Errorf("the logged-out message is shown twice: %q", b.text(".flash"))
	}
	b.noConsoleErrors()
}

// TestBrowserLoginWrongPassword checks that a wrong password shows the error
// and keeps the visitor on the login page, logged out.
func TestBrowserLoginWrongPassword(t *testing.T) {
	t.Parallel()
	h, b := newBrowserHarness(t)
	h.user("bob", "the right one", false)

	b.open("/login")
	if status := b.loginAs("bob", "the wrong one"); status != http.StatusUnprocessableEntity {
		t.Errorf("wrong password: status %d, want %d", status, http.StatusUnprocessableEntity)
	}
	b.wantAt("/login")
	if got := b.text("#login-error"); !strings.HasPrefix(got, "Please enter a correct username and password.") {
		t.Errorf("#login-error %q", got)
	}
	if got := b.value("#username"); got != "bob" {
		t.Errorf("username field %q, want it kept as bob", got)
	}
	if got := b.value("#password"); got != "" {
		t.Errorf("password field %q, want it empty", got)
	}
	if b.present("#whoami") {
		t.Error("logged in with a wrong password")
	}

	// Still logged out.
	b.open("/")
	b.wantAt("/login?next=%2F")
	b.noConsoleErrors("status of 422")
}

// TestBrowserAdminLoginNext checks that an anonymous visit to /admin/ goes
// through the login page and, after logging in, lands on /admin/.
func TestBrowserAdminLoginNext(t *testing.T) {
	t.Parallel()
	h, b := newBrowserHarness(t)
	h.user("carol", "carol's password", true)

	b.open("/admin/")
	b.wantAt("/login?next=%2Fadmin%2F")
	if status := b.loginAs("carol", "carol's password"); status != http.StatusOK {
		t.Errorf("admin page after login: status %d", status)
	}
	b.wantAt("/admin/")
	b.wantText("h1", "Administration")
	b.wantText("#users", "1")
	b.noConsoleErrors()
}
