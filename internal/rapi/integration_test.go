package rapi_test

// Integration tests against the real Ganeti 3.0.2 sandbox (fake hypervisor)
// of test/ganeti/up.sh. They read its settings from the env file named by
// GANETI_SANDBOX_ENV (default /run/ganetimgr-sandbox/env); without it they
// are skipped, except in CI (CI=true) where they fail.
//
// Jobs serialise on the cluster, so none of these tests is parallel. Every
// instance a test creates is deleted at cleanup, also when the test fails.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
)

func TestIntegrationClusterReads(t *testing.T) {
	sb := loadSandbox(t)
	c := sb.client(t)
	ctx := ctxFor(t, 3*callTimeout)

	info, err := c.Info(ctx)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if sb.ClusterName != "" && info.Name != sb.ClusterName {
		t.Errorf("info name = %q, want %q", info.Name, sb.ClusterName)
	}
	if !strings.HasPrefix(info.SoftwareVersion, "3.0.") {
		t.Errorf("software version = %q, want 3.0.x", info.SoftwareVersion)
	}
	if info.Master != sb.Node {
		t.Errorf("master = %q, want %q", info.Master, sb.Node)
	}
	if !slices.Contains(info.EnabledHypervisors, "fake") {
		t.Errorf("enabled hypervisors = %v, want fake", info.EnabledHypervisors)
	}
	for _, tpl := range sb.Templates {
		if !slices.Contains(info.EnabledDiskTemplates, tpl) {
			t.Errorf("enabled disk templates %v lack %q", info.EnabledDiskTemplates, tpl)
		}
	}
	if len(info.IPolicy.MinMax) == 0 || info.IPolicy.MinMax[0].Min.MemorySize != 128 || info.IPolicy.MinMax[0].Max.CPUCount != 8 {
		t.Errorf("ipolicy minmax = %+v, want memory >= 128 and vcpus <= 8", info.IPolicy.MinMax)
	}
	if len(info.Raw) == 0 {
		t.Error("info.Raw is empty")
	}

	v, err := c.Version(ctx)
	if err != nil || v != 2 {
		t.Errorf("Version = %d, %v; want 2", v, err)
	}

	feats, err := c.Features(ctx)
	if err != nil {
		t.Fatalf("Features: %v", err)
	}
	if !slices.Contains(feats, rapi.FeatureInstanceCreateReqV1) {
		t.Errorf("features %v lack %s", feats, rapi.FeatureInstanceCreateReqV1)
	}
	if ok, err := c.HasFeature(ctx, rapi.FeatureInstanceReinstallReqV1); err != nil || !ok {
		t.Errorf("HasFeature(%s) = %v, %v", rapi.FeatureInstanceReinstallReqV1, ok, err)
	}

	oses, err := c.OSes(ctx)
	if err != nil {
		t.Fatalf("OSes: %v", err)
	}
	if !slices.Contains(oses, sb.OS) {
		t.Errorf("OSes = %v, want %q among them", oses, sb.OS)
	}

	// Nodes: plain, bulk, one, role.
	nodes, err := c.Nodes(ctx)
	if err != nil {
		t.Fatalf("Nodes: %v", err)
	}
	if !slices.Contains(nodes, sb.Node) {
		t.Errorf("Nodes = %v, want %q", nodes, sb.Node)
	}
	bulk, err := c.NodesBulk(ctx)
	if err != nil {
		t.Fatalf("NodesBulk: %v", err)
	}
	i := slices.IndexFunc(bulk, func(n rapi.Node) bool { return n.Name == sb.Node })
	if i < 0 {
		t.Fatalf("NodesBulk lacks %q: %+v", sb.Node, bulk)
	}
	if n := bulk[i]; n.RoleName() != rapi.RoleMaster || !n.MasterCandidate || n.Offline || n.Drained || !n.VMCapable ||
		n.MemTotal <= 0 || n.CPUTotal <= 0 || n.UUID == "" || n.GroupUUID == "" {
		t.Errorf("bulk node = role %q mc %v offline %v drained %v vm %v mtotal %d ctotal %d uuid %q group %q",
			n.Role, n.MasterCandidate, n.Offline, n.Drained, n.VMCapable, n.MemTotal, n.CPUTotal, n.UUID, n.GroupUUID)
	}
	node, err := c.Node(ctx, sb.Node)
	if err != nil {
		t.Fatalf("Node: %v", err)
	}
	if node.Name != sb.Node || node.UUID != bulk[i].UUID || node.RoleName() != rapi.RoleMaster {
		t.Errorf("Node = %q uuid %q role %q; bulk uuid %q", node.Name, node.UUID, node.Role, bulk[i].UUID)
	}
	role, err := c.NodeRole(ctx, sb.Node)
	if err != nil || role != rapi.RoleMaster {
		t.Errorf("NodeRole = %q, %v; want master", role, err)
	}

	// Groups.
	groups, err := c.Groups(ctx)
	if err != nil {
		t.Fatalf("Groups: %v", err)
	}
	if !slices.Contains(groups, sb.Group) {
		t.Errorf("Groups = %v, want %q", groups, sb.Group)
	}
	gbulk, err := c.GroupsBulk(ctx)
	if err != nil {
		t.Fatalf("GroupsBulk: %v", err)
	}
	gi := slices.IndexFunc(gbulk, func(g rapi.Group) bool { return g.Name == sb.Group })
	if gi < 0 {
		t.Fatalf("GroupsBulk lacks %q", sb.Group)
	}
	group, err := c.Group(ctx, sb.Group)
	if err != nil {
		t.Fatalf("Group: %v", err)
	}
	if group.Name != sb.Group || group.UUID == "" || group.UUID != gbulk[gi].UUID || group.UUID != node.GroupUUID ||
		group.NodeCount != 1 || !slices.Contains(group.NodeList, sb.Node) {
		t.Errorf("Group = %q uuid %q (bulk %q, node's %q) nodes %d %v",
			group.Name, group.UUID, gbulk[gi].UUID, node.GroupUUID, group.NodeCount, group.NodeList)
	}

	// Networks.
	nets, err := c.Networks(ctx)
	if err != nil {
		t.Fatalf("Networks: %v", err)
	}
	if !slices.Contains(nets, sb.Network) {
		t.Errorf("Networks = %v, want %q", nets, sb.Network)
	}
	nbulk, err := c.NetworksBulk(ctx)
	if err != nil {
		t.Fatalf("NetworksBulk: %v", err)
	}
	ni := slices.IndexFunc(nbulk, func(n rapi.Network) bool { return n.Name == sb.Network })
	if ni < 0 {
		t.Fatalf("NetworksBulk lacks %q", sb.Network)
	}
	network, err := c.Network(ctx, sb.Network)
	if err != nil {
		t.Fatalf("Network: %v", err)
	}
	for _, n := range []*rapi.Network{&nbulk[ni], network} {
		if sb.NetworkCIDR != "" && n.Network != sb.NetworkCIDR {
			t.Errorf("network %s CIDR = %q, want %q", n.Name, n.Network, sb.NetworkCIDR)
		}
		if sb.Gateway != "" && n.Gateway != sb.Gateway {
			t.Errorf("network %s gateway = %q, want %q", n.Name, n.Gateway, sb.Gateway)
		}
		want := rapi.NetworkGroup{Group: sb.Group, Mode: "bridged", Link: sb.NICLink}
		if !slices.Contains(n.GroupList, want) {
			t.Errorf("network %s groups = %+v, want %+v", n.Name, n.GroupList, want)
		}
		if n.FreeCount <= 0 || n.UUID == "" {
			t.Errorf("network %s free %d uuid %q", n.Name, n.FreeCount, n.UUID)
		}
	}
}

