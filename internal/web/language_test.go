package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLanguageNegotiationAndSwitch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("nina", "correct horse battery", false)

	c := h.client()
	if r := c.get("/login"); !strings.Contains(r.body, `<html lang="en"`) || r.Header.Get("Content-Language") != "en" {
		t.Errorf("default language: not English")
	}
	c.headers.Set("Accept-Language", "el")
	if r := c.get("/login"); !strings.Contains(r.body, "Κωδικός πρόσβασης") {
		t.Errorf("Accept-Language el: page not in Greek")
	}
	// The cookie beats Accept-Language.
	r := c.post("/language", url.Values{"lang": {"en"}, "next": {"/login?x=1"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?x=1" {
		t.Fatalf("switch: got %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := c.get("/login"); !strings.Contains(r.body, "Password") {
		t.Errorf("cookie en with Accept-Language el: not English")
	}
	// A logged-in user's choice is saved in the account and beats the cookie.
	c.mustLogin("nina", "correct horse battery")
	c.post("/language", url.Values{"lang": {"el"}, "next": {"https://evil.example/"}})
	u, err := h.store.UserByUsername(context.Background(), "nina")
	if err != nil || u.Language != "el" {
		t.Fatalf("language not saved in account: %+v %v", u, err)
	}
	fresh := h.client() // another browser: no cookie, English Accept-Language
	fresh.headers.Set("Accept-Language", "en")
	fresh.mustLogin("nina", "correct horse battery")
	if r := fresh.get("/"); !strings.Contains(r.body, "Πίνακας ελέγχου") {
		t.Errorf("account language not applied in another browser")
	}
}
