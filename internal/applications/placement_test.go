package applications

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// samplePolicy is the instance policy of the recorded real cluster
// (shared/ganeti/rapi-samples/info.json) with plain, drbd and ext added to
// its disk templates, as the syncer stores it.
func samplePolicy(t *testing.T) []byte {
	t.Helper()
	var p rapi.IPolicy
	if err := json.Unmarshal([]byte(`{"minmax": [{"min": {"memory-size": 128, "disk-size": 1024, "disk-count": 1,
		"cpu-count": 1, "nic-count": 1, "spindle-use": 1}, "max": {"memory-size": 32768, "disk-size": 1048576,
		"disk-count": 16, "cpu-count": 8, "nic-count": 8, "spindle-use": 12}}], "std": {"memory-size": 128,
		"disk-size": 1024, "disk-count": 1, "cpu-count": 1, "nic-count": 1, "spindle-use": 1}, "spindle-ratio": 32,
		"vcpu-ratio": 32, "disk-templates": ["diskless", "sharedfile", "file"]}`), &p); err != nil {
		t.Fatal(err)
	}
	p.DiskTemplates = append(p.DiskTemplates, "plain", "drbd", "ext")
	raw, _ := json.Marshal(p)
	return raw
}

func sampleData(t *testing.T) ClusterData {
	t.Helper()
	groupPolicy, _ := json.Marshal(rapi.IPolicy{DiskTemplates: []string{"plain", "drbd", "file"}})
	return ClusterData{
		Cluster: &store.Cluster{ID: 4, Slug: "c4", Description: "Cluster four", UseGntNetwork: true, FastCreate: true},
		Status: &store.SyncStatus{ClusterID: 4, LastSuccessAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), InstanceCount: 12,
			Info: store.ClusterInfo{IPolicy: samplePolicy(t), EnabledDiskTemplates: []string{"diskless", "file", "sharedfile", "plain", "drbd"}}},
		Groups: []*store.CachedNodeGroup{
			{ClusterID: 4, Name: "default", AllocPolicy: "preferred", Nodes: []string{"n1", "n2"}},
			{ClusterID: 4, Name: "spare", AllocPolicy: "unallocable", Nodes: []string{"n3"}},
			{ClusterID: 4, Name: "fast", AllocPolicy: "preferred", Tags: []string{"locked", "vg:ssd", "vg:hdd"},
				Nodes: []string{"n4", "n5"}, Locked: true, IPolicy: groupPolicy},
			{ClusterID: 4, Name: "empty", AllocPolicy: "preferred"},
		},
		Networks: []*store.CachedNetwork{
			{ClusterID: 4, Name: "sandbox-net", FreeCount: 252, ReservedCount: 4,
				Groups: []store.NetworkConnection{{Group: "default", Mode: "bridged", Link: "gnt-br0"}}},
			{ClusterID: 4, Name: "public", FreeCount: 10,
				Groups: []store.NetworkConnection{{Group: "default", Mode: "routed", Link: "rt0"}, {Group: "fast", Mode: "routed", Link: "rt0"}}},
			{ClusterID: 4, Name: "full", FreeCount: 0,
				Groups: []store.NetworkConnection{{Group: "fast", Mode: "routed", Link: "rt1"}}},
		},
		Nodes: []*store.CachedNode{
			{ClusterID: 4, Name: "n1", NodeGroup: "default", VMCapable: true, MemoryFreeMB: 1000},
			{ClusterID: 4, Name: "n2", NodeGroup: "default", VMCapable: true, MemoryFreeMB: 3000},
			{ClusterID: 4, Name: "n3", NodeGroup: "spare", VMCapable: true},
			{ClusterID: 4, Name: "n4", NodeGroup: "fast", VMCapable: true, MemoryFreeMB: 5000},
			{ClusterID: 4, Name: "n5", NodeGroup: "fast", VMCapable: true, Drained: true, MemoryFreeMB: 9000},
		},
		Declared: []*store.Network{
			{ID: 1, ClusterID: 4, Description: "Lab VLAN", Link: "br-lab", Mode: "bridged", ClusterDefault: true},
			{ID: 2, ClusterID: 4, Description: "Sandbox", Link: "gnt-br0", Mode: "bridged"},
			{ID: 3, ClusterID: 4, Description: "Routed, no gnt-network", Link: "rt9", Mode: "routed"},
		},
	}
}

