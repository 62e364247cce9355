package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"golang.org/x/crypto/ssh"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/sshkeys"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// tokenHash returns the SHA-256 of a new random token, the form in which
// tokens are stored.
func tokenHash(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

func adminUser(t *testing.T, s *store.Store, name string, super bool) *store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.NewUser{Username: name, Email: name + "@example.org",
		PasswordHash: "h", IsActive: true, IsSuperuser: super})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func register(t *testing.T, s *store.Store, name string) (*store.User, []byte) {
	t.Helper()
	hash := tokenHash(t)
	u, tok, err := s.Register(context.Background(), store.Registration{Username: name, Email: name + "@Example.org",
		FirstName: "F", LastName: "L", PasswordHash: "h", TokenHash: hash, TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if tok.UserID != u.ID || tok.Purpose != store.TokenVerifyEmail || tok.Payload != u.Email {
		t.Fatalf("token %+v", tok)
	}
	return u, hash
}

// TestAccountsMigration applies 00007 on a database with accounts made
// before it, checks they still log in, and that Down and Up again work.
func TestAccountsMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	before := fstest.MapFS{}
	err := fs.WalkDir(ganetimgr.Migrations(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p >= "00007" {
			return err
		}
		b, err := fs.ReadFile(ganetimgr.Migrations(), p)
		before[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := store.NewMigrator(pool, before)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := pool.Exec(ctx, `INSERT INTO users (username, email, is_active, is_superuser, last_login_at)
		VALUES ('old', 'old@example.org', true, true, now() - interval '1 day'), ('never', 'never@example.org', true, false, NULL),
		('off', 'off@example.org', false, false, NULL)`); err != nil {
		t.Fatal(err)
	}
	m, err = store.NewMigrator(pool, ganetimgr.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	s := store.New(pool)
	for name, want := range map[string]store.AccountState{"old": store.StateActive, "never": store.StateActive, "off": store.StateInactive} {
		u, err := s.UserByUsername(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if u.State() != want || u.EmailVerifiedAt == nil || u.Approval != store.ApprovalApproved || (u.WelcomedAt != nil) != (name == "old") {
			t.Errorf("%s after the migration: state %s, %+v", name, u.State(), u)
		}
	}
	// An account made by CreateUser after the migration is approved too.
	if u := adminUser(t, s, "admin", true); u.State() != store.StateActive || u.WelcomedAt != nil {
		t.Errorf("new admin: %s %+v", u.State(), u)
	}

	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, ganetimgr.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 6); err != nil {
		t.Fatalf("down: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

func TestRegistrationAndApproval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	admin := adminUser(t, s, "admin", true)
	org, err := s.CreateOrganization(ctx, store.OrganizationInput{Title: "GRNET", Tag: "grnet"})
	if err != nil {
		t.Fatal(err)
	}
	hash := tokenHash(t)
	ann, _, err := s.Register(ctx, store.Registration{Username: "ann", Email: "Ann@Example.org", FirstName: "Ann",
		LastName: "Smith", Phone: "+30 210", Organization: org.ID, PasswordHash: "h", Language: "el",
		TokenHash: hash, TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if ann.IsActive || ann.State() != store.StateUnverified || ann.Approval != store.ApprovalPending ||
		ann.OrganizationID == nil || *ann.OrganizationID != org.ID || ann.Phone != "+30 210" || ann.ApprovalDecidedAt != nil {
		t.Errorf("registered %+v", ann)
	}

	// Taken names and addresses, case-insensitively; nothing is left behind.
	h2 := tokenHash(t)
	for name, r := range map[string]store.Registration{
		"username": {Username: "ANN", Email: "other@example.org", TokenHash: h2, TokenTTL: time.Hour},
		"email":    {Username: "ann2", Email: "ann@EXAMPLE.org", TokenHash: h2, TokenTTL: time.Hour},
		"org":      {Username: "ann3", Email: "ann3@example.org", Organization: 999, TokenHash: h2, TokenTTL: time.Hour},
	} {
		_, _, err := s.Register(ctx, r)
		want := map[string]error{"username": store.ErrUsernameTaken, "email": store.ErrEmailTaken, "org": store.ErrNotFound}[name]
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	if !errors.Is(store.ErrUsernameTaken, store.ErrConflict) || !errors.Is(store.ErrTokenUsed, store.ErrNotFound) {
		t.Error("sentinel errors do not match their kinds")
	}
	if _, err := s.UserByUsername(ctx, "ann3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed registration left an account: %v", err)
	}
	if u, e, err := s.AccountsTaken(ctx, "Ann", "ANN@example.org", 0); err != nil || !u || !e {
		t.Errorf("AccountsTaken: %v %v %v", u, e, err)
	}
	if u, e, err := s.AccountsTaken(ctx, "ann", "ann@example.org", ann.ID); err != nil || u || e {
		t.Errorf("AccountsTaken except self: %v %v %v", u, e, err)
	}
	if u, e, _ := s.AccountsTaken(ctx, "", "", 0); u || e {
		t.Error("empty values taken")
	}

	// Not yet verified: cannot be approved or activated; the database
	// refuses an active pending account outright.
	if _, err := s.ApproveUser(ctx, ann.ID, admin.ID); !errors.Is(err, store.ErrNotVerified) {
		t.Errorf("approve unverified: %v", err)
	}
	if err := s.SetUserActive(ctx, ann.ID, true); !errors.Is(err, store.ErrNotApproved) {
		t.Errorf("activate pending: %v", err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE users SET is_active = true WHERE id = $1`, ann.ID); err == nil {
		t.Error("the database let a pending account be active")
	}

	// Verification.
	if _, err := s.VerifyEmail(ctx, h2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	v, err := s.VerifyEmail(ctx, hash)
	if err != nil || v.State() != store.StatePending || v.EmailVerifiedAt == nil || v.IsActive {
		t.Fatalf("verified: %+v %v", v, err)
	}
	if _, err := s.VerifyEmail(ctx, hash); !errors.Is(err, store.ErrTokenUsed) {
		t.Errorf("second use: %v", err)
	}
	if u, err := s.UserByEmail(ctx, "ANN@example.ORG"); err != nil || u.ID != ann.ID {
		t.Errorf("UserByEmail: %v %v", u, err)
	}

	// Approval.
	a, err := s.ApproveUser(ctx, ann.ID, admin.ID)
	if err != nil || !a.IsActive || a.State() != store.StateActive || a.ApprovalDecidedBy == nil || *a.ApprovalDecidedBy != admin.ID {
		t.Fatalf("approved: %+v %v", a, err)
	}
	if _, err := s.ApproveUser(ctx, ann.ID, admin.ID); !errors.Is(err, store.ErrAlreadyDecided) {
		t.Errorf("approve twice: %v", err)
	}
	if _, err := s.RejectUser(ctx, ann.ID, admin.ID); !errors.Is(err, store.ErrAlreadyDecided) {
		t.Errorf("reject approved: %v", err)
	}
	if err := s.DeleteRegistration(ctx, ann.ID); !errors.Is(err, store.ErrAlreadyDecided) {
		t.Errorf("delete approved: %v", err)
	}
	if _, err := s.ApproveUser(ctx, 999999, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("approve missing: %v", err)
	}

	// Rejection of an unverified registration; its link stops working.
	bob, bobHash := register(t, s, "bob")
	r, err := s.RejectUser(ctx, bob.ID, 0)
	if err != nil || r.State() != store.StateRejected || r.ApprovalDecidedBy != nil || r.ApprovalDecidedAt == nil {
		t.Fatalf("rejected: %+v %v", r, err)
	}
	if _, err := s.VerifyEmail(ctx, bobHash); !errors.Is(err, store.ErrTokenExpired) {
		t.Errorf("verify after rejection: %v", err)
	}
	if err := s.SetUserActive(ctx, bob.ID, true); !errors.Is(err, store.ErrNotApproved) {
		t.Errorf("activate rejected: %v", err)
	}
	if err := s.DeleteRegistration(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByID(ctx, bob.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted registration still there: %v", err)
	}
	if err := s.DeleteRegistration(ctx, bob.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	// The username and address are free again.
	register(t, s, "bob")
}

func TestDeleteAbandonedRegistrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	old, _ := register(t, s, "old")
	fresh, _ := register(t, s, "fresh")
	verified, vh := register(t, s, "verified")
	if _, err := s.VerifyEmail(ctx, vh); err != nil {
		t.Fatal(err)
	}
	// "old" registered long ago and its link has expired.
	if _, err := s.Pool().Exec(ctx, `UPDATE users SET created_at = now() - interval '20 days' WHERE id = ANY($1)`,
		[]int64{old.ID, verified.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE account_tokens SET created_at = now() - interval '20 days',
		expires_at = now() - interval '10 days' WHERE user_id = $1`, old.ID); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteAbandonedRegistrations(ctx, time.Now().Add(-10*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("deleted %d, %v; want 1", n, err)
	}
	for _, u := range []*store.User{fresh, verified} {
		if _, err := s.UserByID(ctx, u.ID); err != nil {
			t.Errorf("%s deleted: %v", u.Username, err)
		}
	}
}

func TestAccountTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	ann := adminUser(t, s, "ann", false)
	bob := adminUser(t, s, "bob", false)
	h1 := tokenHash(t)
	if _, err := s.CreateAccountToken(ctx, store.NewAccountToken{UserID: ann.ID, Purpose: store.TokenResetPassword, Hash: h1, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccountToken(ctx, store.NewAccountToken{UserID: 999999, Purpose: store.TokenResetPassword, Hash: h1[:31], TTL: time.Hour}); err == nil {
		t.Error("a short hash was stored")
	}
	hx := tokenHash(t)
	if _, err := s.CreateAccountToken(ctx, store.NewAccountToken{UserID: 999999, Purpose: store.TokenResetPassword, Hash: hx, TTL: time.Hour}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of a missing user: %v", err)
	}
	// Another purpose or another user: not found, and the token still works.
	if _, err := s.ConsumeAccountToken(ctx, store.TokenChangeEmail, h1, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other purpose: %v", err)
	}
	if _, err := s.ConsumeAccountToken(ctx, store.TokenResetPassword, h1, bob.ID); !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrTokenUsed) {
		t.Errorf("other user: %v", err)
	}
	if tk, err := s.AccountTokenByHash(ctx, store.TokenResetPassword, h1); err != nil || tk.UserID != ann.ID || tk.UsedAt != nil {
		t.Errorf("peek: %+v %v", tk, err)
	}

	// Exactly one of concurrent uses wins.
	var wins, used atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := s.ConsumeAccountToken(ctx, store.TokenResetPassword, h1, ann.ID)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrTokenUsed):
				used.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || used.Load() != 7 {
		t.Errorf("%d wins, %d used; want 1 and 7", wins.Load(), used.Load())
	}
	if _, err := s.AccountTokenByHash(ctx, store.TokenResetPassword, h1); !errors.Is(err, store.ErrTokenUsed) {
		t.Errorf("peek at a used token: %v", err)
	}

	// Expiry, and a new token replacing an older one.
	h2 := tokenHash(t)
	h3 := tokenHash(t)
	if _, err := s.CreateAccountToken(ctx, store.NewAccountToken{UserID: bob.ID, Purpose: store.TokenVerifyEmail, Hash: h2, TTL: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := s.ConsumeAccountToken(ctx, store.TokenVerifyEmail, h2, 0); !errors.Is(err, store.ErrTokenExpired) {
		t.Errorf("expired: %v", err)
	}
	h4 := tokenHash(t)
	for _, h := range [][]byte{h3, h4} {
		if _, err := s.CreateAccountToken(ctx, store.NewAccountToken{UserID: bob.ID, Purpose: store.TokenChangeEmail, Hash: h, Payload: "new@example.org", TTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ConsumeAccountToken(ctx, store.TokenChangeEmail, h3, bob.ID); !errors.Is(err, store.ErrTokenExpired) {
		t.Errorf("replaced token: %v", err)
	}
	if tk, err := s.ConsumeAccountToken(ctx, store.TokenChangeEmail, h4, bob.ID); err != nil || tk.Payload != "new@example.org" || tk.UsedAt == nil {
		t.Errorf("newest token: %+v %v", tk, err)
	}
	if n, err := s.CountRecentAccountTokens(ctx, bob.ID, store.TokenChangeEmail, time.Now().Add(-time.Minute)); err != nil || n != 2 {
		t.Errorf("recent tokens: %d %v", n, err)
	}
	if n, err := s.DeleteStaleAccountTokens(ctx, time.Now().Add(time.Second)); err != nil || n != 2 {
		t.Errorf("deleted %d stale tokens, %v; want 2 (the expired and the replaced one)", n, err)
	}
}

func TestPasswordChangeAndReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	ann := adminUser(t, s, "ann", false)
	reset := tokenHash(t)
	if _, err := s.CreateAccountToken(ctx, store.NewAccountToken{UserID: ann.ID, Purpose: store.TokenResetPassword, Hash: reset, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	epoch, err := s.ChangePassword(ctx, ann.ID, "new-hash")
	if err != nil || epoch != ann.SessionEpoch+1 {
		t.Fatalf("change: %d %v", epoch, err)
	}
	u, _ := s.UserByID(ctx, ann.ID)
	if u.PasswordHash != "new-hash" || u.SessionEpoch != epoch {
		t.Errorf("after change: %+v", u)
	}
	if _, err := s.ResetPassword(ctx, reset, "x"); !errors.Is(err, store.ErrTokenExpired) {
		t.Errorf("a reset link survived a password change: %v", err)
	}
	if _, err := s.ChangePassword(ctx, 999999, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing user: %v", err)
	}

	reset = tokenHash(t)
	if _, err := s.CreateAccountToken(ctx, store.NewAccountToken{UserID: ann.ID, Purpose: store.TokenResetPassword, Hash: reset, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	r, err := s.ResetPassword(ctx, reset, "reset-hash")
	if err != nil || r.ID != ann.ID || r.PasswordHash != "reset-hash" || r.SessionEpoch != epoch+1 {
		t.Fatalf("reset: %+v %v", r, err)
	}
	if _, err := s.ResetPassword(ctx, reset, "again"); !errors.Is(err, store.ErrTokenUsed) {
		t.Errorf("reset twice: %v", err)
	}
}

func TestEmailChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	ann := adminUser(t, s, "ann", false)
	bob := adminUser(t, s, "bob", false)
	h := tokenHash(t)
	if _, err := s.RequestEmailChange(ctx, ann.ID, "BOB@example.org", h, time.Hour); !errors.Is(err, store.ErrEmailTaken) {
		t.Errorf("taken address: %v", err)
	}
	if _, err := s.RequestEmailChange(ctx, ann.ID, "ann.new@example.org", h, time.Hour); err != nil {
		t.Fatal(err)
	}
	reset := tokenHash(t)
	if _, err := s.CreateAccountToken(ctx, store.NewAccountToken{UserID: ann.ID, Purpose: store.TokenResetPassword, Hash: reset, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	// Bob following Ann's link changes nothing, and the link still works
	// for Ann.
	if _, err := s.ConfirmEmailChange(ctx, h, bob.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other user: %v", err)
	}
	if _, err := s.ConfirmEmailChange(ctx, h, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no user: %v", err)
	}
	if b, _ := s.UserByID(ctx, bob.ID); b.Email != "bob@example.org" {
		t.Errorf("bob's address changed: %s", b.Email)
	}
	u, err := s.ConfirmEmailChange(ctx, h, ann.ID)
	if err != nil || u.Email != "ann.new@example.org" || u.EmailVerifiedAt == nil {
		t.Fatalf("confirmed: %+v %v", u, err)
	}
	if _, err := s.ResetPassword(ctx, reset, "x"); !errors.Is(err, store.ErrTokenExpired) {
		t.Errorf("a reset link to the old address survived: %v", err)
	}
	// An address taken between request and confirmation.
	h2 := tokenHash(t)
	if _, err := s.RequestEmailChange(ctx, ann.ID, "late@example.org", h2, time.Hour); err != nil {
		t.Fatal(err)
	}
	adminUser(t, s, "late", false)
	if _, err := s.ConfirmEmailChange(ctx, h2, ann.ID); !errors.Is(err, store.ErrEmailTaken) {
		t.Errorf("taken meanwhile: %v", err)
	}
}

func TestProfileAndWelcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	ann := adminUser(t, s, "ann", false)
	org, _ := s.CreateOrganization(ctx, store.OrganizationInput{Title: "Org"})
	u, err := s.UpdateProfile(ctx, ann.ID, store.Profile{FirstName: "Ann", LastName: "Smith", Phone: "123", Organization: org.ID})
	if err != nil || u.FirstName != "Ann" || u.OrganizationID == nil || *u.OrganizationID != org.ID {
		t.Errorf("profile: %+v %v", u, err)
	}
	if u, err := s.UpdateProfile(ctx, ann.ID, store.Profile{FirstName: "Ann"}); err != nil || u.OrganizationID != nil || u.Phone != "" {
		t.Errorf("profile cleared: %+v %v", u, err)
	}
	if _, err := s.UpdateProfile(ctx, ann.ID, store.Profile{Organization: 999}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown organization: %v", err)
	}
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if first, err := s.MarkWelcomed(ctx, ann.ID); err != nil {
				t.Error(err)
			} else if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if firsts.Load() != 1 {
		t.Errorf("welcomed %d times", firsts.Load())
	}
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	admin := adminUser(t, s, "zed-admin", true)
	org, _ := s.CreateOrganization(ctx, store.OrganizationInput{Title: "Research 100% Institute"})
	for _, n := range []string{"Carol", "dave", "erin"} {
		u := adminUser(t, s, n, false)
		if n == "dave" {
			if err := s.SetUserActive(ctx, u.ID, false); err != nil {
				t.Fatal(err)
			}
		}
		if n == "erin" {
			if _, err := s.UpdateProfile(ctx, u.ID, store.Profile{FirstName: "Erin", LastName: "O_Brien", Organization: org.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	register(t, s, "frank") // unverified
	g, gh := register(t, s, "grace")
	if _, err := s.VerifyEmail(ctx, gh); err != nil {
		t.Fatal(err)
	}
	h, _ := register(t, s, "heidi")
	if _, err := s.RejectUser(ctx, h.ID, admin.ID); err != nil {
		t.Fatal(err)
	}
	names := func(q store.UserQuery) string {
		t.Helper()
		p, err := s.ListUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range p.Users {
			if u.PasswordHash != "" {
				t.Error("the list carries password hashes")
			}
			out = append(out, u.Username)
		}
		return strings.Join(out, ",")
	}
	for q, want := range map[store.UserQuery]string{
		{}:                                           "Carol,dave,erin,frank,grace,heidi,zed-admin",
		{Filter: store.FilterActive}:                 "Carol,erin,zed-admin",
		{Filter: store.FilterInactive}:               "dave",
		{Filter: store.FilterPending}:                "grace",
		{Filter: store.FilterUnverified}:             "frank",
		{Filter: store.FilterRejected}:               "heidi",
		{Filter: store.FilterSuperuser}:              "zed-admin",
		{Search: "CAR"}:                              "Carol",
		{Search: "example"}:                          "Carol,dave,erin,frank,grace,heidi,zed-admin",
		{Search: "erin o_b"}:                         "erin",
		{Search: "o_b"}:                              "erin",
		{Search: "100%"}:                             "erin",
		{Search: "%"}:                                "erin",
		{Search: "1%t"}:                              "",
		{Search: "_"}:                                "erin",
		{Search: "e", Filter: store.FilterActive}:    "Carol,erin,zed-admin",
		{Search: "dave", Filter: store.FilterActive}: "",
	} {
		if got := names(q); got != want {
			t.Errorf("%+v: got %s, want %s", q, got, want)
		}
	}
	if _, err := s.ListUsers(ctx, store.UserQuery{Filter: "bogus"}); err == nil {
		t.Error("unknown filter accepted")
	}
	// Keyset pages of two.
	var all []string
	q := store.UserQuery{Limit: 2}
	for pages := 0; ; pages++ {
		p, err := s.ListUsers(ctx, q)
		if err != nil || pages > 5 {
			t.Fatal(err, pages)
		}
		if p.Total != 7 {
			t.Errorf("total %d", p.Total)
		}
		for _, u := range p.Users {
			all = append(all, u.Username)
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if strings.Join(all, ",") != "Carol,dave,erin,frank,grace,heidi,zed-admin" {
		t.Errorf("pages gave %v", all)
	}
	p, _ := s.ListUsers(ctx, store.UserQuery{Search: "erin"})
	if len(p.Users) != 1 || p.Users[0].OrganizationTitle != org.Title || p.Users[0].State() != store.StateActive {
		t.Errorf("erin's row: %+v", p.Users)
	}
	_ = g
}

func TestUserDetailAndSuperusers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	root := adminUser(t, s, "root", true)
	ann := adminUser(t, s, "ann", false)
	org, _ := s.CreateOrganization(ctx, store.OrganizationInput{Title: "Org", Tag: "org"})
	if _, err := s.UpdateProfile(ctx, ann.ID, store.Profile{Organization: org.ID}); err != nil {
		t.Fatal(err)
	}
	staff, _ := s.CreateGroup(ctx, "staff")
	ops, _ := s.CreateGroup(ctx, "ops")
	if err := s.SetUserGroups(ctx, ann.ID, []int64{staff.ID, ops.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserPermissions(ctx, ann.ID, []string{"can_lock"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGroupPermissions(ctx, staff.ID, []string{"view_instances", "can_lock"}); err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateCluster(ctx, store.ClusterInput{Slug: "c1", Hostname: "c1.example.org", Port: 5080,
		TLSFingerprint: strings.Repeat("AB:", 31) + "AB"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []struct {
		name          string
		users, groups []string
	}{
		{"vm1", []string{"ann"}, nil}, {"vm2", []string{"ann", "bob"}, []string{"staff"}},
		{"vm3", nil, []string{"staff"}}, {"vm4", nil, []string{"ops", "staff"}}, {"vm5", []string{"bob"}, []string{"other"}},
	} {
		if _, err := s.Pool().Exec(ctx, `INSERT INTO cluster_instances (cluster_id, name, owner_users, owner_groups)
			VALUES ($1, $2, $3, $4)`, c.ID, in.name, append([]string{}, in.users...), append([]string{}, in.groups...)); err != nil {
			t.Fatal(err)
		}
	}
	key := sshkeys.Parse(sshLine(t))[0].Key
	if _, _, err := s.AddSSHKeys(ctx, ann.ID, []store.NewSSHKey{store.NewSSHKey(*key)}); err != nil {
		t.Fatal(err)
	}
	d, err := s.UserDetail(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.User.PasswordHash != "" || d.Organization == nil || d.Organization.Tag != "org" || len(d.Groups) != 2 ||
		strings.Join(d.DirectPermissions, ",") != "can_lock" || strings.Join(d.EffectivePermissions, ",") != "can_lock,view_instances" ||
		d.InstancesOwned != 2 || d.InstancesThroughGroups != 2 || d.SSHKeys != 1 {
		t.Errorf("detail %+v", d)
	}
	if _, err := s.UserDetail(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}

	// The last active superuser stays.
	if err := s.SetUserSuperuser(ctx, root.ID, false); !errors.Is(err, store.ErrLastSuperuser) {
		t.Errorf("demote the last: %v", err)
	}
	if err := s.SetUserActive(ctx, root.ID, false); !errors.Is(err, store.ErrLastSuperuser) {
		t.Errorf("deactivate the last: %v", err)
	}
	if err := s.SetUserSuperuser(ctx, ann.ID, true); err != nil {
		t.Fatal(err)
	}
	// Two concurrent demotions: one wins, one is refused.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []int64{root.ID, ann.ID} {
		wg.Go(func() { errs[i] = s.SetUserSuperuser(ctx, id, false) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), store.ErrLastSuperuser) {
		t.Errorf("concurrent demotions: %v", errs)
	}
	if n, _ := s.CountSuperusers(ctx); n != 1 {
		t.Errorf("%d superusers left", n)
	}
	if err := s.SetUserActive(ctx, 999999, false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if err := s.SetUserActive(ctx, ann.ID, false); err != nil && !errors.Is(err, store.ErrLastSuperuser) {
		t.Error(err)
	}
}

func TestGroupsAndPermissions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	ann := adminUser(t, s, "ann", false)
	bob := adminUser(t, s, "bob", false)
	g, err := s.CreateGroup(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := s.CreateGroup(ctx, "other")
	if err := s.RenameGroup(ctx, other.ID, "STAFF"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("rename to a taken name: %v", err)
	}
	if err := s.RenameGroup(ctx, g.ID, "team"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GroupByName(ctx, "TEAM"); err != nil || got.ID != g.ID {
		t.Errorf("by name: %v %v", got, err)
	}
	if err := s.SetGroupMembers(ctx, g.ID, []int64{ann.ID, bob.ID, ann.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGroupMembers(ctx, g.ID, []int64{bob.ID, 999999}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown member: %v", err)
	}
	members, _ := s.GroupMembers(ctx, g.ID)
	if len(members) != 2 || members[0].Username != "ann" || !members[1].IsActive {
		t.Errorf("members after a refused change: %+v", members)
	}
	if err := s.SetGroupPermissions(ctx, g.ID, []string{"view_instances", "bogus"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown permission: %v", err)
	}
	if err := s.SetGroupPermissions(ctx, g.ID, []string{"view_instances"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserPermissions(ctx, bob.ID, []string{"can_isolate"}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.EffectivePermissions(ctx, bob.ID); strings.Join(p, ",") != "can_isolate,view_instances" {
		t.Errorf("bob's permissions %v", p)
	}
	list, err := s.ListGroups(ctx)
	if err != nil || len(list) != 2 || list[1].Name != "team" || list[1].Members != 2 ||
		strings.Join(list[1].Permissions, ",") != "view_instances" || list[0].Members != 0 || list[0].Permissions == nil {
		t.Errorf("groups %+v %v", list, err)
	}
	// nil clears.
	if err := s.SetGroupMembers(ctx, g.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserPermissions(ctx, bob.ID, nil); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.EffectivePermissions(ctx, bob.ID); len(p) != 0 {
		t.Errorf("permissions after clearing: %v", p)
	}
	if err := s.SetUserGroups(ctx, ann.ID, []int64{other.ID}); err != nil {
		t.Fatal(err)
	}
	if gs, _ := s.UserGroups(ctx, ann.ID); len(gs) != 1 || gs[0].ID != other.ID {
		t.Errorf("ann's groups %v", gs)
	}
	if p, _ := s.GroupPermissions(ctx, g.ID); strings.Join(p, ",") != "view_instances" {
		t.Errorf("group permissions %v", p)
	}
	if err := s.DeleteGroup(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, other.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if gs, _ := s.UserGroups(ctx, ann.ID); len(gs) != 0 {
		t.Errorf("memberships of a deleted group remain: %v", gs)
	}
	if err := s.RenameGroup(ctx, 999999, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rename missing: %v", err)
	}
}

func TestOrganizations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	a, err := s.CreateOrganization(ctx, store.OrganizationInput{Title: "GRNET", Website: "https://grnet.gr",
		Email: "info@grnet.gr", Phone: "+30", Tag: "grnet"})
	if err != nil || a.Tag != "grnet" || a.Members != 0 {
		t.Fatalf("%+v %v", a, err)
	}
	if _, err := s.CreateOrganization(ctx, store.OrganizationInput{Title: "Other", Tag: "GRNET"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("taken tag: %v", err)
	}
	if _, err := s.CreateOrganization(ctx, store.OrganizationInput{Title: "Bad", Tag: "a:b"}); err == nil {
		t.Error("a tag with ':' was stored")
	}
	b, err := s.CreateOrganization(ctx, store.OrganizationInput{Title: "aardvark"})
	if err != nil || b.Tag != "" {
		t.Fatalf("%+v %v", b, err)
	}
	if _, err := s.CreateOrganization(ctx, store.OrganizationInput{Title: "Another without tag"}); err != nil {
		t.Errorf("second organization without a tag: %v", err)
	}
	ann := adminUser(t, s, "ann", false)
	if _, err := s.UpdateProfile(ctx, ann.ID, store.Profile{Organization: a.ID}); err != nil {
		t.Fatal(err)
	}
	up, err := s.UpdateOrganization(ctx, a.ID, store.OrganizationInput{Title: "GRNET S.A.", Tag: "grnet-sa"})
	if err != nil || up.Title != "GRNET S.A." || up.Website != "" || up.Members != 1 {
		t.Errorf("update: %+v %v", up, err)
	}
	if _, err := s.UpdateOrganization(ctx, b.ID, store.OrganizationInput{Title: "x", Tag: "Grnet-SA"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("update to a taken tag: %v", err)
	}
	if got, err := s.OrganizationByTag(ctx, "GRNET-sa"); err != nil || got.ID != a.ID {
		t.Errorf("by tag: %v %v", got, err)
	}
	list, _ := s.ListOrganizations(ctx)
	if len(list) != 3 || list[0].Title != "aardvark" || list[2].Title != "GRNET S.A." {
		t.Errorf("list %+v", list)
	}
	if err := s.DeleteOrganization(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.UserByID(ctx, ann.ID); u.OrganizationID != nil {
		t.Errorf("user still in a deleted organization: %v", *u.OrganizationID)
	}
	if _, err := s.UpdateOrganization(ctx, a.ID, store.OrganizationInput{Title: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update deleted: %v", err)
	}
	if err := s.DeleteOrganization(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}

// sshLine returns a new ed25519 public key line.
func sshLine(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(p))) + " key"
}

func TestSSHKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	ann := adminUser(t, s, "ann", false)
	bob := adminUser(t, s, "bob", false)
	k1, k2 := sshLine(t), sshLine(t)
	var keys []store.NewSSHKey
	for _, k := range sshkeys.Keys(sshkeys.Parse(k1 + "\n" + k2 + "\n" + k1)) {
		keys = append(keys, store.NewSSHKey(k))
	}
	added, skipped, err := s.AddSSHKeys(ctx, ann.ID, keys)
	if err != nil || len(added) != 2 || len(skipped) != 1 || skipped[0].Line != keys[0].Line {
		t.Fatalf("add: %v %v %v", added, skipped, err)
	}
	added, skipped, err = s.AddSSHKeys(ctx, ann.ID, keys[:1])
	if err != nil || len(added) != 0 || len(skipped) != 1 {
		t.Errorf("add again: %v %v %v", added, skipped, err)
	}
	// Bob may have the same key.
	if added, _, err := s.AddSSHKeys(ctx, bob.ID, keys[:1]); err != nil || len(added) != 1 {
		t.Errorf("bob: %v %v", added, err)
	}
	list, err := s.SSHKeys(ctx, ann.ID)
	if err != nil || len(list) != 2 || list[0].Line != keys[0].Line || list[0].Type != "ssh-ed25519" || list[0].Bits != 256 ||
		list[0].Comment != "key" || list[0].UserID != ann.ID {
		t.Errorf("list %+v %v", list, err)
	}
	if err := s.DeleteSSHKey(ctx, bob.ID, list[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob deletes ann's key: %v", err)
	}
	if err := s.DeleteSSHKey(ctx, ann.ID, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if all, err := s.SSHKeysOfUsers(ctx, []int64{ann.ID, bob.ID}); err != nil || len(all) != 2 || all[0].UserID != ann.ID {
		t.Errorf("of users: %+v %v", all, err)
	}
	if none, err := s.SSHKeysOfUsers(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("of no users: %v %v", none, err)
	}
	if _, _, err := s.AddSSHKeys(ctx, 999999, keys); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing user: %v", err)
	}
	// The limit: nothing is stored when it would be passed.
	var many []store.NewSSHKey
	for range store.MaxSSHKeysPerUser {
		k := sshkeys.Parse(sshLine(t))[0].Key
		many = append(many, store.NewSSHKey(*k))
	}
	if _, _, err := s.AddSSHKeys(ctx, ann.ID, many); !errors.Is(err, store.ErrTooManySSHKeys) {
		t.Errorf("over the limit: %v", err)
	}
	if list, _ := s.SSHKeys(ctx, ann.ID); len(list) != 1 {
		t.Errorf("%d keys after a refused addition", len(list))
	}
}
