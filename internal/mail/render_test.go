package mail_test

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
)

// everyMail is one of each mail, with the link each must carry.
func everyMail() []struct {
	m    mail.Mail
	link string
} {
	day := 24 * time.Hour
	return []struct {
		m    mail.Mail
		link string
	}{
		{mail.VerifyEmail{Username: "ann", Path: "/accounts/verify/v3r1fy", Expiry: 3 * day}, baseURL + "/accounts/verify/v3r1fy"},
		{mail.ApprovalRequest{Username: "ann", Name: "Ann Smith", Email: "ann@example.org", Organization: "GRNET",
			Phone: "+30 210 0000000", Comments: "Research VMs\nfor a semester", Path: "/admin/users/7/review"}, baseURL + "/admin/users/7/review"},
		{mail.AccountApproved{Username: "ann", Path: "/login"}, baseURL + "/login"},
		{mail.AccountRejected{Username: "ann", Reason: "Not a member\nof an institution"}, ""},
		{mail.PasswordReset{Username: "ann", Path: "/accounts/reset/r3s3t?x=1", Expiry: 2 * time.Hour}, baseURL + "/accounts/reset/r3s3t?x=1"},
		{mail.PasswordChanged{Username: "ann", Path: "/accounts/reset"}, baseURL + "/accounts/reset"},
		{mail.EmailChangeConfirm{Username: "ann", Path: "/accounts/email/c0nf1rm", Expiry: day}, baseURL + "/accounts/email/c0nf1rm"},
		{mail.EmailChangeNotice{Username: "ann", NewAddress: "ann@new.example.org", Path: "/accounts/reset"}, baseURL + "/accounts/reset"},
	}
}

func hasGreek(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Greek, r) {
			return true
		}
	}
	return false
}

func TestTemplatesRenderInEnglishAndGreek(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Options{})
	for _, tc := range everyMail() {
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
			if !strings.Contains(r.Text, "ann") || !strings.HasSuffix(r.Text, "\n") || strings.Contains(r.Text, "\n\n\n") {
				t.Errorf("%s/%s: body lacks the username or is untidy:\n%q", tc.m.Template(), lang, r.Text)
			}
			if !strings.Contains(r.Text, "\n-- \n") || !strings.Contains(r.Text, baseURL+"/\n") {
				t.Errorf("%s/%s: no signature with the site's address:\n%s", tc.m.Template(), lang, r.Text)
			}
			links := smtptest.Links(r.Text)
			if tc.link != "" && (len(links) != 2 || links[0] != tc.link) {
				t.Errorf("%s/%s: links %q, want %q and the site", tc.m.Template(), lang, links, tc.link)
			}
			for _, l := range links {
				if !strings.HasPrefix(l, baseURL+"/") {
					t.Errorf("%s/%s: link %q is not on the base URL", tc.m.Template(), lang, l)
				}
			}
		}
	}
}

func TestRenderedDetails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Options{})
	to := mail.Recipient{Address: "ann@example.org", Name: "Ann", Lang: "el"}
	cases := []struct {
		m    mail.Mail
		want []string
	}{
		{mail.VerifyEmail{Username: "ann", Path: "/v", Expiry: 72 * time.Hour}, []string{"Γεια σας Ann,", "ισχύει για 3 ημέρες", "«Διαχείριση Ganeti»"}},
		{mail.PasswordReset{Username: "ann", Path: "/r", Expiry: time.Hour}, []string{"ισχύει για 1 ώρα."}},
		{mail.PasswordReset{Username: "ann", Path: "/r", Expiry: 90 * time.Minute}, []string{"ισχύει για 2 ώρες."}},
		{mail.EmailChangeConfirm{Username: "ann", Path: "/c", Expiry: 30 * time.Minute}, []string{"ισχύει για 30 λεπτά."}},
		{mail.EmailChangeNotice{Username: "ann", NewAddress: "new@example.org", Path: "/r"}, []string{"σε new@example.org"}},
		{mail.AccountRejected{Username: "ann", Reason: "one\r\ntwo\x07"}, []string{"Αιτιολογία:\n> one\n> two\n"}},
	}
	for _, c := range cases {
		r, err := e.outbox.Render(to, c.m)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(r.Text, w) {
				t.Errorf("%s: body lacks %q:\n%s", c.m.Template(), w, r.Text)
			}
		}
	}

	en, err := e.outbox.Render(mail.Recipient{Address: "x@example.org", Lang: "xx"}, mail.ApprovalRequest{Username: "bob", Email: "bob@example.org", Path: "/review"})
	if err != nil {
		t.Fatal(err)
	}
	if en.Subject != "Account awaiting approval: bob – Ganeti Manager" || !strings.HasPrefix(en.Text, "Hello,\n") ||
		!strings.Contains(en.Text, "Username: bob\nE-mail: bob@example.org\n\n") || strings.Contains(en.Text, "Organization") {
		t.Errorf("admin mail in the default language without optional fields:\n%s\n%s", en.Subject, en.Text)
	}
	if r, _ := e.outbox.Render(to, mail.AccountApproved{Username: "ann", Path: "/login"}); r.Subject != "Ο λογαριασμός σας εγκρίθηκε – Διαχείριση Ganeti" {
		t.Errorf("Greek subject = %q", r.Subject)
	}
}

func TestRenderRefusesBadLinksAndExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Options{})
	to := mail.Recipient{Address: "ann@example.org"}
	for _, m := range []mail.Mail{
		mail.AccountApproved{Path: "https://evil.example.org/login"},
		mail.AccountApproved{Path: "//evil.example.org/login"},
		mail.AccountApproved{Path: "login"},
		mail.AccountApproved{Path: "/log in"},
		mail.AccountApproved{Path: ""},
		mail.VerifyEmail{Path: "/v"},                       // no expiry
		mail.PasswordReset{Path: "/r", Expiry: -time.Hour}, // negative expiry
	} {
		if r, err := e.outbox.Render(to, m); err == nil {
			t.Errorf("%#v rendered:\n%s", m, r.Text)
		}
	}
}
