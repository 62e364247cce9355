package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
)

// TestInstanceConfirmRenders renders the confirmation mail of each action
// in English and Greek: translated, with the instance in the subject, what
// is asked in the body, the link on the base URL and its expiry; an
// unknown action does not render.
func TestInstanceConfirmRenders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Options{})
	const path = "/instances/confirm/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"
	cases := []struct {
		m   mail.InstanceConfirm
		has map[string][]string
	}{
		{mail.InstanceConfirm{Action: mail.ConfirmReinstall, OS: "Debian 12 (bookworm)"},
			map[string][]string{"en": {"reinstall", "Debian 12 (bookworm)", "All data"}, "el": {"επανεγκατάσταση", "Debian 12 (bookworm)"}}},
		{mail.InstanceConfirm{Action: mail.ConfirmReinstall},
			map[string][]string{"en": {"its current operating system"}, "el": {"τρέχον λειτουργικό"}}},
		{mail.InstanceConfirm{Action: mail.ConfirmRename, NewName: "new.example.org"},
			map[string][]string{"en": {"rename", "new.example.org", "stopped"}, "el": {"μετονομασία", "new.example.org"}}},
		{mail.InstanceConfirm{Action: mail.ConfirmDestroy},
			map[string][]string{"en": {"destroy", "cannot be undone"}, "el": {"διαγραφή", "οριστικά"}}},
	}
	for _, tc := range cases {
		m := tc.m
		m.Username, m.Instance, m.Cluster, m.Path, m.Expiry = "ann", "web.example.org", "c1", path, 7*24*time.Hour
		for _, lang := range []string{"en", "el"} {
			r, err := e.outbox.Render(mail.Recipient{Address: "ann@example.org", Name: "Ann", Lang: lang}, m)
			if err != nil {
				t.Errorf("%s/%s: %v", m.Action, lang, err)
				continue
			}
			all := r.Subject + "\n" + r.Text
			if strings.Contains(all, "mail.") || strings.Contains(all, "<no value>") || hasGreek(all) != (lang == "el") {
				t.Errorf("%s/%s: untranslated or wrong language:\n%s", m.Action, lang, all)
			}
			if !strings.Contains(r.Subject, "web.example.org") || !strings.Contains(r.Text, "c1") ||
				!strings.Contains(r.Text, "ann") || strings.Contains(r.Text, "\n\n\n") {
				t.Errorf("%s/%s: subject %q, body:\n%s", m.Action, lang, r.Subject, r.Text)
			}
			for _, s := range tc.has[lang] {
				if !strings.Contains(all, s) {
					t.Errorf("%s/%s: lacks %q:\n%s", m.Action, lang, s, all)
				}
			}
			if !strings.Contains(r.Text, map[string]string{"en": "7 days", "el": "7 ημέρες"}[lang]) {
				t.Errorf("%s/%s: no expiry:\n%s", m.Action, lang, r.Text)
			}
			if links := smtptest.Links(r.Text); len(links) != 2 || links[0] != baseURL+path {
				t.Errorf("%s/%s: links %q", m.Action, lang, links)
			}
		}
	}
	if _, err := e.outbox.Render(mail.Recipient{Address: "ann@example.org"}, mail.InstanceConfirm{Action: "start",
		Instance: "web.example.org", Path: path, Expiry: time.Hour}); err == nil {
		t.Error("a confirmation of an unknown action rendered")
	}
}
