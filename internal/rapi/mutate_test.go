package rapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestMutations checks method, path, query and body of every mutation, and
// that the job id of the recorded answer comes back.
func TestMutations(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()
	const inst = "t-diskless.ganeti.test"
	// The info resource is a GET that submits a job.
	f.set("GET /2/instances/t-file.ganeti.test/info", 200, sample(t, "post-instance-create-response.json"))

	cases := []struct {
		name   string
		call   func() (JobID, error)
		method string
		path   string
		query  string
		body   string // exact JSON, or "" for no body
	}{
		{"startup", func() (JobID, error) { return c.StartupInstance(ctx, inst, StartupOptions{}) },
			"PUT", "/2/instances/t-diskless.ganeti.test/startup", "", ""},
		{"startup force", func() (JobID, error) {
			return c.StartupInstance(ctx, inst, StartupOptions{Force: true, NoRemember: true, DryRun: true})
		}, "PUT", "/2/instances/t-diskless.ganeti.test/startup", "dry-run=1&force=1&no_remember=1", ""},
		{"shutdown timeout", func() (JobID, error) {
			return c.ShutdownInstance(ctx, inst, ShutdownOptions{Timeout: 30 * time.Second})
		}, "PUT", "/2/instances/t-diskless.ganeti.test/shutdown", "", `{"timeout":30}`},
		{"shutdown default", func() (JobID, error) { return c.ShutdownInstance(ctx, inst, ShutdownOptions{NoRemember: true}) },
			"PUT", "/2/instances/t-diskless.ganeti.test/shutdown", "no_remember=1", `{}`},
		{"shutdown rounds up", func() (JobID, error) {
			return c.ShutdownInstance(ctx, inst, ShutdownOptions{Timeout: 1500 * time.Millisecond, Force: true})
		}, "PUT", "/2/instances/t-diskless.ganeti.test/shutdown", "", `{"force":true,"timeout":2}`},
		{"reboot soft", func() (JobID, error) { return c.RebootInstance(ctx, inst, RebootOptions{Type: RebootSoft}) },
			"POST", "/2/instances/t-diskless.ganeti.test/reboot", "type=soft", ""},
		{"reboot hard", func() (JobID, error) { return c.RebootInstance(ctx, inst, RebootOptions{Type: RebootHard}) },
			"POST", "/2/instances/t-diskless.ganeti.test/reboot", "type=hard", ""},
		{"reboot full", func() (JobID, error) {
			return c.RebootInstance(ctx, inst, RebootOptions{Type: RebootFull, ShutdownTimeout: time.Minute, IgnoreSecondaries: true})
		}, "POST", "/2/instances/t-diskless.ganeti.test/reboot", "ignore_secondaries=1&type=full", `{"shutdown_timeout":60}`},
		{"reboot default", func() (JobID, error) { return c.RebootInstance(ctx, inst, RebootOptions{}) },
			"POST", "/2/instances/t-diskless.ganeti.test/reboot", "", ""},
		{"delete", func() (JobID, error) { return c.DeleteInstance(ctx, inst, DeleteOptions{}) },
			"DELETE", "/2/instances/t-diskless.ganeti.test", "", ""},
		{"delete timeout dry", func() (JobID, error) {
			return c.DeleteInstance(ctx, inst, DeleteOptions{ShutdownTimeout: 10 * time.Second, DryRun: true})
		}, "DELETE", "/2/instances/t-diskless.ganeti.test", "dry-run=1", `{"shutdown_timeout":10}`},
		{"reinstall", func() (JobID, error) {
			return c.ReinstallInstance(ctx, inst, ReinstallOptions{OS: "noop", OSParams: map[string]any{"img_id": "debian"}, ClearOSParams: true})
		}, "POST", "/2/instances/t-diskless.ganeti.test/reinstall", "", `{"clear_osparams":true,"os":"noop","osparams":{"img_id":"debian"},"start":true}`},
		{"reinstall nostart", func() (JobID, error) {
			return c.ReinstallInstance(ctx, inst, ReinstallOptions{OS: "noop", NoStart: true})
		},
			"POST", "/2/instances/t-diskless.ganeti.test/reinstall", "", `{"os":"noop","start":false}`},
		{"modify", func() (JobID, error) {
			return c.ModifyInstance(ctx, inst, InstanceModify{
				BeParams: map[string]any{"maxmem": 512, "minmem": 256, "vcpus": 2},
				HvParams: map[string]any{"boot_order": "cdrom"},
				OSParams: map[string]any{"root_password": "x"},
				NICs:     []DeviceMod{AddDevice(map[string]any{"link": "gnt-br0"}), ModifyDevice(0, map[string]any{"ip": "pool"})},
				Disks:    []DeviceMod{AddDevice(map[string]any{"size": 1024}), RemoveDevice(1), {Action: ModModify, Name: "data", Params: map[string]any{"mode": "ro"}}},
			})
		}, "PUT", "/2/instances/t-diskless.ganeti.test/modify", "",
			`{"beparams":{"maxmem":512,"minmem":256,"vcpus":2},"disks":[["add",-1,{"size":1024}],["remove",1,{}],["modify","data",{"mode":"ro"}]],"hvparams":{"boot_order":"cdrom"},"nics":[["add",-1,{"link":"gnt-br0"}],["modify",0,{"ip":"pool"}]],"osparams":{"root_password":"x"}}`},
		{"rename", func() (JobID, error) { return c.RenameInstance(ctx, inst, "t-renamed.ganeti.test", RenameOptions{}) },
			"PUT", "/2/instances/t-diskless.ganeti.test/rename", "", `{"ip_check":false,"name_check":false,"new_name":"t-renamed.ganeti.test"}`},
		{"migrate", func() (JobID, error) {
			return c.MigrateInstance(ctx, inst, MigrateOptions{Mode: "live", Cleanup: true})
		},
			"PUT", "/2/instances/t-diskless.ganeti.test/migrate", "", `{"cleanup":true,"mode":"live"}`},
		{"migrate empty", func() (JobID, error) { return c.MigrateInstance(ctx, inst, MigrateOptions{}) },
			"PUT", "/2/instances/t-diskless.ganeti.test/migrate", "", `{}`},
		{"failover", func() (JobID, error) {
			return c.FailoverInstance(ctx, inst, FailoverOptions{IgnoreConsistency: true, TargetNode: "node2"})
		}, "PUT", "/2/instances/t-diskless.ganeti.test/failover", "", `{"ignore_consistency":true,"target_node":"node2"}`},
		{"add tags", func() (JobID, error) { return c.AddInstanceTags(ctx, inst, []string{"owner:alice", "role:web"}) },
			"PUT", "/2/instances/t-diskless.ganeti.test/tags", "tag=owner%3Aalice&tag=role%3Aweb", ""},
		{"delete tags", func() (JobID, error) { return c.DeleteInstanceTags(ctx, inst, []string{"role:web"}) },
			"DELETE", "/2/instances/t-diskless.ganeti.test/tags", "tag=role%3Aweb", ""},
		{"grow disk", func() (JobID, error) {
			return c.GrowInstanceDisk(ctx, "t-file.ganeti.test", 0, GrowDiskOptions{Amount: 1024})
		},
			"POST", "/2/instances/t-file.ganeti.test/disk/0/grow", "", `{"amount":1024}`},
		{"grow disk absolute", func() (JobID, error) {
			return c.GrowInstanceDisk(ctx, "t-file.ganeti.test", 2, GrowDiskOptions{Amount: 4096, Absolute: true, NoWaitForSync: true})
		}, "POST", "/2/instances/t-file.ganeti.test/disk/2/grow", "", `{"absolute":true,"amount":4096,"wait_for_sync":false}`},
		{"activate disks", func() (JobID, error) { return c.ActivateInstanceDisks(ctx, "t-file.ganeti.test", false) },
			"PUT", "/2/instances/t-file.ganeti.test/activate-disks", "", ""},
		{"deactivate disks", func() (JobID, error) { return c.DeactivateInstanceDisks(ctx, "t-file.ganeti.test", true) },
			"PUT", "/2/instances/t-file.ganeti.test/deactivate-disks", "force=1", ""},
		{"instance info", func() (JobID, error) { return c.InstanceInfo(ctx, "t-file.ganeti.test", true) },
			"GET", "/2/instances/t-file.ganeti.test/info", "static=1", ""},
		{"instance info live", func() (JobID, error) { return c.InstanceInfo(ctx, "t-file.ganeti.test", false) },
			"GET", "/2/instances/t-file.ganeti.test/info", "static=0", ""},
		{"cluster tags add", func() (JobID, error) { return c.AddClusterTags(ctx, []string{"sandbox"}) },
			"PUT", "/2/tags", "tag=sandbox", ""},
		{"cluster tags del", func() (JobID, error) { return c.DeleteClusterTags(ctx, []string{"sandbox"}) },
			"DELETE", "/2/tags", "tag=sandbox", ""},
		{"cluster modify", func() (JobID, error) {
			return c.ModifyCluster(ctx, map[string]any{"default_iallocator_params": map[string]any{"no-capacity-checks": nil}})
		}, "PUT", "/2/modify", "", `{"default_iallocator_params":{"no-capacity-checks":null}}`},
		{"redistribute", func() (JobID, error) { return c.RedistributeConfig(ctx) }, "PUT", "/2/redistribute-config", "", ""},
		{"node tags add", func() (JobID, error) { return c.AddNodeTags(ctx, "node1.ganeti.test", []string{"rack:r1"}) },
			"PUT", "/2/nodes/node1.ganeti.test/tags", "tag=rack%3Ar1", ""},
		{"node tags del", func() (JobID, error) { return c.DeleteNodeTags(ctx, "node1.ganeti.test", []string{"rack:r1"}) },
			"DELETE", "/2/nodes/node1.ganeti.test/tags", "tag=rack%3Ar1", ""},
		{"node role", func() (JobID, error) {
			return c.SetNodeRole(ctx, "node1.ganeti.test", RoleDrained, NodeRoleOptions{Force: true})
		}, "PUT", "/2/nodes/node1.ganeti.test/role", "force=1", `"drained"`},
		{"group tags add", func() (JobID, error) { return c.AddGroupTags(ctx, "default", []string{"locked"}) },
			"PUT", "/2/groups/default/tags", "tag=locked", ""},
		{"group tags del", func() (JobID, error) { return c.DeleteGroupTags(ctx, "default", []string{"locked"}) },
			"DELETE", "/2/groups/default/tags", "tag=locked", ""},
		{"network tags add", func() (JobID, error) { return c.AddNetworkTags(ctx, "t-net", []string{"vlan:10"}) },
			"PUT", "/2/networks/t-net/tags", "tag=vlan%3A10", ""},
		{"network tags del", func() (JobID, error) { return c.DeleteNetworkTags(ctx, "t-net", []string{"vlan:10"}) },
			"DELETE", "/2/networks/t-net/tags", "tag=vlan%3A10", ""},
		{"network connect", func() (JobID, error) {
			return c.ConnectNetwork(ctx, "t-net", NetworkConnect{Group: "t-group", Mode: "routed", Link: "100"})
		}, "PUT", "/2/networks/t-net/connect", "", `{"group_name":"t-group","network_link":"100","network_mode":"routed"}`},
		{"network disconnect", func() (JobID, error) { return c.DisconnectNetwork(ctx, "t-net", "t-group") },
			"PUT", "/2/networks/t-net/disconnect", "", `{"group_name":"t-group"}`},
		{"multi-alloc", func() (JobID, error) {
			return c.MultiAllocInstances(ctx, MultiAlloc{Instances: []InstanceCreate{
				{Name: "t-multi1.ganeti.test", DiskTemplate: "diskless", OS: "noop", PNode: "node1.ganeti.test", Start: true},
				{Name: "t-multi2.ganeti.test", DiskTemplate: "diskless", OS: "noop", PNode: "node1.ganeti.test", Start: true},
			}})
		}, "POST", "/2/instances-multi-alloc", "",
			`{"instances":[{"disk_template":"diskless","disks":[],"instance_name":"t-multi1.ganeti.test","ip_check":false,"mode":"create","name_check":false,"nics":[],"os_type":"noop","pnode":"node1.ganeti.test","start":true,"wait_for_sync":false},{"disk_template":"diskless","disks":[],"instance_name":"t-multi2.ganeti.test","ip_check":false,"mode":"create","name_check":false,"nics":[],"os_type":"noop","pnode":"node1.ganeti.test","start":true,"wait_for_sync":false}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.call()
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if id != 7 {
				t.Errorf("job id = %d, want 7", id)
			}
			r := f.last()
			if r.Method != tc.method || r.Path != tc.path || r.Query != tc.query {
				t.Errorf("request = %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, tc.method, tc.path, tc.query)
			}
			if tc.body == "" {
				if len(r.Body) != 0 {
					t.Errorf("body = %s, want none", r.Body)
				}
			} else {
				assertJSONEqual(t, r.Body, tc.body)
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
			}
			checkCommonHeaders(t, r)
		})
	}
}

func checkCommonHeaders(t *testing.T, r recorded) {
	t.Helper()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPass))
	if got := r.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if got := r.Header.Get("User-Agent"); got != DefaultUserAgent {
		t.Errorf("User-Agent = %q", got)
	}
}

func assertJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
}

func TestCreateInstance(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()

	req := InstanceCreate{
		Name:         "vm1.example.org",
		DiskTemplate: "file",
		Disks:        []DiskSpec{{Size: 10240}, {Size: 2048, Name: "data", Mode: "rw"}},
		NICs:         []NICSpec{{Network: "sandbox-net", IP: "pool"}, {Link: "gnt-br0", Mode: "bridged"}},
		OS:           "noop",
		BeParams:     map[string]any{"memory": 1024, "vcpus": 2},
		OSParams:     map[string]any{"ssh_key": "https://portal/keys"},
		Tags:         []string{"ganetimgr:user:alice", "ganetimgr:application:12"},
		PNode:        "node1.ganeti.test",
		DryRun:       true,
	}
	id, err := c.CreateInstance(ctx, req)
	if err != nil || id != 7 {
		t.Fatalf("CreateInstance = %d, %v", id, err)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].Method != "GET" || reqs[0].Path != "/2/features" {
		t.Fatalf("requests = %+v, want features check first", reqs)
	}
	r := reqs[1]
	if r.Method != "POST" || r.Path != "/2/instances" || r.Query != "dry-run=1" {
		t.Errorf("create request = %s %s?%s", r.Method, r.Path, r.Query)
	}
	assertJSONEqual(t, r.Body, `{"__version__":1,"mode":"create","instance_name":"vm1.example.org","disk_template":"file",
		"disks":[{"size":10240},{"size":2048,"name":"data","mode":"rw"}],
		"nics":[{"network":"sandbox-net","ip":"pool"},{"link":"gnt-br0","mode":"bridged"}],
		"os_type":"noop","beparams":{"memory":1024,"vcpus":2},"osparams":{"ssh_key":"https://portal/keys"},
		"tags":["ganetimgr:user:alice","ganetimgr:application:12"],"pnode":"node1.ganeti.test",
		"start":false,"name_check":false,"ip_check":false,"wait_for_sync":false}`)

	// The positive feature check is remembered.
	if _, err := c.CreateInstance(ctx, InstanceCreate{Name: "vm2", NoConflictsCheck: true, Extra: map[string]any{"iallocator": "x", "start": "overridden"}, Start: true}); err != nil {
		t.Fatal(err)
	}
	reqs = f.requests()
	if len(reqs) != 3 || reqs[2].Path != "/2/instances" {
		t.Fatalf("second create: %d requests", len(reqs))
	}
	b := bodyMap(t, reqs[2].Body)
	if b["start"] != true || b["conflicts_check"] != false || b["iallocator"] != "x" || b["__version__"] != float64(1) {
		t.Errorf("second body = %v", b)
	}

	// Without the feature nothing is posted.
	f2 := newFake(t)
	f2.set("GET /2/features", 200, []byte(`["node-evac-res1"]`))
	c2 := f2.client(t)
	if _, err := c2.CreateInstance(ctx, InstanceCreate{Name: "vm1"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("without feature: %v, want ErrUnsupported", err)
	}
	for _, r := range f2.requests() {
		if r.Method == "POST" {
			t.Errorf("posted despite missing feature")
		}
	}
	// Old Ganeti without /2/features (404) also refuses.
	f2.set("GET /2/features", 404, sample(t, "error-404.json"))
	if _, err := c2.CreateInstance(ctx, InstanceCreate{Name: "vm1"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("features 404: %v, want ErrUnsupported", err)
	}
	// Reinstall falls back to the legacy query form without the feature.
	if _, err := c2.ReinstallInstance(ctx, "vm1", ReinstallOptions{OS: "noop", NoStart: true}); err != nil {
		t.Fatal(err)
	}
	if r := f2.last(); r.Method != "POST" || r.Query != "nostartup=1&os=noop" || len(r.Body) != 0 {
		t.Errorf("legacy reinstall = %s ?%s %s", r.Method, r.Query, r.Body)
	}
	if _, err := c2.ReinstallInstance(ctx, "vm1", ReinstallOptions{OS: "noop", OSParams: map[string]any{"a": "b"}}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("legacy reinstall with osparams: %v", err)
	}
}

func TestJobIDForms(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()
	for body, want := range map[string]JobID{`7`: 7, `"1234"`: 1234, ` 42 `: 42} {
		f.set("PUT /2/instances/x/startup", 200, []byte(body))
		id, err := c.StartupInstance(ctx, "x", StartupOptions{})
		if err != nil || id != want {
			t.Errorf("%s: got %d, %v; want %d", body, id, err, want)
		}
	}
	for _, body := range []string{`null`, `"abc"`, `{}`, `-3`, `1.5`, `[7]`, ``} {
		f.set("PUT /2/instances/x/startup", 200, []byte(body))
		if id, err := c.StartupInstance(ctx, "x", StartupOptions{}); err == nil {
			t.Errorf("%q: got job %d, want error", body, id)
		}
	}
}

func TestReasonAndValidation(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := WithReason(context.Background(), "ganetimgr:alice")
	if _, err := c.ShutdownInstance(ctx, "vm1", ShutdownOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if q := f.last().Query; q != "dry-run=1&reason=ganetimgr%3Aalice" {
		t.Errorf("query = %q", q)
	}
	// GETs carry no reason.
	if _, err := c.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if q := f.last().Query; q != "" {
		t.Errorf("GET query = %q", q)
	}

	n := len(f.requests())
	bad := []func() error{
		func() error { _, err := c.Instance(ctx, "../etc"); return err },
		func() error { _, err := c.Instance(ctx, ".."); return err },
		func() error { _, err := c.Instance(ctx, ""); return err },
		func() error { _, err := c.Instance(ctx, "a b"); return err },
		func() error { _, err := c.RebootInstance(ctx, "vm1", RebootOptions{Type: "warm"}); return err },
		func() error { _, err := c.AddInstanceTags(ctx, "vm1", nil); return err },
		func() error { _, err := c.GrowInstanceDisk(ctx, "vm1", -1, GrowDiskOptions{Amount: 1}); return err },
		func() error { _, err := c.GrowInstanceDisk(ctx, "vm1", 0, GrowDiskOptions{}); return err },
		func() error { _, err := c.ModifyInstance(ctx, "vm1", InstanceModify{}); return err },
		func() error { _, err := c.CreateInstance(ctx, InstanceCreate{}); return err },
		func() error { _, err := c.QueryGet(ctx, QueryNode, nil); return err },
		func() error { _, err := c.WaitForJobChange(ctx, 1, nil, nil, 0); return err },
		func() error { _, err := c.ConnectNetwork(ctx, "n", NetworkConnect{Group: "g"}); return err },
	}
	for i, fn := range bad {
		if err := fn(); !errors.Is(err, ErrInvalidArgument) || !strings.HasPrefix(err.Error(), "rapi: ") {
			t.Errorf("case %d: %v, want ErrInvalidArgument", i, err)
		}
	}
	if len(f.requests()) != n {
		t.Errorf("invalid calls reached the server")
	}
}

func TestErrorMapping(t *testing.T) {
	f := newFake(t)
	c := f.client(t)
	ctx := context.Background()
	cases := []struct {
		file        string
		code        int
		check       func(error) bool
		msg, expl   string
		unavailable bool
	}{
		{"error-400.json", 400, func(error) bool { return true },
			`Invalid body parameters: ("Parameter 'OP_INSTANCE_CREATE.instance_name' fails validation", 'wrong_input')`,
			"Bad request syntax or unsupported method", false},
		{"error-401.json", 401, IsUnauthorized, "Unauthorized", "No permission -- see authorization schemes", false},
		{"error-403.json", 403, IsForbidden, "Forbidden", "Request forbidden -- authorization will not help", false},
		{"error-404.json", 404, IsNotFound, "Not Found", "Nothing matches the given URI", false},
		{"error-501.json", 501, func(error) bool { return true }, "Method POST is unsupported for path /2/info", "Server does not support this operation", false},
		{"error-503-console.json", 503, IsUnavailable, "Instance console unavailable", "The server cannot process the request due to a high load", true},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			f.set("GET /2/instances/vm1/console", tc.code, sample(t, tc.file))
			_, err := c.InstanceConsole(ctx, "vm1")
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if ae.Code != tc.code || ae.Message != tc.msg || ae.Explain != tc.expl || !tc.check(err) || IsUnavailable(err) != tc.unavailable {
				t.Errorf("APIError = %+v", ae)
			}
			if !strings.HasPrefix(err.Error(), "rapi: GET /2/instances/vm1/console: ") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
	// The 400 message as it appears to a user.
	f.set("POST /2/instances", 400, sample(t, "error-400.json"))
	_, err := c.CreateInstance(ctx, InstanceCreate{Name: "x"})
	if !strings.Contains(err.Error(), `'OP_INSTANCE_CREATE.instance_name' fails validation`) || strings.Contains(err.Error(), "&#x27;") {
		t.Errorf("400 error = %q", err)
	}

	// A body that is not Ganeti's JSON (a proxy's HTML page) still explains.
	f.set("GET /2/info", 502, []byte("<html><body>Bad Gateway &amp; more</body></html>"))
	_, err = c.Info(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 502 || !strings.Contains(ae.Message, "Bad Gateway & more") || !IsUnavailable(err) {
		t.Errorf("html 502 = %#v", err)
	}
	f.set("GET /2/info", 500, nil)
	_, err = c.Info(ctx)
	if !errors.As(err, &ae) || ae.Code != 500 || ae.Message != "Internal Server Error" || IsUnavailable(err) {
		t.Errorf("empty 500 = %#v", err)
	}
	f.set("GET /2/info", 500, []byte(`{"code": 500, "message": ["a", 1], "explain": null}`))
	if _, err = c.Info(ctx); !errors.As(err, &ae) || ae.Message != `["a", 1]` {
		t.Errorf("odd message = %#v", err)
	}

	// Wrong credentials are rejected by the server like ganeti-rapi does.
	bad := f.client(t, func(cfg *Config) { cfg.Password = "wrong" })
	if _, err := bad.Version(ctx); !IsUnauthorized(err) {
		t.Errorf("wrong password: %v", err)
	}
	// A 200 that is not JSON is a decode error, not a panic.
	f.set("GET /2/info", 200, []byte("<html>"))
	if _, err := c.Info(ctx); err == nil || !strings.Contains(err.Error(), "decode response") {
		t.Errorf("bad json: %v", err)
	}
	// The wrong top-level kind is an error too.
	f.set("GET /2/instances?bulk=1", 200, []byte(`{"name": "x"}`))
	if _, err := c.InstancesBulk(ctx); err == nil {
		t.Errorf("object for list: no error")
	}
	_ = http.StatusOK
}
