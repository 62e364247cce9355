package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestDecisionRunsWorkInItsTransaction: the work given to ApproveUser and
// RejectUser runs inside their transaction, after the change, and its
// failure undoes the decision.
func TestDecisionRunsWorkInItsTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	admin := adminUser(t, s, "root", true)
	ann, annHash := register(t, s, "ann")
	if _, err := s.VerifyEmail(ctx, annHash); err != nil {
		t.Fatal(err)
	}
	// seen reads the account's approval inside the transaction.
	seen := func(id int64, got *string) store.TxFunc {
		return func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT approval FROM users WHERE id = $1`, id).Scan(got)
		}
	}
	boom := errors.New("mail refused")
	fail := func(context.Context, pgx.Tx) error { return boom }

	// A failing step undoes the approval.
	var during string
	if _, err := s.ApproveUser(ctx, ann.ID, admin.ID, seen(ann.ID, &during), fail); !errors.Is(err, boom) {
		t.Fatalf("approve with failing work: %v", err)
	}
	if during != "approved" {
		t.Errorf("the work saw approval %q, want approved", during)
	}
	if u, _ := s.UserByID(ctx, ann.ID); u.State() != store.StatePending || u.IsActive {
		t.Fatalf("a failed approval was kept: %s", u.State())
	}
	// A refused approval runs no work.
	bob, _ := register(t, s, "bob")
	called := false
	mark := func(context.Context, pgx.Tx) error { called = true; return nil }
	if _, err := s.ApproveUser(ctx, bob.ID, admin.ID, mark); !errors.Is(err, store.ErrNotVerified) || called {
		t.Errorf("approve unverified: %v, work called %v", err, called)
	}
	// Without work, and with work that succeeds.
	during = ""
	u, err := s.ApproveUser(ctx, ann.ID, admin.ID, nil, seen(ann.ID, &during))
	if err != nil || during != "approved" || u.State() != store.StateActive {
		t.Fatalf("approve: %v %q %+v", err, during, u)
	}

	// The same for a rejection: its token expiry is undone too.
	carl, carlHash := register(t, s, "carl")
	if _, err := s.RejectUser(ctx, carl.ID, admin.ID, seen(carl.ID, &during), fail); !errors.Is(err, boom) || during != "rejected" {
		t.Fatalf("reject with failing work: %v %q", err, during)
	}
	if _, err := s.VerifyEmail(ctx, carlHash); err != nil {
		t.Errorf("a failed rejection expired the verification link: %v", err)
	}
	if _, err := s.RejectUser(ctx, ann.ID, admin.ID, mark); !errors.Is(err, store.ErrAlreadyDecided) || called {
		t.Errorf("reject approved: %v, work called %v", err, called)
	}
	r, err := s.RejectUser(ctx, carl.ID, admin.ID, seen(carl.ID, &during))
	if err != nil || r.State() != store.StateRejected {
		t.Fatalf("reject: %v %+v", err, r)
	}
}

func TestGroupSummaryByID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	a := adminUser(t, s, "a", false)
	b := adminUser(t, s, "b", false)
	g, err := s.CreateGroup(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetGroupMembers(ctx, g.ID, []int64{a.ID, b.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGroupPermissions(ctx, g.ID, []string{"view_instances", "can_lock"}); err != nil {
		t.Fatal(err)
	}
	sum, err := s.GroupSummaryByID(ctx, g.ID)
	if err != nil || sum.Name != "staff" || sum.Members != 2 || sum.Instances != 0 ||
		!slices.Equal(sum.Permissions, []string{"can_lock", "view_instances"}) {
		t.Fatalf("summary %+v %v", sum, err)
	}
	list, err := s.ListGroups(ctx)
	if err != nil || len(list) != 1 || list[0].Members != sum.Members || !slices.Equal(list[0].Permissions, sum.Permissions) {
		t.Errorf("ListGroups disagrees: %+v %v", list, err)
	}
	if _, err := s.GroupSummaryByID(ctx, g.ID+1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing group: %v", err)
	}
}