// TestIntegrationClusterTagsAndJobs does a cluster tag round trip and reads
// the jobs it made back through the jobs resources.
func TestIntegrationClusterTagsAndJobs(t *testing.T) {
	sb := loadSandbox(t)
	c := sb.client(t)
	ctx := ctxFor(t, 3*callTimeout)
	tag := "it-" + runID + ":ganetimgr"

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
		defer cancel()
		tags, err := c.ClusterTags(ctx)
		if err == nil && slices.Contains(tags, tag) {
			if id, err := c.DeleteClusterTags(ctx, []string{tag}); err == nil {
				_, _ = c.WaitJob(ctx, id)
			}
		}
	})

	addJob := submitAndWait(t, c, "add cluster tag", func(ctx context.Context) (rapi.JobID, error) {
		return c.AddClusterTags(ctx, []string{tag})
	})
	tags, err := c.ClusterTags(ctx)
	if err != nil || !slices.Contains(tags, tag) {
		t.Fatalf("ClusterTags after add = %v, %v; want %q", tags, err, tag)
	}
	info, err := c.Info(ctx)
	if err != nil || !slices.Contains(info.Tags, tag) {
		t.Errorf("Info tags after add = %v, %v", info.Tags, err)
	}

	delJob := submitAndWait(t, c, "delete cluster tag", func(ctx context.Context) (rapi.JobID, error) {
		return c.DeleteClusterTags(ctx, []string{tag})
	})
	tags, err = c.ClusterTags(ctx)
	if err != nil || tags == nil || slices.Contains(tags, tag) {
		t.Errorf("ClusterTags after delete = %#v, %v; want no %q", tags, err, tag)
	}

	// The jobs just run are listed, plain and bulk, and readable one by one.
	ids, err := c.Jobs(ctx)
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	for _, id := range []rapi.JobID{addJob.ID, delJob.ID} {
		if !slices.Contains(ids, id) {
			t.Errorf("Jobs lacks job %s (have %d jobs)", id, len(ids))
		}
	}
	jobs, err := c.JobsBulk(ctx)
	if err != nil {
		t.Fatalf("JobsBulk: %v", err)
	}
	ji := slices.IndexFunc(jobs, func(j rapi.Job) bool { return j.ID == addJob.ID })
	if ji < 0 {
		t.Fatalf("JobsBulk lacks job %s", addJob.ID)
	}
	if j := jobs[ji]; j.Status != rapi.JobStatusSuccess || j.OpID() != "OP_TAGS_SET" {
		t.Errorf("bulk job %s = status %q op %q", j.ID, j.Status, j.OpID())
	}
	job, err := c.Job(ctx, delJob.ID)
	if err != nil {
		t.Fatalf("Job(%s): %v", delJob.ID, err)
	}
	if job.Status != rapi.JobStatusSuccess || job.OpID() != "OP_TAGS_DEL" || job.EndedAt.IsZero() ||
		job.ReceivedAt.IsZero() || job.EndedAt.Before(job.ReceivedAt.Time) || !strings.Contains(opRaw(job), tag) {
		t.Errorf("Job %s = status %q op %q received %v ended %v raw %s",
			job.ID, job.Status, job.OpID(), job.ReceivedAt, job.EndedAt, opRaw(job))
	}
}

