package mail_test

import (
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
)

// TestInstanceRefusedMailRenders renders the administrators' mail about a
// refused attempt on an instance in English and Greek, with and without
// its optional parts.
func TestInstanceRefusedMailRenders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Options{})
	full := mail.InstanceRefused{Username: "sam", Cluster: "c1", Instance: "web.example.org", Action: "destroy",
		Detail: "rename to www.example.org", Addr: "2001:db8::7", Path: "/instances/c1/web.example.org/"}
	bare := full
	bare.Detail, bare.Addr = "", ""
	for _, m := range []mail.InstanceRefused{full, bare} {
		for _, lang := range []string{"en", "el"} {
			r, err := e.outbox.Render(mail.Recipient{Address: "admins@example.org", Lang: lang}, m)
			if err != nil {
				t.Fatalf("%s: %v", lang, err)
			}
			all := r.Subject + "\n" + r.Text
			if strings.Contains(all, "mail.") || strings.Contains(all, "<no value>") || strings.Contains(r.Text, "\n\n\n") {
				t.Errorf("%s: untranslated or untidy:\n%s", lang, all)
			}
			if hasGreek(all) != (lang == "el") {
				t.Errorf("%s: Greek text present = %v:\n%s", lang, hasGreek(all), all)
			}
			if !strings.Contains(r.Subject, "sam") || !strings.Contains(r.Subject, "web.example.org") ||
				!strings.Contains(r.Text, "destroy") || !strings.Contains(r.Text, "c1") {
				t.Errorf("%s: subject %q, body:\n%s", lang, r.Subject, r.Text)
			}
			if strings.Contains(r.Text, "2001:db8::7") != (m.Addr != "") ||
				strings.Contains(r.Text, "rename to www.example.org") != (m.Detail != "") {
				t.Errorf("%s: optional parts wrong:\n%s", lang, r.Text)
			}
			if links := smtptest.Links(r.Text); len(links) != 2 || links[0] != baseURL+"/instances/c1/web.example.org/" {
				t.Errorf("%s: links %q", lang, links)
			}
		}
	}
}
