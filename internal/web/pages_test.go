package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

var (
	instanceRow = regexp.MustCompile(`data-instance="([^"]+)"`)
	nextLink    = regexp.MustCompile(`<a href="([^"]+)" rel="next"`)
	prevLink    = regexp.MustCompile(`<a href="([^"]+)" rel="prev"`)
)

func rowsOf(body string) []string {
	var out []string
	for _, m := range instanceRow.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// rowHTML returns the <tr> of one instance in a list page.
func rowHTML(body, name string) string {
	i := strings.Index(body, `data-instance="`+name+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</tr>")
	return body[i : i+j]
}

// relative turns a link of a page into a path for client.get.
func relative(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(html.UnescapeString(link))
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

func TestInstancePages(t *testing.T) {
	t.Parallel()
	f := newPagesFixture(t, 24)
	ctx := context.Background()
	f.fake.ResetCounts()
	all := append([]string(nil), f.names...)
	sort.Strings(all)

	t.Run("visibility", func(t *testing.T) {
		want := map[string][]string{
			"alice":    {f.aliceOnly, f.aliceFlags, f.stopped, f.shouldRun},
			"bob":      {f.bobOnly},
			"carol":    {f.teamOnly},
			"helpdesk": all,
			"root":     all,
		}
		for who, names := range want {
			r := f.clients[who].get("/instances/?size=200")
			if r.StatusCode != http.StatusOK {
				t.Fatalf("%s: got %d", who, r.StatusCode)
			}
			got := rowsOf(r.body)
			exp := append([]string(nil), names...)
			sort.Strings(exp)
			if strings.Join(got, ",") != strings.Join(exp, ",") {
				t.Errorf("%s sees %v, want %v", who, got, exp)
			}
			wide := strings.Contains(r.body, `class="col-owners"`)
			if wantWide := who == "helpdesk" || who == "root"; wide != wantWide {
				t.Errorf("%s: extra columns shown = %v, want %v", who, wide, wantWide)
			}
		}
		// Bob sees none of alice's.
		bob := f.clients["bob"].get("/instances/?size=200").body
		for _, n := range []string{f.aliceOnly, f.aliceFlags, f.stopped, f.shouldRun, f.teamOnly} {
			if strings.Contains(bob, n) {
				t.Errorf("bob's list mentions %s", n)
			}
		}
		// Helpdesk sees owners and nodes.
		row := rowHTML(f.clients["helpdesk"].get("/instances/?size=200").body, f.bobOnly)
		in, err := f.store.CachedInstance(ctx, f.cluster.ID, f.bobOnly)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(row, `<span class="owner">bob</span>`) || !strings.Contains(row, in.PNode) {
			t.Errorf("helpdesk row lacks owner or node:\n%s", row)
		}
	})

	t.Run("status words and badges", func(t *testing.T) {
		body := f.clients["alice"].get("/instances/?size=200").body
		for name, want := range map[string]string{
			f.aliceOnly: ">running<", f.stopped: ">stopped<", f.shouldRun: ">stopped, should be running<",
		} {
			if row := rowHTML(body, name); !strings.Contains(row, want) {
				t.Errorf("%s: row lacks %q:\n%s", name, want, row)
			}
		}
		row := rowHTML(body, f.aliceFlags)
		for _, b := range []string{"Admin lock", "Isolated", "Needs reboot"} {
			if !strings.Contains(row, b) {
				t.Errorf("flag row lacks badge %q:\n%s", b, row)
			}
		}
		if strings.Contains(rowHTML(body, f.aliceOnly), "Admin lock") {
			t.Error("admin lock badge on an unlocked instance")
		}
		// Maintenance: instances whose primary node is in the locked group2.
		page, err := f.store.VisibleInstances(ctx, store.InstanceQuery{All: true, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		rootBody := f.clients["root"].get("/instances/?size=200").body
		locked := 0
		for _, in := range page.Instances {
			has := strings.Contains(rowHTML(rootBody, in.Name), "badge-maintenance")
			if has != (in.NodeGroup == "group2") {
				t.Errorf("%s in group %q: maintenance badge %v", in.Name, in.NodeGroup, has)
			}
			if has {
				locked++
			}
		}
		if locked == 0 {
			t.Error("no instance in the locked group; the test proves nothing")
		}
		// Greek.
		c := f.clients["alice"]
		c.headers.Set("Accept-Language", "el")
		defer c.headers.Del("Accept-Language")
		if el := c.get("/instances/?size=200").body; !strings.Contains(rowHTML(el, f.shouldRun), "σταματημένη, θα έπρεπε να λειτουργεί") {
			t.Error("Greek status words missing")
		}
	})

	t.Run("pagination walk", func(t *testing.T) {
		for _, sortKey := range []string{"", "memory", "node", "status", "cluster", "vcpus"} {
			for _, desc := range []bool{false, true} {
				q := url.Values{"size": {"5"}}
				if sortKey != "" {
					q.Set("sort", sortKey)
				}
				if desc {
					q.Set("desc", "1")
				}
				path := "/instances/?" + q.Encode()
				var forward []string
				var last string
				for pages := 0; path != ""; pages++ {
					if pages > 20 {
						t.Fatal("pagination does not end")
					}
					r := f.clients["root"].get(path)
					if r.StatusCode != http.StatusOK {
						t.Fatalf("%s: got %d", path, r.StatusCode)
					}
					forward = append(forward, rowsOf(r.body)...)
					last, path = r.body, ""
					if m := nextLink.FindStringSubmatch(r.body); m != nil {
						path = relative(t, m[1])
					}
				}
				got := append([]string(nil), forward...)
				sort.Strings(got)
				if strings.Join(got, ",") != strings.Join(all, ",") {
					t.Errorf("sort %q desc %v: walked %d rows, want every instance once: %v", sortKey, desc, len(forward), forward)
				}
				if sortKey == "" && !desc && strings.Join(forward, ",") != strings.Join(all, ",") {
					t.Errorf("by name: order %v", forward)
				}
				// And back from the last page.
				var backward []string
				body := last
				backward = append(rowsOf(body), backward...)
				for pages := 0; ; pages++ {
					m := prevLink.FindStringSubmatch(body)
					if m == nil {
						break
					}
					if pages > 20 {
						t.Fatal("backward pagination does not end")
					}
					r := f.clients["root"].get(relative(t, m[1]))
					if r.StatusCode != http.StatusOK {
						t.Fatalf("prev: got %d", r.StatusCode)
					}
					body = r.body
					backward = append(rowsOf(body), backward...)
				}
				if strings.Join(backward, ",") != strings.Join(forward, ",") {
					t.Errorf("sort %q desc %v: backward walk %v, forward %v", sortKey, desc, backward, forward)
				}
			}
		}
	})

	t.Run("search and filters", func(t *testing.T) {
		root := f.clients["root"]
		cases := map[string][]string{
			"/instances/?q=" + url.QueryEscape(f.aliceFlags): {f.aliceFlags},
			"/instances/?q=alice&size=200":                   {f.aliceOnly, f.aliceFlags, f.stopped, f.shouldRun},
			"/instances/?status=stopped&size=200":            {f.stopped},
			"/instances/?status=shouldrun&size=200":          {f.shouldRun},
			"/instances/?q=team":                             {f.teamOnly},
			"/instances/?q=100%25_no_match":                  nil,
		}
		for path, want := range cases {
			r := root.get(path)
			got := rowsOf(r.body)
			exp := append([]string(nil), want...)
			sort.Strings(exp)
			if r.StatusCode != http.StatusOK || strings.Join(got, ",") != strings.Join(exp, ",") {
				t.Errorf("%s: got %d %v, want %v", path, r.StatusCode, got, exp)
			}
		}
		in, _ := f.store.CachedInstance(ctx, f.cluster.ID, f.bobOnly)
		if len(in.NICMACs) > 0 {
			if got := rowsOf(root.get("/instances/?q=" + url.QueryEscape(in.NICMACs[0])).body); !slices.Contains(got, f.bobOnly) {
				t.Errorf("search by MAC: %v", got)
			}
		}
		if got := rowsOf(root.get("/instances/?q=" + url.QueryEscape(in.PNode) + "&size=200").body); !slices.Contains(got, f.bobOnly) {
			t.Errorf("search by node: %v", got)
		}
		if got := rowsOf(root.get("/instances/?cluster=alpha&size=200").body); len(got) != len(all) {
			t.Errorf("cluster filter: %d rows", len(got))
		}
		// A user's search stays within their instances.
		if got := rowsOf(f.clients["bob"].get("/instances/?q=alice").body); len(got) != 0 {
			t.Errorf("bob searching alice finds %v", got)
		}
		nameCursor := nextLink.FindStringSubmatch(root.get("/instances/?size=2").body)
		if nameCursor == nil {
			t.Fatal("no next link")
		}
		u, _ := url.Parse(html.UnescapeString(nameCursor[1]))
		bad := []string{
			"/instances/?sort=bogus", "/instances/?desc=maybe",
			"/instances/?after=garbage", "/instances/?after=" + strings.Repeat("A", 5000),
			"/instances/?before=%00%01", "/instances/?q=" + strings.Repeat("x", 300),
			"/instances/?size=0", "/instances/?size=100000", "/instances/?size=abc",
			"/instances/?status=bogus", "/instances/?cluster=nope",
			"/instances/?sort=memory&after=" + url.QueryEscape(u.Query().Get("after")), // cursor of another order
			"/instances/?q=%ff%fe",
		}
		for _, p := range bad {
			if r := root.get(p); r.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: got %d, want 400", p, r.StatusCode)
			}
		}
	})

	t.Run("detail", func(t *testing.T) {
		in, err := f.store.CachedInstance(ctx, f.cluster.ID, f.aliceOnly)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.NICLinks) == 0 || in.NICLinks[0] == "" {
			t.Fatalf("instance has no NIC link: %+v", in)
		}
		if _, err := f.store.CreateNetwork(ctx, store.NetworkInput{ClusterID: f.cluster.ID, Description: "v6 net",
			Link: in.NICLinks[0], Mode: "bridged", IPv6Prefix: "2001:db8:42::/64"}); err != nil {
			t.Fatal(err)
		}
		want := eui64For(t, "2001:db8:42:0:", in.NICMACs[0])
		path := "/instances/alpha/" + f.aliceOnly + "/"
		r := f.clients["alice"].get(path)
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="instance-name">`+f.aliceOnly) {
			t.Fatalf("alice detail: %d", r.StatusCode)
		}
		if !strings.Contains(r.body, want) {
			i := strings.Index(r.body, `id="instance-nics"`)
			t.Errorf("detail lacks derived IPv6 %s:\n%s", want, r.body[i:min(len(r.body), i+800)])
		}
		if strings.Contains(r.body, `id="instance-pnode"`) {
			t.Error("a user sees the node")
		}
		if !strings.Contains(rowHTML(f.clients["alice"].get("/instances/").body, f.aliceOnly), want) {
			t.Error("list lacks derived IPv6")
		}
		hd := f.clients["helpdesk"].get(path)
		if hd.StatusCode != http.StatusOK || !strings.Contains(hd.body, in.PNode) || !strings.Contains(hd.body, "ganetimgr:user:alice") {
			t.Errorf("helpdesk detail: %d", hd.StatusCode)
		}
		for _, who := range []string{"bob", "carol"} {
			r := f.clients[who].get(path)
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("%s: got %d, want 404", who, r.StatusCode)
			}
			if strings.Contains(r.body, `id="instance-name"`) || strings.Contains(r.body, "ganetimgr:user:alice") {
				t.Errorf("%s's 404 shows the instance", who)
			}
		}
		if r := f.clients["carol"].get("/instances/alpha/" + f.teamOnly + "/"); r.StatusCode != http.StatusOK {
			t.Errorf("group member: got %d", r.StatusCode)
		}
		if r := f.clients["root"].get("/instances/alpha/no-such.example.org/"); r.StatusCode != http.StatusNotFound {
			t.Errorf("missing instance: got %d", r.StatusCode)
		}
	})

	t.Run("helpdesk pages", func(t *testing.T) {
		hd := f.clients["helpdesk"]
		nodes := hd.get("/nodes/")
		for _, n := range f.fake.NodeNames() {
			if !strings.Contains(nodes.body, `data-node="`+n+`"`) {
				t.Errorf("nodes page lacks %s", n)
			}
		}
		if !strings.Contains(nodes.body, `data-role="master"`) {
			t.Error("no master node shown")
		}
		if r := hd.get("/nodes/?role=master"); strings.Count(r.body, "data-node=") != 1 {
			t.Errorf("role filter: %d nodes", strings.Count(r.body, "data-node="))
		}
		if r := hd.get("/nodes/?role=bogus"); r.StatusCode != http.StatusBadRequest {
			t.Errorf("bad role: %d", r.StatusCode)
		}
		jobs := hd.get("/jobs/")
		if !strings.Contains(jobs.body, "reboot instance "+f.aliceOnly) {
			t.Errorf("jobs page lacks the reboot in words:\n%s", jobs.body)
		}
		if r := hd.get("/jobs/?status=error"); strings.Contains(r.body, "reboot instance") {
			t.Error("status filter ignored")
		}
		if r := hd.get("/jobs/?status=bogus"); r.StatusCode != http.StatusBadRequest {
			t.Errorf("bad job status: %d", r.StatusCode)
		}
		js, err := f.store.ListJobs(ctx, store.JobQuery{})
		if err != nil || len(js) == 0 {
			t.Fatalf("no cached job: %v", err)
		}
		job := hd.get(fmt.Sprintf("/jobs/alpha/%d/", js[0].ID))
		if job.StatusCode != http.StatusOK || !strings.Contains(job.body, "OP_INSTANCE_REBOOT") {
			t.Errorf("job page: %d", job.StatusCode)
		}
		info := hd.get("/clusters/alpha/")
		for _, want := range []string{`id="clusterinfo-version"`, "group2", "Maintenance", `id="clusterinfo-networks"`, fmt.Sprintf(`id="clusterinfo-instances">%d`, len(all))} {
			if !strings.Contains(info.body, want) {
				t.Errorf("cluster info lacks %q", want)
			}
		}
	})

	if n := f.fake.RequestCount(); n != 0 {
		t.Errorf("page views caused %d RAPI requests, want 0: %v", n, f.fake.PathCounts())
	}
}

// eui64For computes the expected address independently of the site's
// code: the MAC's bytes with ff:fe inserted and the U/L bit flipped.
func eui64For(t *testing.T, prefix, mac string) string {
	t.Helper()
	var b [6]byte
	if _, err := fmt.Sscanf(mac, "%02x:%02x:%02x:%02x:%02x:%02x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]); err != nil {
		t.Fatal(err)
	}
	a, err := netip.ParseAddr(fmt.Sprintf("%s%x:%x:%x:%x", prefix, uint16(b[0]^2)<<8|uint16(b[1]),
		uint16(b[2])<<8|0xff, 0xfe00|uint16(b[3]), uint16(b[4])<<8|uint16(b[5])))
	if err != nil {
		t.Fatal(err)
	}
	return a.String()
}