// TestIntegrationCreateInstances creates a diskless and a file instance and
// checks them in the bulk list and one by one.
func TestIntegrationCreateInstances(t *testing.T) {
	sb := loadSandbox(t)
	c := sb.client(t)
	ctx := ctxFor(t, 3*callTimeout)

	type want struct {
		name     string
		template string
		disks    []int64
	}
	cases := []want{
		{uniqueName("diskless"), "diskless", nil},
		{uniqueName("file"), "file", []int64{1024}},
	}
	for _, w := range cases {
		_, job := sb.createInstance(t, c, sb.createSpec(w.name, w.template, false, w.disks...))
		if job.OpID() != "OP_INSTANCE_CREATE" || job.Ops[0].InstanceName != w.name {
			t.Errorf("create job op %q instance %q", job.OpID(), job.Ops[0].InstanceName)
		}
	}

	all, err := c.InstancesBulk(ctx)
	if err != nil {
		t.Fatalf("InstancesBulk: %v", err)
	}
	names, err := c.Instances(ctx)
	if err != nil {
		t.Fatalf("Instances: %v", err)
	}
	for _, w := range cases {
		if !slices.Contains(names, w.name) {
			t.Errorf("Instances lacks %s", w.name)
		}
		i := slices.IndexFunc(all, func(in rapi.Instance) bool { return in.Name == w.name })
		if i < 0 {
			t.Errorf("InstancesBulk lacks %s", w.name)
			continue
		}
		one := getInstance(t, c, w.name)
		for src, in := range map[string]*rapi.Instance{"bulk": &all[i], "one": one} {
			if in.DiskTemplate != w.template || in.OS != sb.OS || in.PNode != sb.Node || len(in.SNodes) != 0 {
				t.Errorf("%s %s: template %q os %q pnode %q snodes %v", src, w.name, in.DiskTemplate, in.OS, in.PNode, in.SNodes)
			}
			if in.BeParams.MaxMem != 128 || in.BeParams.MinMem != 128 || in.BeParams.VCPUs != 1 {
				t.Errorf("%s %s: beparams %+v, want 128 MB and 1 vCPU", src, w.name, in.BeParams)
			}
			if !slices.Equal(in.DiskSizes, w.disks) && !(len(w.disks) == 0 && len(in.DiskSizes) == 0) {
				t.Errorf("%s %s: disk sizes %v, want %v", src, w.name, in.DiskSizes, w.disks)
			}
			if in.Status != rapi.StatusAdminDown || in.AdminState != "down" || in.OperState {
				t.Errorf("%s %s: status %q admin %q oper %v, want ADMIN_down (created stopped)", src, w.name, in.Status, in.AdminState, in.OperState)
			}
			if len(in.NICLinks) != 1 || in.NICLinks[0] != sb.NICLink || in.UUID == "" || in.CTime.IsZero() {
				t.Errorf("%s %s: nic links %v uuid %q ctime %v", src, w.name, in.NICLinks, in.UUID, in.CTime)
			}
		}
	}
}

