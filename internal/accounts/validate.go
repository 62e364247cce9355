package accounts

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Length limits of account fields, in characters.
const (
	// MaxTagName bounds new usernames and group names. They become Ganeti
	// tags (<prefix>:user:<name>, <prefix>:group:<name>), which Ganeti caps
	// at 128 characters; 50 leaves room for any tag prefix.
	MaxTagName = 50
	// MaxEmailLength is the longest address (RFC 5321's path limit less
	// the angle brackets), MaxEmailLocal the longest part before the @.
	MaxEmailLength = 254
	MaxEmailLocal  = 64
	// MaxNameLength bounds first and last names (the users table's limit).
	MaxNameLength = 150
	// MaxPhoneLength bounds phone numbers.
	MaxPhoneLength = 32
	// MaxTitleLength bounds organization titles and websites.
	MaxTitleLength = 255
	// MaxOrgTagLength bounds organization tags.
	MaxOrgTagLength = 50
)

// CheckUsername checks a new username: 1 to MaxTagName ASCII letters,
// digits or _ . @ + - (the users table's rule, shorter so it fits a Ganeti
// tag). Surrounding spaces are not trimmed: a username is taken as typed.
func CheckUsername(s string) *FieldError {
	return checkTagName("username", s, i18n.M("accounts.username.invalid"))
}

// CheckGroupName checks a new group name, under the same rule as
// usernames; the error's field is "name".
func CheckGroupName(s string) *FieldError {
	return checkTagName("name", s, i18n.M("accounts.group.invalid"))
}

func checkTagName(field, s string, bad i18n.Msg) *FieldError {
	switch {
	case s == "":
		return invalid(field, i18n.M("accounts.required"))
	case len(s) > MaxTagName:
		return invalid(field, i18n.M("accounts.too_long"), "Max", MaxTagName)
	case !auth.ValidUsername(s):
		return invalid(field, bad)
	}
	return nil
}

