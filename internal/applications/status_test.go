package applications

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestTransitionTable checks every (from, to, role) combination: the
// allowed ones are exactly those listed here.
func TestTransitionTable(t *testing.T) {
	const (
		A = RoleApplicant
		R = RoleReviewer
		S = RoleSystem
	)
	type key struct {
		from, to Status
	}
	want := map[key]Role{
		{Filed, store.AppPending}:               A | R,
		{Filed, store.AppApproved}:              R,
		{store.AppPending, store.AppApproved}:   R,
		{store.AppPending, store.AppRefused}:    R,
		{store.AppPending, store.AppDiscarded}:  R,
		{store.AppApproved, store.AppSubmitted}: R | S,
		{store.AppApproved, store.AppRefused}:   R,
		{store.AppApproved, store.AppDiscarded}: R,
		{store.AppSubmitted, store.AppCreated}:  S,
		{store.AppSubmitted, store.AppFailed}:   S,
		{store.AppFailed, store.AppApproved}:    R,
		{store.AppFailed, store.AppRefused}:     R,
		{store.AppFailed, store.AppDiscarded}:   R,
	}
	from := append([]Status{Filed}, store.ApplicationStatuses()...)
	for _, f := range from {
		for _, to := range store.ApplicationStatuses() {
			for _, role := range []Role{A, R, S} {
				_, got := Allowed(f, to, role)
				exp := want[key{f, to}]&role != 0
				if got != exp {
					t.Errorf("%q -> %q by role %d: allowed %v, want %v", f, to, role, got, exp)
				}
			}
		}
	}
	// Nothing leaves a final status, nothing goes back to pending.
	for _, r := range Rules() {
		if r.From.Final() || r.To == store.AppPending && r.From != Filed {
			t.Errorf("rule %+v leaves a final status or reopens an application", r)
		}
		if r.To == store.AppRefused && !r.NeedsComment {
			t.Errorf("a refusal without a reason: %+v", r)
		}
		if r.To == store.AppApproved && !r.NeedsPlacement {
			t.Errorf("an approval without a placement: %+v", r)
		}
	}
	if got := Next(store.AppFailed, R); !slices.Equal(got, []Status{store.AppApproved, store.AppRefused, store.AppDiscarded}) {
		t.Errorf("next from failed for a reviewer: %v", got)
	}
	if got := Next(store.AppPending, A); len(got) != 0 {
		t.Errorf("an applicant may move a pending application to %v", got)
	}
	if got := Next(store.AppSubmitted, R); len(got) != 0 {
		t.Errorf("a reviewer may settle a submission: %v", got)
	}
}

func principal(t *testing.T, id int64, superuser bool, perms ...string) *auth.Principal {
	t.Helper()
	p, err := auth.LoadPrincipal(t.Context(), permSource(perms), &store.User{ID: id, IsActive: true, IsSuperuser: superuser})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type permSource []string

func (p permSource) EffectivePermissions(context.Context, int64) ([]string, error) {
	return p, nil
}

func TestRolesAndVisibility(t *testing.T) {
	app := &store.Application{ID: 1, ApplicantID: 10}
	owner := principal(t, 10, false)
	other := principal(t, 11, false)
	viewer := principal(t, 12, false, string(auth.ViewApplications))
	reviewer := principal(t, 13, false, string(auth.ChangeApplication))
	root := principal(t, 14, true)
	cases := []struct {
		name       string
		p          *auth.Principal
		roles      Role
		view, list bool
	}{
		{"owner", owner, RoleApplicant, true, false},
		{"other user", other, 0, false, false},
		{"viewer", viewer, 0, true, true},
		{"reviewer", reviewer, RoleReviewer, true, true},
		{"superuser", root, RoleReviewer, true, true},
	}
	for _, tc := range cases {
		if got := RolesOf(tc.p, app); got != tc.roles {
			t.Errorf("%s: roles %d, want %d", tc.name, got, tc.roles)
		}
		if got := CanView(tc.p, app); got != tc.view {
			t.Errorf("%s: can view %v, want %v", tc.name, got, tc.view)
		}
		if got := CanList(tc.p); got != tc.list {
			t.Errorf("%s: can list %v, want %v", tc.name, got, tc.list)
		}
	}
	inactive := principal(t, 10, false)
	inactive.User.IsActive = false
	if RolesOf(inactive, app) != 0 || CanView(inactive, app) {
		t.Error("an inactive account holds a role")
	}
	for _, s := range store.ApplicationStatuses() {
		if id := StatusLabel(s).ID(); !strings.HasSuffix(id, "."+string(s)) {
			t.Errorf("label of %s: %s", s, id)
		}
	}
}
