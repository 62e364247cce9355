package rapifake

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// instanceRules are the documented exceptions for instances (see shape's
// doc comment for the general rules).
func instanceRules(prefix string) shapeRules {
	return shapeRules{
		// The recorded cluster uses the fake hypervisor: network_port is
		// always null there; a kvm fake cluster sets a VNC port.
		valueKinds: map[string]string{prefix + ".network_port": "int"},
		// hvparams are free-form per hypervisor ({} with fake).
		mapPaths: map[string]bool{prefix + ".hvparams": true, prefix + ".custom_hvparams": true},
	}
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleCluster is a small cluster with every kind of object the samples
// cover: owners' tags, two groups, networks, several templates and
// states.
func sampleCluster(t *testing.T, o Options) (*Cluster, *tclient) {
	if o.Instances == 0 {
		o.Instances = 60
	}
	if o.Nodes == 0 {
		o.Nodes = 4
	}
	o.Groups = 2
	o.Owners = []string{"alice", "bob"}
	o.OwnerGroups = []string{"ops"}
	o.Seed = 42
	if o.JobDelay == 0 {
		o.JobDelay = NoJobDelay
	}
	return startCluster(t, o)
}

func TestSampleShapesReadOnly(t *testing.T) {
	for _, hv := range []string{"fake", "kvm"} {
		t.Run(hv, func(t *testing.T) {
			c, tc := sampleCluster(t, Options{Hypervisor: hv})
			tc.run("PUT", "/2/tags?tag=sandbox", nil)
			node := c.NodeNames()[0]
			inst := c.InstanceNames()[0]
			type cmp struct {
				what, path string
				s          *shape
				r          shapeRules
			}
			nodeRules := shapeRules{extra: map[string]bool{}}
			cases := []cmp{
				{"version", "/version", sampleShape(t, "version.json"), shapeRules{}},
				{"root", "/", sampleShape(t, "root.json"), shapeRules{}},
				{"info", "/2/info", sampleShape(t, "info.json"), shapeRules{valueKinds: map[string]string{
					// plain/drbd enabled in the fake: a volume group and DRBD helper are set.
					"$.volume_group_name": "string", "$.vg_name": "string",
					"$.drbd_usermode_helper": "string", "$.drbd_helper": "string",
				}}},
				{"features", "/2/features", sampleShape(t, "features.json"), shapeRules{}},
				{"os", "/2/os", sampleShape(t, "os.json"), shapeRules{}},
				{"cluster tags", "/2/tags", sampleShape(t, "cluster-tags.json", "instance-tags.json"), shapeRules{}},
				{"nodes", "/2/nodes", sampleShape(t, "nodes.json"), shapeRules{}},
				{"nodes bulk", "/2/nodes?bulk=1", sampleShape(t, "nodes-bulk.json", "nodes-bulk-50.json"), nodeRules},
				{"node", "/2/nodes/" + node, sampleShape(t, "node.json"), nodeRules},
				{"node role", "/2/nodes/" + node + "/role", sampleShape(t, "node-role.json"), shapeRules{}},
				{"node tags", "/2/nodes/" + node + "/tags", sampleShape(t, "instance-tags.json"), shapeRules{}},
				{"groups", "/2/groups", sampleShape(t, "groups.json"), shapeRules{}},
				// Only the default group (ctime 0) was recorded; added groups have a float ctime.
				{"groups bulk", "/2/groups?bulk=1", sampleShape(t, "groups-bulk.json"), shapeRules{floatOK: map[string]bool{"$[].ctime": true}}},
				{"group", "/2/groups/default", sampleShape(t, "group.json"), shapeRules{}},
				{"networks", "/2/networks", sampleShape(t, "networks.json"), shapeRules{}},
				{"networks bulk", "/2/networks?bulk=1", sampleShape(t, "networks-bulk.json"), shapeRules{}},
				{"network", "/2/networks/" + c.netNames()[0], sampleShape(t, "network.json", "networks-bulk.json"), shapeRules{}},
				{"instances", "/2/instances", sampleShape(t, "instances.json"), shapeRules{}},
				{"instance tags", "/2/instances/" + inst + "/tags", sampleShape(t, "instance-tags.json"), shapeRules{}},
				{"filters", "/2/filters", sampleShape(t, "filters.json"), shapeRules{}},
			}
			// network.json mixes a single object with the bulk list; use the
			// object sample alone for the single GET and merge bulk elements.
			cases[16].s = sampleElems(t, []string{"networks-bulk.json"}, []string{"network.json"})
			for _, cs := range cases {
				assertShape(t, cs.what, cs.s, tc.ok("GET", cs.path, nil), cs.r)
			}
			bulk := sampleElems(t, []string{"instances-bulk.json", "instances-bulk-50.json", "instances-bulk-error-states.json"}, []string{"instance.json"})
			list := newShape()
			list.kinds["array"] = true
			list.arrays = 1
			list.elem = bulk
			assertShape(t, "instances bulk", list, tc.ok("GET", "/2/instances?bulk=1", nil), instanceRules("$[]"))
			for _, name := range c.InstanceNames()[:10] {
				assertShape(t, "instance "+name, bulk, tc.ok("GET", "/2/instances/"+name, nil), instanceRules("$"))
			}
			// Query2.
			assertShape(t, "query instance", sampleShape(t, "query-instance.json", "query-instance-filter.json"),
				tc.ok("GET", "/2/query/instance?fields=name,status,oper_state,admin_state,pnode,nic.ips,disk.sizes", nil), shapeRules{})
			assertShape(t, "query filter", sampleShape(t, "query-instance-filter.json"),
				tc.ok("PUT", "/2/query/instance", map[string]any{"fields": []string{"name", "status"},
					"qfilter": []any{"=", "status", "running"}}), shapeRules{})
			assertShape(t, "query fields", sampleShape(t, "query-instance-fields.json"),
				tc.ok("GET", "/2/query/instance/fields?fields=name,status", nil), shapeRules{})
		})
	}
}

func (c *Cluster) netNames() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for _, n := range c.networks {
		out = append(out, n.name)
	}
	return out
}

