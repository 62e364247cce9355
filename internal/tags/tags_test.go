package tags

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestBuilders(t *testing.T) {
	c := Codec{}
	cases := []struct {
		got  func() (string, error)
		want string
	}{
		{func() (string, error) { return c.User("alice") }, "ganetimgr:user:alice"},
		{func() (string, error) { return c.User("alice.smith@uni.example") }, "ganetimgr:user:alice.smith@uni.example"},
		{func() (string, error) { return c.Group("noc-team") }, "ganetimgr:group:noc-team"},
		{func() (string, error) { return c.Org("grnet") }, "ganetimgr:org:grnet"},
		{func() (string, error) { return c.Application(42) }, "ganetimgr:application:42"},
		{func() (string, error) { return c.Service(ServiceMail) }, "ganetimgr:service:mail"},
		{func() (string, error) { return c.VG("xenvg") }, "ganetimgr:vg:xenvg"},
		{func() (string, error) { return c.AdminLock(), nil }, "ganetimgr:adminlock"},
		{func() (string, error) { return c.Isolate(), nil }, "ganetimgr:isolate"},
		{func() (string, error) { return c.NeedsReboot(), nil }, "ganetimgr:needsreboot"},
		{func() (string, error) { return c.WhitelistIP(netip.MustParsePrefix("192.0.2.0/24")) }, "ganetimgr:whitelist_ip:192.0.2.0/24"},
		{func() (string, error) { return c.WhitelistIP(netip.MustParsePrefix("192.0.2.7/32")) }, "ganetimgr:whitelist_ip:192.0.2.7/32"},
		{func() (string, error) {
			return c.WhitelistIP(netip.MustParsePrefix("2001:0db8:0000:0000:0000:0000:0000:0000/64"))
		}, "ganetimgr:whitelist_ip:2001:db8::/64"},
		{func() (string, error) { return c.Ext("rbd2") }, "ganetimgr:ext:rbd2"},
		{func() (string, error) { return c.ExtParam("rbd2", "pool", "fast") }, "ganetimgr:ext:rbd2:params:pool:fast"},
		{func() (string, error) { return Codec{Prefix: "TEST"}.User("u") }, "TEST:user:u"},
		{func() (string, error) { return Codec{}.User("Γιώργος") }, "ganetimgr:user:Γιώργος"},
	}
	for _, tc := range cases {
		got, err := tc.got()
		if err != nil || got != tc.want {
			t.Errorf("got %q, %v; want %q", got, err, tc.want)
		}
		if err := Validate(got); err != nil {
			t.Errorf("%q does not validate: %v", got, err)
		}
	}
}

func TestBuilderRejects(t *testing.T) {
	c := Codec{}
	bad := []func() (string, error){
		func() (string, error) { return c.User("") },
		func() (string, error) { return c.User("alice smith") },
		func() (string, error) { return c.User("a,b") },
		func() (string, error) { return c.User("a#b") },
		func() (string, error) { return c.User("bad\x00") },
		func() (string, error) { return c.User("bad\xff") },
		func() (string, error) { return c.User(strings.Repeat("u", 128-len("ganetimgr:user:")+1)) },
		func() (string, error) { return c.Group("x y") },
		func() (string, error) { return c.Application(0) },
		func() (string, error) { return c.Application(-3) },
		func() (string, error) { return c.WhitelistIP(netip.Prefix{}) },
		func() (string, error) { return c.Ext("a:b") },
		func() (string, error) { return c.ExtParam("p", "", "v") },
		func() (string, error) { return c.ExtParam("p", "k", "") },
		func() (string, error) { return Codec{Prefix: "a:b"}.User("u") },
		func() (string, error) { return Codec{Prefix: "with space"}.User("u") },
		func() (string, error) { return Codec{ASCIIOnly: true}.User("Γιώργος") },
		func() (string, error) { return c.User("smile☺") }, // a symbol, not a letter
	}
	for i, fn := range bad {
		if got, err := fn(); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d: got %q, %v; want ErrInvalid", i, got, err)
		}
	}
	// The longest valid user tag is exactly 128 characters.
	long := strings.Repeat("u", 128-len("ganetimgr:user:"))
	if tag, err := c.User(long); err != nil || len(tag) != MaxTagLen {
		t.Errorf("128-char tag: %v", err)
	}
	if _, err := New("ok-prefix"); err != nil {
		t.Errorf("New: %v", err)
	}
	if _, err := New("bad:prefix"); !errors.Is(err, ErrInvalid) {
		t.Errorf("New(bad:prefix) = %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, ok := range []string{"a", "env:test", "a.b+c*d/e:f@g-h_i", "ÄÖ", "١٢٣", strings.Repeat("x", 128)} {
		if err := Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a\tb", "a=b", "a,b", "a;b", "a!b", "é\u0301", strings.Repeat("x", 129), strings.Repeat("é", 129)} {
		if err := Validate(bad); err == nil {
			t.Errorf("Validate(%q) = nil", bad)
		}
	}
	// Length counts characters, as Python does: 128 two-byte letters pass.
	if err := Validate(strings.Repeat("é", 128)); err != nil {
		t.Errorf("128 é: %v", err)
	}
	if err := ValidateASCII("é"); err == nil {
		t.Error("ValidateASCII(é) = nil")
	}
}

