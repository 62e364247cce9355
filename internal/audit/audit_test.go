package audit_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// TestAuditContextAddr: the address the web layer puts in the context is
// the actor's; background work has none.
func TestAuditContextAddr(t *testing.T) {
	ctx := context.Background()
	if a := audit.AddrFrom(ctx); a.IsValid() {
		t.Errorf("no address set, got %v", a)
	}
	addr := netip.MustParseAddr("198.51.100.9")
	ctx = audit.WithAddr(ctx, addr)
	if got := audit.AddrFrom(ctx); got != addr {
		t.Errorf("AddrFrom = %v, want %v", got, addr)
	}
	p := &auth.Principal{User: &store.User{ID: 7, Username: "ann", IsActive: true}}
	if got := audit.ActorIn(ctx, p); got != (audit.Actor{UserID: 7, Username: "ann", Addr: addr}) {
		t.Errorf("ActorIn(ann) = %+v", got)
	}
	if got := audit.ActorIn(context.Background(), nil); got != (audit.Actor{}) {
		t.Errorf("ActorIn(nil) without an address = %+v, want the system", got)
	}
}

// TestAuditCodes: every action code matches the table's rule and is
// listed once; the outcomes are the table's.
func TestAuditCodes(t *testing.T) {
	seen := map[audit.Action]bool{}
	for _, a := range audit.Actions() {
		if seen[a] || !a.Valid() || !strings.Contains(string(a), ".") || strings.ToLower(string(a)) != string(a) {
			t.Errorf("action %q listed twice or malformed", a)
		}
		seen[a] = true
	}
	if audit.Action("instance.fly").Valid() || audit.Outcome("maybe").Valid() {
		t.Error("unknown codes are valid")
	}
	for _, o := range []audit.Outcome{audit.OK, audit.Refused, audit.Failed} {
		if !o.Valid() {
			t.Errorf("outcome %q is not valid", o)
		}
	}
}

// TestAuditLogWrites: Record writes an entry on its own, with every code
// (the table's check accepts them all); Then writes it in the caller's
// transaction, so a rolled-back change leaves no entry; a long detail is
// cut.
func TestAuditLogWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.NewStore(t)
	log := audit.New(st)
	u, err := st.CreateUser(ctx, store.NewUser{Username: "ann", Email: "ann@example.org", IsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	actor := audit.ActorOf(&auth.Principal{User: u}, netip.MustParseAddr("192.0.2.1"))
	for _, a := range audit.Actions() {
		if err := log.Record(ctx, audit.Entry{Actor: actor, Action: a, Outcome: audit.OK}); err != nil {
			t.Errorf("record %s: %v", a, err)
		}
	}
	if err := log.Record(ctx, audit.Entry{Actor: actor}); err == nil {
		t.Error("an entry without action and outcome was written")
	}

	boom := errors.New("the change failed")
	err = pgx.BeginFunc(ctx, st.Pool(), func(tx pgx.Tx) error {
		if err := log.Then(audit.Entry{Actor: actor, Action: audit.InstanceLock, Outcome: audit.OK,
			Detail: "rolled back"})(ctx, tx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	long := strings.Repeat("é", audit.MaxDetail+50)
	err = pgx.BeginFunc(ctx, st.Pool(), func(tx pgx.Tx) error {
		return log.Then(audit.Entry{Actor: actor, Action: audit.InstanceUnlock, Outcome: audit.Refused, Detail: long})(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}

	p, err := st.ListAudit(ctx, store.AuditQuery{UserID: u.ID, Limit: store.MaxAuditPage})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != len(audit.Actions())+1 {
		t.Fatalf("%d entries, want %d", len(p.Entries), len(audit.Actions())+1)
	}
	for _, e := range p.Entries {
		if e.Detail == "rolled back" {
			t.Error("the entry of a rolled-back change was kept")
		}
		if e.Username != "ann" || e.ClientAddr != actor.Addr {
			t.Errorf("entry %d: user %q from %v", e.ID, e.Username, e.ClientAddr)
		}
	}
	if e := p.Entries[0]; e.Action != string(audit.InstanceUnlock) || e.Outcome != "refused" ||
		utf8.RuneCountInString(e.Detail) != audit.MaxDetail || !strings.HasSuffix(e.Detail, "…") {
		t.Errorf("newest entry: %s %s, detail of %d runes", e.Action, e.Outcome, utf8.RuneCountInString(e.Detail))
	}
}
