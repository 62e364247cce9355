package applications

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

// recorder serves a fake cluster through a TLS server that keeps the
// bodies of creation requests.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
	fake   *rapifake.Cluster
	client *rapi.Client
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	fake, err := rapifake.NewCluster(rapifake.Options{Seed: 3, JobDelay: rapifake.NoJobDelay,
		DiskTemplates: []string{"diskless", "file", "plain", "drbd"}, OSNames: []string{"noop", "snf-image+default"},
		Users: []rapifake.User{{Name: "admin", Password: "admin", Write: true}}})
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{fake: fake}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && req.URL.Path == "/2/instances" {
			b, _ := io.ReadAll(req.Body)
			r.mu.Lock()
			r.bodies = append(r.bodies, b)
			r.mu.Unlock()
			req.Body = io.NopCloser(bytes.NewReader(b))
		}
		fake.Handler().ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	r.client, err = rapi.New(rapi.Config{Host: u.Hostname(), Port: port, Username: "admin", Password: "admin",
		TLS: rapi.TLSConfig{PinnedSHA256: rapifake.Fingerprint(srv.Certificate().Raw)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.client.Close)
	return r
}

func (r *recorder) last() map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var m map[string]any
	if len(r.bodies) > 0 {
		_ = json.Unmarshal(r.bodies[len(r.bodies)-1], &m)
	}
	return m
}

func sampleApplication() *store.Application {
	return &store.Application{
		ID: 42, ApplicantID: 7, Status: store.AppSubmitted, SubmitAttempt: 1,
		ApplicationRequest: store.ApplicationRequest{Hostname: "vm42.example.org", MemoryMB: 2048, VCPUs: 2, DiskGB: 20,
			OSImage: "debian-12", HostsMailServer: true},
		Placement: store.Placement{ClusterID: 1, NodeGroup: "default", NetworkName: "public", NetworkPool: true,
			DiskTemplate: "plain", VG: "ssd"},
	}
}

func sampleImage() *store.OSImage {
	return &store.OSImage{ID: "debian-12", Description: "Debian 12", Provider: "snf-image+default",
		OSParams:    map[string]string{"img_id": "debian-12", "img_format": "diskdump", "img_properties": `{"OSFAMILY":"linux"}`},
		SSHKeyParam: "img_ssh_key_url", SSHKeyUsers: []string{"root", "debian:users"}}
}

// TestBuildCreate compares the whole request body with the one ganetimgr
// sends (section 3.3 of the reference), in the version 1 form the RAPI
// documents.
func TestBuildCreate(t *testing.T) {
	codec, _ := tags.New("")
	keys := []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey ann@laptop", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ ann@desk"}
	req, err := BuildCreate(CreateInput{App: sampleApplication(), Image: sampleImage(),
		SecretParams: map[string]string{"img_passwd": "s3cret"}, Applicant: "ann", OrgTag: "grnet", SSHKeys: keys,
		KeyURL: "https://portal.example.org/applications/keys/TOKEN", Codec: codec, PNode: "n2.example.org", Start: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t)
	// The fake refuses unknown nodes and networks in the job, not in the
	// request: the body is what matters here.
	if _, err := rec.client.CreateInstance(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := rec.last()
	authorized := base64.StdEncoding.EncodeToString([]byte(keys[0] + "\n" + keys[1] + "\n"))
	personality := `[{"path":"/root/.ssh/authorized_keys","contents":"` + authorized + `","owner":"root","group":"","mode":384},` +
		`{"path":"/home/debian/.ssh/authorized_keys","contents":"` + authorized + `","owner":"debian","group":"users","mode":384}]`
	var want map[string]any
	wantJSON, _ := json.Marshal(map[string]any{
		"__version__": 1, "mode": "create", "instance_name": "vm42.example.org", "disk_template": "plain",
		"disks":   []any{map[string]any{"size": 20480, "vg": "ssd"}},
		"nics":    []any{map[string]any{"network": "public", "ip": "pool"}},
		"os_type": "snf-image+default",
		"osparams": map[string]any{"img_id": "debian-12", "img_format": "diskdump", "img_properties": `{"OSFAMILY":"linux"}`,
			"img_ssh_key_url": "https://portal.example.org/applications/keys/TOKEN", "img_personality": personality},
		"osparams_private": map[string]any{"img_passwd": "s3cret"},
		"beparams":         map[string]any{"maxmem": 2048, "minmem": 2048, "vcpus": 2},
		"tags": []any{"ganetimgr:user:ann", "ganetimgr:application:42", "ganetimgr:org:grnet",
			"ganetimgr:service:mail", "ganetimgr:vg:ssd"},
		"pnode": "n2.example.org", "start": true, "name_check": false, "ip_check": false, "wait_for_sync": false,
	})
	_ = json.Unmarshal(wantJSON, &want)
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("request body:\n got %s\nwant %s", g, w)
	}

	// Every parameter sent is one the real Ganeti's OP_INSTANCE_CREATE
	// carries (the recorded job), or snode (drbd).
	sample, err := os.ReadFile("../rapi/rapifake/testdata/job-instance-create.json")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Ops []map[string]any `json:"ops"`
	}
	if err := json.Unmarshal(sample, &job); err != nil || len(job.Ops) != 1 {
		t.Fatalf("recorded job: %v", err)
	}
	for k := range got {
		if _, ok := job.Ops[0][k]; !ok && k != "__version__" && k != "snode" {
			t.Errorf("parameter %q is not one of the recorded OP_INSTANCE_CREATE", k)
		}
	}
}

