package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

const (
	// faultInterval and faultStaleAfter are the sync settings of the
	// faults test, for the syncer and the site alike: a cluster is stale
	// after 3.3 s (3 intervals and their jitter), well above what a healthy
	// cluster's data age reaches on a page (an interval, a sync, and the
	// second for which the site keeps the sync statuses).
	faultInterval   = time.Second
	faultStaleAfter = 3
	// pageBound is the generous bound on a page while clusters misbehave:
	// a page that waited on a cluster would take the RAPI timeout (2 s).
	pageBound = time.Second
)

func withSync(interval time.Duration, staleAfter int) harnessOption {
	return func(c *config.Config) { c.SyncInterval, c.SyncStaleAfter = interval, staleAfter }
}

// faultCluster is a fake cluster registered on the site.
type faultCluster struct {
	slug  string
	fake  *rapifake.Cluster
	id    int64
	inst  string // an instance, tagged for alice
	jobID rapi.JobID
}

func newFaultCluster(t *testing.T, h *harness, slug string, seed uint64) *faultCluster {
	t.Helper()
	fake, err := rapifake.NewCluster(rapifake.Options{Name: slug + ".example.org", Nodes: 2, Instances: 4, Seed: seed,
		JobDelay: rapifake.NoJobDelay, Users: []rapifake.User{{Name: "ganetimgr", Password: "rapi-secret", Write: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	fc := &faultCluster{slug: slug, fake: fake, inst: fake.InstanceNames()[0]}
	if err := fake.SetInstanceTags(fc.inst, []string{"ganetimgr:user:alice"}); err != nil {
		t.Fatal(err)
	}
	rc, err := rapi.New(rapi.Config{Host: fake.Host(), Port: fake.Port(), Username: "ganetimgr", Password: "rapi-secret",
		TLS: rapi.TLSConfig{PinnedSHA256: fake.Fingerprint()}})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if fc.jobID, err = rc.RebootInstance(ctx, fc.inst, rapi.RebootOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.WaitJob(ctx, fc.jobID); err != nil {
		t.Fatal(err)
	}
	sealed, err := h.passwords.Seal("rapi-secret")
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.store.CreateCluster(context.Background(), store.ClusterInput{Slug: slug, Hostname: fake.Host(),
		Port: fake.Port(), RAPIUsername: "ganetimgr", RAPIPassword: sealed, TLSFingerprint: fake.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	fc.id = c.ID
	return fc
}

var bannerItem = regexp.MustCompile(`(?s)<li data-cluster="([^"]+)">(.*?)</li>`)

// bannerOf returns the banner's items: cluster slug to its text.
func bannerOf(body string) map[string]string {
	i := strings.Index(body, `id="stale-banner"`)
	if i < 0 {
		return nil
	}
	j := strings.Index(body[i:], "</div>")
	if j < 0 {
		j = len(body) - i
	}
	out := map[string]string{}
	for _, m := range bannerItem.FindAllStringSubmatch(body[i:i+j], -1) {
		out[m[1]] = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[2], "")
	}
	return out
}

// TestPagesWithFaultyClusters runs a real syncer over three fake clusters,
// one hung (accepts connections, never answers), one answering 503 and
// one healthy, and checks that every page of the cluster views answers
// quickly, shows the healthy cluster's data, and, once the broken ones
// are stale, names them in the banner of every logged-in page.
func TestPagesWithFaultyClusters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withSync(faultInterval, faultStaleAfter))
	ctx := context.Background()
	hung := newFaultCluster(t, h, "hung", 11)
	broken := newFaultCluster(t, h, "broken", 12)
	healthy := newFaultCluster(t, h, "healthy", 13)
	clusters := []*faultCluster{hung, broken, healthy}

	const pw = "correct horse battery"
	h.user("alice", pw, false)
	h.user("helpdesk", pw, false, auth.ViewInstances)
	h.user("root", pw, true)
	clients := map[string]*client{}
	for _, u := range []string{"alice", "helpdesk", "root"} {
		clients[u] = h.client()
		clients[u].mustLogin(u, pw)
	}

	// One good sync of every cluster first, so that the broken ones have
	// data whose age the banner tells.
	synced := startSyncer(t, h, clustersync.Options{Interval: faultInterval, StaleAfter: faultStaleAfter,
		SyncTimeout: 2 * time.Second, ConnectTimeout: time.Second, ResponseTimeout: 2 * time.Second})
	seen := map[int64]bool{}
	deadline := time.After(30 * time.Second)
	for len(seen) < len(clusters) {
		select {
		case id := <-synced:
			seen[id] = true
		case <-deadline:
			t.Fatalf("not every cluster synced within 30 s: %v", seen)
		}
	}
	hung.fake.SetHang(true)
	broken.fake.SetErrorStatus(http.StatusServiceUnavailable)
	faultsAt := time.Now()
	staleLimit := faultStaleAfter*faultInterval*11/10 + 2*time.Second

	type page struct {
		who, path string
		want      []string // substrings of the body
	}
	var pages []page
	for _, who := range []string{"alice", "helpdesk", "root"} {
		pages = append(pages, page{who, "/", nil})
		pages = append(pages, page{who, "/instances/", []string{`data-instance="` + healthy.inst + `"`}})
		for _, c := range clusters {
			pages = append(pages, page{who, "/instances/" + c.slug + "/" + c.inst + "/", []string{c.inst}})
		}
	}
	pages = append(pages, page{"root", "/admin/", nil}, page{"root", "/admin/clusters", []string{"hung", "broken"}})
	for _, who := range []string{"helpdesk", "root"} {
		pages = append(pages, page{who, "/instances/?cluster=healthy", []string{`data-instance="` + healthy.fake.InstanceNames()[1] + `"`}})
		pages = append(pages, page{who, "/nodes/", []string{healthy.fake.NodeNames()[0]}})
		pages = append(pages, page{who, "/jobs/", []string{fmt.Sprintf("/jobs/healthy/%d/", healthy.jobID)}})
		for _, c := range clusters {
			pages = append(pages, page{who, fmt.Sprintf("/jobs/%s/%d/", c.slug, c.jobID), []string{c.inst}})
			pages = append(pages, page{who, "/clusters/" + c.slug + "/", []string{c.slug + ".example.org"}})
		}
	}

	// Walk every page until the banner names both broken clusters on
	// every logged-in page, and a while longer, with the faults going on.
	var slowest time.Duration
	var slowestPath string
	bannerDone := false
	for round := 0; ; round++ {
		allNamed := true
		for _, p := range pages {
			start := time.Now()
			r := clients[p.who].get(p.path)
			took := time.Since(start)
			if took > slowest {
				slowest, slowestPath = took, p.who+" "+p.path
			}
			if took > pageBound {
				t.Errorf("round %d: %s %s took %s, want < %s", round, p.who, p.path, took, pageBound)
			}
			if r.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: status %d\n%s", p.who, p.path, r.StatusCode, r.body)
			}
			for _, w := range p.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("%s %s: %q not on the page", p.who, p.path, w)
				}
			}
			banner := bannerOf(r.body)
			if _, ok := banner["healthy"]; ok {
				t.Errorf("%s %s: the banner names the healthy cluster: %q", p.who, p.path, banner["healthy"])
			}
			for _, c := range []*faultCluster{hung, broken} {
				text, ok := banner[c.slug]
				if !ok {
					allNamed = false
					continue
				}
				// "unreachable" once a sync failed, "stale" while the first
				// failing sync is still waiting on a hung cluster.
				if !(strings.Contains(text, "unreachable") || strings.Contains(text, "stale")) ||
					!regexp.MustCompile(`data age \d+ s`).MatchString(text) {
					t.Errorf("%s %s: banner for %s says %q, want stale or unreachable with the data age", p.who, p.path, c.slug, text)
				}
			}
		}
		if t.Failed() {
			return
		}
		if allNamed && bannerDone {
			break
		}
		// One more full round with the banner up, once the broken clusters
		// are past the stale threshold.
		if allNamed && time.Since(faultsAt) > staleLimit {
			bannerDone = true
		}
		if time.Since(faultsAt) > 30*time.Second {
			t.Fatalf("after 30 s the banner does not name both broken clusters on every page")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d pages a round; slowest page %s (%s)", len(pages), slowest, slowestPath)

	// The broken clusters are stale (past the threshold), failing, and keep
	// their last data; the healthy one is fresh.
	f := clustersync.Freshness{Interval: faultInterval, StaleAfter: faultStaleAfter}
	statuses, err := h.store.ClusterSyncStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range statuses {
		broke := st.Slug != "healthy"
		if f.Stale(st, time.Now()) != broke || (st.ConsecutiveFailures > 0) != broke {
			t.Errorf("%s: stale %v, consecutive failures %d; want broken = %v", st.Slug, f.Stale(st, time.Now()),
				st.ConsecutiveFailures, broke)
		}
	}
	// The banner is on every logged-in page, the error pages included.
	r := clients["alice"].get("/instances/healthy/no-such-instance/")
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown instance: status %d", r.StatusCode)
	}
	if b := bannerOf(r.body); b["hung"] == "" || b["broken"] == "" {
		t.Errorf("the 404 page of a logged-in user lacks the banner: %v", b)
	}
	// The cluster info page of a broken cluster says it is stale.
	r = clients["root"].get("/clusters/hung/")
	if !strings.Contains(r.body, "badge-stale") {
		t.Error("the hung cluster's info page does not say it is stale")
	}
}