// TestIntegrationInstanceLifecycle drives one instance through its life:
// startup, shutdown, reboots, tags, modify, rename, reinstall, delete.
func TestIntegrationInstanceLifecycle(t *testing.T) {
	sb := loadSandbox(t)
	c := sb.client(t)
	ctx := ctxFor(t, 10*jobTimeout)
	name := uniqueName("life")
	ref, _ := sb.createInstance(t, c, sb.createSpec(name, "file", false, 1024))

	if in := getInstance(t, c, name); in.Status != rapi.StatusAdminDown || in.OperState {
		t.Fatalf("after create: status %q oper %v, want ADMIN_down", in.Status, in.OperState)
	}

	isRunning := func(in *rapi.Instance) bool {
		return in.Status == rapi.StatusRunning && in.OperState && in.AdminState == "up"
	}
	isStopped := func(in *rapi.Instance) bool {
		return in.Status == rapi.StatusAdminDown && !in.OperState && in.AdminState == "down"
	}
	expect := func(step string, cond func(*rapi.Instance) bool) *rapi.Instance {
		t.Helper()
		in := getInstance(t, c, ref.Name)
		if !cond(in) {
			t.Fatalf("after %s: status %q admin %q oper %v", step, in.Status, in.AdminState, in.OperState)
		}
		return in
	}

	job := submitAndWait(t, c, "startup", func(ctx context.Context) (rapi.JobID, error) {
		return c.StartupInstance(ctx, name, rapi.StartupOptions{})
	})
	if job.OpID() != "OP_INSTANCE_STARTUP" {
		t.Errorf("startup op = %q", job.OpID())
	}
	in := expect("startup", isRunning)
	if in.OperRAM != 128 || in.OperVCPUs != 1 {
		t.Errorf("running: oper_ram %d oper_vcpus %d, want 128 and 1", in.OperRAM, in.OperVCPUs)
	}

	job = submitAndWait(t, c, "shutdown", func(ctx context.Context) (rapi.JobID, error) {
		return c.ShutdownInstance(ctx, name, rapi.ShutdownOptions{Timeout: 30 * time.Second})
	})
	if job.OpID() != "OP_INSTANCE_SHUTDOWN" || !strings.Contains(opRaw(job), `"timeout": 30`) {
		t.Errorf("shutdown op %q raw %s, want timeout 30", job.OpID(), opRaw(job))
	}
	expect("shutdown", isStopped)

	submitAndWait(t, c, "startup again", func(ctx context.Context) (rapi.JobID, error) {
		return c.StartupInstance(ctx, name, rapi.StartupOptions{})
	})
	expect("second startup", isRunning)

	for _, typ := range []rapi.RebootType{rapi.RebootSoft, rapi.RebootHard} {
		job := submitAndWait(t, c, "reboot "+string(typ), func(ctx context.Context) (rapi.JobID, error) {
			return c.RebootInstance(ctx, name, rapi.RebootOptions{Type: typ})
		})
		if job.OpID() != "OP_INSTANCE_REBOOT" || !strings.Contains(opRaw(job), `"reboot_type": "`+string(typ)+`"`) {
			t.Errorf("reboot %s: op %q raw %s", typ, job.OpID(), opRaw(job))
		}
		expect("reboot "+string(typ), isRunning)
	}

	// Tags, including ganetimgr's owner tag form.
	tags := []string{"ganetimgr:user:alice", "it:run:" + runID}
	submitAndWait(t, c, "add instance tags", func(ctx context.Context) (rapi.JobID, error) {
		return c.AddInstanceTags(ctx, name, tags)
	})
	got, err := c.InstanceTags(ctx, name)
	if err != nil {
		t.Fatalf("InstanceTags: %v", err)
	}
	for _, tag := range tags {
		if !slices.Contains(got, tag) {
			t.Errorf("InstanceTags = %v, want %q", got, tag)
		}
	}
	if in := getInstance(t, c, name); !slices.Contains(in.Tags, "ganetimgr:user:alice") {
		t.Errorf("Instance tags = %v", in.Tags)
	}
	submitAndWait(t, c, "delete instance tag", func(ctx context.Context) (rapi.JobID, error) {
		return c.DeleteInstanceTags(ctx, name, tags[1:])
	})
	got, err = c.InstanceTags(ctx, name)
	if err != nil || !slices.Equal(got, tags[:1]) {
		t.Errorf("InstanceTags after delete = %v, %v; want %v", got, err, tags[:1])
	}

	// Modify memory.
	job = submitAndWait(t, c, "modify memory", func(ctx context.Context) (rapi.JobID, error) {
		return c.ModifyInstance(ctx, name, rapi.InstanceModify{BeParams: map[string]any{"maxmem": 256, "minmem": 256}})
	})
	if job.OpID() != "OP_INSTANCE_SET_PARAMS" {
		t.Errorf("modify op = %q", job.OpID())
	}
	in = getInstance(t, c, name)
	if in.BeParams.MaxMem != 256 || in.BeParams.MinMem != 256 {
		t.Errorf("after modify: beparams %+v, want maxmem=minmem=256", in.BeParams)
	}
	if v, ok := in.CustomBeParams.Lookup("maxmem"); !ok || string(v) != "256" {
		t.Errorf("after modify: custom beparams %s", in.CustomBeParams)
	}

	// Rename needs a stopped instance.
	submitAndWait(t, c, "shutdown before rename", func(ctx context.Context) (rapi.JobID, error) {
		return c.ShutdownInstance(ctx, name, rapi.ShutdownOptions{Timeout: 30 * time.Second})
	})
	expect("shutdown before rename", isStopped)
	newName := uniqueName("renamed")
	job = submitAndWait(t, c, "rename", func(ctx context.Context) (rapi.JobID, error) {
		return c.RenameInstance(ctx, name, newName, rapi.RenameOptions{})
	})
	ref.Name = newName // cleanup must delete the new name
	if job.OpID() != "OP_INSTANCE_RENAME" {
		t.Errorf("rename op = %q", job.OpID())
	}
	if _, err := c.Instance(ctx, name); !rapi.IsNotFound(err) {
		t.Errorf("old name after rename: err %v, want not found", err)
	}
	in = expect("rename", isStopped)
	if in.Name != newName || in.DiskTemplate != "file" || in.BeParams.MaxMem != 256 || !slices.Contains(in.Tags, "ganetimgr:user:alice") {
		t.Errorf("renamed instance: name %q template %q maxmem %d tags %v", in.Name, in.DiskTemplate, in.BeParams.MaxMem, in.Tags)
	}

	// Reinstall: shutdown (no-op), reinstall, startup in one job.
	job = submitAndWait(t, c, "reinstall", func(ctx context.Context) (rapi.JobID, error) {
		return c.ReinstallInstance(ctx, newName, rapi.ReinstallOptions{OS: sb.OS})
	})
	var ops []string
	for _, op := range job.Ops {
		ops = append(ops, op.ID)
	}
	if !slices.Contains(ops, "OP_INSTANCE_REINSTALL") {
		t.Errorf("reinstall job ops = %v", ops)
	}
	in = expect("reinstall", isRunning)
	if in.OS != sb.OS {
		t.Errorf("after reinstall: os %q", in.OS)
	}

	// Delete.
	job = submitAndWait(t, c, "delete", func(ctx context.Context) (rapi.JobID, error) {
		return c.DeleteInstance(ctx, newName, rapi.DeleteOptions{ShutdownTimeout: 10 * time.Second})
	})
	if job.OpID() != "OP_INSTANCE_REMOVE" {
		t.Errorf("delete op = %q", job.OpID())
	}
	if _, err := c.Instance(ctx, newName); !rapi.IsNotFound(err) {
		t.Errorf("after delete: err %v, want not found", err)
	}
	all, err := c.Instances(ctx)
	if err != nil || slices.Contains(all, newName) || slices.Contains(all, name) {
		t.Errorf("Instances after delete = %v, %v", all, err)
	}
}

