package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAccountsDefaults(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Accounts{RegistrationOpen: true, ActivationTTL: 10 * 24 * time.Hour, PasswordResetTTL: 24 * time.Hour,
		EmailChangeTTL: 48 * time.Hour, PasswordMinLength: 10}
	if c.Accounts != want {
		t.Errorf("got %+v, want %+v", c.Accounts, want)
	}
}

func TestAccountsSettings(t *testing.T) {
	c, err := load(map[string]string{
		"GANETIMGR_REGISTRATION":            "Closed",
		"GANETIMGR_ACCOUNT_ACTIVATION_DAYS": "3",
		"GANETIMGR_PASSWORD_RESET_HOURS":    "2",
		"GANETIMGR_EMAIL_CHANGE_HOURS":      "168",
		"GANETIMGR_PASSWORD_MIN_LENGTH":     "12",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Accounts{RegistrationOpen: false, ActivationTTL: 3 * 24 * time.Hour, PasswordResetTTL: 2 * time.Hour,
		EmailChangeTTL: 168 * time.Hour, PasswordMinLength: 12}
	if c.Accounts != want {
		t.Errorf("got %+v, want %+v", c.Accounts, want)
	}
}

func TestAccountsInvalidSettings(t *testing.T) {
	cases := []struct{ name, value, problem string }{
		{"GANETIMGR_REGISTRATION", "maybe", "one of open, closed"},
		{"GANETIMGR_ACCOUNT_ACTIVATION_DAYS", "0", "1 to 365"},
		{"GANETIMGR_ACCOUNT_ACTIVATION_DAYS", "10d", "1 to 365"},
		{"GANETIMGR_PASSWORD_RESET_HOURS", "169", "1 to 168"},
		{"GANETIMGR_EMAIL_CHANGE_HOURS", "-1", "1 to 168"},
		{"GANETIMGR_PASSWORD_MIN_LENGTH", "6", "8 to 128"},
	}
	for _, tc := range cases {
		_, err := load(map[string]string{tc.name: tc.value})
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != tc.name || !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("%s=%s: got %v, want an error for %s mentioning %q", tc.name, tc.value, err, tc.name, tc.problem)
		}
	}
}
