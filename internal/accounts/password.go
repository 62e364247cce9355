package accounts

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// commonPasswordsText is zxcvbn's list of common passwords, most common
// first, lower case, one a line (see data/LICENSE.txt).
//
//go:embed data/common-passwords.txt
var commonPasswordsText string

// commonPasswords is the list, sorted for binary search. The strings share
// the embedded text's memory.
var commonPasswords = sync.OnceValue(func() []string {
	list := strings.Fields(commonPasswordsText)
	slices.Sort(list)
	return slices.Compact(list)
})

// CommonPasswordCount returns the number of passwords in the embedded list.
func CommonPasswordCount() int { return len(commonPasswords()) }

// IsCommonPassword reports whether the password, ignoring case, is in the
// list of common passwords, or is one with digits or symbols added before
// or after (such as "Sunshine2024!").
func IsCommonPassword(password string) bool {
	p := strings.ToLower(password)
	if inList(p) {
		return true
	}
	core := strings.TrimFunc(p, func(r rune) bool { return !unicode.IsLetter(r) })
	return core != p && utf8.RuneCountInString(core) >= 4 && inList(core)
}

func inList(s string) bool {
	_, found := slices.BinarySearch(commonPasswords(), s)
	return found
}

// CheckPassword checks a new password and its confirmation against the
// policy: the length bounds, valid text, equal to the confirmation, not
// the username, address or name of the account (personal, with or without
// digits and symbols around it), not a common password, not one character
// repeated or a plain sequence ("abcdefghij", "9876543210"). It returns
// nil for an acceptable password; the error's field is "password", or
// "password2" for a confirmation that differs.
func (p Policy) CheckPassword(password, confirm string, personal ...string) *FieldError {
	const f = "password"
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password) || strings.ContainsFunc(password, unicode.IsControl):
		return invalid(f, i18n.M("accounts.password.invalid"))
	case n < p.PasswordMinLength:
		return invalid(f, i18n.M("accounts.password.too_short"), "Min", p.PasswordMinLength)
	case p.PasswordMaxLength > 0 && n > p.PasswordMaxLength:
		return invalid(f, i18n.M("accounts.password.too_long"), "Max", p.PasswordMaxLength)
	case password != confirm:
		return invalid("password2", i18n.M("accounts.password.mismatch"))
	case isPersonal(password, personal):
		return invalid(f, i18n.M("accounts.password.personal"))
	case IsCommonPassword(password):
		return invalid(f, i18n.M("accounts.password.common"))
	case isSimple(password):
		return invalid(f, i18n.M("accounts.password.simple"))
	}
	return nil
}

// isPersonal reports whether the password is one of the personal values
// (or an e-mail address's local part), ignoring case and digits or
// symbols around it.
func isPersonal(password string, personal []string) bool {
	p := strings.ToLower(password)
	core := strings.TrimFunc(p, func(r rune) bool { return !unicode.IsLetter(r) })
	for _, v := range personal {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			continue
		}
		candidates := []string{v}
		if local, _, ok := strings.Cut(v, "@"); ok && local != "" {
			candidates = append(candidates, local)
		}
		for _, c := range candidates {
			if p == c || (core == c && utf8.RuneCountInString(c) >= 3) {
				return true
			}
		}
	}
	return false
}

// isSimple reports whether s uses fewer than three different characters or
// is a run of consecutive characters, up or down.
func isSimple(s string) bool {
	r := []rune(strings.ToLower(s))
	distinct := map[rune]bool{}
	for _, c := range r {
		distinct[c] = true
	}
	if len(distinct) < 3 {
		return true
	}
	step := r[1] - r[0]
	if step != 1 && step != -1 {
		return false
	}
	for i := 2; i < len(r); i++ {
		if r[i]-r[i-1] != step {
			return false
		}
	}
	return true
}