// TestIntegrationQuery reads the instance query resource with GET (fields)
// and PUT (fields and a filter).
func TestIntegrationQuery(t *testing.T) {
	sb := loadSandbox(t)
	c := sb.client(t)
	ctx := ctxFor(t, 3*callTimeout)
	name := uniqueName("query")
	sb.createInstance(t, c, sb.createSpec(name, "diskless", false))

	fields := []string{"name", "status", "admin_state", "oper_state", "pnode", "disk_template", "os", "be/maxmem"}
	res, err := c.QueryGet(ctx, rapi.QueryInstance, fields)
	if err != nil {
		t.Fatalf("QueryGet: %v", err)
	}
	if len(res.Fields) != len(fields) || res.Index("pnode") != 4 {
		t.Fatalf("QueryGet fields = %+v", res.Fields)
	}
	found := false
	for _, row := range res.Rows() {
		if row["name"].String() == name {
			found = true
			if row["status"].String() != string(rapi.StatusAdminDown) || row["pnode"].String() != sb.Node {
				t.Errorf("QueryGet row %s: status %q pnode %q", name, row["status"].String(), row["pnode"].String())
			}
		}
	}
	if !found {
		t.Errorf("QueryGet lacks %s (%d rows)", name, len(res.Data))
	}

	res, err = c.Query(ctx, rapi.QueryInstance, fields, rapi.Eq("name", name))
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(res.Data) != 1 {
		t.Fatalf("Query with filter name == %s: %d rows, want 1", name, len(res.Data))
	}
	if s := res.Cell(0, "name").String(); s != name {
		t.Errorf("name = %q", s)
	}
	if s := res.Cell(0, "status").String(); s != string(rapi.StatusAdminDown) {
		t.Errorf("status = %q", s)
	}
	if s := res.Cell(0, "admin_state").String(); s != "down" {
		t.Errorf("admin_state = %q", s)
	}
	if cell := res.Cell(0, "oper_state"); !cell.OK() || cell.Bool() {
		t.Errorf("oper_state = %+v, want false", cell)
	}
	if s := res.Cell(0, "disk_template").String(); s != "diskless" {
		t.Errorf("disk_template = %q", s)
	}
	if s := res.Cell(0, "os").String(); s != sb.OS {
		t.Errorf("os = %q", s)
	}
	if n, ok := res.Cell(0, "be/maxmem").Int(); !ok || n != 128 {
		t.Errorf("be/maxmem = %d, %v", n, ok)
	}
	if f := res.Fields[res.Index("oper_state")]; f.Kind != "bool" || f.Title == "" {
		t.Errorf("oper_state field = %+v", f)
	}

	// A compound filter that matches nothing.
	res, err = c.Query(ctx, rapi.QueryInstance, []string{"name"},
		rapi.And(rapi.Eq("name", name), rapi.Eq("status", string(rapi.StatusRunning))))
	if err != nil || len(res.Data) != 0 {
		t.Errorf("Query matching nothing = %v rows, %v", res, err)
	}
	// A regexp filter on the run id finds this instance.
	res, err = c.Query(ctx, rapi.QueryInstance, []string{"name"}, rapi.Regex("name", "^it-"+runID+"-query"))
	if err != nil || len(res.Data) != 1 || res.Cell(0, "name").String() != name {
		t.Errorf("Query regex = %+v, %v", res, err)
	}

	qf, err := c.QueryFields(ctx, rapi.QueryInstance, []string{"name", "status"})
	if err != nil || len(qf) != 2 || qf[0].Name != "name" || qf[1].Kind != "text" {
		t.Errorf("QueryFields = %+v, %v", qf, err)
	}
}

// TestIntegrationAccessControl checks the read-only user and bad
// credentials.
func TestIntegrationAccessControl(t *testing.T) {
	sb := loadSandbox(t)
	c := sb.client(t)
	ro := sb.roClient(t)
	ctx := ctxFor(t, 3*jobTimeout)

	// The read-only user can read.
	info, err := ro.Info(ctx)
	if err != nil || info.Master != sb.Node {
		t.Fatalf("read-only Info = %v, %v", info, err)
	}
	if _, err := ro.InstancesBulk(ctx); err != nil {
		t.Errorf("read-only InstancesBulk: %v", err)
	}
	if role, err := ro.NodeRole(ctx, sb.Node); err != nil || role != rapi.RoleMaster {
		t.Errorf("read-only NodeRole = %q, %v", role, err)
	}

	// ...and is refused writes with 403, with nothing changed.
	tag := "it-" + runID + ":readonly"
	_, err = ro.AddClusterTags(ctx, []string{tag})
	if !rapi.IsForbidden(err) || rapi.IsUnauthorized(err) {
		t.Errorf("read-only AddClusterTags: err %v, want 403 forbidden", err)
	}
	var ae *rapi.APIError
	if !errors.As(err, &ae) || ae.Code != http.StatusForbidden || ae.Method != http.MethodPut || ae.Path != "/2/tags" {
		t.Errorf("read-only AddClusterTags: APIError %+v", ae)
	}
	if tags, err := c.ClusterTags(ctx); err != nil || slices.Contains(tags, tag) {
		t.Errorf("cluster tags after refused add = %v, %v", tags, err)
	}

	name := uniqueName("readonly")
	trackInstance(t, c, name) // in case the refusal fails
	_, err = ro.CreateInstance(ctx, sb.createSpec(name, "diskless", false))
	if !rapi.IsForbidden(err) {
		t.Errorf("read-only CreateInstance: err %v, want 403 forbidden", err)
	}
	if _, err := c.Instance(ctx, name); !rapi.IsNotFound(err) {
		t.Errorf("instance after refused create: err %v, want not found", err)
	}

	// The read-only user cannot long-poll jobs (403) but WaitJob falls back
	// to polling: follow a job of the write user.
	id, err := c.AddClusterTags(ctx, []string{tag})
	if err != nil {
		t.Fatalf("AddClusterTags: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
		defer cancel()
		if id, err := c.DeleteClusterTags(ctx, []string{tag}); err == nil {
			_, _ = c.WaitJob(ctx, id)
		}
	})
	job, err := waitJobErr(t, ro, id)
	if err != nil || job.Status != rapi.JobStatusSuccess {
		t.Errorf("read-only WaitJob(%s) = %v, %v", id, job, err)
	}

	// Wrong password, unknown user: 401.
	for _, creds := range [][2]string{{sb.User, sb.Pass + "-wrong"}, {sb.ROUser, "nope"}, {"it-nobody", sb.Pass}} {
		bad := sb.clientAs(t, creds[0], creds[1], sb.Fingerprint)
		_, err := bad.Info(ctx)
		if !rapi.IsUnauthorized(err) || rapi.IsForbidden(err) {
			t.Errorf("user %q with a wrong password: err %v, want 401 unauthorized", creds[0], err)
		}
		if _, err := bad.Instances(ctx); !rapi.IsUnauthorized(err) {
			t.Errorf("user %q Instances: err %v, want 401", creds[0], err)
		}
	}
}

