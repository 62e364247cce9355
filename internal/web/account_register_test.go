package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// withAccounts adjusts the account settings (link lifetimes, registration).
func withAccounts(f func(*config.Accounts)) harnessOption {
	return func(c *config.Config) { f(&c.Accounts) }
}

const goodPassword = "purple elephant dances slowly"

// registration is a filled-in registration form.
func registration(username, email string) url.Values {
	return url.Values{"username": {username}, "email": {email}, "password": {goodPassword},
		"password2": {goodPassword}, "first_name": {"Nina"}, "last_name": {"Simone"}}
}

// checkTokenPageHeaders checks that a page of a mailed link keeps its
// token to itself.
func checkTokenPageHeaders(t *testing.T, what string, r *response) {
	t.Helper()
	if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q, want no-referrer", what, got)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", what, got)
	}
}

// TestRegistrationEndToEnd: register, receive the confirmation mail over
// SMTP, follow its link (GET shows a page and changes nothing, POST
// confirms), the administrators get the approval mail with the account's
// page; login is refused with the reason until the address is confirmed
// and the account approved, then works and welcomes once.
func TestRegistrationEndToEnd(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t)
	box := newMailbox(t, srv)
	ctx := context.Background()
	org, err := h.store.CreateOrganization(ctx, store.OrganizationInput{Title: "Research Network", Tag: "resnet"})
	if err != nil {
		t.Fatal(err)
	}
	c := h.client()

	login := c.get("/login")
	for _, want := range []string{`href="/accounts/register"`, `href="/accounts/password/reset"`} {
		if !strings.Contains(login.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	if r := c.get("/accounts/register"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Research Network") {
		t.Fatalf("registration form: %d, organization not offered", r.StatusCode)
	}
	form := registration("nina", "Nina@Example.ORG")
	form.Set("phone", "+30 210 1234567")
	form.Set("organization", strconv.FormatInt(org.ID, 10))
	r := c.post("/accounts/register", form)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/accounts/register/done" {
		t.Fatalf("register: %d to %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	if done := c.get("/accounts/register/done"); !strings.Contains(done.body, "Check your mail") {
		t.Errorf("done page: %s", done.body)
	}
	u, err := h.store.UserByUsername(ctx, "nina")
	if err != nil {
		t.Fatal(err)
	}
	if u.State() != store.StateUnverified || u.Email != "Nina@example.org" || u.Phone != "+30 210 1234567" ||
		u.OrganizationID == nil || *u.OrganizationID != org.ID || u.FirstName != "Nina" || u.Language != "en" {
		t.Fatalf("registered account: %+v", u)
	}

	msg := box.one("Nina@example.org")
	if !strings.Contains(msg.Subject, "Confirm your e-mail address") || !strings.Contains(msg.Text, "nina") {
		t.Errorf("confirmation mail: %q\n%s", msg.Subject, msg.Text)
	}
	link := h.link(msg, "/accounts/verify/")

	// Not confirmed: a wrong password says nothing, the right one why.
	if r := c.login("nina", "wrong password"); r.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(loginError(r.body), "correct username and password") {
		t.Errorf("unconfirmed, wrong password: %d %q", r.StatusCode, loginError(r.body))
	}
	if r := c.login("nina", goodPassword); r.StatusCode != http.StatusForbidden ||
		!strings.Contains(loginError(r.body), "confirm your e-mail address first") {
		t.Errorf("unconfirmed, right password: %d %q", r.StatusCode, loginError(r.body))
	}

	// Opening the link changes nothing; the button does.
	before := mailFingerprint(t, h)
	page := c.get(link)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "Nina@example.org") ||
		!strings.Contains(page.body, `action="`+link+`"`) {
		t.Fatalf("confirmation page: %d\n%s", page.StatusCode, page.body)
	}
	checkTokenPageHeaders(t, "confirmation page", page)
	if mailFingerprint(t, h) != before {
		t.Fatal("GET of the confirmation link changed the database")
	}
	// The link is for nothing else: not a password reset.
	if r := c.get("/accounts/password/reset/" + tokenOf(link)); r.StatusCode != http.StatusNotFound {
		t.Errorf("verification token as a reset token: %d, want 404", r.StatusCode)
	}
	r = c.post(link, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("confirm: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	checkTokenPageHeaders(t, "confirmation", r)
	if l := c.get("/login"); !strings.Contains(l.body, "Your e-mail address is confirmed") {
		t.Error("confirmation message missing")
	}

	adm := box.one(adminAddress)
	if !strings.Contains(adm.Subject, "nina") {
		t.Errorf("approval request subject %q", adm.Subject)
	}
	if got, want := h.link(adm, "/admin/users/"), fmt.Sprintf("/admin/users/%d", u.ID); got != want {
		t.Errorf("approval link %q, want %q", got, want)
	}
	for _, want := range []string{"Nina Simone", "Nina@example.org", "Research Network", "+30 210 1234567"} {
		if !strings.Contains(adm.Text, want) {
			t.Errorf("approval request lacks %q:\n%s", want, adm.Text)
		}
	}

	// Single use.
	for _, r := range []*response{c.post(link, nil), c.get(link)} {
		if r.StatusCode != http.StatusGone || !strings.Contains(r.body, "already used") {
			t.Errorf("link used again: %d\n%s", r.StatusCode, r.body)
		}
	}

	if r := c.login("nina", goodPassword); r.StatusCode != http.StatusForbidden ||
		!strings.Contains(loginError(r.body), "awaiting approval") {
		t.Errorf("unapproved: %d %q", r.StatusCode, loginError(r.body))
	}
	if _, err := h.store.ApproveUser(ctx, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	c.mustLogin("nina", goodPassword)
	home := c.get("/")
	if !strings.Contains(home.body, "Welcome! Please take some time") || !strings.Contains(home.body, `href="/profile/keys"`) {
		t.Errorf("first login: no welcome pointing to the SSH keys page:\n%s", home.body)
	}
	if strings.Contains(c.get("/").body, "Welcome!") {
		t.Error("welcome shown twice")
	}
	c.post("/logout", nil)
	c.mustLogin("nina", goodPassword)
	if strings.Contains(c.get("/").body, "Welcome!") {
		t.Error("welcome shown again at the second login")
	}

	logs := h.logs.String()
	if strings.Contains(logs, tokenOf(link)) {
		t.Error("a mailed token was logged")
	}
	if !strings.Contains(logs, "/accounts/verify/REDACTED") {
		t.Error("requests of the confirmation link not logged (redacted)")
	}
	box.none()
}

// TestRegistrationRejected: a registration made in Greek is mailed in
// Greek; rejected, it is told so at login, after the correct password
// only.
func TestRegistrationRejected(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t)
	box := newMailbox(t, srv)
	c := h.client()
	c.headers.Set("Accept-Language", "el")
	if r := c.post("/accounts/register", registration("omar", "omar@example.org")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d", r.StatusCode)
	}
	if done := c.get("/accounts/register/done"); !strings.Contains(done.body, "Ελέγξτε το ηλεκτρονικό σας ταχυδρομείο") {
		t.Errorf("done page not in Greek:\n%s", done.body)
	}
	msg := box.one("omar@example.org")
	if !strings.Contains(msg.Subject, "Επιβεβαίωση") {
		t.Errorf("confirmation mail not in Greek: %q", msg.Subject)
	}
	link := h.link(msg, "/accounts/verify/")
	c.headers.Del("Accept-Language")
	if r := c.post(link, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", r.StatusCode)
	}
	box.one(adminAddress)
	u, err := h.store.UserByUsername(context.Background(), "omar")
	if err != nil {
		t.Fatal(err)
	}
	if u.Language != "el" {
		t.Errorf("language of a registration made in Greek: %q", u.Language)
	}
	if _, err := h.store.RejectUser(context.Background(), u.ID, 0); err != nil {
		t.Fatal(err)
	}
	if r := c.login("omar", "nope nope nope"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("rejected, wrong password: %d", r.StatusCode)
	}
	if r := c.login("omar", goodPassword); r.StatusCode != http.StatusForbidden ||
		!strings.Contains(loginError(r.body), "was not approved") {
		t.Errorf("rejected: %d %q", r.StatusCode, loginError(r.body))
	}
}

// TestVerificationLinkExpires: a confirmation link past its lifetime is
// refused and confirms nothing.
func TestVerificationLinkExpires(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t, withAccounts(func(a *config.Accounts) { a.ActivationTTL = time.Second }))
	box := newMailbox(t, srv)
	c := h.client()
	if r := c.post("/accounts/register", registration("pia", "pia@example.org")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d", r.StatusCode)
	}
	link := h.link(box.one("pia@example.org"), "/accounts/verify/")
	time.Sleep(1500 * time.Millisecond)
	for _, r := range []*response{c.get(link), c.post(link, nil)} {
		if r.StatusCode != http.StatusGone || !strings.Contains(r.body, "has expired") {
			t.Errorf("expired link: %d\n%s", r.StatusCode, r.body)
		}
	}
	u, err := h.store.UserByUsername(context.Background(), "pia")
	if err != nil || u.State() != store.StateUnverified {
		t.Errorf("after an expired link: %+v %v", u, err)
	}
	box.none()
}

// TestVerificationLinkTampered: a changed token, a token of the wrong
// shape, and an unknown one are all "not valid" (404), and change nothing.
func TestVerificationLinkTampered(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t)
	box := newMailbox(t, srv)
	c := h.client()
	if r := c.post("/accounts/register", registration("quentin", "quentin@example.org")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d", r.StatusCode)
	}
	link := h.link(box.one("quentin@example.org"), "/accounts/verify/")
	tok := tokenOf(link)
	flip := "A"
	if tok[0] == 'A' {
		flip = "B"
	}
	for _, bad := range []string{flip + tok[1:], tok[:len(tok)-1], tok + "A", "not-a-token", strings.Repeat("A", len(tok))} {
		for _, r := range []*response{c.get("/accounts/verify/" + bad), c.post("/accounts/verify/"+bad, nil)} {
			if r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "not valid") {
				t.Errorf("token %q: %d", bad, r.StatusCode)
			}
		}
	}
	u, _ := h.store.UserByUsername(context.Background(), "quentin")
	if u.State() != store.StateUnverified {
		t.Error("a tampered link confirmed the address")
	}
	// The real one still works.
	if r := c.post(link, nil); r.StatusCode != http.StatusSeeOther {
		t.Errorf("real link after tampered ones: %d", r.StatusCode)
	}
}

