package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestProfileEdit: names, phone, organization (from the administrators'
// list) and language are saved; bad values are refused on their field.
func TestProfileEdit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	grnet, err := h.store.CreateOrganization(ctx, store.OrganizationInput{Title: "GRNET", Tag: "grnet"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.CreateOrganization(ctx, store.OrganizationInput{Title: "NTUA"}); err != nil {
		t.Fatal(err)
	}
	h.user("wes", "correct horse battery", false)
	c := h.client()
	c.mustLogin("wes", "correct horse battery")
	home := c.get("/")
	for _, want := range []string{`href="/profile"`, `href="/profile/keys"`} {
		if !strings.Contains(home.body, want) {
			t.Errorf("navigation lacks %s", want)
		}
	}
	p := c.get("/profile")
	if p.StatusCode != http.StatusOK || !strings.Contains(p.body, "wes@example.org") || !strings.Contains(p.body, "NTUA") {
		t.Fatalf("profile: %d\n%s", p.StatusCode, p.body)
	}
	good := url.Values{"first_name": {" Wes "}, "last_name": {"Anderson"}, "phone": {"+30 210 555 0000"},
		"organization": {strconv.FormatInt(grnet.ID, 10)}, "language": {"el"}}
	for field, bad := range map[string]string{"first_name": "", "phone": "call me", "organization": "999999", "language": "xx"} {
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		form.Set(field, bad)
		r := c.post("/profile", form)
		if r.StatusCode != http.StatusUnprocessableEntity || fieldErrors(r.body)[field] == "" {
			t.Errorf("%s=%q: %d %v", field, bad, r.StatusCode, fieldErrors(r.body))
		}
	}
	r := c.post("/profile", good)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" {
		t.Fatalf("save: %d\n%s", r.StatusCode, r.body)
	}
	u := mustUser(t, h, "wes")
	if u.FirstName != "Wes" || u.LastName != "Anderson" || u.Phone != "+30 210 555 0000" || u.Language != "el" ||
		u.OrganizationID == nil || *u.OrganizationID != grnet.ID {
		t.Errorf("saved profile: %+v", u)
	}
	p = c.get("/profile")
	if !strings.Contains(p.body, `lang="el"`) || !strings.Contains(p.body, "Το προφίλ σας αποθηκεύτηκε") ||
		!strings.Contains(p.body, `value="`+strconv.FormatInt(grnet.ID, 10)+`" selected`) {
		t.Errorf("profile after saving (now in Greek):\n%s", p.body)
	}
	// No organization, browser's language.
	r = c.post("/profile", url.Values{"first_name": {"Wes"}, "last_name": {"Anderson"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear: %d", r.StatusCode)
	}
	if u := mustUser(t, h, "wes"); u.OrganizationID != nil || u.Phone != "" || u.Language != "" {
		t.Errorf("cleared profile: %+v", u)
	}
}
