package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func passwordChange(current, pw string) url.Values {
	return url.Values{"current": {current}, "password": {pw}, "password2": {pw}}
}

// TestPasswordChange: the current password is required, the new one must
// pass the policy; a change keeps this session (under a new token), ends
// every other session of the account and no one else's, and mails a
// notice over SMTP.
func TestPasswordChange(t *testing.T) {
	t.Parallel()
	h, srv := newMailHarness(t)
	box := newMailbox(t, srv)
	h.user("sam", "correct horse battery", false)
	h.user("tess", "correct horse battery", false)
	laptop, phone, other := h.client(), h.client(), h.client()
	laptop.mustLogin("sam", "correct horse battery")
	phone.mustLogin("sam", "correct horse battery")
	other.mustLogin("tess", "correct horse battery")

	if r := laptop.get("/profile/password"); r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("form: %d", r.StatusCode)
	}
	cases := []struct {
		form        url.Values
		field, want string
	}{
		{passwordChange("wrong", newPassword), "current", "not your current password"},
		{passwordChange("", newPassword), "current", "not your current password"},
		{passwordChange("correct horse battery", "sam12345678"), "password", "too similar"},
		{passwordChange("correct horse battery", "correct horse battery"), "password", "same as the current"},
		{url.Values{"current": {"correct horse battery"}, "password": {newPassword}, "password2": {"x"}}, "password2", "do not match"},
	}
	for _, tc := range cases {
		r := laptop.post("/profile/password", tc.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(r.body)[tc.field], tc.want) {
			t.Errorf("%v: %d %v, want %s: %q", tc.form, r.StatusCode, fieldErrors(r.body), tc.field, tc.want)
		}
	}
	box.none()

	before := laptop.sessionCookie()
	r := laptop.post("/profile/password", passwordChange("correct horse battery", newPassword))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("change: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	if laptop.sessionCookie() == before {
		t.Error("session token not renewed")
	}
	if p := laptop.get("/profile"); p.StatusCode != http.StatusOK || !strings.Contains(p.body, "Your password was changed") {
		t.Errorf("this session after the change: %d", p.StatusCode)
	}
	if r := phone.get("/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("another session of the account survived: %d", r.StatusCode)
	}
	if r := other.get("/"); r.StatusCode != http.StatusOK {
		t.Errorf("another user's session ended: %d", r.StatusCode)
	}
	notice := box.one("sam@example.org")
	if !strings.Contains(notice.Subject, "Your password was changed") || !strings.Contains(notice.Text, "sam") {
		t.Errorf("notice: %q\n%s", notice.Subject, notice.Text)
	}
	h.link(notice, "/accounts/password/reset")
	if r := phone.login("sam", "correct horse battery"); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("old password: %d", r.StatusCode)
	}
	phone.mustLogin("sam", newPassword)
	box.none()
}

// TestPasswordChangeGuessingThrottled: wrong current passwords count as
// failed logins of the account, so a stolen session cannot guess on.
func TestPasswordChangeGuessingThrottled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("ulla", "correct horse battery", false)
	c := h.client()
	c.mustLogin("ulla", "correct horse battery")
	for i := range 5 {
		if r := c.post("/profile/password", passwordChange("guess", newPassword)); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d: %d", i+1, r.StatusCode)
		}
	}
	r := c.post("/profile/password", passwordChange("correct horse battery", newPassword))
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(fieldErrors(r.body)["current"], "Too many failed attempts") {
		t.Fatalf("after 5 guesses: %d %v", r.StatusCode, fieldErrors(r.body))
	}
	if r := h.client().login("ulla", "correct horse battery"); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("login after 5 guesses: %d, want 429", r.StatusCode)
	}
}