func keys(ns []NetworkOption) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Key)
	}
	return out
}

func TestBuildOptions(t *testing.T) {
	o := BuildOptions(sampleData(t))
	if !o.Synced || o.Slug != "c4" || !o.FastCreate || o.InstanceCount != 12 {
		t.Fatalf("cluster: %+v", o)
	}
	// The policy's order, only enabled templates, no extstorage.
	if want := []string{"diskless", "sharedfile", "file", "plain", "drbd"}; !slices.Equal(o.DiskTemplates, want) {
		t.Errorf("templates %v, want %v", o.DiskTemplates, want)
	}
	if o.Limits == nil || o.Limits.MaxMemoryMB != 32768 || o.Limits.MinDiskMB != 1024 || o.Limits.MaxVCPUs != 8 {
		t.Errorf("limits %+v", o.Limits)
	}
	var names []string
	for _, g := range o.Groups {
		names = append(names, g.Name)
	}
	if want := []string{"default", "fast", "empty", "spare"}; !slices.Equal(names, want) {
		t.Fatalf("groups %v, want %v (allocatable first)", names, want)
	}
	def, _ := o.Group("default")
	fast, _ := o.Group("fast")
	spare, _ := o.Group("spare")
	empty, _ := o.Group("empty")
	if !def.Allocatable || def.Locked || def.Nodes != 2 || !fast.Allocatable || !fast.Locked || fast.Nodes != 1 ||
		spare.Allocatable || empty.Allocatable {
		t.Errorf("allocatable/locked: default %+v fast %+v spare %+v empty %+v", def, fast, spare, empty)
	}
	if !slices.Equal(fast.DiskTemplates, []string{"file", "plain", "drbd"}) || !slices.Equal(fast.VGs, []string{"ssd", "hdd"}) {
		t.Errorf("fast group: templates %v, vgs %v", fast.DiskTemplates, fast.VGs)
	}
	// gnt-networks of the group, then declared bridged networks not among
	// them; the declared default preselected.
	if want := []string{"gnt:sandbox-net", "gnt:public", "link:br-lab"}; !slices.Equal(keys(def.Networks), want) {
		t.Fatalf("default group networks %v, want %v", keys(def.Networks), want)
	}
	sandbox, public, lab := def.Networks[0], def.Networks[1], def.Networks[2]
	if sandbox.Pool || sandbox.Mode != "bridged" || sandbox.Link != "gnt-br0" || !sandbox.Declared || sandbox.Description != "Sandbox" ||
		sandbox.FreeCount != 252 {
		t.Errorf("bridged gnt-network: %+v", sandbox)
	}
	if !public.Pool || public.Mode != "routed" || public.Full {
		t.Errorf("routed gnt-network: %+v", public)
	}
	if !lab.Default || sandbox.Default || public.Default {
		t.Errorf("default: %+v", def.Networks)
	}
	if got := def.DefaultNetwork(""); got != "link:br-lab" {
		t.Errorf("preselected %q", got)
	}
	if got := def.DefaultNetwork("gnt-br0"); got != "gnt:sandbox-net" {
		t.Errorf("preselected with the applicant's wish %q", got)
	}
	if want := []string{"gnt:public", "gnt:full", "link:br-lab", "link:gnt-br0"}; !slices.Equal(keys(fast.Networks), want) {
		t.Fatalf("fast group networks %v, want %v", keys(fast.Networks), want)
	}
	if !fast.Networks[1].Full {
		t.Errorf("a network without free addresses is not full: %+v", fast.Networks[1])
	}

	// Without gnt-network use, routed networks are link and mode.
	d := sampleData(t)
	d.Cluster.UseGntNetwork = false
	o2 := BuildOptions(d)
	def2, _ := o2.Group("default")
	if def2.Networks[1].Pool || def2.Networks[1].Link != "rt0" {
		t.Errorf("routed without gnt-network: %+v", def2.Networks[1])
	}
	// No network at all: the cluster's default NIC.
	d = sampleData(t)
	d.Networks, d.Declared = nil, nil
	o3 := BuildOptions(d)
	if g, _ := o3.Group("default"); len(g.Networks) != 1 || g.Networks[0].Key != "" || !g.Networks[0].Default {
		t.Errorf("no networks: %+v", g.Networks)
	}
	// Never synced: nothing offered.
	d = sampleData(t)
	d.Status.LastSuccessAt = time.Time{}
	if o4 := BuildOptions(d); o4.Synced || len(o4.Groups) != 0 {
		t.Errorf("unsynced cluster offers %+v", o4)
	}
}