// NormalizeEmail checks an e-mail address and returns it in the form to
// store: trimmed, with the domain in lower case (the part before the @ is
// kept as typed; addresses are compared case-insensitively anyway). It
// accepts a bare address only: no display name, no comments, no quoted
// local part, no IP-literal domain, at most MaxEmailLength characters.
func NormalizeEmail(s string) (string, *FieldError) {
	const f = "email"
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", invalid(f, i18n.M("accounts.required"))
	case utf8.RuneCountInString(s) > MaxEmailLength:
		return "", invalid(f, i18n.M("accounts.too_long"), "Max", MaxEmailLength)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`"<>()[],;:\`, r)
	}):
		return "", invalid(f, i18n.M("accounts.email.invalid"))
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", invalid(f, i18n.M("accounts.email.invalid"))
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if local == "" || utf8.RuneCountInString(local) > MaxEmailLocal || !validDomain(domain) {
		return "", invalid(f, i18n.M("accounts.email.invalid"))
	}
	return local + "@" + domain, nil
}

// validDomain reports whether d is a domain name of at least two labels,
// each of letters, digits and inner hyphens.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
		for _, r := range l {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
				return false
			}
		}
	}
	return true
}

// CheckName checks and trims a first or last name (field "first_name" or
// "last_name"): required, at most MaxNameLength characters, no control
// characters.
func CheckName(field, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	return s, checkText(field, s, true, MaxNameLength)
}

// checkText checks a free-text field.
func checkText(field, s string, required bool, max int) *FieldError {
	switch {
	case s == "" && required:
		return invalid(field, i18n.M("accounts.required"))
	case utf8.RuneCountInString(s) > max:
		return invalid(field, i18n.M("accounts.too_long"), "Max", max)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		return invalid(field, i18n.M("accounts.control"))
	}
	return nil
}

// NormalizePhone checks an optional phone number (field "phone") and
// returns it trimmed: digits, spaces and + - ( ) . /, a + only at the
// start, at least 3 digits, at most MaxPhoneLength characters. An empty
// number is accepted.
func NormalizePhone(s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > MaxPhoneLength {
		return "", invalid("phone", i18n.M("accounts.too_long"), "Max", MaxPhoneLength)
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, strings.ContainsRune(" -()./", r):
		default:
			return "", invalid("phone", i18n.M("accounts.phone.invalid"))
		}
	}
	if digits < 3 {
		return "", invalid("phone", i18n.M("accounts.phone.invalid"))
	}
	return s, nil
}

// RegistrationForm is what a person fills in to register.
type RegistrationForm struct {
	Username        string
	Email           string
	Password        string
	PasswordConfirm string
	FirstName       string
	LastName        string
	Phone           string
}

// CheckRegistration checks a registration form. It returns the form
// normalised (address, names and phone trimmed and normalised) and the
// problems, at most one per field, in the form's order; none means the
// form is acceptable (a taken username or address is for the store to
// say).
func (p Policy) CheckRegistration(f RegistrationForm) (RegistrationForm, []*FieldError) {
	var errs []*FieldError
	add := func(e *FieldError) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	var e *FieldError
	add(CheckUsername(f.Username))
	f.Email, e = normalizeKeep(f.Email, NormalizeEmail)
	add(e)
	add(p.CheckPassword(f.Password, f.PasswordConfirm, f.Username, f.Email, f.FirstName, f.LastName))
	f.FirstName, e = CheckName("first_name", f.FirstName)
	add(e)
	f.LastName, e = CheckName("last_name", f.LastName)
	add(e)
	f.Phone, e = normalizeKeep(f.Phone, NormalizePhone)
	add(e)
	return f, errs
}

// normalizeKeep applies a normaliser and keeps the trimmed input when it
// fails, so a form shows back what was typed.
func normalizeKeep(s string, norm func(string) (string, *FieldError)) (string, *FieldError) {
	out, err := norm(s)
	if err != nil {
		return strings.TrimSpace(s), err
	}
	return out, nil
}

// CheckOrganization checks an organization and returns it normalised:
// title required (at most MaxTitleLength characters); website optional,
// an http or https URL; e-mail address and phone optional, checked as a
// user's; tag optional, 1 to MaxOrgTagLength letters, digits, _ or -
// (it becomes the Ganeti tag <prefix>:org:<tag>). Errors name the fields
// "title", "website", "email", "phone" and "tag".
func CheckOrganization(in store.OrganizationInput) (store.OrganizationInput, []*FieldError) {
	var errs []*FieldError
	add := func(e *FieldError) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	in.Title = strings.TrimSpace(in.Title)
	add(checkText("title", in.Title, true, MaxTitleLength))
	in.Website = strings.TrimSpace(in.Website)
	add(checkWebsite(in.Website))
	if strings.TrimSpace(in.Email) != "" {
		var e *FieldError
		in.Email, e = normalizeKeep(in.Email, NormalizeEmail)
		add(e)
	} else {
		in.Email = ""
	}
	var e *FieldError
	in.Phone, e = normalizeKeep(in.Phone, NormalizePhone)
	add(e)
	in.Tag = strings.TrimSpace(in.Tag)
	add(CheckOrganizationTag(in.Tag))
	return in, errs
}

// CheckOrganizationTag checks an optional organization tag (field "tag").
func CheckOrganizationTag(tag string) *FieldError {
	if tag == "" {
		return nil
	}
	if len(tag) > MaxOrgTagLength {
		return invalid("tag", i18n.M("accounts.too_long"), "Max", MaxOrgTagLength)
	}
	for _, r := range tag {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return invalid("tag", i18n.M("accounts.tag.invalid"))
		}
	}
	return nil
}

func checkWebsite(s string) *FieldError {
	if s == "" {
		return nil
	}
	if e := checkText("website", s, false, MaxTitleLength); e != nil {
		return e
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.ContainsFunc(s, unicode.IsSpace) {
		return invalid("website", i18n.M("accounts.website.invalid"))
	}
	return nil
}