func TestParse(t *testing.T) {
	c := Codec{}
	in := []string{
		"ganetimgr:user:alice",
		"ganetimgr:user:bob",
		"ganetimgr:user:alice", // duplicate
		"ganetimgr:group:noc",
		"ganetimgr:org:grnet",
		"ganetimgr:application:17",
		"ganetimgr:service:mail",
		"ganetimgr:vg:xenvg",
		"ganetimgr:adminlock",
		"ganetimgr:isolate",
		"ganetimgr:needsreboot",
		"ganetimgr:whitelist_ip:192.0.2.0/24",
		"ganetimgr:whitelist_ip:2001:db8::/64",
		"ganetimgr:whitelist_ip:198.51.100.7",
		"ganetimgr:whitelist_ip:not-an-ip",
		"ganetimgr:users:testuser", // the docs' wrong spelling
		"ganetimgr:user:",
		"ganetimgr:application:abc",
		"ganetimgr:adminlock:yes",
		"ganetimgr",
		"ganetimgr2:user:mallory",
		"TEST:user:eve",
		"vima:policy:exclude",
		"env:test",
		"owner:alice",
		"ganetimgr:user:carol:with:colons",
	}
	p := c.Parse(in)
	want := Parsed{
		Users:       []string{"alice", "bob", "carol:with:colons"},
		Groups:      []string{"noc"},
		Orgs:        []string{"grnet"},
		Services:    []string{"mail"},
		VGs:         []string{"xenvg"},
		Application: 17,
		AdminLock:   true,
		Isolate:     true,
		NeedsReboot: true,
		Whitelist: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/64"),
			netip.MustParsePrefix("198.51.100.7/32")},
		Unknown: []string{"ganetimgr:whitelist_ip:not-an-ip", "ganetimgr:users:testuser", "ganetimgr:user:",
			"ganetimgr:application:abc", "ganetimgr:adminlock:yes"},
		Other: []string{"ganetimgr", "ganetimgr2:user:mallory", "TEST:user:eve", "vima:policy:exclude", "env:test", "owner:alice"},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", p, want)
	}
	if p.Org() != "grnet" || !p.HasService("mail") || p.HasService("web") {
		t.Errorf("helpers: %q %v", p.Org(), p.HasService("mail"))
	}
	if !p.OwnedBy("bob", nil) || !p.OwnedBy("zed", []string{"x", "noc"}) || p.OwnedBy("zed", []string{"x"}) || p.OwnedBy("eve", nil) {
		t.Error("OwnedBy wrong")
	}
	// A second, different application id is not silently taken.
	p = c.Parse([]string{"ganetimgr:application:1", "ganetimgr:application:2"})
	if p.Application != 1 || !slices.Equal(p.Unknown, []string{"ganetimgr:application:2"}) {
		t.Errorf("two applications: %+v", p)
	}
	// Other prefix.
	p = Codec{Prefix: "TEST"}.Parse(in)
	if !slices.Equal(p.Users, []string{"eve"}) || len(p.Other) != len(in)-1 {
		t.Errorf("TEST prefix: %+v", p)
	}
	// Empty.
	if p := c.Parse(nil); !reflect.DeepEqual(p, Parsed{}) {
		t.Errorf("Parse(nil) = %+v", p)
	}
}

