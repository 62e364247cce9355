package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestAccountChangesRunThenInTheirTransaction: every account change that
// takes then-functions runs them inside its transaction, after the change
// (they see it), and an error from one undoes the whole change, tokens
// included; nil functions are skipped.
func TestAccountChangesRunThenInTheirTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	boom := errors.New("boom")
	fail := func(context.Context, pgx.Tx) error { return boom }
	// sees returns a then-function recording what query, run in the
	// transaction, returns.
	sees := func(query string, args []any, into *string) store.TxFunc {
		return func(ctx context.Context, tx pgx.Tx) error { return tx.QueryRow(ctx, query, args...).Scan(into) }
	}

	// Register.
	reg := store.Registration{Username: "ann", Email: "ann@example.org", FirstName: "A", LastName: "N",
		PasswordHash: "h", TokenHash: tokenHash(t), TokenTTL: time.Hour}
	if _, _, err := s.Register(ctx, reg, nil, fail); !errors.Is(err, boom) {
		t.Fatalf("register with a failing then: %v", err)
	}
	if _, err := s.UserByUsername(ctx, "ann"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed registration left its account: %v", err)
	}
	var seen string
	ann, _, err := s.Register(ctx, reg, sees(`SELECT username FROM users WHERE username = 'ann'`, nil, &seen))
	if err != nil || seen != "ann" {
		t.Fatalf("register: %v, then saw %q", err, seen)
	}

	// VerifyEmail: a failure leaves the address unconfirmed and the token usable.
	if _, err := s.VerifyEmail(ctx, reg.TokenHash, fail); !errors.Is(err, boom) {
		t.Fatalf("verify with a failing then: %v", err)
	}
	if u, _ := s.UserByID(ctx, ann.ID); u.EmailVerifiedAt != nil {
		t.Fatal("a failed confirmation confirmed the address")
	}
	if _, err := s.VerifyEmail(ctx, reg.TokenHash, sees(`SELECT (email_verified_at IS NOT NULL)::text FROM users WHERE id = $1`, []any{ann.ID}, &seen)); err != nil || seen != "true" {
		t.Fatalf("verify: %v, then saw %q", err, seen)
	}

	// ChangePassword.
	if _, err := s.ChangePassword(ctx, ann.ID, "h2", fail); !errors.Is(err, boom) {
		t.Fatalf("change password with a failing then: %v", err)
	}
	if u, _ := s.UserByID(ctx, ann.ID); u.PasswordHash != "h" || u.SessionEpoch != ann.SessionEpoch {
		t.Fatal("a failed password change changed the account")
	}
	if _, err := s.ChangePassword(ctx, ann.ID, "h2", sees(`SELECT password_hash FROM users WHERE id = $1`, []any{ann.ID}, &seen)); err != nil || seen != "h2" {
		t.Fatalf("change password: %v, then saw %q", err, seen)
	}

	// CreateAccountToken and ResetPassword.
	reset := tokenHash(t)
	nt := store.NewAccountToken{UserID: ann.ID, Purpose: store.TokenResetPassword, Hash: reset, TTL: time.Hour}
	if _, err := s.CreateAccountToken(ctx, nt, fail); !errors.Is(err, boom) {
		t.Fatalf("token with a failing then: %v", err)
	}
	if _, err := s.AccountTokenByHash(ctx, store.TokenResetPassword, reset); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed token creation left its token: %v", err)
	}
	if _, err := s.CreateAccountToken(ctx, nt, sees(`SELECT count(*)::text FROM account_tokens WHERE token_hash = $1`, []any{reset}, &seen)); err != nil || seen != "1" {
		t.Fatalf("token: %v, then saw %q", err, seen)
	}
	if _, err := s.ResetPassword(ctx, reset, "h3", fail); !errors.Is(err, boom) {
		t.Fatalf("reset with a failing then: %v", err)
	}
	if _, err := s.AccountTokenByHash(ctx, store.TokenResetPassword, reset); err != nil {
		t.Fatalf("a failed reset used its token: %v", err)
	}
	if _, err := s.ResetPassword(ctx, reset, "h3", sees(`SELECT password_hash FROM users WHERE id = $1`, []any{ann.ID}, &seen)); err != nil || seen != "h3" {
		t.Fatalf("reset: %v, then saw %q", err, seen)
	}

	// RequestEmailChange and ConfirmEmailChange.
	change := tokenHash(t)
	if _, err := s.RequestEmailChange(ctx, ann.ID, "ann@example.net", change, time.Hour, fail); !errors.Is(err, boom) {
		t.Fatalf("request with a failing then: %v", err)
	}
	if _, err := s.AccountTokenByHash(ctx, store.TokenChangeEmail, change); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed request left its token: %v", err)
	}
	if _, err := s.RequestEmailChange(ctx, ann.ID, "ann@example.net", change, time.Hour,
		sees(`SELECT payload FROM account_tokens WHERE token_hash = $1`, []any{change}, &seen)); err != nil || seen != "ann@example.net" {
		t.Fatalf("request: %v, then saw %q", err, seen)
	}
	if _, err := s.ConfirmEmailChange(ctx, change, ann.ID, fail); !errors.Is(err, boom) {
		t.Fatalf("confirm with a failing then: %v", err)
	}
	if u, _ := s.UserByID(ctx, ann.ID); u.Email != "ann@example.org" {
		t.Fatalf("a failed confirmation changed the address to %q", u.Email)
	}
	if _, err := s.ConfirmEmailChange(ctx, change, ann.ID, sees(`SELECT email FROM users WHERE id = $1`, []any{ann.ID}, &seen)); err != nil || seen != "ann@example.net" {
		t.Fatalf("confirm: %v, then saw %q", err, seen)
	}
}

// TestUpdateProfileLanguage: a profile update sets the language when asked
// ("" clears it) and keeps it otherwise.
func TestUpdateProfileLanguage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	u := adminUser(t, s, "lena", false)
	el, none := "el", ""
	for _, c := range []struct {
		lang *string
		want string
	}{{&el, "el"}, {nil, "el"}, {&none, ""}} {
		got, err := s.UpdateProfile(ctx, u.ID, store.Profile{FirstName: "Lena", Language: c.lang})
		if err != nil || got.Language != c.want {
			t.Errorf("language %v: got %q %v, want %q", c.lang, got.Language, err, c.want)
		}
	}
}
