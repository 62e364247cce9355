package rapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestClusterReads(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()

	v, err := c.Version(ctx)
	if err != nil || v != 2 {
		t.Fatalf("Version = %d, %v; want 2", v, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "cluster.ganeti.test" || info.Master != "node1.ganeti.test" || info.SoftwareVersion != "3.0.2" {
		t.Errorf("info name/master/version = %q %q %q", info.Name, info.Master, info.SoftwareVersion)
	}
	if info.DefaultHypervisor != "fake" || info.DefaultIAllocator != "hail" || info.ProtocolVersion != 3000000 {
		t.Errorf("info hv/iallocator/protocol = %q %q %d", info.DefaultHypervisor, info.DefaultIAllocator, info.ProtocolVersion)
	}
	if got := info.EnabledDiskTemplates; !slices.Equal(got, []string{"diskless", "file", "sharedfile"}) {
		t.Errorf("enabled disk templates = %v", got)
	}
	if len(info.IPolicy.MinMax) != 1 || info.IPolicy.MinMax[0].Min.DiskSize != 1024 || info.IPolicy.MinMax[0].Max.MemorySize != 32768 ||
		info.IPolicy.MinMax[0].Max.CPUCount != 8 || info.IPolicy.VCPURatio != 32 {
		t.Errorf("ipolicy = %+v", info.IPolicy)
	}
	if info.BeParams["default"].MaxMem != 128 || info.NICParams["default"].Link != "gnt-br0" {
		t.Errorf("beparams/nicparams defaults = %+v %+v", info.BeParams["default"], info.NICParams["default"])
	}
	if info.VolumeGroupName != "" || info.NdParams.SSHPort != 22 {
		t.Errorf("vg %q (null) ssh port %d", info.VolumeGroupName, info.NdParams.SSHPort)
	}
	if kvm := info.HvParams["kvm"].Map(); kvm["kernel_path"] != "/boot/vmlinuz-3-kvmU" {
		t.Errorf("kvm hvparams kernel_path = %v", kvm["kernel_path"])
	}
	if info.CTime.Year() != 2026 || len(info.Raw) != len(sample(t, "info.json")) {
		t.Errorf("ctime %v raw %d bytes", info.CTime, len(info.Raw))
	}

	feats, err := c.Features(ctx)
	if err != nil || !slices.Contains(feats, FeatureInstanceCreateReqV1) || len(feats) != 4 {
		t.Errorf("Features = %v, %v", feats, err)
	}
	oses, err := c.OSes(ctx)
	if err != nil || !slices.Equal(oses, []string{"noop"}) {
		t.Errorf("OSes = %v, %v", oses, err)
	}
	tags, err := c.ClusterTags(ctx)
	if err != nil || tags == nil || len(tags) != 0 {
		t.Errorf("ClusterTags = %#v, %v; want empty non-nil", tags, err)
	}
}

func TestNodeGroupNetworkReads(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()

	names, err := c.Nodes(ctx)
	if err != nil || !slices.Equal(names, []string{"node1.ganeti.test"}) {
		t.Fatalf("Nodes = %v, %v", names, err)
	}
	nodes, err := c.NodesBulk(ctx)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("NodesBulk = %d, %v", len(nodes), err)
	}
	n := nodes[0]
	if n.Name != "node1.ganeti.test" || n.RoleName() != RoleMaster || n.MemTotal != 24105 || n.MemFree != 23657 ||
		n.DiskTotal != 258019 || n.CPUTotal != 2 || n.SpindlesTotal != 0 || !n.VMCapable || !n.MasterCandidate ||
		n.PrimaryIP != "198.51.100.10" || n.GroupUUID != "e85a194f-07ea-44c1-8e61-3af241f7fc5a" || n.NdParams.SSHPort != 22 {
		t.Errorf("node = %+v", n)
	}
	one, err := c.Node(ctx, "node1.ganeti.test")
	if err != nil || one.MemFree != 23639 {
		t.Errorf("Node = %+v, %v", one, err)
	}
	role, err := c.NodeRole(ctx, "node1.ganeti.test")
	if err != nil || role != RoleMaster {
		t.Errorf("NodeRole = %q, %v", role, err)
	}
	f.set("GET /2/nodes?bulk=1", 200, sample(t, "nodes-bulk-50.json"))
	if nodes, err = c.NodesBulk(ctx); err != nil || len(nodes) != 1 {
		t.Errorf("nodes-bulk-50 = %d, %v", len(nodes), err)
	}

	groups, err := c.Groups(ctx)
	if err != nil || !slices.Equal(groups, []string{"default"}) {
		t.Errorf("Groups = %v, %v", groups, err)
	}
	gb, err := c.GroupsBulk(ctx)
	if err != nil || len(gb) != 1 {
		t.Fatalf("GroupsBulk = %v, %v", gb, err)
	}
	if g := gb[0]; g.Name != "default" || g.AllocPolicy != "preferred" || g.NodeCount != 1 || !slices.Equal(g.NodeList, []string{"node1.ganeti.test"}) ||
		g.IPolicy.Std.DiskSize != 1024 || !slices.Equal(g.IPolicy.DiskTemplates, []string{"diskless", "sharedfile", "file"}) || g.SerialNo != 2 || !g.CTime.IsZero() {
		t.Errorf("group = %+v", g)
	}
	if g, err := c.Group(ctx, "default"); err != nil || g.UUID != "e85a194f-07ea-44c1-8e61-3af241f7fc5a" {
		t.Errorf("Group = %+v, %v", g, err)
	}

	nets, err := c.Networks(ctx)
	if err != nil || !slices.Equal(nets, []string{"sandbox-net"}) {
		t.Errorf("Networks = %v, %v", nets, err)
	}
	nb, err := c.NetworksBulk(ctx)
	if err != nil || len(nb) != 1 {
		t.Fatalf("NetworksBulk = %v, %v", nb, err)
	}
	if n := nb[0]; n.Network != "203.0.113.0/24" || n.Network6 != "" || n.FreeCount != 252 || n.ReservedCount != 4 ||
		len(n.GroupList) != 1 || n.GroupList[0] != (NetworkGroup{Group: "default", Mode: "bridged", Link: "gnt-br0"}) ||
		!slices.Equal(n.Tags, []string{"sandbox"}) || len(n.Map) != 256 {
		t.Errorf("network = %+v", n)
	}
	tn, err := c.Network(ctx, "t-net")
	if err != nil {
		t.Fatal(err)
	}
	if tn.Network6 != "2001:db8::/64" || tn.Gateway6 != "2001:db8::1" || tn.MACPrefix != "" ||
		tn.GroupList[0] != (NetworkGroup{Group: "t-group2", Mode: "routed", Link: "100"}) || tn.SerialNo != 3 {
		t.Errorf("t-net = %+v", tn)
	}
}

func TestInstanceReads(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()

	names, err := c.Instances(ctx)
	want := []string{"t-diskless.ganeti.test", "t-file.ganeti.test", "t-net.ganeti.test", "t-sharedfile.ganeti.test"}
	if err != nil || !slices.Equal(names, want) {
		t.Fatalf("Instances = %v, %v", names, err)
	}
	list, err := c.InstancesBulk(ctx)
	if err != nil || len(list) != 4 {
		t.Fatalf("InstancesBulk = %d, %v", len(list), err)
	}
	byName := map[string]Instance{}
	for _, in := range list {
		byName[in.Name] = in
	}
	dl := byName["t-diskless.ganeti.test"]
	if dl.Status != StatusRunning || !dl.Running() || !dl.AdminUp() || dl.DiskTemplate != "diskless" || len(dl.DiskSizes) != 0 ||
		!slices.Equal(dl.NICIPs, []string{""}) || !slices.Equal(dl.NICMACs, []string{"aa:00:00:fb:d4:3d"}) ||
		!slices.Equal(dl.NICLinks, []string{"gnt-br0"}) || !slices.Equal(dl.NICModes, []string{"bridged"}) ||
		!slices.Equal(dl.Tags, []string{"env:test"}) || dl.OperRAM != 256 || dl.OperVCPUs != 1 || dl.NetworkPort != 0 {
		t.Errorf("t-diskless = %+v", dl)
	}
	if dl.BeParams.MaxMem != 256 || dl.BeParams.MinMem != 128 || dl.BeParams.Memory != 256 || dl.BeParams.VCPUs != 1 || !dl.BeParams.AutoBalance {
		t.Errorf("beparams = %+v", dl.BeParams)
	}
	if m := dl.BeParams.Raw.Map(); m["spindle_use"] != float64(1) {
		t.Errorf("beparams raw = %v", m)
	}
	if cb := dl.CustomBeParams.Map(); cb["maxmem"] != float64(256) || len(cb) != 3 {
		t.Errorf("custom beparams = %v", cb)
	}
	if dl.CTime.Unix() != 1795771097 || dl.MTime.Before(dl.CTime.Time) || dl.SerialNo != 2 || dl.UUID == "" {
		t.Errorf("times = %v %v", dl.CTime, dl.MTime)
	}
	fl := byName["t-file.ganeti.test"]
	if !slices.Equal(fl.DiskSizes, []int64{1024, 2048}) || !slices.Equal(fl.DiskNames, []string{"", "data"}) ||
		!slices.Equal(fl.DiskSpindles, []int64{0, 0}) || fl.DiskUsage != 3072 || !slices.Equal(fl.NICNames, []string{"eth0"}) {
		t.Errorf("t-file = %+v", fl)
	}
	nt := byName["t-net.ganeti.test"]
	if !slices.Equal(nt.NICIPs, []string{"203.0.113.3"}) || !slices.Equal(nt.NICNetworkNames, []string{"sandbox-net"}) ||
		!slices.Equal(nt.NICNetworks, []string{"0256def9-bb8e-4a6e-a7c5-3732e359a1c5"}) || len(nt.CustomNICParams) != 1 {
		t.Errorf("t-net = %+v", nt)
	}
	sf := byName["t-sharedfile.ganeti.test"]
	if sf.Status != StatusAdminDown || sf.OperState || sf.AdminState != "down" || sf.OperRAM != 0 || sf.OperVCPUs != 0 {
		t.Errorf("t-sharedfile = %+v", sf)
	}

	f.set("GET /2/instances?bulk=1", 200, sample(t, "instances-bulk-error-states.json"))
	list, err = c.InstancesBulk(ctx)
	if err != nil || len(list) != 6 {
		t.Fatalf("error-states bulk = %d, %v", len(list), err)
	}
	states := map[string]InstanceStatus{}
	for _, in := range list {
		states[in.Name] = in.Status
	}
	if states["t-net.ganeti.test"] != StatusErrorUp || states["t-renamed.ganeti.test"] != StatusErrorDown ||
		!states["t-renamed.ganeti.test"].IsError() || StatusRunning.IsError() {
		t.Errorf("error states = %v", states)
	}
	f.set("GET /2/instances?bulk=1", 200, sample(t, "instances-bulk-50.json"))
	if list, err = c.InstancesBulk(ctx); err != nil || len(list) != 50 || list[0].Name != "demo01.ganeti.test" {
		t.Errorf("bulk-50 = %d, %v", len(list), err)
	}

	in, err := c.Instance(ctx, "t-file.ganeti.test")
	if err != nil || in.Name != "t-file.ganeti.test" || in.PNode != "node1.ganeti.test" || in.OS != "noop" || in.SerialNo != 4 {
		t.Errorf("Instance = %+v, %v", in, err)
	}
	tags, err := c.InstanceTags(ctx, "t-diskless.ganeti.test")
	if err != nil || !slices.Equal(tags, []string{"env:test", "owner:alice", "role:web"}) {
		t.Errorf("InstanceTags = %v, %v", tags, err)
	}
	con, err := c.InstanceConsole(ctx, "t-diskless.ganeti.test")
	if err != nil || con.Kind != ConsoleMessage || con.Message != "Console not available for fake hypervisor" || con.Instance != "t-diskless.ganeti.test" {
		t.Errorf("Console = %+v, %v", con, err)
	}
	if _, err := c.Instance(ctx, "nope.ganeti.test"); !IsNotFound(err) {
		t.Errorf("unknown instance: %v, want not found", err)
	}
}

func TestJobReads(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()

	ids, err := c.Jobs(ctx)
	if err != nil || len(ids) != 45 || ids[0] != 1 || ids[44] != 45 {
		t.Fatalf("Jobs = %v, %v", ids, err)
	}
	jobs, err := c.JobsBulk(ctx)
	if err != nil || len(jobs) != 45 {
		t.Fatalf("JobsBulk = %d, %v", len(jobs), err)
	}
	if j := jobs[0]; j.ID != 1 || j.Status != JobStatusSuccess || j.OpID() != "OP_CLUSTER_POST_INIT" || j.StartedAt.IsZero() {
		t.Errorf("bulk job 1 = %+v", j)
	}
	j, err := c.Job(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if j.ID != 7 || j.Status != JobStatusSuccess || !j.Finalized() || j.Err() != nil || j.OpID() != "OP_INSTANCE_CREATE" ||
		j.Ops[0].InstanceName != "t-diskless.ganeti.test" || !slices.Equal(j.Summary, []string{"INSTANCE_CREATE(t-diskless.ganeti.test)"}) {
		t.Errorf("job 7 = %+v", j)
	}
	log := j.Log()
	if len(log) != 4 || log[0].Serial != 1 || log[0].Type != "message" || log[0].Message != "* creating instance disks..." ||
		log[3].Message != "* starting instance..." || log[0].Time.Unix() != 1795771097 {
		t.Errorf("log = %+v", log)
	}
	if want := j.EndedAt.Sub(j.StartedAt.Time).Seconds(); want < 1.5 || want > 1.6 {
		t.Errorf("job duration %v", want)
	}
	var nodes []string
	if err := json.Unmarshal(j.OpResult[0], &nodes); err != nil || !slices.Equal(nodes, []string{"node1.ganeti.test"}) {
		t.Errorf("opresult = %s", j.OpResult[0])
	}

	// A reinstall job: three opcodes, log in the middle one.
	j, err = c.Job(ctx, 35)
	if err != nil || len(j.Ops) != 3 || len(j.Log()) != 2 || j.Ops[1].ID != "OP_INSTANCE_REINSTALL" {
		t.Errorf("job 35 = %+v, %v", j, err)
	}

	// Unknown job: 200 with all fields null must be "not found".
	if _, err := c.Job(ctx, 999999); !IsNotFound(err) {
		t.Errorf("unknown job: %v, want not found", err)
	}

	ok, msg, err := c.CancelJob(ctx, 46)
	if err != nil || ok || msg != "Job 46 not found in queue" {
		t.Errorf("CancelJob = %v %q %v", ok, msg, err)
	}
	if r := f.last(); r.Method != "DELETE" || r.Path != "/2/jobs/46" {
		t.Errorf("cancel request = %s %s", r.Method, r.Path)
	}
}

func TestJobErrors(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()

	j, err := c.Job(ctx, 11)
	if err != nil {
		t.Fatal(err)
	}
	jerr := j.Err()
	var je *JobError
	if !errors.As(jerr, &je) {
		t.Fatalf("Err = %v, want *JobError", jerr)
	}
	if je.JobID != 11 || je.Class != "OpPrereqError" || je.Code != ECodeInval || je.OpIndex != 0 || je.OpID != "OP_INSTANCE_CREATE" ||
		!strings.HasPrefix(je.Message, "Instance allocation to group") || !strings.Contains(je.Message, "[1024, 1048576]") {
		t.Errorf("job error = %+v", je)
	}
	if !strings.Contains(je.Error(), "OpPrereqError") || !strings.Contains(je.Error(), "(wrong_input)") || errors.Is(jerr, ErrJobCanceled) {
		t.Errorf("Error() = %q", je.Error())
	}

	j, err = c.Job(ctx, 73)
	if err != nil {
		t.Fatal(err)
	}
	if jerr := j.Err(); !errors.Is(jerr, ErrJobCanceled) || !j.StartedAt.IsZero() {
		t.Errorf("canceled job: %v, started %v", jerr, j.StartedAt)
	}

	// Other recorded error shapes: a message without a code, and
	// insufficient_resources.
	for _, tc := range []struct {
		result, class, msg, code string
	}{
		{`[["OpExecError", ["OS Parameters validation failed on node node1.ganeti.test: Directory for OS nonexistent not found in search path"]]]`,
			"OpExecError", "OS Parameters validation failed on node node1.ganeti.test: Directory for OS nonexistent not found in search path", ""},
		{`[["OpPrereqError", ["Can't compute nodes using iallocator 'hail': Request failed: Can't find any good node: ", "insufficient_resources"]]]`,
			"OpPrereqError", "Can't compute nodes using iallocator 'hail': Request failed: Can't find any good node:", ECodeNoRes},
		{`[["OpExecError", "plain string"]]`, "OpExecError", "plain string", ""},
		{`[null]`, "", "job failed without an error message", ""},
		{`[["OpPrereqError", ["a", "b", "c"]]]`, "OpPrereqError", "a; b; c", ""},
	} {
		raw := `{"id": 12, "status": "error", "opstatus": ["error"], "ops": [{"OP_ID": "OP_X"}], "opresult": ` + tc.result + `}`
		j, err := decodeJob("/2/jobs/12", []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		var je *JobError
		if !errors.As(j.Err(), &je) || je.Class != tc.class || je.Message != tc.msg || je.Code != tc.code {
			t.Errorf("%s: got %+v", tc.result, je)
		}
	}

	// Job id as a string (old Ganeti).
	j, err = decodeJob("/2/jobs/5", []byte(`{"id": "5", "status": "running"}`))
	if err != nil || j.ID != 5 || j.Finalized() || j.Err() != nil {
		t.Errorf("string id job = %+v, %v", j, err)
	}

	// Instance info job result.
	j, err = c.Job(ctx, 16)
	if err != nil {
		t.Fatal(err)
	}
	details, err := DecodeInstanceInfo(j)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := details["t-file.ganeti.test"]
	if !ok || d.RunState != "up" || d.ConfigState != "up" || d.PNodeGroupName != "default" || len(d.Disks) != 2 ||
		d.Disks[1].Name != "data" || d.Disks[1].Size != 2048 || d.Disks[0].IVName != "disk/0" || len(d.NICs) != 1 ||
		d.NICs[0] != (InstanceNIC{Name: "eth0", UUID: "d1c9197a-0b7a-4e58-8c00-003ed40d5003", MAC: "aa:00:00:9e:c8:68", Mode: "bridged", Link: "gnt-br0"}) ||
		d.BeActual.MaxMem != 256 || d.Hypervisor != "fake" {
		t.Errorf("instance details = %+v", d)
	}

	j, err = c.Job(ctx, 13)
	if err != nil {
		t.Fatal(err)
	}
	ma, err := DecodeMultiAlloc(j)
	if err != nil || !slices.Equal(ma.Allocatable, []string{"t-multi1.ganeti.test", "t-multi2.ganeti.test"}) ||
		len(ma.Jobs) != 2 || ma.Jobs[0] != (SubmittedJob{OK: true, ID: 14}) || ma.Jobs[1].ID != 15 {
		t.Errorf("multi-alloc = %+v, %v", ma, err)
	}
}

func TestQuery(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()

	fields := []string{"name", "status", "oper_state", "admin_state", "pnode", "nic.ips", "disk.sizes"}
	r, err := c.QueryGet(ctx, QueryInstance, fields)
	if err != nil {
		t.Fatal(err)
	}
	if req := f.last(); req.Method != "GET" || req.Path != "/2/query/instance" || req.Query != "fields=name%2Cstatus%2Coper_state%2Cadmin_state%2Cpnode%2Cnic.ips%2Cdisk.sizes" {
		t.Errorf("query request = %s %s?%s", req.Method, req.Path, req.Query)
	}
	if len(r.Data) != 6 || len(r.Fields) != 7 || r.Index("disk.sizes") != 6 {
		t.Fatalf("query = %d rows %d fields", len(r.Data), len(r.Fields))
	}
	if r.Cell(1, "name").String() != "t-file.ganeti.test" || !r.Cell(1, "oper_state").Bool() || r.Cell(5, "status").String() != "ADMIN_down" {
		t.Errorf("cells: %v %v %v", r.Cell(1, "name"), r.Cell(1, "oper_state"), r.Cell(5, "status"))
	}
	var sizes []int64
	if err := r.Cell(1, "disk.sizes").Decode(&sizes); err != nil || !slices.Equal(sizes, []int64{1024, 2048}) {
		t.Errorf("disk.sizes = %v, %v", sizes, err)
	}
	var ips []*string
	if err := r.Cell(4, "nic.ips").Decode(&ips); err != nil || len(ips) != 1 || *ips[0] != "203.0.113.3" {
		t.Errorf("nic.ips = %v, %v", ips, err)
	}
	rows := r.Rows()
	if len(rows) != 6 || rows[0]["pnode"].String() != "node1.ganeti.test" {
		t.Errorf("rows = %v", rows[0])
	}
	if cell := r.Cell(0, "nonexistent"); cell.OK() {
		t.Errorf("missing field cell = %+v", cell)
	}

	r, err = c.Query(ctx, QueryInstance, []string{"name", "status"}, Eq("status", "running"))
	if err != nil || len(r.Data) != 5 {
		t.Fatalf("Query = %v, %v", r, err)
	}
	req := f.last()
	if req.Method != "PUT" || req.Path != "/2/query/instance" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("query put = %s %s %v", req.Method, req.Path, req.Header)
	}
	if got := string(req.Body); got != `{"fields":["name","status"],"qfilter":["==","status","running"]}` {
		t.Errorf("query body = %s", got)
	}
	if _, err := c.Query(ctx, QueryInstance, []string{"name"}, NameIn("a", "b")); err != nil {
		t.Fatal(err)
	}
	if got := string(f.last().Body); got != `{"fields":["name"],"qfilter":["|",["==","name","a"],["==","name","b"]]}` {
		t.Errorf("NameIn body = %s", got)
	}
	if _, err := c.Query(ctx, QueryInstance, []string{"name"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := string(f.last().Body); got != `{"fields":["name"],"qfilter":null}` {
		t.Errorf("nil filter body = %s", got)
	}
	flt := And(Regex("name", "^web"), Not(Truthy("oper_state")), Contains("tags", "x"), Ne("pnode", "n1"))
	b, _ := json.Marshal(flt)
	if string(b) != `["\u0026",["=~","name","^web"],["!",["?","oper_state"]],["=[]","tags","x"],["!=","pnode","n1"]]` {
		t.Errorf("filter = %s", b)
	}
	qf, err := c.QueryFields(ctx, QueryInstance, []string{"name", "status"})
	if err != nil || len(qf) != 2 || qf[0].Title != "Instance" || qf[1].Kind != "text" {
		t.Errorf("QueryFields = %+v, %v", qf, err)
	}
	if _, err := c.Query(ctx, "bogus", []string{"name"}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("bogus resource: %v", err)
	}
}

// TestUnknownEntity500IsNotFound pins Ganeti 3.0.2's answer to the tags of
// an unknown object (recorded on the sandbox): a 500 carrying the
// prerequisite error tuple. A plain 500 stays a 500.
func TestUnknownEntity500IsNotFound(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	f.set("GET /2/instances/x.example.org/tags", http.StatusInternalServerError,
		[]byte(`{"code": 500, "message": "('Instance name x.example.org not found', 'unknown_entity')", "explain": "Server got itself in trouble"}`))
	if _, err := c.InstanceTags(context.Background(), "x.example.org"); !IsNotFound(err) {
		t.Errorf("got %v, want not found", err)
	}
	f.set("GET /2/instances/y.example.org/tags", http.StatusInternalServerError,
		[]byte(`{"code": 500, "message": "list index out of range", "explain": "Server got itself in trouble"}`))
	if _, err := c.InstanceTags(context.Background(), "y.example.org"); IsNotFound(err) || err == nil {
		t.Errorf("a plain 500 is reported as not found: %v", err)
	}
}
