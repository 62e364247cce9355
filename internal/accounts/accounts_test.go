package accounts_test

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

func TestTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, hash, err := accounts.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != accounts.TokenLength || seen[tok] || strings.ContainsAny(tok, "+/=") {
			t.Fatalf("token %q", tok)
		}
		seen[tok] = true
		sum := sha256.Sum256([]byte(tok))
		if string(hash) != string(sum[:]) {
			t.Fatal("hash is not the SHA-256 of the token")
		}
		again, ok := accounts.HashToken(tok)
		if !ok || string(again) != string(hash) || !accounts.TokenMatches(tok, hash) {
			t.Fatalf("HashToken(%q) = %x %v", tok, again, ok)
		}
		if accounts.TokenMatches(tok+"x", hash) {
			t.Fatal("a different token matches")
		}
	}
	tok, _, _ := accounts.NewToken()
	for _, bad := range []string{"", "short", tok + "A", tok[:42] + "=", tok[:42] + "+", strings.Repeat("é", 22),
		base64.RawURLEncoding.EncodeToString(make([]byte, 31)) + "AA"} {
		if _, ok := accounts.HashToken(bad); ok {
			t.Errorf("HashToken(%q) accepted", bad)
		}
	}
}

func TestCommonPasswordList(t *testing.T) {
	if n := accounts.CommonPasswordCount(); n < 10000 {
		t.Fatalf("only %d common passwords", n)
	}
	for _, p := range []string{"password", "123456", "qwertyuiop", "PASSWORD", "Sunshine2024!", "iloveyou12345", "1q2w3e4r5t"} {
		if !accounts.IsCommonPassword(p) {
			t.Errorf("%q not found common", p)
		}
	}
	for _, p := range []string{"correct horse battery staple", "vq8#Lm2!xZ9p", "τυχαίος-κωδικός-42", "xx2024"} {
		if accounts.IsCommonPassword(p) {
			t.Errorf("%q found common", p)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	p := accounts.DefaultPolicy()
	ok := "Tr0ub4dor&3-horse"
	cases := []struct {
		password, confirm, field, id string
	}{
		{ok, ok, "", ""},
		{"correct horse battery staple", "correct horse battery staple", "", ""},
		{"κωδικός με ελληνικά", "κωδικός με ελληνικά", "", ""},
		{"short1!", "short1!", "password", "accounts.password.too_short"},
		{"ααααααααα", "ααααααααα", "password", "accounts.password.too_short"}, // 9 characters, 18 bytes
		{strings.Repeat("ab1", 86), strings.Repeat("ab1", 86), "password", "accounts.password.too_long"},
		{ok, ok + "x", "password2", "accounts.password.mismatch"},
		{"bad\x00password-here", "bad\x00password-here", "password", "accounts.password.invalid"},
		{"bad\xffpassword-here", "bad\xffpassword-here", "password", "accounts.password.invalid"},
		{"annabelle-smith", "annabelle-smith", "password", "accounts.password.personal"},
		{"Annabelle2024!!", "Annabelle2024!!", "password", "accounts.password.personal"},
		{"ann@example.org", "ann@example.org", "password", "accounts.password.personal"},
		{"baseball123", "baseball123", "password", "accounts.password.common"},
		{"qwertyuiop", "qwertyuiop", "password", "accounts.password.common"},
		{"aaaaaaaaaaaa", "aaaaaaaaaaaa", "password", "accounts.password.simple"},
		{"abababababab", "abababababab", "password", "accounts.password.simple"},
		{"abcdefghijklm", "abcdefghijklm", "password", "accounts.password.simple"},
		{"zyxwvutsrqpo", "zyxwvutsrqpo", "password", "accounts.password.simple"},
	}
	for _, c := range cases {
		err := p.CheckPassword(c.password, c.confirm, "annabelle-smith", "ann@example.org", "Annabelle", "Smith")
		switch {
		case c.id == "" && err != nil:
			t.Errorf("%q: refused: %v", c.password, err)
		case c.id != "" && (err == nil || err.Field != c.field || err.Message.Msg.ID() != c.id):
			t.Errorf("%q: got %v, want %s on %s", c.password, err, c.id, c.field)
		}
	}
	err := p.CheckPassword("short", "short")
	if args := err.Message.Args; len(args) != 2 || args[0] != "Min" || args[1] != 10 {
		t.Errorf("too short arguments %v", args)
	}
	strict := accounts.NewPolicy(config.Accounts{PasswordMinLength: 20})
	if err := strict.CheckPassword(ok, ok); err == nil || err.Message.Msg.ID() != "accounts.password.too_short" {
		t.Errorf("configured minimum ignored: %v", err)
	}
}

func TestCheckUsernameAndGroupName(t *testing.T) {
	for _, s := range []string{"ann", "a", "Ann.Smith-2", "ann@example.org", "a_b+c", strings.Repeat("a", accounts.MaxTagName)} {
		if err := accounts.CheckUsername(s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
		if err := accounts.CheckGroupName(s); err != nil {
			t.Errorf("group %q refused: %v", s, err)
		}
	}
	cases := map[string]string{
		"": "accounts.required",
		strings.Repeat("a", accounts.MaxTagName+1): "accounts.too_long",
		"has space": "accounts.username.invalid",
		"ελληνικά":  "accounts.username.invalid",
		"a:b":       "accounts.username.invalid",
		" ann":      "accounts.username.invalid",
	}
	for s, id := range cases {
		if err := accounts.CheckUsername(s); err == nil || err.Field != "username" || err.Message.Msg.ID() != id {
			t.Errorf("%q: got %v, want %s", s, err, id)
		}
	}
	if err := accounts.CheckGroupName("a b"); err == nil || err.Field != "name" || err.Message.Msg.ID() != "accounts.group.invalid" {
		t.Errorf("group name: %v", err)
	}
}

func TestNormalizeEmail(t *testing.T) {
	good := map[string]string{
		"ann@example.org":          "ann@example.org",
		"  Ann.Smith@Example.ORG ": "Ann.Smith@example.org",
		"a+tag@mail.example.co.uk": "a+tag@mail.example.co.uk",
		"άννα@παράδειγμα.ελ":       "άννα@παράδειγμα.ελ",
		"x@ΠΑΡΑΔΕΙΓΜΑ.ΕΛ":          "x@παραδειγμα.ελ",
	}
	for in, want := range good {
		got, err := accounts.NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                                       "accounts.required",
		"ann":                                    "accounts.email.invalid",
		"ann@":                                   "accounts.email.invalid",
		"@example.org":                           "accounts.email.invalid",
		"ann@localhost":                          "accounts.email.invalid",
		"Ann <ann@example.org>":                  "accounts.email.invalid",
		`"a b"@example.org`:                      "accounts.email.invalid",
		"ann@[192.0.2.1]":                        "accounts.email.invalid",
		"ann@exa mple.org":                       "accounts.email.invalid",
		"ann@-example.org":                       "accounts.email.invalid",
		"ann@example..org":                       "accounts.email.invalid",
		"a@b@example.org":                        "accounts.email.invalid",
		"ann@example.org\r\nBcc: x":              "accounts.email.invalid",
		strings.Repeat("a", 65) + "@example.org": "accounts.email.invalid",
		"a@" + strings.Repeat("b", 250) + ".org": "accounts.too_long",
	}
	for in, id := range bad {
		if _, err := accounts.NormalizeEmail(in); err == nil || err.Field != "email" || err.Message.Msg.ID() != id {
			t.Errorf("NormalizeEmail(%q): got %v, want %s", in, err, id)
		}
	}
}

func TestNormalizePhoneAndNames(t *testing.T) {
	for in, want := range map[string]string{"": "", " +30 210 123 4567 ": "+30 210 123 4567", "(210) 555-01.23/4": "(210) 555-01.23/4"} {
		if got, err := accounts.NormalizePhone(in); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q %v", in, got, err)
		}
	}
	for _, in := range []string{"12", "call me", "30+210", "+30 " + strings.Repeat("1", 40)} {
		if _, err := accounts.NormalizePhone(in); err == nil || err.Field != "phone" {
			t.Errorf("NormalizePhone(%q) accepted", in)
		}
	}
	if got, err := accounts.CheckName("first_name", "  Ελένη "); err != nil || got != "Ελένη" {
		t.Errorf("CheckName: %q %v", got, err)
	}
	for in, id := range map[string]string{"": "accounts.required", "  ": "accounts.required",
		strings.Repeat("x", 151): "accounts.too_long", "a\x07b": "accounts.control"} {
		if _, err := accounts.CheckName("last_name", in); err == nil || err.Field != "last_name" || err.Message.Msg.ID() != id {
			t.Errorf("CheckName(%q): %v, want %s", in, err, id)
		}
	}
}

func TestCheckRegistration(t *testing.T) {
	p := accounts.DefaultPolicy()
	f, errs := p.CheckRegistration(accounts.RegistrationForm{Username: "ann", Email: " Ann@Example.ORG ",
		Password: "Tr0ub4dor&3-horse", PasswordConfirm: "Tr0ub4dor&3-horse", FirstName: " Ann ", LastName: "Smith", Phone: " 2101234567"})
	if len(errs) != 0 || f.Email != "Ann@example.org" || f.FirstName != "Ann" || f.Phone != "2101234567" {
		t.Errorf("got %+v %v", f, errs)
	}
	f, errs = p.CheckRegistration(accounts.RegistrationForm{Username: "a b", Email: "nope", Password: "password",
		PasswordConfirm: "password", Phone: "x"})
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if strings.Join(fields, ",") != "username,email,password,first_name,last_name,phone" || f.Email != "nope" {
		t.Errorf("fields %v, form %+v", fields, f)
	}
}

func TestCheckOrganization(t *testing.T) {
	in, errs := accounts.CheckOrganization(store.OrganizationInput{Title: " GRNET ", Website: "https://grnet.gr",
		Email: " Info@GRNET.gr", Phone: "+30 210 7474 274", Tag: "grnet"})
	if len(errs) != 0 || in.Title != "GRNET" || in.Email != "Info@grnet.gr" {
		t.Errorf("got %+v %v", in, errs)
	}
	if _, errs := accounts.CheckOrganization(store.OrganizationInput{Title: "Only a title"}); len(errs) != 0 {
		t.Errorf("optional fields: %v", errs)
	}
	_, errs = accounts.CheckOrganization(store.OrganizationInput{Website: "ftp://x", Email: "x", Phone: "y", Tag: "a:b"})
	var got []string
	for _, e := range errs {
		got = append(got, e.Field+"="+e.Message.Msg.ID())
	}
	want := "title=accounts.required,website=accounts.website.invalid,email=accounts.email.invalid,phone=accounts.phone.invalid,tag=accounts.tag.invalid"
	if strings.Join(got, ",") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	for _, bad := range []string{"https://", "https://user:pw@x.org", "javascript:alert(1)", "http://a b.org"} {
		if _, errs := accounts.CheckOrganization(store.OrganizationInput{Title: "t", Website: bad}); len(errs) != 1 {
			t.Errorf("website %q accepted", bad)
		}
	}
	if err := accounts.CheckOrganizationTag(strings.Repeat("a", accounts.MaxOrgTagLength+1)); err == nil {
		t.Error("long tag accepted")
	}
}

func TestCanLogIn(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name string
		u    store.User
		ok   bool
		id   string
	}{
		{"active", store.User{IsActive: true, Approval: store.ApprovalApproved, EmailVerifiedAt: &now}, true, ""},
		{"deactivated", store.User{Approval: store.ApprovalApproved, EmailVerifiedAt: &now}, false, "login.inactive"},
		{"unverified", store.User{Approval: store.ApprovalPending}, false, "accounts.login.unverified"},
		{"awaiting approval", store.User{Approval: store.ApprovalPending, EmailVerifiedAt: &now}, false, "accounts.login.pending"},
		{"rejected", store.User{Approval: store.ApprovalRejected, EmailVerifiedAt: &now, ApprovalDecidedAt: &now}, false, "accounts.login.rejected"},
	}
	for _, c := range cases {
		ok, why := accounts.CanLogIn(&c.u)
		if ok != c.ok || why.ID() != c.id {
			t.Errorf("%s: got %v %q, want %v %q", c.name, ok, why.ID(), c.ok, c.id)
		}
	}
	if ok, _ := accounts.CanLogIn(nil); ok {
		t.Error("nil user may log in")
	}
}

// TestMessagesTranslated checks that every message id this package and
// sshkeys return has an English and a Greek text that differ.
func TestMessagesTranslated(t *testing.T) {
	b, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	ids := 0
	for _, id := range b.MessageIDs("en") {
		if !strings.HasPrefix(id, "accounts.") && !strings.HasPrefix(id, "sshkeys.") {
			continue
		}
		ids++
		en, el := b.Localizer("en").T(id, "Max", 5, "Min", 10, "Bits", 1024, "Type", "ssh-x"), b.Localizer("el").T(id, "Max", 5, "Min", 10, "Bits", 1024, "Type", "ssh-x")
		if en == id || el == id || en == el || strings.Contains(en+el, "<no value>") {
			t.Errorf("%s: en %q, el %q", id, en, el)
		}
	}
	if ids < 30 {
		t.Errorf("only %d account messages", ids)
	}
	if got := b.Localizer("el").Text(i18n.Message{Msg: accounts.WelcomeMessage()}); !strings.Contains(got, "SSH") {
		t.Errorf("welcome: %q", got)
	}
}