func TestSampleShapesConsole(t *testing.T) {
	c, tc := sampleCluster(t, Options{})
	var running, stopped string
	for _, n := range c.InstanceNames() {
		in, _ := c.Instance(n)
		if in.Running && running == "" {
			running = n
		}
		if !in.Running && stopped == "" {
			stopped = n
		}
	}
	assertShape(t, "console", sampleShape(t, "instance-console.json"), tc.ok("GET", "/2/instances/"+running+"/console", nil), shapeRules{})
	code, body := tc.do("GET", "/2/instances/"+stopped+"/console", nil)
	if code != 503 {
		t.Fatalf("console of stopped instance: HTTP %d", code)
	}
	assertShape(t, "console 503", sampleShape(t, "error-503-console.json"), body, shapeRules{})
	if !strings.Contains(string(body), `"message":"Instance console unavailable"`) {
		t.Errorf("503 body: %s", body)
	}
}

func TestSampleShapesJobs(t *testing.T) {
	c, tc := sampleCluster(t, Options{DiskTemplates: []string{"diskless", "file", "sharedfile", "plain", "drbd"}})
	node := c.NodeNames()[0]
	jobRules := shapeRules{}

	// A successful create (sample job 7: diskless, started, with oplog).
	createID := tc.submit("POST", "/2/instances", createBody("t-diskless.example.org", map[string]any{"pnode": node}))
	created := tc.waitJob(createID)
	if *created.Status != "success" {
		t.Fatalf("create failed: %s", created.raw)
	}
	assertShape(t, "create job", sampleShape(t, "job-instance-create.json"), created.raw, jobRules)

	// A create violating the instance policy (sample job 11, file template).
	bad := tc.run("POST", "/2/instances", createBody("t-bad.example.org", map[string]any{
		"disk_template": "file", "disks": []any{map[string]any{"size": 12}}, "pnode": node}))
	assertShape(t, "error job", sampleShape(t, "job-error.json"), bad.raw, jobRules)
	var sample, fake struct {
		OpResult [][]any `json:"opresult"`
	}
	_ = json.Unmarshal(readSample(t, "job-error.json"), &sample)
	_ = json.Unmarshal(bad.raw, &fake)
	if fake.OpResult[0][0] != "OpPrereqError" || !strings.Contains(fmt.Sprint(fake.OpResult[0][1]), "disk-size/0 value 12 is not in range [1024, 1048576]") ||
		fake.OpResult[0][1].([]any)[1] != "wrong_input" {
		t.Errorf("error job result %v, sample %v", fake.OpResult, sample.OpResult)
	}

	// Multi-alloc (sample job 13).
	ma := tc.run("POST", "/2/instances-multi-alloc", map[string]any{"instances": []any{
		createBody("t-multi1.example.org", map[string]any{"__version__": nil, "pnode": node}),
		createBody("t-multi2.example.org", map[string]any{"__version__": nil, "pnode": node}),
	}})
	assertShape(t, "multi-alloc job", sampleShape(t, "job-multi-alloc.json"), ma.raw, jobRules)

	// Instance info (sample job 16): result keyed by instance name.
	info := tc.run("GET", "/2/instances/t-diskless.example.org/info?static=0", nil)
	file := tc.run("POST", "/2/instances", createBody("t-file.example.org", map[string]any{
		"disk_template": "file", "disks": []any{map[string]any{"size": 1024}, map[string]any{"size": 2048, "name": "data"}}, "pnode": node}))
	if *file.Status != "success" {
		t.Fatalf("file create: %s", file.raw)
	}
	info = tc.run("GET", "/2/instances/t-file.example.org/info?static=0", nil)
	infoRules := shapeRules{mapPaths: map[string]bool{"$.opresult[]": true},
		nullable: map[string]bool{}, valueKinds: map[string]string{}}
	assertShape(t, "instance info job", sampleShape(t, "job-instance-info.json"), info.raw, infoRules)

	// Modify (sample job 26), reinstall (35), node storage (6).
	assertShape(t, "modify job", sampleShape(t, "job-instance-modify.json"),
		tc.run("PUT", "/2/instances/t-diskless.example.org/modify", map[string]any{"beparams": map[string]any{"maxmem": 512, "minmem": 256, "vcpus": 2}}).raw, jobRules)
	assertShape(t, "reinstall job", sampleShape(t, "job-reinstall.json"),
		tc.run("POST", "/2/instances/t-file.example.org/reinstall", map[string]any{"os": "noop"}).raw, jobRules)
	assertShape(t, "node storage job", sampleShape(t, "job-node-storage.json"),
		tc.run("GET", "/2/nodes/"+node+"/storage?storage_type=file&output_fields=name,size,used,free", nil).raw, jobRules)

	// Lifecycle operations, then the job lists against the recorded ones.
	for _, step := range []struct{ method, path string }{
		{"PUT", "/2/instances/t-diskless.example.org/shutdown"},
		{"PUT", "/2/instances/t-diskless.example.org/startup"},
		{"POST", "/2/instances/t-diskless.example.org/reboot?type=soft"},
		{"PUT", "/2/instances/t-diskless.example.org/tags?tag=owner:alice&tag=role:web"},
		{"DELETE", "/2/instances/t-diskless.example.org/tags?tag=role:web"},
		{"POST", "/2/instances/t-file.example.org/disk/0/grow"},
		{"PUT", "/2/instances/t-file.example.org/activate-disks"},
		{"PUT", "/2/instances/t-diskless.example.org/migrate"},
		{"PUT", "/2/instances/t-diskless.example.org/failover"},
	} {
		var body any
		if strings.HasSuffix(step.path, "grow") {
			body = map[string]any{"amount": 1024}
		}
		tc.run(step.method, step.path, body)
	}
	tc.run("PUT", "/2/instances/t-diskless.example.org/shutdown", nil)
	renamed := tc.run("PUT", "/2/instances/t-diskless.example.org/rename", map[string]any{"new_name": "t-renamed.example.org"})
	if *renamed.Status != "success" {
		t.Fatalf("rename: %s", renamed.raw)
	}
	last := tc.run("PUT", "/2/instances/t-renamed.example.org/startup", nil)

	assertShape(t, "jobs", sampleShape(t, "jobs.json"), tc.ok("GET", "/2/jobs", nil), shapeRules{})
	bulkRules := shapeRules{extra: map[string]bool{
		// Opcodes the recorded run did not submit carry their own fields.
		"$[].ops[].ignore_failures": true,
	}}
	assertShape(t, "jobs bulk", sampleShape(t, "jobs-bulk.json"), tc.ok("GET", "/2/jobs?bulk=1", nil), bulkRules)
	assertShape(t, "job unknown", sampleShape(t, "job-unknown.json"), tc.ok("GET", "/2/jobs/999999", nil), shapeRules{})
	assertShape(t, "job wait", sampleShape(t, "job-wait.json"), tc.ok("GET", fmt.Sprintf("/2/jobs/%d/wait", last.ID),
		map[string]any{"fields": []string{"status", "opstatus"}, "previous_job_info": nil, "previous_log_serial": nil}), shapeRules{})
	assertShape(t, "cancel finished", sampleShape(t, "job-cancel-finished.json"), tc.ok("DELETE", fmt.Sprintf("/2/jobs/%d", last.ID), nil), shapeRules{})

	// A job canceled before it started (sample job 73: start_ts null).
	c.SetJobDelay(5 * time.Second)
	id := tc.submit("POST", "/2/instances/t-renamed.example.org/reboot", nil)
	var cancel []any
	_ = json.Unmarshal(tc.ok("DELETE", fmt.Sprintf("/2/jobs/%d", id), nil), &cancel)
	if cancel[0] != true {
		t.Fatalf("cancel queued job: %v", cancel)
	}
	assertShape(t, "canceled job", sampleShape(t, "job-canceled-by-filter.json"), tc.ok("GET", fmt.Sprintf("/2/jobs/%d", id), nil), shapeRules{})
}

