package web_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
)

func emailChange(addr, current string) url.Values {
	return url.Values{"email": {addr}, "current": {current}}
}

// TestEmailChange: asking for a new address mails a confirmation link to
// it and a notice to the old one; another logged-in user opening the link
// is refused and nothing changes; the user who asked confirms it once.
func TestEmailChange(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t)
	box := newMailbox(t, srv)
	h.user("uma", "correct horse battery", false)
	h.user("vic", "correct horse battery", false)
	uma, vic, anon := h.client(), h.client(), h.client()
	uma.mustLogin("uma", "correct horse battery")
	vic.mustLogin("vic", "correct horse battery")

	if r := uma.get("/profile/email"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "uma@example.org") {
		t.Fatalf("form: %d", r.StatusCode)
	}
	cases := []struct {
		form        url.Values
		field, want string
	}{
		{emailChange("uma.new@example.net", "wrong"), "current", "not your current password"},
		{emailChange("not an address", "correct horse battery"), "email", "valid e-mail address"},
		{emailChange("UMA@example.org", "correct horse battery"), "email", "already your e-mail address"},
		{emailChange("Vic@Example.org", "correct horse battery"), "email", "Another account uses"},
	}
	for _, tc := range cases {
		r := uma.post("/profile/email", tc.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(r.body)[tc.field], tc.want) {
			t.Errorf("%v: %d %v, want %s: %q", tc.form, r.StatusCode, fieldErrors(r.body), tc.field, tc.want)
		}
	}
	r := uma.post("/profile/email", emailChange("Uma.New@Example.NET", "correct horse battery"))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("request: %d\n%s", r.StatusCode, r.body)
	}
	if p := uma.get("/profile"); !strings.Contains(p.body, "A confirmation link was sent") || !strings.Contains(p.body, "uma@example.org") {
		t.Error("after the request: message missing or address already changed")
	}
	msgs := box.next(2)
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].To[0] < msgs[j].To[0] })
	confirm, notice := msgs[0], msgs[1]
	if confirm.To[0] != "Uma.New@example.net" || notice.To[0] != "uma@example.org" {
		t.Fatalf("mails went to %v and %v", confirm.To, notice.To)
	}
	if !strings.Contains(confirm.Subject, "Confirm your new e-mail address") {
		t.Errorf("confirmation subject %q", confirm.Subject)
	}
	if !strings.Contains(notice.Subject, "change requested") || !strings.Contains(notice.Text, "Uma.New@example.net") {
		t.Errorf("notice to the old address: %q\n%s", notice.Subject, notice.Text)
	}
	h.link(notice, "/accounts/password/reset")
	link := h.link(confirm, "/profile/email/confirm/")

	// Someone else's session: the link does not exist for them.
	before := mailFingerprint(t, h)
	for _, r := range []*response{vic.get(link), vic.post(link, nil)} {
		if r.StatusCode != http.StatusNotFound || strings.Contains(r.body, "Uma.New") {
			t.Errorf("another user opening the link: %d", r.StatusCode)
		}
	}
	if mailFingerprint(t, h) != before {
		t.Fatal("another user's use of the link changed the database")
	}
	// Logged out: to the login page, which comes back here.
	if r := anon.get(link); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
		t.Errorf("anonymous: %d %q", r.StatusCode, r.Header.Get("Location"))
	}

	page := uma.get(link)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "Uma.New@example.net") {
		t.Fatalf("confirmation page: %d\n%s", page.StatusCode, page.body)
	}
	checkTokenPageHeaders(t, "confirmation page", page)
	if mailFingerprint(t, h) != before {
		t.Fatal("GET of the confirmation link changed the database")
	}
	if r := uma.post(link, nil); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("confirm: %d\n%s", r.StatusCode, r.body)
	}
	if u := mustUser(t, h, "uma"); u.Email != "Uma.New@example.net" || u.EmailVerifiedAt == nil {
		t.Errorf("after confirming: %q verified %v", u.Email, u.EmailVerifiedAt)
	}
	if u := mustUser(t, h, "vic"); u.Email != "vic@example.org" {
		t.Errorf("vic's address changed to %q", u.Email)
	}
	if p := uma.get("/profile"); !strings.Contains(p.body, "Your e-mail address was changed") {
		t.Error("change message missing")
	}
	if r := uma.post(link, nil); r.StatusCode != http.StatusGone {
		t.Errorf("link used twice: %d", r.StatusCode)
	}
	logs := h.logs.String()
	if strings.Contains(logs, tokenOf(link)) || !strings.Contains(logs, "/profile/email/confirm/REDACTED") {
		t.Error("the e-mail change token was logged, or its requests not at all")
	}
	box.none()
}

// TestEmailChangeLinkExpires: an expired confirmation link changes
// nothing and offers a new request.
func TestEmailChangeLinkExpires(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t, withAccounts(func(a *config.Accounts) { a.EmailChangeTTL = time.Second }))
	box := newMailbox(t, srv)
	h.user("wanda", "correct horse battery", false)
	c := h.client()
	c.mustLogin("wanda", "correct horse battery")
	if r := c.post("/profile/email", emailChange("wanda@example.net", "correct horse battery")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("request: %d", r.StatusCode)
	}
	var confirm smtptest.Message
	for _, m := range box.next(2) {
		if m.To[0] == "wanda@example.net" {
			confirm = m
		}
	}
	link := h.link(confirm, "/profile/email/confirm/")
	time.Sleep(1500 * time.Millisecond)
	for _, r := range []*response{c.get(link), c.post(link, nil)} {
		if r.StatusCode != http.StatusGone || !strings.Contains(r.body, "has expired") || !strings.Contains(r.body, `href="/profile/email"`) {
			t.Errorf("expired link: %d\n%s", r.StatusCode, r.body)
		}
	}
	if u := mustUser(t, h, "wanda"); u.Email != "wanda@example.org" {
		t.Errorf("address changed by an expired link: %q", u.Email)
	}
}