// TestIntegrationPolicyViolation checks that Ganeti's instance policy
// refusals come back as decoded job errors.
func TestIntegrationPolicyViolation(t *testing.T) {
	sb := loadSandbox(t)
	c := sb.client(t)
	ctx := ctxFor(t, 3*jobTimeout)

	cases := []struct {
		kind     string
		beparams map[string]any
		field    string
		value    string
	}{
		{"mem64", map[string]any{"maxmem": 64, "minmem": 64, "vcpus": 1}, "memory-size", "64"},
		{"vcpu16", map[string]any{"maxmem": 128, "minmem": 128, "vcpus": 16}, "cpu-count", "16"},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			name := uniqueName(tc.kind)
			trackInstance(t, c, name)
			r := sb.createSpec(name, "diskless", false)
			r.BeParams = tc.beparams
			id, err := c.CreateInstance(ctx, r)
			if err != nil {
				t.Fatalf("CreateInstance: %v (the refusal should come from the job)", err)
			}
			job, err := waitJobErr(t, c, id)
			je := jobError(t, err, "create violating the policy")
			t.Logf("Ganeti says: %s", je)
			if je.JobID != id || je.Status != rapi.JobStatusError || je.OpIndex != 0 || je.OpID != "OP_INSTANCE_CREATE" {
				t.Errorf("JobError id %s status %q op %d %q", je.JobID, je.Status, je.OpIndex, je.OpID)
			}
			if je.Class != "OpPrereqError" || je.Code != rapi.ECodeInval {
				t.Errorf("JobError class %q code %q, want OpPrereqError wrong_input", je.Class, je.Code)
			}
			if !strings.Contains(je.Message, "violates policy") || !strings.Contains(je.Message, tc.field) ||
				!strings.Contains(je.Message, tc.value) || strings.Contains(je.Message, "wrong_input") {
				t.Errorf("JobError message %q, want the %s violation", je.Message, tc.field)
			}
			if !strings.Contains(je.Error(), je.Message) || errors.Is(err, rapi.ErrJobCanceled) {
				t.Errorf("Error() = %q", je.Error())
			}
			if job == nil || job.Status != rapi.JobStatusError || job.Err() == nil {
				t.Errorf("returned job = %+v, want the failed job", job)
			}
			// The same error, read again from the finished job.
			again, err := c.Job(ctx, id)
			if err != nil {
				t.Fatalf("Job(%s): %v", id, err)
			}
			if je2 := jobError(t, again.Err(), "Job.Err"); *je2 != *je {
				t.Errorf("Job.Err = %+v, WaitJob gave %+v", je2, je)
			}
			if _, err := c.Instance(ctx, name); !rapi.IsNotFound(err) {
				t.Errorf("instance after refused create: err %v, want not found", err)
			}
		})
	}
}

// TestIntegrationMigrateFailoverOneNode checks that migrate and failover on
// the one-node cluster fail with a decoded Ganeti error and leave the
// instance running where it was.
func TestIntegrationMigrateFailoverOneNode(t *testing.T) {
	sb := loadSandbox(t)
	c := sb.client(t)
	ctx := ctxFor(t, 4*jobTimeout)
	name := uniqueName("migrate")
	sb.createInstance(t, c, sb.createSpec(name, "diskless", true))
	if in, ok := pollInstance(t, c, name, 30*time.Second, func(in *rapi.Instance) bool { return in.OperState }); !ok {
		t.Fatalf("created with start: status %q", in.Status)
	}

	steps := []struct {
		op     string
		submit func(ctx context.Context) (rapi.JobID, error)
	}{
		{"OP_INSTANCE_MIGRATE", func(ctx context.Context) (rapi.JobID, error) {
			return c.MigrateInstance(ctx, name, rapi.MigrateOptions{})
		}},
		{"OP_INSTANCE_FAILOVER", func(ctx context.Context) (rapi.JobID, error) {
			return c.FailoverInstance(ctx, name, rapi.FailoverOptions{ShutdownTimeout: 10 * time.Second})
		}},
	}
	for _, st := range steps {
		id, err := st.submit(ctx)
		if err != nil {
			t.Fatalf("%s: submit: %v", st.op, err)
		}
		_, err = waitJobErr(t, c, id)
		je := jobError(t, err, st.op)
		t.Logf("%s: Ganeti says: %s", st.op, je)
		if je.Status != rapi.JobStatusError || je.OpID != st.op || je.Class != "OpPrereqError" || je.Message == "" {
			t.Errorf("%s: JobError %+v, want OpPrereqError with a message", st.op, je)
		}
		if je.Code != rapi.ECodeNoRes && je.Code != rapi.ECodeInval && je.Code != rapi.ECodeState {
			t.Errorf("%s: code %q", st.op, je.Code)
		}
		in := getInstance(t, c, name)
		if in.PNode != sb.Node || in.Status != rapi.StatusRunning {
			t.Errorf("%s: instance now on %q status %q", st.op, in.PNode, in.Status)
		}
	}
}

