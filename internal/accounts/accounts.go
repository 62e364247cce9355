// Package accounts holds the rules of ganetimgr's user accounts that need
// neither the web nor the database: the single-use tokens mailed to users,
// the password policy (with an embedded list of common passwords), the
// rules for usernames, e-mail addresses, names, phone numbers,
// organizations and group names, and whether an account may log in.
//
// Every rejection is a *FieldError carrying an i18n message (ids in
// locales/accounts.*.json), translated by the page that shows it.
package accounts

import (
	"time"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// FieldError is a rejected form value: the field's name and why.
type FieldError struct {
	// Field is the form field: "username", "email", "password",
	// "password2", "first_name", "last_name", "phone", "title", "website",
	// "tag" or "name".
	Field string
	// Message says what is wrong, in the user's language once translated.
	Message i18n.Message
}

// Error returns the field and message id (for logs; pages translate
// Message).
func (e *FieldError) Error() string { return "accounts: " + e.Field + ": " + e.Message.Msg.ID() }

func invalid(field string, m i18n.Msg, args ...any) *FieldError {
	return &FieldError{Field: field, Message: i18n.Message{Msg: m, Args: args}}
}

// Policy is the configurable part of the account rules.
type Policy struct {
	// RegistrationOpen lets anyone register.
	RegistrationOpen bool
	// ActivationTTL, PasswordResetTTL and EmailChangeTTL are the lifetimes
	// of the mailed links.
	ActivationTTL    time.Duration
	PasswordResetTTL time.Duration
	EmailChangeTTL   time.Duration
	// PasswordMinLength and PasswordMaxLength bound a new password, in
	// characters.
	PasswordMinLength int
	PasswordMaxLength int
}

// DefaultPasswordMaxLength bounds new passwords. At most 4 bytes a
// character, such a password stays within what the login form accepts
// (1024 bytes).
const DefaultPasswordMaxLength = 256

// NewPolicy returns the policy of a configuration.
func NewPolicy(c config.Accounts) Policy {
	return Policy{
		RegistrationOpen:  c.RegistrationOpen,
		ActivationTTL:     c.ActivationTTL,
		PasswordResetTTL:  c.PasswordResetTTL,
		EmailChangeTTL:    c.EmailChangeTTL,
		PasswordMinLength: c.PasswordMinLength,
		PasswordMaxLength: DefaultPasswordMaxLength,
	}
}

// DefaultPolicy returns the policy of the default configuration.
func DefaultPolicy() Policy {
	return Policy{
		RegistrationOpen:  true,
		ActivationTTL:     10 * 24 * time.Hour,
		PasswordResetTTL:  24 * time.Hour,
		EmailChangeTTL:    48 * time.Hour,
		PasswordMinLength: 10,
		PasswordMaxLength: DefaultPasswordMaxLength,
	}
}

// CanLogIn decides, once the password was found correct, whether the
// account may log in. When it may not, the message says why: the address
// is not confirmed yet, the registration awaits approval, it was rejected,
// or the account was deactivated. Only after a correct password may the
// reason be shown, so it reveals nothing to someone guessing.
func CanLogIn(u *store.User) (bool, i18n.Msg) {
	if u == nil {
		return false, i18n.M("login.inactive")
	}
	switch u.State() {
	case store.StateActive:
		return true, i18n.Msg{}
	case store.StateUnverified:
		return false, i18n.M("accounts.login.unverified")
	case store.StatePending:
		return false, i18n.M("accounts.login.pending")
	case store.StateRejected:
		return false, i18n.M("accounts.login.rejected")
	}
	return false, i18n.M("login.inactive")
}

// WelcomeMessage is the message shown once, at an account's first login
// (see store.MarkWelcomed).
func WelcomeMessage() i18n.Msg { return i18n.M("accounts.welcome") }
