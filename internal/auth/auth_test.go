package auth_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func TestPrincipalCan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(pgtest.NewPool(t))
	mk := func(name string, active, super bool) *store.User {
		u, err := st.CreateUser(ctx, store.NewUser{Username: name, Email: name + "@example.org", IsActive: active, IsSuperuser: super})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	plain, direct, member := mk("plain", true, false), mk("direct", true, false), mk("member", true, false)
	root, inactiveRoot, inactive := mk("root", true, true), mk("oldroot", false, true), mk("gone", false, false)
	if err := st.GrantUserPermission(ctx, direct.ID, string(auth.CanLock)); err != nil {
		t.Fatal(err)
	}
	if err := st.GrantUserPermission(ctx, inactive.ID, string(auth.CanLock)); err != nil {
		t.Fatal(err)
	}
	g, err := st.CreateGroup(ctx, "helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.GrantGroupPermission(ctx, g.ID, string(auth.ViewInstances)); err != nil {
		t.Fatal(err)
	}
	if err := st.AddGroupMember(ctx, g.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.GrantUserPermission(ctx, plain.ID, "not_a_permission"); err == nil {
		t.Error("granting an unknown permission succeeded")
	}

	cases := []struct {
		user *store.User
		perm auth.Permission
		want bool
	}{
		{plain, auth.ViewInstances, false},
		{plain, auth.CanLock, false},
		{direct, auth.CanLock, true},
		{direct, auth.ViewInstances, false},
		{member, auth.ViewInstances, true},
		{member, auth.CanLock, false},
		{root, auth.CanIsolate, true},
		{root, auth.ChangeApplication, true},
		{inactiveRoot, auth.ViewInstances, false},
		{inactive, auth.CanLock, false},
	}
	for _, c := range cases {
		p, err := auth.LoadPrincipal(ctx, st, c.user)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Can(c.perm); got != c.want {
			t.Errorf("%s may %s: got %v, want %v", c.user.Username, c.perm, got, c.want)
		}
	}
	// Removing the member from the group takes the permission away.
	if err := st.RemoveGroupMember(ctx, g.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	p, _ := auth.LoadPrincipal(ctx, st, member)
	if p.Can(auth.ViewInstances) {
		t.Error("permission kept after leaving the group")
	}
	var nobody *auth.Principal
	if nobody.Can(auth.ViewInstances) || nobody.IsSuperuser() {
		t.Error("a nil principal may do something")
	}
	p, _ = auth.LoadPrincipal(ctx, st, member)
	if p.Role() != auth.RoleUser {
		t.Errorf("role of a plain user = %v", p.Role())
	}
	if p, _ := auth.LoadPrincipal(ctx, st, root); p.Role() != auth.RoleAdmin || len(p.Held()) != len(auth.Permissions()) {
		t.Errorf("superuser: role %v held %v", p.Role(), p.Held())
	}
}

func TestPermissionsMatchDatabase(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	rows, err := pool.Query(context.Background(), `SELECT codename FROM permissions ORDER BY codename`)
	if err != nil {
		t.Fatal(err)
	}
	var inDB []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		inDB = append(inDB, s)
	}
	if len(inDB) != len(auth.Permissions()) {
		t.Fatalf("database has %v, code has %v", inDB, auth.Permissions())
	}
	for _, p := range inDB {
		if !auth.Permission(p).Valid() {
			t.Errorf("database permission %q unknown to the code", p)
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cheap := auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
	h := auth.NewHasher(cheap, 2)
	enc, err := h.Hash(ctx, "πάσσγουορντ")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hash format: %s", enc)
	}
	if ok, rehash, err := h.Verify(ctx, "πάσσγουορντ", enc); !ok || rehash || err != nil {
		t.Errorf("right password: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(ctx, "wrong", enc); ok {
		t.Error("wrong password accepted")
	}
	if ok, _, _ := h.Verify(ctx, "", ""); ok {
		t.Error("empty hash accepted")
	}
	enc2, _ := h.Hash(ctx, "πάσσγουορντ")
	if enc2 == enc {
		t.Error("same salt twice")
	}
	// A hash made with other parameters verifies and asks for a rehash.
	stronger := auth.NewHasher(auth.Argon2Params{Memory: 2048, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 1)
	if ok, rehash, _ := stronger.Verify(ctx, "πάσσγουορντ", enc); !ok || !rehash {
		t.Errorf("old parameters: ok=%v rehash=%v", ok, rehash)
	}
	for _, bad := range []string{"x", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=1024,t=1,p=1$!!$!!"} {
		if ok, _, err := h.Verify(ctx, "x", bad); ok || err == nil {
			t.Errorf("malformed hash %q: ok=%v err=%v", bad, ok, err)
		}
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	t.Parallel()
	h := auth.NewHasher(auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// With the context already cancelled, a hash either gets the free slot
	// or reports the cancellation; it never blocks.
	done := make(chan struct{})
	go func() { _, _ = h.Hash(ctx, "x"); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Hash blocked on a cancelled context")
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	th := auth.NewThrottle(3, time.Minute, 100, clock)
	for i := 0; i < 3; i++ {
		if blocked, _ := th.Blocked("a"); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		th.Fail("a")
	}
	blocked, left := th.Blocked("a")
	if !blocked || left != time.Minute {
		t.Fatalf("after 3 failures: blocked=%v left=%v", blocked, left)
	}
	if b, _ := th.Blocked("b"); b {
		t.Error("another key blocked")
	}
	now = now.Add(61 * time.Second)
	if b, _ := th.Blocked("a"); b {
		t.Error("still blocked after the window")
	}
	th.Fail("c")
	th.Fail("c")
	th.Reset("c")
	th.Fail("c")
	th.Fail("c")
	if b, _ := th.Blocked("c"); b {
		t.Error("Reset did not forget failures")
	}
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	t.Parallel()
	th := auth.NewThrottle(5, time.Hour, 1000, nil)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20000; i++ {
				th.Fail(fmt.Sprintf("%d-%d", w, i))
			}
		}()
	}
	wg.Wait()
	if n := th.Len(); n != 1000 {
		t.Errorf("throttle holds %d keys, want at most 1000", n)
	}
	// The most recent key is kept, an old one evicted.
	th.Fail("recent")
	th.Fail("recent")
	th.Fail("recent")
	th.Fail("recent")
	th.Fail("recent")
	if b, _ := th.Blocked("recent"); !b {
		t.Error("recent key was evicted")
	}
}

func TestValidUsername(t *testing.T) {
	for s, want := range map[string]bool{"alice": true, "a.b-c_d@e+f": true, "": false, "a b": false, "ä": false,
		"a:b": false, strings.Repeat("a", 150): true, strings.Repeat("a", 151): false} {
		if got := auth.ValidUsername(s); got != want {
			t.Errorf("ValidUsername(%q) = %v", s, got)
		}
	}
}

// BenchmarkHashDefault measures one hash with the production parameters.
func BenchmarkHashDefault(b *testing.B) {
	h := auth.NewHasher(auth.DefaultArgon2(), 4)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