// TestIntegrationTLSPinning checks pin mismatch and certificate fetching.
func TestIntegrationTLSPinning(t *testing.T) {
	sb := loadSandbox(t)
	ctx := ctxFor(t, 2*callTimeout)

	cert, err := rapi.FetchCertificate(ctx, sb.Host, sb.Port, 20*time.Second)
	if err != nil {
		t.Fatalf("FetchCertificate: %v", err)
	}
	if cert.SHA256 != sb.Fingerprint {
		t.Errorf("FetchCertificate SHA256 = %s, want GANETI_RAPI_FINGERPRINT %s", cert.SHA256, sb.Fingerprint)
	}
	if !cert.SelfSigned || len(cert.PEM) == 0 || cert.NotAfter.Before(time.Now()) {
		t.Errorf("certificate: self-signed %v pem %d bytes not after %v subject %q", cert.SelfSigned, len(cert.PEM), cert.NotAfter, cert.Subject)
	}
	if sb.CertFile != "" {
		if pemFile, err := os.ReadFile(sb.CertFile); err == nil && strings.TrimSpace(string(pemFile)) != strings.TrimSpace(string(cert.PEM)) {
			t.Errorf("fetched PEM differs from %s", sb.CertFile)
		}
	}

	// The pin in another accepted spelling still matches.
	lower := strings.ToLower(strings.ReplaceAll(sb.Fingerprint, ":", ""))
	if _, err := sb.clientAs(t, sb.User, sb.Pass, lower).Info(ctx); err != nil {
		t.Errorf("Info with pin %s: %v", lower, err)
	}

	// A wrong pin: flip the last hex digit.
	wrong := []byte(sb.Fingerprint)
	if wrong[len(wrong)-1] == '0' {
		wrong[len(wrong)-1] = '1'
	} else {
		wrong[len(wrong)-1] = '0'
	}
	bad := sb.clientAs(t, sb.User, sb.Pass, string(wrong))
	_, err = bad.Info(ctx)
	if !errors.Is(err, rapi.ErrPinMismatch) {
		t.Fatalf("Info with a wrong pin: err %v, want ErrPinMismatch", err)
	}
	var pm *rapi.PinMismatchError
	if !errors.As(err, &pm) || pm.Presented != sb.Fingerprint || pm.Expected != string(wrong) {
		t.Errorf("PinMismatchError = %+v", pm)
	}
	if rapi.IsUnavailable(err) || rapi.IsUnauthorized(err) || rapi.IsNotFound(err) {
		t.Errorf("pin mismatch also classified as unavailable/unauthorized/not found: %v", err)
	}
	// A mutation is refused before anything is sent.
	if _, err := bad.AddClusterTags(ctx, []string{"it-" + runID + ":pin"}); !errors.Is(err, rapi.ErrPinMismatch) {
		t.Errorf("AddClusterTags with a wrong pin: err %v", err)
	}
}

// TestIntegrationErrorDown makes a running instance vanish from the fake
// hypervisor and watches Ganeti report ERROR_down.
func TestIntegrationErrorDown(t *testing.T) {
	sb := loadSandbox(t)
	c := sb.client(t)
	name := uniqueName("errdown")
	sb.createInstance(t, c, sb.createSpec(name, "diskless", false))
	submitAndWait(t, c, "startup", func(ctx context.Context) (rapi.JobID, error) {
		return c.StartupInstance(ctx, name, rapi.StartupOptions{})
	})
	if in := getInstance(t, c, name); in.Status != rapi.StatusRunning {
		t.Fatalf("after startup: status %q", in.Status)
	}

	sb.onNode(t, "rm", "-f", sb.fakeHVFile(name))

	in, ok := pollInstance(t, c, name, 60*time.Second, func(in *rapi.Instance) bool {
		return in.Status == rapi.StatusErrorDown
	})
	if !ok {
		t.Fatalf("status %q after removing the fake hypervisor file, want ERROR_down", in.Status)
	}
	if !in.Status.IsError() || in.OperState || in.AdminState != "up" || in.Running() || !in.AdminUp() {
		t.Errorf("ERROR_down instance: IsError %v oper %v admin %q", in.Status.IsError(), in.OperState, in.AdminState)
	}
	// The bulk list and the query resource agree.
	ctx := ctxFor(t, callTimeout)
	all, err := c.InstancesBulk(ctx)
	if err != nil {
		t.Fatalf("InstancesBulk: %v", err)
	}
	if i := slices.IndexFunc(all, func(in rapi.Instance) bool { return in.Name == name }); i < 0 || all[i].Status != rapi.StatusErrorDown {
		t.Errorf("InstancesBulk does not show %s as ERROR_down", name)
	}
	res, err := c.Query(ctx, rapi.QueryInstance, []string{"name", "status"}, rapi.Eq("name", name))
	if err != nil || len(res.Data) != 1 || res.Cell(0, "status").String() != string(rapi.StatusErrorDown) {
		t.Errorf("Query status = %+v, %v", res, err)
	}
}

