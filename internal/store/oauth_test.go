package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

func oauthInput(name, typ, grant string, uris ...string) store.OAuthClientInput {
	return store.OAuthClientInput{Name: name, ClientType: typ, GrantType: grant, RedirectURIs: uris}
}

func TestOAuthClients(t *testing.T) {
	t.Parallel()
	s := migratedStore(t)
	ctx := context.Background()
	ann, bob := adminUser(t, s, "ann", false), adminUser(t, s, "bob", false)

	c, err := s.CreateOAuthClient(ctx, ann.ID, "client-ann-0000000001", tokenHash(t),
		oauthInput("Ann's script", store.OAuthConfidential, store.OAuthAuthorizationCode, "https://a.example.org/cb"))
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != ann.ID || c.Name != "Ann's script" || len(c.SecretHash) != 32 || !slices.Equal(c.RedirectURIs, []string{"https://a.example.org/cb"}) {
		t.Fatalf("created %+v", c)
	}
	if got, err := s.OAuthClientByClientID(ctx, "client-ann-0000000001"); err != nil || got.ID != c.ID {
		t.Fatalf("by client id: %v %v", got, err)
	}
	if _, err := s.OAuthClientByClientID(ctx, "client-nobody-000001"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown client id: %v", err)
	}
	// Only the owner reaches the application by id.
	if _, err := s.OAuthClientOfUser(ctx, bob.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob reads ann's application: %v", err)
	}
	if _, err := s.UpdateOAuthClient(ctx, bob.ID, c.ID, oauthInput("x", store.OAuthPublic, store.OAuthImplicit, "https://x.example.org/"), nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob updates ann's application: %v", err)
	}
	if err := s.DeleteOAuthClient(ctx, bob.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob deletes ann's application: %v", err)
	}
	if list, err := s.OAuthClientsOfUser(ctx, bob.ID); err != nil || len(list) != 0 {
		t.Fatalf("bob's applications: %v %v", list, err)
	}
	// A client id is unique.
	if _, err := s.CreateOAuthClient(ctx, bob.ID, "client-ann-0000000001", nil,
		oauthInput("dup", store.OAuthPublic, store.OAuthImplicit, "https://b.example.org/")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate client id: %v", err)
	}

	// Public: the secret goes. Back to confidential: only with a new one.
	u, err := s.UpdateOAuthClient(ctx, ann.ID, c.ID, oauthInput("Renamed", store.OAuthPublic, store.OAuthImplicit,
		"https://a.example.org/cb", "http://localhost:8000/"), tokenHash(t))
	if err != nil || u.SecretHash != nil || u.Name != "Renamed" || u.GrantType != store.OAuthImplicit || len(u.RedirectURIs) != 2 {
		t.Fatalf("to public: %+v %v", u, err)
	}
	if _, err := s.UpdateOAuthClient(ctx, ann.ID, c.ID, oauthInput("Renamed", store.OAuthConfidential, store.OAuthImplicit,
		"https://a.example.org/cb"), nil); err == nil {
		t.Fatal("a confidential client without a secret was accepted")
	}
	h := tokenHash(t)
	if u, err = s.UpdateOAuthClient(ctx, ann.ID, c.ID, oauthInput("Renamed", store.OAuthConfidential, store.OAuthImplicit,
		"https://a.example.org/cb"), h); err != nil || string(u.SecretHash) != string(h) {
		t.Fatalf("to confidential: %+v %v", u, err)
	}
	// Confidential stays confidential: the secret is kept.
	if u, err = s.UpdateOAuthClient(ctx, ann.ID, c.ID, oauthInput("Again", store.OAuthConfidential, store.OAuthImplicit,
		"https://a.example.org/cb"), nil); err != nil || string(u.SecretHash) != string(h) {
		t.Fatalf("kept secret: %+v %v", u, err)
	}

	// The number of applications per account is bounded.
	for i := 1; i < store.MaxOAuthClientsPerUser; i++ {
		if _, err := s.CreateOAuthClient(ctx, ann.ID, fmt.Sprintf("client-ann-%010d", i+1), nil,
			oauthInput("app", store.OAuthPublic, store.OAuthImplicit, "https://a.example.org/")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateOAuthClient(ctx, ann.ID, "client-ann-one-too-many", nil,
		oauthInput("app", store.OAuthPublic, store.OAuthImplicit, "https://a.example.org/")); !errors.Is(err, store.ErrTooManyOAuthClients) {
		t.Fatalf("over the limit: %v", err)
	}
	if err := s.DeleteOAuthClient(ctx, ann.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthClientOfUser(ctx, ann.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted application: %v", err)
	}
}

func TestOAuthTokens(t *testing.T) {
	t.Parallel()
	s := migratedStore(t)
	ctx := context.Background()
	ann, bob := adminUser(t, s, "ann", false), adminUser(t, s, "bob", false)
	for _, c := range []struct {
		user int64
		id   string
	}{{ann.ID, "client-one-000000001"}, {ann.ID, "client-two-000000001"}} {
		if _, err := s.CreateOAuthClient(ctx, c.user, c.id, nil,
			oauthInput(c.id, store.OAuthPublic, store.OAuthImplicit, "https://a.example.org/")); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	put := func(kind, client string, user int64, created time.Time, ttl time.Duration) ([]byte, *store.OAuthToken) {
		t.Helper()
		h := tokenHash(t)
		tok, err := s.CreateOAuthToken(ctx, store.NewOAuthToken{Kind: kind, Hash: h, ClientID: client, UserID: user,
			Scope: "read", RedirectURI: "https://a.example.org/", CreatedAt: created, ExpiresAt: created.Add(ttl)})
		if err != nil {
			t.Fatal(err)
		}
		return h, tok
	}
	annTok, annRow := put(store.OAuthKindAccess, "client-one-000000001", ann.ID, now, time.Hour)
	_, bobRow := put(store.OAuthKindAccess, "client-one-000000001", bob.ID, now, time.Hour)
	expired, _ := put(store.OAuthKindAccess, "client-two-000000001", ann.ID, now.Add(-2*time.Hour), time.Hour)
	code, _ := put(store.OAuthKindCode, "client-one-000000001", ann.ID, now, 10*time.Minute)
	if annRow.ClientName != "client-one-000000001" || annRow.UserID != ann.ID {
		t.Fatalf("created %+v", annRow)
	}
	if _, err := s.CreateOAuthToken(ctx, store.NewOAuthToken{Kind: store.OAuthKindAccess, Hash: tokenHash(t),
		ClientID: "no-such-client-00001", UserID: ann.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token of an unknown client: %v", err)
	}

	// Lookups by hash: the right kind, not expired.
	if got, err := s.OAuthTokenByHash(ctx, store.OAuthKindAccess, annTok, now); err != nil || got.ID != annRow.ID {
		t.Fatalf("by hash: %v %v", got, err)
	}
	if _, err := s.OAuthTokenByHash(ctx, store.OAuthKindCode, annTok, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an access token found as a code: %v", err)
	}
	if _, err := s.OAuthTokenByHash(ctx, store.OAuthKindAccess, expired, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired token found: %v", err)
	}
	if a, err := s.OAuthAccessByHash(ctx, annTok, now); err != nil || a.Username != "ann" || a.Email != "ann@example.org" {
		t.Fatalf("access: %+v %v", a, err)
	}
	if _, err := s.OAuthAccessByHash(ctx, code, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a code accepted as an access token: %v", err)
	}
	if _, err := s.OAuthAccessByHash(ctx, annTok, now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token accepted after its expiry: %v", err)
	}

	// A code is deleted once.
	if ok, err := s.DeleteOAuthTokenByHash(ctx, store.OAuthKindCode, code); !ok || err != nil {
		t.Fatalf("delete code: %v %v", ok, err)
	}
	if ok, err := s.DeleteOAuthTokenByHash(ctx, store.OAuthKindCode, code); ok || err != nil {
		t.Fatalf("code deleted twice: %v %v", ok, err)
	}

	// The user's list and revocation: only their own tokens.
	list, err := s.OAuthAccessTokensOfUser(ctx, ann.ID, now)
	if err != nil || len(list) != 1 || list[0].ID != annRow.ID {
		t.Fatalf("ann's tokens: %v %v", list, err)
	}
	if err := s.DeleteOAuthTokenOfUser(ctx, ann.ID, bobRow.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ann revokes bob's token: %v", err)
	}
	// A client revokes only its own tokens.
	if ok, err := s.RevokeOAuthTokenOfClient(ctx, "client-two-000000001", annTok); ok || err != nil {
		t.Fatalf("another client revoked the token: %v %v", ok, err)
	}
	if ok, err := s.RevokeOAuthTokenOfClient(ctx, "client-one-000000001", annTok); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if _, err := s.OAuthAccessByHash(ctx, annTok, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked token accepted: %v", err)
	}
	if err := s.DeleteOAuthTokenOfUser(ctx, bob.ID, bobRow.ID); err != nil {
		t.Fatal(err)
	}

	// The purge takes the expired rows only.
	live, _ := put(store.OAuthKindAccess, "client-two-000000001", ann.ID, now, time.Hour)
	if n, err := s.DeleteExpiredOAuthTokens(ctx, now); err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
	if _, err := s.OAuthAccessByHash(ctx, live, now); err != nil {
		t.Fatalf("live token purged: %v", err)
	}
	// Deleting the application deletes its tokens; an inactive user's
	// tokens are refused.
	if _, err := s.Pool().Exec(ctx, `UPDATE users SET is_active = false WHERE id = $1`, ann.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthAccessByHash(ctx, live, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an inactive user's token accepted: %v", err)
	}
	two, err := s.OAuthClientByClientID(ctx, "client-two-000000001")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOAuthClient(ctx, ann.ID, two.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM oauth_tokens WHERE client_id = $1`, two.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d tokens left of a deleted application (%v)", n, err)
	}
}

func TestOAuthOwnedInstances(t *testing.T) {
	t.Parallel()
	s := migratedStore(t)
	ctx := context.Background()
	ann, bob := adminUser(t, s, "ann", true), adminUser(t, s, "bob", false)
	g, err := s.CreateGroup(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroupMember(ctx, g.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	cluster := func(slug string) int64 {
		c, err := s.CreateCluster(ctx, store.ClusterInput{Slug: slug, Hostname: slug + ".example.org", Port: 5080,
			TLSFingerprint: strings.Repeat("AB:", 31) + "AB"})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	c1, c2, off := cluster("c1"), cluster("c2"), cluster("off")
	type vm struct {
		name          string
		users, groups []string
		tags          []string
	}
	save := func(id int64, vms ...vm) {
		var insts []store.CachedInstance
		for _, v := range vms {
			insts = append(insts, store.CachedInstance{ClusterID: id, Name: v.name, OwnerUsers: v.users,
				OwnerGroups: v.groups, Tags: v.tags, Status: "running"})
		}
		if _, err := s.SaveClusterSnapshot(ctx, &store.ClusterSnapshot{ClusterID: id, Instances: insts,
			Skipped: []string{"nodes", "groups", "networks", "jobs"}, StartedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	save(c1, vm{"a1", []string{"ann"}, nil, []string{"ganetimgr:user:ann", "ganetimgr:filterby:thistag"}},
		vm{"b1", []string{"bob"}, nil, []string{"ganetimgr:user:bob", "ganetimgr:filterby:thistag"}},
		vm{"s1", nil, []string{"staff"}, []string{"ganetimgr:group:staff"}},
		vm{"x1", []string{"carol"}, nil, []string{"ganetimgr:user:carol"}})
	save(c2, vm{"a2", []string{"ann"}, nil, []string{"ganetimgr:user:ann"}},
		vm{"b2", []string{"bob"}, []string{"staff"}, []string{"ganetimgr:user:bob", "ganetimgr:filterby:thistag2"}})
	save(off, vm{"a3", []string{"ann"}, nil, []string{"ganetimgr:user:ann"}})
	if _, err := s.Pool().Exec(ctx, `UPDATE clusters SET disabled = true WHERE id = $1`, off); err != nil {
		t.Fatal(err)
	}
	names := func(user int64, tag string) []string {
		t.Helper()
		got, err := s.OwnedInstances(ctx, user, tag)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, in := range got {
			out = append(out, in.ClusterSlug+"/"+in.Name)
		}
		return out
	}
	for _, tc := range []struct {
		user int64
		tag  string
		want []string
	}{
		// A superuser gets only what they own; a disabled cluster is left out.
		{ann.ID, "", []string{"c1/a1", "c2/a2"}},
		{bob.ID, "", []string{"c1/b1", "c2/b2", "c1/s1"}},
		{bob.ID, "ganetimgr:filterby:thistag", []string{"c1/b1"}},
		{bob.ID, "ganetimgr:filterby", nil}, // exact tags only
		{ann.ID, "ganetimgr:filterby:thistag2", nil},
	} {
		if got := names(tc.user, tc.tag); !slices.Equal(got, tc.want) {
			t.Errorf("user %d tag %q: got %v, want %v", tc.user, tc.tag, got, tc.want)
		}
	}
}