// TestRegistrationClosed: with GANETIMGR_REGISTRATION=closed there is no
// registration (404 with a clear message) and no link to it.
func TestRegistrationClosed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAccounts(func(a *config.Accounts) { a.RegistrationOpen = false }))
	c := h.client()
	for _, r := range []*response{c.get("/accounts/register"), c.post("/accounts/register", registration("rex", "rex@example.org")),
		c.get("/accounts/register/done")} {
		if r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "Registration is closed") {
			t.Errorf("closed registration: %d\n%s", r.StatusCode, r.body)
		}
	}
	if _, err := h.store.UserByUsername(context.Background(), "rex"); err == nil {
		t.Error("an account was registered while registration is closed")
	}
	login := c.get("/login").body
	if strings.Contains(login, `href="/accounts/register"`) || !strings.Contains(login, `href="/accounts/password/reset"`) {
		t.Error("login page: registration link shown, or reset link missing")
	}
}

// TestRegistrationRefusals: a username or address taken (in any case), a
// weak password, missing names and an unknown organization are refused,
// each on its field, and nothing is created. This site sends no mail
// (no outbox), which registration does not need.
func TestRegistrationRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"))
	h.user("paula", "correct horse battery", false) // paula@example.org
	c := h.client()
	// Each form from another address, to stay under the per-address limit.
	next := 0
	c.c.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		next++
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", next))
		return http.DefaultTransport.RoundTrip(req)
	})

	r := c.post("/accounts/register", registration("PAULA", "Paula@EXAMPLE.org"))
	errs := fieldErrors(r.body)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errs["username"], "taken") ||
		!strings.Contains(errs["email"], "Another account uses") {
		t.Errorf("taken username and address: %d %v", r.StatusCode, errs)
	}
	if !strings.Contains(r.body, `value="PAULA"`) || strings.Contains(r.body, goodPassword) {
		t.Error("the form must show back what was typed, but never the password")
	}

	cases := []struct {
		field, value, want string
	}{
		{"password", "password1234", "too common"},
		{"password", "short", "at least 10 characters"},
		{"password", "simone1234", "too similar"},
		{"password", "abcdefghijkl", "too simple"},
		{"password2", "something else entirely", "do not match"},
		{"username", "bad name", "Latin letters"},
		{"email", "not-an-address", "valid e-mail address"},
		{"first_name", "", "required"},
		{"phone", "call me", "phone number"},
		{"organization", "424242", "organizations in the list"},
	}
	for _, tc := range cases {
		form := registration("sofia", "sofia@example.org")
		form.Set(tc.field, tc.value)
		if tc.field == "password" {
			form.Set("password2", tc.value)
		}
		r := c.post("/accounts/register", form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(r.body)[tc.field], tc.want) {
			t.Errorf("%s=%q: %d, errors %v, want %q", tc.field, tc.value, r.StatusCode, fieldErrors(r.body), tc.want)
		}
	}
	if _, err := h.store.UserByUsername(context.Background(), "sofia"); err == nil {
		t.Fatal("a refused registration created an account")
	}
	// And the form works without a mail outbox.
	if r := c.post("/accounts/register", registration("sofia", "sofia@example.org")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("valid registration: %d\n%s", r.StatusCode, r.body)
	}
	if u, err := h.store.UserByUsername(context.Background(), "sofia"); err != nil || u.State() != store.StateUnverified {
		t.Errorf("registered without mail: %+v %v", u, err)
	}
}

// TestRegistrationThrottled: a client address may submit
// registrationsPerAddress forms an hour; then 429, for that address only.
func TestRegistrationThrottled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withTrustedProxy("127.0.0.1/32"))
	c := h.client()
	c.headers.Set("X-Forwarded-For", "192.0.2.50")
	for i := range 10 {
		if r := c.post("/accounts/register", registration(fmt.Sprintf("user%d", i), "bad")); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: %d", i+1, r.StatusCode)
		}
	}
	r := c.post("/accounts/register", registration("tom", "tom@example.org"))
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" ||
		!strings.Contains(r.body, "Too many requests from your address") {
		t.Fatalf("11th registration: %d %q\n%s", r.StatusCode, r.Header.Get("Retry-After"), r.body)
	}
	if _, err := h.store.UserByUsername(context.Background(), "tom"); err == nil {
		t.Error("a throttled registration created an account")
	}
	other := h.client()
	other.headers.Set("X-Forwarded-For", "192.0.2.51")
	if r := other.post("/accounts/register", registration("tom", "tom@example.org")); r.StatusCode != http.StatusSeeOther {
		t.Errorf("from another address: %d", r.StatusCode)
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
