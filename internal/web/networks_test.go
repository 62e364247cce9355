package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// networkFixture is a harness with two clusters, two groups and an admin.
type networkFixture struct {
	h        *harness
	c        *client
	c1, c2   *store.Cluster
	g1, g2   *store.Group
	networks func() []*store.Network
}

func newNetworkFixture(t *testing.T) *networkFixture {
	t.Helper()
	h := newHarness(t)
	ctx := context.Background()
	f := &networkFixture{h: h, c: adminClient(h)}
	var err error
	for i, dst := range []**store.Cluster{&f.c1, &f.c2} {
		if *dst, err = h.store.CreateCluster(ctx, store.ClusterInput{Slug: fmt.Sprintf("net%d", i+1),
			Hostname: fmt.Sprintf("net%d.example.org", i+1), Port: 5080, RAPIUsername: "u",
			TLSFingerprint: strings.Repeat("AB:", 31) + "AB"}); err != nil {
			t.Fatal(err)
		}
	}
	if f.g1, err = h.store.CreateGroup(ctx, "staff"); err != nil {
		t.Fatal(err)
	}
	if f.g2, err = h.store.CreateGroup(ctx, "students"); err != nil {
		t.Fatal(err)
	}
	f.networks = func() []*store.Network {
		n, err := h.store.Networks(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return f
}

func networkValues(cluster int64, desc, link string, def bool, prefix string, groups ...int64) url.Values {
	v := url.Values{"description": {desc}, "cluster": {strconv.FormatInt(cluster, 10)}, "link": {link},
		"mode": {"bridged"}, "ipv6_prefix": {prefix}}
	if def {
		v.Set("cluster_default", "1")
	}
	for _, g := range groups {
		v.Add("group", strconv.FormatInt(g, 10))
	}
	return v
}

func TestNetworkAddEditDelete(t *testing.T) {
	t.Parallel()
	f := newNetworkFixture(t)
	c := f.c
	if r := c.get("/admin/networks/new"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, ">staff<") {
		t.Fatalf("new form: %d, groups offered: %v", r.StatusCode, strings.Contains(r.body, ">staff<"))
	}
	r := c.post("/admin/networks/new", networkValues(f.c1.ID, "Staff VLAN", "br100", true, "2001:DB8:0:100:0::/64", f.g1.ID, f.g2.ID))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d %v", r.StatusCode, r.body)
	}
	nets := f.networks()
	if len(nets) != 1 {
		t.Fatalf("%d networks", len(nets))
	}
	n := nets[0]
	if n.ClusterID != f.c1.ID || n.Description != "Staff VLAN" || n.Link != "br100" || n.Mode != "bridged" || !n.ClusterDefault {
		t.Errorf("stored %+v", n)
	}
	if n.IPv6Prefix != "2001:db8:0:100::/64" {
		t.Errorf("prefix stored as %q, want the canonical 2001:db8:0:100::/64", n.IPv6Prefix)
	}
	if len(n.Groups) != 2 || n.Groups[0].Name != "staff" || n.Groups[1].Name != "students" {
		t.Errorf("groups %+v", n.Groups)
	}
	r = c.get("/admin/networks")
	if !strings.Contains(r.body, "Staff VLAN") || !strings.Contains(r.body, "staff, students") {
		t.Error("the list lacks the network or its groups")
	}
	if r := c.get(fmt.Sprintf("/admin/networks?cluster=%d", f.c2.ID)); strings.Contains(r.body, "Staff VLAN") {
		t.Error("the cluster filter does not filter")
	}
	if r := c.get(fmt.Sprintf("/admin/clusters/%d", f.c1.ID)); !strings.Contains(r.body, "Staff VLAN") {
		t.Error("the cluster page lacks its network")
	}

	// Edit: routed, another group set, no prefix.
	edit := fmt.Sprintf("/admin/networks/%d/edit", n.ID)
	if r := c.get(edit); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `value="br100"`) {
		t.Fatalf("edit form: %d", r.StatusCode)
	}
	v := networkValues(f.c1.ID, "Staff routed", "rt-staff", false, "", f.g2.ID)
	v.Set("mode", "routed")
	if r := c.post(edit, v); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", r.StatusCode)
	}
	n2, _ := f.h.store.NetworkByID(context.Background(), n.ID)
	if n2.Mode != "routed" || n2.Link != "rt-staff" || n2.ClusterDefault || n2.IPv6Prefix != "" || len(n2.Groups) != 1 || n2.Groups[0].ID != f.g2.ID {
		t.Errorf("after edit %+v", n2)
	}

	// Delete asks first.
	del := fmt.Sprintf("/admin/networks/%d/delete", n.ID)
	if r := c.get(del); r.StatusCode != http.StatusOK || len(f.networks()) != 1 {
		t.Fatalf("delete confirmation: %d", r.StatusCode)
	}
	if r := c.post(del, nil); r.StatusCode != http.StatusSeeOther || len(f.networks()) != 0 {
		t.Errorf("delete: %d, %d left", r.StatusCode, len(f.networks()))
	}
	if r := c.post(del, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("second delete: %d", r.StatusCode)
	}
	var left int
	if err := f.h.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM network_groups`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d group links left, %v", left, err)
	}
}

func TestNetworkOneDefaultPerCluster(t *testing.T) {
	t.Parallel()
	f := newNetworkFixture(t)
	c := f.c
	if r := c.post("/admin/networks/new", networkValues(f.c1.ID, "First", "br1", true, "")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("first default: %d", r.StatusCode)
	}
	r := c.post("/admin/networks/new", networkValues(f.c1.ID, "Second", "br2", true, ""))
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(r.body, "cluster_default"), "“First”") {
		t.Errorf("second default: %d %q", r.StatusCode, fieldError(r.body, "cluster_default"))
	}
	// Another cluster may have its own default; the same cluster a non-default.
	if r := c.post("/admin/networks/new", networkValues(f.c2.ID, "Other", "br1", true, "")); r.StatusCode != http.StatusSeeOther {
		t.Errorf("default of another cluster: %d %s", r.StatusCode, fieldError(r.body, "cluster_default"))
	}
	if r := c.post("/admin/networks/new", networkValues(f.c1.ID, "Second", "br2", false, "")); r.StatusCode != http.StatusSeeOther {
		t.Errorf("non-default: %d", r.StatusCode)
	}
	// The same link twice on one cluster is refused.
	if r := c.post("/admin/networks/new", networkValues(f.c1.ID, "Dup", "br2", false, "")); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(r.body, "link"), "already has") {
		t.Errorf("duplicate link: %d %q", r.StatusCode, fieldError(r.body, "link"))
	}
	// Saving the default network itself keeps working.
	var first *store.Network
	for _, n := range f.networks() {
		if n.Description == "First" {
			first = n
		}
	}
	if r := c.post(fmt.Sprintf("/admin/networks/%d/edit", first.ID), networkValues(f.c1.ID, "First!", "br1", true, "")); r.StatusCode != http.StatusSeeOther {
		t.Errorf("re-saving the default: %d %s", r.StatusCode, fieldError(r.body, "cluster_default"))
	}
	// The database enforces it too, whatever the form does.
	_, err := f.h.store.CreateNetwork(context.Background(), store.NetworkInput{ClusterID: f.c1.ID, Description: "Sneaky",
		Link: "br9", Mode: "bridged", ClusterDefault: true})
	if err == nil || !strings.Contains(err.Error(), store.NetworkDefaultConstraint) {
		t.Errorf("second default in SQL: %v", err)
	}
}

func TestNetworkValidation(t *testing.T) {
	t.Parallel()
	f := newNetworkFixture(t)
	for _, tc := range []struct {
		name, field, want string
		change            func(url.Values)
	}{
		{"no description", "description", "required", func(v url.Values) { v.Set("description", "") }},
		{"no link", "link", "required", func(v url.Values) { v.Set("link", "") }},
		{"bad link", "link", "Use letters", func(v url.Values) { v.Set("link", "br 0; rm") }},
		{"mode", "mode", "bridged or routed", func(v url.Values) { v.Set("mode", "nat") }},
		{"no cluster", "cluster", "required", func(v url.Values) { v.Del("cluster") }},
		{"unknown cluster", "cluster", "registered", func(v url.Values) { v.Set("cluster", "999999") }},
		{"unknown group", "group", "existing groups", func(v url.Values) { v.Add("group", "999999") }},
		{"IPv4 prefix", "ipv6_prefix", "IPv6 prefix such as", func(v url.Values) { v.Set("ipv6_prefix", "192.0.2.0/24") }},
		{"mapped", "ipv6_prefix", "IPv6 prefix such as", func(v url.Values) { v.Set("ipv6_prefix", "::ffff:192.0.2.0/120") }},
		{"no length", "ipv6_prefix", "IPv6 prefix such as", func(v url.Values) { v.Set("ipv6_prefix", "2001:db8::") }},
		{"garbage", "ipv6_prefix", "IPv6 prefix such as", func(v url.Values) { v.Set("ipv6_prefix", "2001:db8::g/64") }},
		{"too long", "ipv6_prefix", "/64 or shorter", func(v url.Values) { v.Set("ipv6_prefix", "2001:db8::/80") }},
		{"host bits", "ipv6_prefix", "did you mean 2001:db8:1:2::/64", func(v url.Values) { v.Set("ipv6_prefix", "2001:db8:1:2::5/64") }},
	} {
		v := networkValues(f.c1.ID, "Net", "br0", false, "2001:db8::/64", f.g1.ID)
		tc.change(v)
		r := f.c.post("/admin/networks/new", v)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(r.body, tc.field), tc.want) {
			t.Errorf("%s: got %d, %s error %q; want 422 with %q", tc.name, r.StatusCode, tc.field, fieldError(r.body, tc.field), tc.want)
		}
	}
	if n := len(f.networks()); n != 0 {
		t.Errorf("%d networks saved", n)
	}
	// Accepted prefixes are stored canonical.
	for in, want := range map[string]string{"2001:0DB8:0000:0001::/64": "2001:db8:0:1::/64", "2001:db8:aa00::/40": "2001:db8:aa00::/40"} {
		link := "br" + strconv.Itoa(len(f.networks()))
		if r := f.c.post("/admin/networks/new", networkValues(f.c1.ID, in, link, false, in)); r.StatusCode != http.StatusSeeOther {
			t.Errorf("%s: %d %q", in, r.StatusCode, fieldError(r.body, "ipv6_prefix"))
			continue
		}
		for _, n := range f.networks() {
			if n.Description == in && n.IPv6Prefix != want {
				t.Errorf("%s stored as %s, want %s", in, n.IPv6Prefix, want)
			}
		}
	}
}