func TestSampleShapesPostAndErrors(t *testing.T) {
	_, tc := sampleCluster(t, Options{})
	// The create response is a bare job id.
	assertShape(t, "create response", sampleShape(t, "post-instance-create-response.json"),
		tc.ok("POST", "/2/instances", createBody("x1.example.org", nil)), shapeRules{})

	type errCase struct {
		name, method, path string
		body               any
		client             *tclient
		code               int
		sample             string
		exact              bool
	}
	cases := []errCase{
		{"400", "POST", "/2/instances", createBody("", map[string]any{"instance_name": nil}), tc, 400, "error-400.json", true},
		{"401 no auth", "GET", "/version", nil, tc.as("", ""), 401, "error-401.json", true},
		{"401 bad password", "GET", "/2/info", nil, tc.as("admin", "wrong"), 401, "error-401.json", true},
		{"401 unknown user", "GET", "/2/info", nil, tc.as("nobody", "x"), 401, "error-401.json", true},
		{"403", "POST", "/2/instances", createBody("x2.example.org", nil), tc.as("viewer", "viewer"), 403, "error-403.json", true},
		{"404", "GET", "/2/instances/nope.example.org", nil, tc, 404, "error-404.json", true},
		{"404 path", "GET", "/2/nothing", nil, tc, 404, "error-404.json", true},
		{"501", "POST", "/2/info", nil, tc, 501, "error-501.json", true},
	}
	for _, cs := range cases {
		code, body, hdr, err := cs.client.doCtx(context.Background(), cs.method, cs.path, cs.body)
		if err != nil {
			t.Fatalf("%s: %v", cs.name, err)
		}
		if code != cs.code {
			t.Errorf("%s: HTTP %d, want %d: %s", cs.name, code, cs.code, body)
			continue
		}
		assertShape(t, cs.name, sampleShape(t, cs.sample), body, shapeRules{})
		if cs.exact {
			var got, want map[string]any
			_ = json.Unmarshal(body, &got)
			_ = json.Unmarshal(readSample(t, cs.sample), &want)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: body %v, real %v", cs.name, got, want)
			}
		}
		if hdr.Get("Content-Type") != "application/json" || hdr.Get("Server") != ServerHeader {
			t.Errorf("%s: headers %v", cs.name, hdr)
		}
		if code == 401 && hdr.Get("WWW-Authenticate") != `Basic realm="Ganeti Remote API"` {
			t.Errorf("%s: WWW-Authenticate %q", cs.name, hdr.Get("WWW-Authenticate"))
		}
	}
}

func TestHeadersLikeReal(t *testing.T) {
	_, tc := sampleCluster(t, Options{})
	_, _, hdr, err := tc.doCtx(context.Background(), "GET", "/2/info", nil)
	if err != nil {
		t.Fatal(err)
	}
	real := string(readSample(t, "headers-200.txt"))
	for _, h := range []string{"Content-Type", "Connection", "Server"} {
		want := ""
		for _, line := range strings.Split(real, "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok && k == h {
				want = v
			}
		}
		if got := hdr.Get(h); got != want {
			t.Errorf("header %s = %q, real %q", h, got, want)
		}
	}
	_, tcKeep := sampleCluster(t, Options{KeepAlive: true})
	_, _, hdr, _ = tcKeep.doCtx(context.Background(), "GET", "/2/info", nil)
	if hdr.Get("Connection") == "close" {
		t.Errorf("KeepAlive cluster sent Connection: close")
	}
}
