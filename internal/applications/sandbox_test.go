package applications

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

// sandboxTimeout bounds the wait for a creation on the real Ganeti (jobs
// serialise on the cluster; a busy machine is slow).
const sandboxTimeout = 120 * time.Second

// TestSandboxCreatesApprovedVM creates a small VM from an approved
// application on the real Ganeti sandbox and checks on the cluster what it
// got: tags, memory, vCPUs, disk, NIC. A second application whose memory
// the cluster's policy refuses fails with Ganeti's own reason.
func TestSandboxCreatesApprovedVM(t *testing.T) {
	env := sandboxenv.Load(t, "GANETI_OS", "GANETI_NODE_GROUP", "GANETI_NETWORK", "GANETI_NIC_LINK")
	h := newHarness(t, harnessOptions{sandbox: env})
	client, err := rapi.New(rapi.Config{Host: env["GANETI_RAPI_HOST"], Port: atoi(t, env["GANETI_RAPI_PORT"]),
		Username: env["GANETI_RAPI_USER"], Password: env["GANETI_RAPI_PASS"],
		TLS:             rapi.TLSConfig{PinnedSHA256: env["GANETI_RAPI_FINGERPRINT"]},
		ResponseTimeout: 45 * time.Second, ConnectTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "app-" + hex.EncodeToString(suffix) + ".ganeti.test"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), sandboxTimeout)
		defer cancel()
		if _, err := client.Instance(ctx, name); rapi.IsNotFound(err) {
			return
		}
		id, err := client.DeleteInstance(ctx, name, rapi.DeleteOptions{ShutdownTimeout: 10 * time.Second})
		if err == nil {
			_, err = client.WaitJob(ctx, id)
		}
		if err != nil && !rapi.IsNotFound(err) {
			t.Errorf("cleanup: delete instance %s: %v", name, err)
		}
	})

	choice := PlacementChoice{ClusterID: h.cluster.ID, NodeGroup: env["GANETI_NODE_GROUP"],
		Network: "gnt:" + env["GANETI_NETWORK"], DiskTemplate: "file"}
	a := h.apply(name)
	a = h.approve(a, Review{Placement: choice})
	a = h.waitStatus(a.ID, store.AppCreated, sandboxTimeout)

	ctx := context.Background()
	in, err := client.Instance(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	p := h.svc.codec.Parse(in.Tags)
	if p.Application != a.ID || !slices.Equal(p.Users, []string{"ann"}) || p.Org() != "grnet" || !p.HasService("mail") {
		t.Errorf("tags %v", in.Tags)
	}
	if in.BeParams.MaxMem != 1024 || in.BeParams.VCPUs != 2 || in.DiskTemplate != "file" ||
		!slices.Equal(in.DiskSizes, []int64{5 * 1024}) || in.OS != env["GANETI_OS"] {
		t.Errorf("instance: maxmem %d vcpus %d template %s disks %v os %s", in.BeParams.MaxMem, in.BeParams.VCPUs,
			in.DiskTemplate, in.DiskSizes, in.OS)
	}
	if !slices.Equal(in.NICLinks, []string{env["GANETI_NIC_LINK"]}) || !slices.Equal(in.NICModes, []string{"bridged"}) {
		t.Errorf("nics: links %v modes %v", in.NICLinks, in.NICModes)
	}
	if in.AdminState != "up" {
		t.Errorf("admin state %q: the VM was not started", in.AdminState)
	}
	if c, err := h.st.CachedInstance(ctx, h.cluster.ID, name); err == nil && c.MemoryMB != 1024 {
		t.Errorf("cached instance: %+v", c)
	}

	// The cluster's policy refuses 64 GiB: the creation fails with
	// Ganeti's message and nothing is created.
	big := name[:len("app-")+8] + "-big.ganeti.test"
	b := h.apply(big)
	f := FormFromApplication(b)
	f.MemoryMB = 65536
	b = h.approve(b, Review{Request: &f, Placement: choice})
	deadline := time.Now().Add(sandboxTimeout)
	for b.Status == store.AppSubmitted && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		b, _ = h.st.Application(ctx, b.ID)
	}
	if b.Status != store.AppFailed || !strings.Contains(b.BackendMessage, "violates policy") ||
		!strings.Contains(b.BackendMessage, "memory-size value 65536") {
		t.Fatalf("policy violation: %s %q", b.Status, b.BackendMessage)
	}
	if _, err := client.Instance(ctx, big); !rapi.IsNotFound(err) {
		t.Errorf("the refused instance exists: %v", err)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
