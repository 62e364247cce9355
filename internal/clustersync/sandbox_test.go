package clustersync_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/sandboxenv"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// sandboxEnv reads the settings of the real Ganeti sandbox (see
// test/ganeti/README.md). In CI (CI=true) a missing sandbox fails the test;
// elsewhere it skips it.
func sandboxEnv(t *testing.T) map[string]string {
	t.Helper()
	return sandboxenv.Load(t, "GANETI_NODE", "GANETI_NODE_GROUP", "GANETI_NETWORK", "GANETI_OS", "GANETI_NIC_LINK")
}

// TestSandboxSync registers the real Ganeti sandbox as a cluster, creates
// an owned instance through the RAPI and checks one sync's result.
func TestSandboxSync(t *testing.T) {
	vars := sandboxEnv(t)
	ctx := context.Background()
	e := newEnv(t)
	port, _ := strconv.Atoi(vars["GANETI_RAPI_PORT"])
	rc, err := rapi.New(rapi.Config{Host: vars["GANETI_RAPI_HOST"], Port: port, Username: vars["GANETI_RAPI_USER"],
		Password: vars["GANETI_RAPI_PASS"], TLS: rapi.TLSConfig{PinnedSHA256: vars["GANETI_RAPI_FINGERPRINT"]},
		ResponseTimeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "sync-" + hex.EncodeToString(b) + ".ganeti.test"
	wait := func(what string, id rapi.JobID, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		if _, err := rc.WaitJob(wctx, id); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	id, err := rc.CreateInstance(ctx, rapi.InstanceCreate{Name: name, DiskTemplate: "diskless", OS: vars["GANETI_OS"],
		PNode: vars["GANETI_NODE"], BeParams: map[string]any{"maxmem": 128, "minmem": 128, "vcpus": 1},
		NICs: []rapi.NICSpec{{Link: vars["GANETI_NIC_LINK"], Mode: "bridged"}},
		Tags: []string{"ganetimgr:user:alice", "ganetimgr:group:ops"}})
	wait("create "+name, id, err)
	t.Cleanup(func() {
		id, err := rc.DeleteInstance(context.Background(), name, rapi.DeleteOptions{})
		wait("delete "+name, id, err)
	})

	c := e.registerAt("sandbox", vars["GANETI_RAPI_HOST"], port, vars["GANETI_RAPI_USER"], vars["GANETI_RAPI_PASS"],
		vars["GANETI_RAPI_FINGERPRINT"])
	opts := e.fastOptions(nil)
	opts.ConnectTimeout, opts.ResponseTimeout, opts.SyncTimeout = 10*time.Second, 60*time.Second, 2*time.Minute
	s := e.syncer(opts)
	start := time.Now()
	if err := s.SyncNow(ctx, c); err != nil {
		t.Fatal(err)
	}
	t.Logf("one sync of the sandbox took %s", time.Since(start))

	st := e.status(c.ID)
	if st.LastError != "" || st.LastSuccessAt.IsZero() || !strings.HasPrefix(st.Info.SoftwareVersion, "3.0.") ||
		st.Info.MasterNode != vars["GANETI_NODE"] || !slices.Contains(st.Info.EnabledHypervisors, "fake") {
		t.Errorf("status: %+v", st)
	}
	if name := vars["GANETI_CLUSTER_NAME"]; name != "" && st.Info.Name != name {
		t.Errorf("cluster name %q, want %q", st.Info.Name, name)
	}
	in, err := e.st.CachedInstance(ctx, c.ID, name)
	if err != nil {
		t.Fatalf("created instance not cached: %v", err)
	}
	if in.PNode != vars["GANETI_NODE"] || in.DiskTemplate != "diskless" || in.MemoryMB != 128 || in.VCPUs != 1 ||
		!slices.Equal(in.OwnerUsers, []string{"alice"}) || !slices.Equal(in.OwnerGroups, []string{"ops"}) ||
		in.NodeGroup != vars["GANETI_NODE_GROUP"] || len(in.NICMACs) != 1 || in.NICLinks[0] != vars["GANETI_NIC_LINK"] ||
		in.Hypervisor != "fake" || in.CTime.IsZero() {
		t.Errorf("cached instance: %+v", in)
	}
	nodes, _ := e.st.CachedNodes(ctx, c.ID)
	if len(nodes) != 1 || nodes[0].Name != vars["GANETI_NODE"] || nodes[0].Role != store.NodeRoleMaster ||
		nodes[0].NodeGroup != vars["GANETI_NODE_GROUP"] {
		t.Errorf("nodes: %+v", nodes)
	}
	groups, _ := e.st.CachedNodeGroups(ctx, c.ID)
	if len(groups) != 1 || groups[0].Name != vars["GANETI_NODE_GROUP"] || !slices.Contains(groups[0].Networks, vars["GANETI_NETWORK"]) {
		t.Errorf("groups: %+v", groups)
	}
	nets, _ := e.st.CachedNetworks(ctx, c.ID)
	found := false
	for _, n := range nets {
		if n.Name == vars["GANETI_NETWORK"] {
			found = true
			if cidr := vars["GANETI_NETWORK_CIDR"]; cidr != "" && n.Network != cidr {
				t.Errorf("network %s: %s, want %s", n.Name, n.Network, cidr)
			}
			if len(n.Groups) == 0 || n.Groups[0].Link != vars["GANETI_NIC_LINK"] || n.FreeCount == 0 {
				t.Errorf("network %+v", n)
			}
		}
	}
	if !found {
		t.Errorf("network %s not cached: %+v", vars["GANETI_NETWORK"], nets)
	}
	jobs, _ := e.st.CachedJobs(ctx, c.ID, 500)
	created := false
	for _, j := range jobs {
		if slices.Contains(j.Instances, name) && slices.Contains(j.OpIDs, "OP_INSTANCE_CREATE") && j.Status == "success" {
			created = true
		}
	}
	if !created {
		t.Errorf("the creation job of %s is not among the %d cached jobs", name, len(jobs))
	}

	// A second sync changes nothing the instance list depends on.
	if err := s.SyncNow(ctx, c); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.st.CachedInstance(ctx, c.ID, name); !again.SyncedAt.Equal(in.SyncedAt) {
		t.Errorf("an unchanged instance was rewritten")
	}
}