// TestIntegrationNotFound checks unknown jobs and objects.
func TestIntegrationNotFound(t *testing.T) {
	sb := loadSandbox(t)
	c := sb.client(t)
	ctx := ctxFor(t, 2*jobTimeout)

	const unknownJob = rapi.JobID(987654321)
	if _, err := c.Job(ctx, unknownJob); !rapi.IsNotFound(err) {
		t.Errorf("Job(unknown): err %v, want not found", err)
	}
	if _, err := waitJobErr(t, c, unknownJob); !rapi.IsNotFound(err) {
		t.Errorf("WaitJob(unknown): err %v, want not found", err)
	}
	missing := uniqueName("missing")
	if _, err := c.Instance(ctx, missing); !rapi.IsNotFound(err) {
		t.Errorf("Instance(unknown): err %v, want not found", err)
	}
	// Ganeti 3.0.2 answers the tags of an unknown instance with a 500 whose
	// message is the OpPrereqError tuple ("... not found", "unknown_entity"),
	// not a 404; the client reports it as not found.
	if _, err := c.InstanceTags(ctx, missing); !rapi.IsNotFound(err) {
		t.Errorf("InstanceTags(unknown): err %v, want not found", err)
	}
	if _, err := c.Node(ctx, "it-"+runID+"-nonode.example.org"); !rapi.IsNotFound(err) {
		t.Errorf("Node(unknown): err %v, want not found", err)
	}
	if _, err := c.Group(ctx, "it-"+runID+"-nogroup"); !rapi.IsNotFound(err) {
		t.Errorf("Group(unknown): err %v, want not found", err)
	}
	if _, err := c.Network(ctx, "it-"+runID+"-nonet"); !rapi.IsNotFound(err) {
		t.Errorf("Network(unknown): err %v, want not found", err)
	}

	// Acting on an unknown instance is accepted as a job that then fails.
	id, err := c.StartupInstance(ctx, missing, rapi.StartupOptions{})
	if err != nil {
		if !rapi.IsNotFound(err) {
			t.Errorf("StartupInstance(unknown): err %v", err)
		}
		return
	}
	_, err = waitJobErr(t, c, id)
	je := jobError(t, err, "startup of an unknown instance")
	if je.Class != "OpPrereqError" || je.Code != rapi.ECodeNoEnt || !strings.Contains(je.Message, missing) {
		t.Errorf("JobError %+v, want OpPrereqError unknown_entity naming the instance", je)
	}
}

// Latency: the client against plain curl on the same resources.

func benchClient(b *testing.B) *rapi.Client {
	sb := loadSandbox(b)
	return sb.client(b)
}

func BenchmarkSandboxInfo(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Info(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSandboxInstancesBulk(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.InstancesBulk(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSandboxLatencyVsCurl alternates curl and client calls on
// /2/info and /2/instances?bulk=1 and logs the medians and their ratio. It
// is a measurement, run on demand:
//
//	go test -run '^$' -bench SandboxLatencyVsCurl -benchtime 1x -v ./internal/rapi
//
// GANETI_MEASURE_N sets the sample size (default 20) and
// GANETI_MEASURE_INSTANCES creates that many extra instances before a
// second bulk measurement.
func BenchmarkSandboxLatencyVsCurl(b *testing.B) {
	var t testing.TB = b
	sb := loadSandbox(t)
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	n := 20
	if v, err := strconv.Atoi(os.Getenv("GANETI_MEASURE_N")); err == nil && v > 0 {
		n = v
	}
	c := sb.client(t)
	base := fmt.Sprintf("https://%s:%d", sb.Host, sb.Port)

	curlOnce := func(path string) time.Duration {
		out, err := exec.Command(curl, "-sk", "-u", sb.User+":"+sb.Pass, base+path,
			"-o", "/dev/null", "-w", "%{http_code} %{time_total}").Output()
		if err != nil {
			t.Fatalf("curl %s: %v", path, err)
		}
		code, secs, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
		if code != "200" {
			t.Fatalf("curl %s: HTTP %s", path, code)
		}
		f, err := strconv.ParseFloat(secs, 64)
		if err != nil {
			t.Fatalf("curl %s: time %q: %v", path, secs, err)
		}
		return time.Duration(f * float64(time.Second))
	}
	measure := func(label, path string, call func(context.Context) error) {
		var cu, cl []time.Duration
		for range n {
			cu = append(cu, curlOnce(path))
			start := time.Now()
			if err := call(context.Background()); err != nil {
				t.Fatalf("client %s: %v", path, err)
			}
			cl = append(cl, time.Since(start))
		}
		mcu, mcl := median(cu), median(cl)
		t.Logf("%-28s n=%d  curl median %6.1f ms  client median %6.1f ms  client/curl %.2f",
			label, n, ms(mcu), ms(mcl), float64(mcl)/float64(mcu))
	}
	info := func(ctx context.Context) error { _, err := c.Info(ctx); return err }
	bulk := func(ctx context.Context) error { _, err := c.InstancesBulk(ctx); return err }

	all, err := c.Instances(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	measure("/2/info", "/2/info", info)
	measure(fmt.Sprintf("/2/instances?bulk=1 (%d inst)", len(all)), "/2/instances?bulk=1", bulk)

	extra, _ := strconv.Atoi(os.Getenv("GANETI_MEASURE_INSTANCES"))
	if extra > 0 {
		for i := range extra {
			sb.createInstance(t, c, sb.createSpec(uniqueName("lat"+strconv.Itoa(i)), "diskless", true))
		}
		all, err := c.Instances(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		measure(fmt.Sprintf("/2/instances?bulk=1 (%d inst)", len(all)), "/2/instances?bulk=1", bulk)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