// TestBuildCreateVariants covers the other NICs, OS and disk forms.
func TestBuildCreateVariants(t *testing.T) {
	codec, _ := tags.New("portal")
	base := sampleApplication()
	cases := []struct {
		name  string
		mod   func(a *store.Application)
		image *store.OSImage
		check func(t *testing.T, r rapi.InstanceCreate)
	}{
		{"bridged link", func(a *store.Application) {
			a.NetworkName, a.NetworkLink, a.NetworkMode, a.NetworkPool = "lab", "br-lab", "bridged", false
		}, sampleImage(), func(t *testing.T, r rapi.InstanceCreate) {
			if !reflect.DeepEqual(r.NICs, []rapi.NICSpec{{Link: "br-lab", Mode: "bridged"}}) {
				t.Errorf("nics %+v", r.NICs)
			}
		}},
		{"cluster default NIC", func(a *store.Application) {
			a.NetworkName, a.NetworkPool = "", false
		}, sampleImage(), func(t *testing.T, r rapi.InstanceCreate) {
			if !reflect.DeepEqual(r.NICs, []rapi.NICSpec{{}}) {
				t.Errorf("nics %+v", r.NICs)
			}
		}},
		{"diskless, cluster OS, no vg", func(a *store.Application) {
			a.DiskTemplate, a.VG, a.OSImage, a.OSName, a.HostsMailServer = "diskless", "", "", "noop", false
		}, nil, func(t *testing.T, r rapi.InstanceCreate) {
			if len(r.Disks) != 0 || r.OS != "noop" || r.OSParams != nil || r.OSParamsPrivate != nil {
				t.Errorf("diskless: %+v", r)
			}
			if !slices.Equal(r.Tags, []string{"portal:user:ann", "portal:application:42"}) {
				t.Errorf("tags %v", r.Tags)
			}
		}},
		{"file disk takes no vg", func(a *store.Application) { a.DiskTemplate, a.VG = "file", "" },
			&store.OSImage{Provider: "noop", OSParams: map[string]string{}}, func(t *testing.T, r rapi.InstanceCreate) {
				if len(r.Disks) != 1 || r.Disks[0].VG != "" || r.Disks[0].Size != 20480 || len(r.OSParams) != 0 {
					t.Errorf("file: %+v", r)
				}
			}},
	}
	for _, tc := range cases {
		a := *base
		tc.mod(&a)
		r, err := BuildCreate(CreateInput{App: &a, Image: tc.image, Applicant: "ann", Codec: codec,
			SSHKeys: []string{"ssh-ed25519 AAAA ann"}})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		t.Run(tc.name, func(t *testing.T) { tc.check(t, r) })
	}
	a := *base
	a.DiskTemplate = ""
	if _, err := BuildCreate(CreateInput{App: &a, Codec: codec, Applicant: "ann"}); err == nil {
		t.Error("an application without a placement was built")
	}
	if _, err := BuildCreate(CreateInput{App: base, Image: sampleImage(), Codec: codec, Applicant: "bad user"}); err == nil {
		t.Error("an invalid owner tag was built")
	}
	if _, err := Personality([]string{"root:wheel:../etc/shadow"}, nil); err == nil {
		t.Error("a relative personality path was accepted")
	}
}

// TestCreateRequestOnFakeCluster sends a built request to the fake
// cluster (whose answers are checked against the recorded real ones): the
// job succeeds and the instance has what the application asked for.
func TestCreateRequestOnFakeCluster(t *testing.T) {
	rec := newRecorder(t)
	codec, _ := tags.New("")
	ctx := context.Background()
	a := sampleApplication()
	a.DiskTemplate, a.VG = "file", ""
	a.NetworkName, a.NetworkLink, a.NetworkMode, a.NetworkPool = "", "br-net1", "bridged", false
	im := sampleImage()
	req, err := BuildCreate(CreateInput{App: a, Image: im, Applicant: "ann", Codec: codec, PNode: rec.fake.NodeNames()[0],
		SSHKeys: []string{"ssh-ed25519 AAAA ann"}, KeyURL: "https://x.example.org/k", Start: true})
	if err != nil {
		t.Fatal(err)
	}
	id, err := rec.client.CreateInstance(rapi.WithReason(ctx, Marker(a.ID, 1)), req)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := rec.client.WaitJob(wctx, id); err != nil {
		t.Fatal(err)
	}
	in, err := rec.client.Instance(ctx, a.Hostname)
	if err != nil {
		t.Fatal(err)
	}
	if in.BeParams.MaxMem != 2048 || in.BeParams.VCPUs != 2 || !slices.Equal(in.DiskSizes, []int64{20480}) ||
		in.DiskTemplate != "file" || !slices.Equal(in.NICLinks, []string{"br-net1"}) || in.AdminState != "up" {
		t.Errorf("instance: %+v", in)
	}
	if p := codec.Parse(in.Tags); p.Application != 42 || !slices.Equal(p.Users, []string{"ann"}) || !p.HasService(tags.ServiceMail) {
		t.Errorf("tags %v", in.Tags)
	}
	jobs, err := rec.client.JobsBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if j := findCreateJob(jobs, a.Hostname, Marker(a.ID, 1)); j == nil || j.ID != id {
		t.Errorf("the job is not found by its marker: %+v", j)
	}
	if j := findCreateJob(jobs, a.Hostname, Marker(a.ID, 2)); j != nil {
		t.Errorf("another attempt's marker finds job %d", j.ID)
	}
	// A dry run with the marker is never taken for the creation.
	req.DryRun = true
	req.Name = "dry.example.org"
	if _, err := rec.client.CreateInstance(rapi.WithReason(ctx, Marker(43, 1)), req); err != nil {
		t.Fatal(err)
	}
	jobs, _ = rec.client.JobsBulk(ctx)
	if j := findCreateJob(jobs, "dry.example.org", Marker(43, 1)); j != nil {
		t.Errorf("a dry run was found: %d", j.ID)
	}
}