func TestRoundTrip(t *testing.T) {
	c := Codec{}
	p := Parsed{
		Users: []string{"alice"}, Groups: []string{"noc"}, Orgs: []string{"grnet"}, Application: 9,
		Services: []string{"mail"}, VGs: []string{"vg0"}, AdminLock: true, Isolate: true, NeedsReboot: true,
		Whitelist: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/8"), netip.MustParsePrefix("::ffff:192.0.2.1/128")},
	}
	tags, err := c.Tags(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ganetimgr:user:alice", "ganetimgr:group:noc", "ganetimgr:org:grnet", "ganetimgr:application:9",
		"ganetimgr:service:mail", "ganetimgr:vg:vg0", "ganetimgr:adminlock", "ganetimgr:isolate", "ganetimgr:needsreboot",
		"ganetimgr:whitelist_ip:10.0.0.1/8", "ganetimgr:whitelist_ip:::ffff:192.0.2.1/128"}
	if !slices.Equal(tags, want) {
		t.Errorf("Tags =\n%q\nwant\n%q", tags, want)
	}
	if back := c.Parse(tags); !reflect.DeepEqual(back, p) {
		t.Errorf("round trip =\n%+v\nwant\n%+v", back, p)
	}
	if _, err := c.Tags(Parsed{Users: []string{"bad user"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Tags with a bad user: %v", err)
	}
}

func TestParseWhitelist(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1/32",
		" 192.0.2.0/24 ":       "192.0.2.0/24",
		"2001:DB8::1":          "2001:db8::1/128",
		"2001:db8:0::/48":      "2001:db8::/48",
		"10.1.2.3/8":           "10.1.2.3/8",
		"::ffff:10.0.0.1":      "::ffff:10.0.0.1/128",
		"2001:db8::5/64":       "2001:db8::5/64",
		"0.0.0.0/0":            "0.0.0.0/0",
		"192.0.2.255/32":       "192.0.2.255/32",
		"fd00::/8":             "fd00::/8",
		"2001:db8:0:0:1:0:0:0": "2001:db8:0:0:1::/128", // RFC 5952: the longest zero run
	} {
		p, err := ParseWhitelist(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseWhitelist(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"", "x", "192.0.2.1/33", "fe80::1%eth0", "192.0.2.1/", "1.2.3"} {
		if _, err := ParseWhitelist(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseWhitelist(%q) = %v", bad, err)
		}
	}
}

func TestParseCluster(t *testing.T) {
	got := Codec{}.ParseCluster([]string{
		"ganetimgr:ext:rbd2",
		"ganetimgr:ext:rbd2:params:pool:fast",
		"ganetimgr:ext:rbd2:params:access:userspace",
		"ganetimgr:ext:archipelago:params:foo:bar/baz",
		"ganetimgr:ext:bad:params:k",
		"ganetimgr:ext:bad2:params:k:v=1",
		"ganetimgr:ext:bad3:other:x",
		"ganetimgr:ext:",
		"other:ext:x",
		"sandbox",
	})
	want := []ExtProvider{
		{Name: "rbd2", Params: map[string]string{"pool": "fast", "access": "userspace"}},
		{Name: "archipelago", Params: map[string]string{"foo": "bar/baz"}},
	}
	// "bad", "bad2" and "bad3" appear only in malformed tags: ignored.
	if len(got) != len(want) || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseCluster = %+v, want %+v", got, want)
	}
}

func TestParseGroup(t *testing.T) {
	g := ParseGroup([]string{"locked", "vg:xenvg", "vg:fastvg", "vg:xenvg", "vg:", "ganetimgr:locked", "Locked"})
	if !g.Locked || !slices.Equal(g.VGs, []string{"xenvg", "fastvg"}) {
		t.Errorf("ParseGroup = %+v", g)
	}
	if g := ParseGroup([]string{"zone:b"}); g.Locked || g.VGs != nil {
		t.Errorf("ParseGroup(no tags) = %+v", g)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("ganetimgr:user:alice\nganetimgr:whitelist_ip:2001:db8::/64\nganetimgr:application:7\nlocked\nvg:x", "ganetimgr")
	f.Add("TEST:ext:p:params:k:v\nTEST:isolate", "TEST")
	f.Fuzz(func(t *testing.T, joined, prefix string) {
		c := Codec{Prefix: prefix}
		in := strings.Split(joined, "\n")
		p := c.Parse(in)
		_ = c.ParseCluster(in)
		_ = ParseGroup(in)
		if n := len(p.Unknown) + len(p.Other); n > len(in) {
			t.Fatalf("more leftovers (%d) than tags (%d)", n, len(in))
		}
		// Whatever parsed and is buildable must build to tags that parse
		// back to the same thing.
		tags, err := c.Tags(Parsed{Users: p.Users, Groups: p.Groups, Orgs: p.Orgs, Application: p.Application,
			Services: p.Services, VGs: p.VGs, AdminLock: p.AdminLock, Isolate: p.Isolate, NeedsReboot: p.NeedsReboot,
			Whitelist: p.Whitelist})
		if err != nil {
			return
		}
		for _, tag := range tags {
			if err := Validate(tag); err != nil {
				t.Fatalf("built invalid tag %q: %v", tag, err)
			}
		}
		back := c.Parse(tags)
		if !slices.Equal(back.Users, p.Users) || back.Application != p.Application || !slices.Equal(back.Whitelist, p.Whitelist) ||
			back.AdminLock != p.AdminLock || len(back.Unknown) != 0 || len(back.Other) != 0 {
			t.Fatalf("round trip changed: %+v -> %+v", p, back)
		}
	})
}
