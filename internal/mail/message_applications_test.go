package mail_test

import (
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
)

// TestApplicationMailsRender renders every application mail in English
// and Greek: translated, tidy, with its link on the base URL.
func TestApplicationMailsRender(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Options{})
	cases := []struct {
		m    mail.Mail
		link string
		has  []string
	}{
		{mail.ApplicationReceived{ID: 12, Hostname: "web.example.org", Username: "ann", Name: "Ann Smith",
			Email: "ann@example.org", MemoryMB: 1024, VCPUs: 2, DiskGB: 10, OS: "Debian 12", Network: "Lab (c1)",
			Organization: "GRNET", AdminContact: "Bob, bob@example.org, 2100000000", HostsMailServer: true,
			Comments: "A web server\nfor the lab", Path: "/applications/12/"},
			baseURL + "/applications/12/", []string{"web.example.org", "1024", "Debian 12", "GRNET", "> for the lab", "#12"}},
		{mail.ApplicationRefused{ID: 12, Hostname: "web.example.org", Reason: "No mail relays,\nsorry.", Path: "/applications/12/"},
			baseURL + "/applications/12/", []string{"web.example.org", "> No mail relays,\n> sorry."}},
		{mail.ApplicationCreated{ID: 12, Hostname: "web.example.org", Cluster: "c1", Comments: "Enjoy.",
			Path: "/instances/c1/web.example.org/"}, baseURL + "/instances/c1/web.example.org/", []string{"web.example.org", "> Enjoy."}},
		{mail.ApplicationCreated{ID: 12, Hostname: "web.example.org", Cluster: "c1", ApprovedBy: "rev",
			Path: "/instances/c1/web.example.org/"}, baseURL + "/instances/c1/web.example.org/", []string{"c1", "rev"}},
		{mail.ApplicationFailed{ID: 12, Hostname: "web.example.org", Cluster: "c1", JobID: 77,
			Message: "OpPrereqError: violates policy (wrong_input)", Path: "/applications/12/"},
			baseURL + "/applications/12/", []string{"c1", "77", "> OpPrereqError: violates policy (wrong_input)"}},
	}
	for _, tc := range cases {
		for _, lang := range []string{"en", "el"} {
			r, err := e.outbox.Render(mail.Recipient{Address: "ann@example.org", Name: "Ann", Lang: lang}, tc.m)
			if err != nil {
				t.Errorf("%s/%s: %v", tc.m.Template(), lang, err)
				continue
			}
			all := r.Subject + "\n" + r.Text
			if strings.Contains(all, "mail.") || strings.Contains(all, "<no value>") {
				t.Errorf("%s/%s: an untranslated id or missing value:\n%s", tc.m.Template(), lang, all)
			}
			if hasGreek(all) != (lang == "el") {
				t.Errorf("%s/%s: Greek text present = %v:\n%s", tc.m.Template(), lang, hasGreek(all), all)
			}
			if !strings.Contains(r.Subject, "web.example.org") || strings.Contains(r.Text, "\n\n\n") {
				t.Errorf("%s/%s: subject %q, body:\n%s", tc.m.Template(), lang, r.Subject, r.Text)
			}
			for _, s := range tc.has {
				if !strings.Contains(r.Text, s) {
					t.Errorf("%s/%s: body lacks %q:\n%s", tc.m.Template(), lang, s, r.Text)
				}
			}
			if links := smtptest.Links(r.Text); len(links) != 2 || links[0] != tc.link {
				t.Errorf("%s/%s: links %q, want %q and the site", tc.m.Template(), lang, links, tc.link)
			}
		}
	}
}
