package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestClusterOSList: the catalogue links to the OS list of each enabled
// cluster; that page shows what the cluster reports (read once, then kept
// for a while), marks what an image already installs and starts a new
// image for the others with the provider filled in; an unreachable cluster
// gives a 502 page that says so, in the user's language.
func TestClusterOSList(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, newHarness(t))
	root := f.clients["root"]
	page := fmt.Sprintf("/admin/os-images/clusters/%d", f.cluster.ID)

	if r := root.get("/admin/os-images"); !strings.Contains(r.body, `href="`+page+`"`) {
		t.Fatalf("the catalogue does not link to the cluster's OS list:\n%s", r.body)
	}
	f.fake.ResetCounts()
	r := root.get(page)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("OS list: got %d", r.StatusCode)
	}
	for _, want := range []string{`data-os="noop"`, `data-os="snf-image&#43;default"`,
		`href="/admin/os-images/new?provider=noop"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("OS list lacks %s:\n%s", want, r.body)
		}
	}
	// debian-12 installs snf-image+default: no link to add it again.
	if strings.Contains(r.body, "provider=snf-image") {
		t.Error("an OS the catalogue already installs is offered again")
	}
	if n := f.fake.PathCount("/2/os"); n != 1 {
		t.Errorf("the OS list was read %d times, want 1", n)
	}
	root.get(page)
	if n := f.fake.PathCount("/2/os"); n != 1 {
		t.Errorf("the OS list was read again at once (%d reads)", n)
	}
	if r := root.get("/admin/os-images/new?provider=noop"); !strings.Contains(r.body, `name="provider" value="noop"`) {
		t.Errorf("the new image form does not take the provider:\n%s", r.body)
	}

	// A cluster that does not answer.
	down := f.addDownCluster(t)
	r = root.get(fmt.Sprintf("/admin/os-images/clusters/%d", down))
	if r.StatusCode != http.StatusBadGateway || !strings.Contains(r.body, `id="oses-problem"`) ||
		!strings.Contains(r.body, "could not be read") {
		t.Errorf("unreachable cluster: got %d\n%s", r.StatusCode, r.body)
	}
}

// addDownCluster registers a cluster whose RAPI port refuses connections
// and returns its id.
func (f *appFixture) addDownCluster(t *testing.T) int64 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	sealed, err := f.passwords.Seal("rapi-secret")
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.store.CreateCluster(context.Background(), store.ClusterInput{Slug: "down", Hostname: "127.0.0.1",
		Port: port, RAPIUsername: "ganetimgr", RAPIPassword: sealed, TLSFingerprint: f.fake.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}
