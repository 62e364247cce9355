package instanceops

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
)

// codeLetters abbreviates refusal codes in the Decide table.
var codeLetters = map[RefusalCode]byte{NotFound: 'N', ReadOnly: 'R', NotPermitted: 'P', AdminLocked: 'A',
	Maintenance: 'M', JobPending: 'J', WrongState: 'W', Invalid: 'I', Unavailable: 'U'}

// TestInstanceDecideMatrix is the authorization matrix: for every kind of
// principal and instance state, what Decide answers for each action of
// Kinds() (in order: start, shutdown, reboot, reinstall, rename, destroy,
// configure, owners, lock, isolate, allow_from). "-" is allowed, N not
// found, R read only, P not permitted, A admin locked, M maintenance, J a
// job pending, W wrong state. Principals are real accounts loaded from the
// database (permissions granted directly or through a group).
func TestInstanceDecideMatrix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewStore(t)
	load := func(name string, active, super bool, perms ...auth.Permission) *auth.Principal {
		t.Helper()
		u, err := st.CreateUser(ctx, store.NewUser{Username: name, Email: name + "@example.org", IsActive: true,
			IsSuperuser: super, Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range perms {
			if err := st.GrantUserPermission(ctx, u.ID, string(p)); err != nil {
				t.Fatal(err)
			}
		}
		if !active {
			if err := st.SetUserActive(ctx, u.ID, false); err != nil {
				t.Fatal(err)
			}
			if u, err = st.UserByID(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		p, err := auth.LoadPrincipal(ctx, st, u)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Helpdesk through a group: the permission comes with membership.
	desk, err := st.CreateGroup(ctx, "helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.GrantGroupPermission(ctx, desk.ID, string(auth.ViewInstances)); err != nil {
		t.Fatal(err)
	}
	helpUser := load("help", true, false)
	if err := st.AddGroupMember(ctx, desk.ID, helpUser.User.ID); err != nil {
		t.Fatal(err)
	}
	help, err := auth.LoadPrincipal(ctx, st, helpUser.User)
	if err != nil {
		t.Fatal(err)
	}

	type who struct {
		name   string
		p      *auth.Principal
		groups []string
	}
	people := []who{
		{"owner", load("ann", true, false), nil},
		{"group member", load("gus", true, false), []string{"ops"}},
		{"other user", load("sam", true, false), []string{"staff"}},
		{"helpdesk", help, []string{"helpdesk"}},
		{"superuser", load("root", true, true), nil},
		{"can_lock", load("locker", true, false, auth.ViewInstances, auth.CanLock), nil},
		{"can_isolate", load("isolator", true, false, auth.ViewInstances, auth.CanIsolate), nil},
		{"can_lock without view_instances", load("lockonly", true, false, auth.CanLock, auth.CanIsolate), nil},
		{"inactive owner", load("old", false, false), nil},
	}

	running := func() *store.CachedInstance {
		return &store.CachedInstance{ClusterID: 1, ClusterSlug: "c1", Name: "vm1.example.org", Status: "running",
			AdminState: "up", OperState: true, OwnerUsers: []string{"ann", "old"}, OwnerGroups: []string{"ops"}}
	}
	pending := &store.InstanceJob{ID: 9, Kind: string(Reboot), Status: "running"}
	done := time.Now()
	states := []struct {
		name  string
		state func() State
	}{
		{"running", func() State { return State{Instance: running()} }},
		{"stopped", func() State {
			in := running()
			in.Status, in.AdminState, in.OperState = "ADMIN_down", "down", false
			return State{Instance: in}
		}},
		{"running, marked down", func() State {
			in := running()
			in.Status, in.AdminState = "ERROR_up", "down"
			return State{Instance: in}
		}},
		{"admin locked", func() State {
			in := running()
			in.AdminLock = true
			return State{Instance: in}
		}},
		{"isolated", func() State {
			in := running()
			in.Isolate = true
			return State{Instance: in}
		}},
		{"maintenance", func() State { return State{Instance: running(), Maintenance: true} }},
		{"job pending", func() State { return State{Instance: running(), Pending: pending} }},
		{"job finished", func() State {
			return State{Instance: running(), Pending: &store.InstanceJob{ID: 8, Kind: "start", Status: "success", FinishedAt: &done}}
		}},
	}
	allN := "NNNNNNNNNNN"
	want := map[string]map[string]string{
		"running": {
			"owner": "W---W---PPW", "helpdesk": "RRRRRRRRPPR", "superuser": "W---W-----W",
			"can_lock": "RRRRRRRR-PR", "can_isolate": "RRRRRRRRP-W"},
		"stopped": {
			"owner": "-WW-----PPW", "helpdesk": "RRRRRRRRPPR", "superuser": "-WW-------W",
			"can_lock": "RRRRRRRR-PR", "can_isolate": "RRRRRRRRP-W"},
		"running, marked down": {
			"owner": "W---W---PPW", "helpdesk": "RRRRRRRRPPR", "superuser": "W---W-----W",
			"can_lock": "RRRRRRRR-PR", "can_isolate": "RRRRRRRRP-W"},
		"admin locked": {
			"owner": "AAAAAAAAPPA", "helpdesk": "RRRRRRRRPPR", "superuser": "W---W-----W",
			"can_lock": "RRRRRRRR-PR", "can_isolate": "RRRRRRRRP-W"},
		"isolated": {
			"owner": "W---W---PP-", "helpdesk": "RRRRRRRRPPR", "superuser": "W---W------",
			"can_lock": "RRRRRRRR-PR", "can_isolate": "RRRRRRRRP--"},
		"maintenance": {
			"owner": "MMMMMMMMPPM", "helpdesk": "RRRRRRRRPPR", "superuser": "W---W-----W",
			"can_lock": "RRRRRRRRMPR", "can_isolate": "RRRRRRRRPMM"},
		"job pending": {
			"owner": "JJJJJJJJPPJ", "helpdesk": "RRRRRRRRPPR", "superuser": "JJJJJJJJJJJ",
			"can_lock": "RRRRRRRRJPR", "can_isolate": "RRRRRRRRPJJ"},
		"job finished": {
			"owner": "W---W---PPW", "helpdesk": "RRRRRRRRPPR", "superuser": "W---W-----W",
			"can_lock": "RRRRRRRR-PR", "can_isolate": "RRRRRRRRP-W"},
	}
	for _, s := range states {
		for _, w := range people {
			exp, ok := want[s.name][w.name]
			switch w.name {
			case "group member":
				exp, ok = want[s.name]["owner"], true
			case "other user", "can_lock without view_instances", "inactive owner":
				exp, ok = allN, true
			}
			if !ok {
				t.Fatalf("no expectation for %s / %s", s.name, w.name)
			}
			st := s.state()
			st.Groups = w.groups
			var got strings.Builder
			for _, k := range Kinds() {
				r := Decide(w.p, st, k)
				if r == nil {
					got.WriteByte('-')
					continue
				}
				got.WriteByte(codeLetters[r.Code])
				if r.Msg.IsZero() {
					t.Errorf("%s / %s / %s: refusal %s without a message", s.name, w.name, k, r.Code)
				}
				if r.Code == JobPending && r.Msg.ID() != "instance_ops.busy.reboot" {
					t.Errorf("%s / %s / %s: job pending says %s, want what the job does", s.name, w.name, k, r.Msg.ID())
				}
			}
			if got.String() != exp {
				t.Errorf("%s / %s: got %s, want %s", s.name, w.name, got.String(), exp)
			}
			// The creation kind is never an action.
			if r := Decide(w.p, st, Create); r == nil || r.Code != NotFound {
				t.Errorf("%s / %s: create: %v", s.name, w.name, r)
			}
		}
	}
	// No instance, or no principal: not found.
	if r := Decide(people[4].p, State{}, Start); r == nil || r.Code != NotFound {
		t.Errorf("no instance: %v", r)
	}
	if r := Decide(nil, State{Instance: running()}, Start); r == nil || r.Code != NotFound {
		t.Errorf("no principal: %v", r)
	}
}

// TestInstanceRefusalStatus checks the HTTP status of every refusal code.
func TestInstanceRefusalStatus(t *testing.T) {
	want := map[RefusalCode]int{NotFound: 404, ReadOnly: 403, NotPermitted: 403, AdminLocked: 409, Maintenance: 409,
		JobPending: 409, WrongState: 409, Invalid: 422, Unavailable: 503}
	for code, status := range want {
		if got := (&Refusal{Code: code}).HTTPStatus(); got != status {
			t.Errorf("%s: %d, want %d", code, got, status)
		}
	}
	if Start.Busy().ID() != "instance_ops.busy.start" || Kind("nonsense").Busy().ID() != "instance_ops.busy.other" {
		t.Error("busy messages")
	}
	if len(Kinds()) != 11 {
		t.Errorf("Kinds: %v", Kinds())
	}
}

// TestInstanceAllowFromParse checks the "allow from" rules.
func TestInstanceAllowFromParse(t *testing.T) {
	ok := map[string]string{
		"192.0.2.10":         "192.0.2.10/32",
		" 192.0.2.0/26 ":     "192.0.2.0/26",
		"2001:db8::1":        "2001:db8::1/128",
		"2001:0db8:0::/64":   "2001:db8::/64",
		"::ffff:192.0.2.1":   "192.0.2.1/32",
		"2001:db8:1:2::/100": "2001:db8:1:2::/100",
	}
	for in, want := range ok {
		p, r := ParseAllowFrom(in)
		if r != nil || p.String() != want {
			t.Errorf("%q: got %v %v, want %s", in, p, r, want)
		}
	}
	bad := map[string]string{
		"":                    "instance_ops.invalid.allow_from",
		"example.org":         "instance_ops.invalid.allow_from",
		"192.0.2.0/25":        "instance_ops.invalid.allow_from_v4_size",
		"10.0.0.0/8":          "instance_ops.invalid.allow_from_v4_size",
		"2001:db8::/48":       "instance_ops.invalid.allow_from_v6_size",
		"0.0.0.0":             "instance_ops.invalid.allow_from_unspecified",
		"::/128":              "instance_ops.invalid.allow_from_unspecified",
		"fe80::1%eth0":        "instance_ops.invalid.allow_from",
		"192.0.2.1/33":        "instance_ops.invalid.allow_from",
		"::ffff:10.0.0.0/104": "instance_ops.invalid.allow_from_v4_size",
	}
	for in, want := range bad {
		_, r := ParseAllowFrom(in)
		if r == nil || r.Code != Invalid || r.Field != "allow_from" || r.Msg.ID() != want {
			t.Errorf("%q: got %v, want %s", in, r, want)
		}
	}
}
