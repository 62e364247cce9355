package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/sandboxenv"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// sandboxEnv reads the real Ganeti sandbox's settings (test/ganeti/up.sh
// writes them to GANETI_SANDBOX_ENV, default /run/ganetimgr-sandbox/env).
// Without them the test is skipped, except in CI (CI=true) where it fails.
func sandboxEnv(t *testing.T) map[string]string {
	t.Helper()
	return sandboxenv.Load(t)
}

// TestClusterSandboxRegisterAndTest registers the real Ganeti through the
// admin pages (fingerprint confirmation) with the write user and with the
// read-only user, and runs "Test connection" on both.
func TestClusterSandboxRegisterAndTest(t *testing.T) {
	env := sandboxEnv(t)
	h := newHarness(t)
	c := adminClient(h)
	port, _ := strconv.Atoi(env["GANETI_RAPI_PORT"])
	for _, tc := range []struct {
		slug, user, pass string
		write            bool
	}{
		{"sandbox", env["GANETI_RAPI_USER"], env["GANETI_RAPI_PASS"], true},
		{"sandbox-ro", env["GANETI_RAPI_RO_USER"], env["GANETI_RAPI_RO_PASS"], false},
	} {
		r := c.post("/admin/clusters/new", clusterValues(env["GANETI_RAPI_HOST"], port, tc.slug, tc.user, tc.pass))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: step 1: %d %s", tc.slug, r.StatusCode, pageError(r.body))
		}
		if !strings.Contains(r.body, `id="fingerprint">`+env["GANETI_RAPI_FINGERPRINT"]+`<`) {
			t.Errorf("%s: the confirmation page does not show the sandbox's fingerprint", tc.slug)
		}
		r = c.post("/admin/clusters/new/confirm", confirmValues(t, r.body))
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: confirm: %d %s", tc.slug, r.StatusCode, pageError(r.body))
		}
		cl, err := h.store.ClusterBySlug(context.Background(), tc.slug)
		if err != nil {
			t.Fatal(err)
		}
		if cl.TLSFingerprint != env["GANETI_RAPI_FINGERPRINT"] {
			t.Errorf("%s: pinned %s", tc.slug, cl.TLSFingerprint)
		}
		r = c.post(fmt.Sprintf("/admin/clusters/%d/test", cl.ID), nil)
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `data-ok="true"`) {
			t.Fatalf("%s: test connection: %d %s", tc.slug, r.StatusCode, pageError(r.body))
		}
		if m := regexp.MustCompile(`id="test-version">(3\.0\.\d+)<`).FindStringSubmatch(r.body); m == nil {
			t.Errorf("%s: no Ganeti 3.0.x version on the page", tc.slug)
		}
		if name := env["GANETI_CLUSTER_NAME"]; name != "" && !strings.Contains(r.body, `id="test-name">`+name+`<`) {
			t.Errorf("%s: cluster name %s not shown", tc.slug, name)
		}
		if !strings.Contains(r.body, "instance-create-reqv1") {
			t.Errorf("%s: features not shown", tc.slug)
		}
		if want := fmt.Sprintf(`data-write="%v"`, tc.write); !strings.Contains(r.body, want) {
			t.Errorf("%s: want %s", tc.slug, want)
		}
		if got := strings.Contains(r.body, `id="test-readonly"`); got == tc.write {
			t.Errorf("%s: read-only notice shown = %v", tc.slug, got)
		}
		if strings.Contains(r.body, tc.pass) || strings.Contains(h.logs.String(), tc.pass) {
			t.Errorf("%s: the password appears in the page or the log", tc.slug)
		}
	}
	// The stored clusters are pinned and enabled.
	cs, _ := h.store.Clusters(context.Background())
	for _, cl := range cs {
		if cl.Disabled || cl.TLSCAPEM != "" {
			t.Errorf("%s stored as %+v", cl.Slug, store.Cluster{Disabled: cl.Disabled, TLSCAPEM: cl.TLSCAPEM})
		}
	}
}