func TestResolvePlacement(t *testing.T) {
	o := BuildOptions(sampleData(t))
	cases := []struct {
		c     PlacementChoice
		want  store.Placement
		field string
	}{
		{PlacementChoice{ClusterID: 4, NodeGroup: "default", Network: "gnt:public", DiskTemplate: "file"},
			store.Placement{ClusterID: 4, NodeGroup: "default", NetworkName: "public", NetworkPool: true, DiskTemplate: "file"}, ""},
		{PlacementChoice{ClusterID: 4, NodeGroup: "default", Network: "gnt:sandbox-net", DiskTemplate: "diskless"},
			store.Placement{ClusterID: 4, NodeGroup: "default", NetworkName: "sandbox-net", NetworkLink: "gnt-br0",
				NetworkMode: "bridged", DiskTemplate: "diskless"}, ""},
		{PlacementChoice{ClusterID: 4, NodeGroup: "fast", Network: "link:br-lab", DiskTemplate: "plain", VG: "ssd"},
			store.Placement{ClusterID: 4, NodeGroup: "fast", NetworkName: "br-lab", NetworkLink: "br-lab",
				NetworkMode: "bridged", DiskTemplate: "plain", VG: "ssd"}, ""},
		{PlacementChoice{ClusterID: 5, NodeGroup: "default", Network: "gnt:public", DiskTemplate: "file"}, store.Placement{}, "cluster"},
		{PlacementChoice{ClusterID: 4, NodeGroup: "spare", Network: "", DiskTemplate: "file"}, store.Placement{}, "node_group"},
		{PlacementChoice{ClusterID: 4, NodeGroup: "nope", Network: "", DiskTemplate: "file"}, store.Placement{}, "node_group"},
		{PlacementChoice{ClusterID: 4, NodeGroup: "fast", Network: "gnt:public", DiskTemplate: "sharedfile"}, store.Placement{}, "disk_template"},
		{PlacementChoice{ClusterID: 4, NodeGroup: "fast", Network: "gnt:public", DiskTemplate: "ext"}, store.Placement{}, "disk_template"},
		{PlacementChoice{ClusterID: 4, NodeGroup: "fast", Network: "gnt:public", DiskTemplate: "file", VG: "ssd"}, store.Placement{}, "vg"},
		{PlacementChoice{ClusterID: 4, NodeGroup: "fast", Network: "gnt:public", DiskTemplate: "plain", VG: "nvme"}, store.Placement{}, "vg"},
		{PlacementChoice{ClusterID: 4, NodeGroup: "fast", Network: "gnt:full", DiskTemplate: "plain"}, store.Placement{}, "network"},
		{PlacementChoice{ClusterID: 4, NodeGroup: "default", Network: "gnt:elsewhere", DiskTemplate: "file"}, store.Placement{}, "network"},
	}
	for i, tc := range cases {
		got, verr := o.Resolve(tc.c)
		if tc.field == "" {
			if verr != nil || got != tc.want {
				t.Errorf("case %d: got %+v %v, want %+v", i, got, verr, tc.want)
			}
			if back := ChoiceOf(got); back != tc.c {
				t.Errorf("case %d: ChoiceOf gives %+v, want %+v", i, back, tc.c)
			}
			continue
		}
		if verr.Field(tc.field) == nil {
			t.Errorf("case %d: no error for %s: %+v %v", i, tc.field, got, verr)
		}
	}
}

func TestPickNodes(t *testing.T) {
	nodes := sampleData(t).Nodes
	if p, s := pickNodes(nodes, "default", "file"); p != "n2" || s != "" {
		t.Errorf("file: %s %s", p, s)
	}
	if p, s := pickNodes(nodes, "default", "drbd"); p != "n2" || s != "n1" {
		t.Errorf("drbd: %s %s", p, s)
	}
	// n5 is drained: drbd cannot be placed in "fast" by hand.
	if p, s := pickNodes(nodes, "fast", "drbd"); p != "" || s != "" {
		t.Errorf("drbd with one usable node: %s %s", p, s)
	}
	if p, _ := pickNodes(nodes, "fast", "plain"); p != "n4" {
		t.Errorf("drained node chosen: %s", p)
	}
}
