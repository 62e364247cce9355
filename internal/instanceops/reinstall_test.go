package instanceops

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// personalityFiles decodes an img_personality value into its files'
// contents by path.
func personalityFiles(t *testing.T, v any) map[string]string {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("img_personality %v", v)
	}
	var files []struct {
		Path, Contents, Owner string
		Mode                  int
	}
	if err := json.Unmarshal([]byte(s), &files); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := base64.StdEncoding.DecodeString(f.Contents)
		if err != nil {
			t.Fatal(err)
		}
		if f.Mode != 0o600 {
			t.Errorf("%s: mode %o", f.Path, f.Mode)
		}
		out[f.Path] = string(b)
	}
	return out
}

// reinstallOp reinstalls as p and returns the reinstall opcode Ganeti got.
func (e *confirmEnv) reinstallOp(r Request, name, image string) (*store.InstanceJob, map[string]any) {
	e.t.Helper()
	job, err := e.svc.Reinstall(e.ctx, r, "c1", name, image)
	if err != nil {
		e.t.Fatalf("reinstall %s with %q: %v", name, image, err)
	}
	job = e.waitTracked(job)
	return job, e.jobOp(job.JobID, "OP_INSTANCE_REINSTALL")
}

// jobAfter returns the parameters of the first job after id whose first
// opcode is opID on instance, nil when there is none.
func (e *confirmEnv) jobAfter(id int64, opID, instance string) map[string]any {
	e.t.Helper()
	jobs, err := e.client.JobsBulk(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	slices.SortFunc(jobs, func(a, b rapi.Job) int { return int(a.ID - b.ID) })
	for _, j := range jobs {
		if int64(j.ID) > id && j.OpID() == opID && j.Ops[0].InstanceName == instance {
			return e.jobOp(int64(j.ID), opID)
		}
	}
	return nil
}

// TestReinstallKeys reinstalls on a fake cluster and checks the requests
// Ganeti gets: the image's provider and parameters, the owner users' SSH
// keys as img_personality, the application's key URL (a new token) only
// while its applicant still owns the VM, and the modification recording
// the parameters on the instance. Keeping the current OS when no image's
// parameters are on the instance leaves the OS and its parameters to
// Ganeti. Unknown and disabled images are refused.
func TestReinstallKeys(t *testing.T) {
	t.Parallel()
	e := newConfirmEnv(t, confirmOptions{confirm: "password"})
	if e.svc.ConfirmByMail() {
		t.Fatal("password mode confirms by mail")
	}
	for _, im := range []store.OSImageInput{
		{ID: "debian-12", Description: "Debian 12", Provider: "snf-image+default", Enabled: true,
			OSParams:    map[string]string{"img_id": "debian-12", "img_format": "diskdump"},
			SSHKeyParam: "img_ssh_key_url", SSHKeyUsers: []string{"root", "debian"}},
		{ID: "ubuntu-24", Description: "Ubuntu 24.04", Provider: "snf-image+default", Enabled: true,
			OSParams: map[string]string{"img_id": "ubuntu-24"}, SSHKeyUsers: []string{"root"}},
		{ID: "old", Description: "Old", Provider: "snf-image+default", OSParams: map[string]string{"img_id": "old"}},
	} {
		if _, err := e.st.CreateOSImage(e.ctx, im); err != nil {
			t.Fatal(err)
		}
	}
	name := e.uniqueName("keys")
	var appID int64
	if err := e.pool.QueryRow(e.ctx, `INSERT INTO applications (applicant_id, status, hostname, memory_mb, vcpus,
		disk_gb, os_image, terms_accepted_at, cluster_id, node_group, disk_template, submit_attempt, submitted_at,
		finished_at) VALUES ($1, 'created', $2, 128, 1, 1, 'debian-12', now(), $3, 'default', 'file', 1, now(), now())
		RETURNING id`, e.ann.User.ID, name, e.cluster.ID).Scan(&appID); err != nil {
		t.Fatal(err)
	}
	r := e.instanceRequest(name, true, []string{"ganetimgr:user:ann", "ganetimgr:user:bob",
		"ganetimgr:application:" + strconv.FormatInt(appID, 10)})
	r.OS = "snf-image+default"
	e.create(r)

	current, choices, err := e.svc.OSChoices(e.ctx, e.bob, "c1", name)
	if err != nil || current != "Debian 12" || len(choices) != 2 || choices[0].ID != "debian-12" || choices[1].ID != "ubuntu-24" {
		t.Fatalf("choices: %q %+v %v", current, choices, err)
	}
	if _, _, err := e.svc.OSChoices(e.ctx, e.helen, "c1", name); err != nil {
		t.Errorf("helpdesk choices: %v", err)
	}
	if _, _, err := e.svc.OSChoices(e.ctx, e.user("sam", false, ""), "c1", name); refusalCode(err) != NotFound {
		t.Errorf("a stranger's choices: %v", err)
	}

	// An image: its parameters, both owners' keys, and the application's
	// key URL with a new token; then the parameters are recorded.
	start := time.Now()
	job, op := e.reinstallOp(req(e.ann), name, "debian-12")
	params, _ := op["osparams"].(map[string]any)
	if op["os_type"] != "snf-image+default" || params["img_id"] != "debian-12" || params["img_format"] != "diskdump" {
		t.Errorf("reinstall opcode %v", op)
	}
	files := personalityFiles(t, params[applications.PersonalityParam])
	for _, path := range []string{"/root/.ssh/authorized_keys", "/home/debian/.ssh/authorized_keys"} {
		if files[path] != annKey+"\n"+bobKey+"\n" {
			t.Errorf("%s: %q", path, files[path])
		}
	}
	keyURL, _ := params["img_ssh_key_url"].(string)
	prefix := confirmBaseURL + applications.KeysPath("")
	token := strings.TrimPrefix(keyURL, prefix)
	if !strings.HasPrefix(keyURL, prefix) || len(token) != 43 {
		t.Fatalf("key URL %q", keyURL)
	}
	sum := sha256.Sum256([]byte(token))
	a, err := e.st.ApplicationByKeyToken(e.ctx, sum[:])
	if err != nil || a.ID != appID || a.SSHKeysUntil.Before(start.Add(applications.DefaultKeyURLLifetime-time.Minute)) ||
		a.SSHKeysUntil.After(time.Now().Add(applications.DefaultKeyURLLifetime+time.Minute)) {
		t.Errorf("key token's application: %+v %v", a, err)
	}
	if mod := e.jobAfter(job.JobID, "OP_INSTANCE_SET_PARAMS", name); mod == nil {
		t.Error("the parameters were not recorded")
	} else if rec, _ := mod["osparams"].(map[string]any); rec["img_id"] != "debian-12" || rec["img_ssh_key_url"] != keyURL {
		t.Errorf("recorded osparams %v", mod["osparams"])
	}
	if job.Detail != "os: debian-12" {
		t.Errorf("tracked detail %q", job.Detail)
	}
	if au := e.audits(audit.InstanceReinstall); len(au) != 1 || au[0].Outcome != "ok" || au[0].JobID != job.JobID {
		t.Errorf("audits %+v", au)
	}

	// The applicant no longer owns it: no key URL (it would serve the
	// applicant's keys), only bob's keys.
	e.setTags(name, nil, []string{"ganetimgr:user:ann"})
	_, op = e.reinstallOp(req(e.bob), name, "debian-12")
	params, _ = op["osparams"].(map[string]any)
	if _, ok := params["img_ssh_key_url"]; ok {
		t.Errorf("key URL for a VM its applicant does not own: %v", params)
	}
	if files := personalityFiles(t, params[applications.PersonalityParam]); files["/root/.ssh/authorized_keys"] != bobKey+"\n" {
		t.Errorf("personality %v", files)
	}
	_, op = e.reinstallOp(req(e.bob), name, "ubuntu-24")
	params, _ = op["osparams"].(map[string]any)
	if params["img_id"] != "ubuntu-24" || len(personalityFiles(t, params[applications.PersonalityParam])) != 1 {
		t.Errorf("ubuntu osparams %v", params)
	}
	if current, _, err := e.svc.OSChoices(e.ctx, e.bob, "c1", name); err != nil || current != "Ubuntu 24.04" {
		t.Errorf("current after the ubuntu reinstall: %q %v", current, err)
	}

	// Keeping the current image when the cluster reports none of the
	// images' parameters (the fake reports none): Ganeti reinstalls the
	// OS it has with the parameters it has.
	job, op = e.reinstallOp(req(e.bob), name, "")
	if params, _ := op["osparams"].(map[string]any); op["os_type"] != "snf-image+default" || len(params) != 0 {
		t.Errorf("keep-current opcode %v", op)
	}
	if job.Detail != "os: current" || e.jobAfter(job.JobID, "OP_INSTANCE_SET_PARAMS", name) != nil {
		t.Errorf("keep-current: detail %q, or parameters recorded", job.Detail)
	}

	// Unknown and disabled images are refused; nothing is sent.
	jobs := e.fake.JobCount()
	for _, im := range []string{"old", "nope"} {
		_, err := e.svc.Reinstall(e.ctx, req(e.bob), "c1", name, im)
		if refusalCode(err) != Invalid {
			t.Errorf("image %q: %v", im, err)
		}
	}
	if e.fake.JobCount() != jobs {
		t.Error("a refused reinstall made a job")
	}
	if _, err := e.svc.Reinstall(e.ctx, req(e.ann), "c1", name, ""); refusalCode(err) != NotFound {
		t.Errorf("former owner: %v", err)
	}

	// No image of the instance's OS.
	plain := e.uniqueName("plain")
	e.createInstance(plain, false, []string{"ganetimgr:user:ann"}, nil)
	if current, _, err := e.svc.OSChoices(e.ctx, e.ann, "c1", plain); err != nil || current != "noop" {
		t.Errorf("plain choices %q %v", current, err)
	}
	_, op = e.reinstallOp(req(e.ann), plain, "")
	if params, _ := op["osparams"].(map[string]any); op["os_type"] != "noop" || len(params) != 0 {
		t.Errorf("plain reinstall opcode %v", op)
	}
	if in, err := e.client.Instance(e.ctx, plain); err != nil || in.AdminState != "up" {
		t.Errorf("plain after reinstall: %v %v", in, err)
	}
}

// TestReinstallMatchImage picks the image whose parameters an instance
// has.
func TestReinstallMatchImage(t *testing.T) {
	t.Parallel()
	deb := &store.OSImage{ID: "deb", OSParams: map[string]string{"img_id": "debian"}}
	debMin := &store.OSImage{ID: "deb-min", OSParams: map[string]string{"img_id": "debian", "img_variant": "minimal"}}
	bare := &store.OSImage{ID: "bare"}
	ims := []*store.OSImage{deb, debMin, bare}
	for _, tc := range []struct {
		params map[string]any
		want   *store.OSImage
	}{
		{map[string]any{"img_id": "debian", "img_personality": "[]"}, deb},
		{map[string]any{"img_id": "debian", "img_variant": "minimal"}, debMin},
		{map[string]any{"img_id": "ubuntu"}, bare},
		{nil, bare},
	} {
		if got := matchImage(ims, tc.params); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.params, got, tc.want)
		}
	}
	if got := matchImage([]*store.OSImage{deb, debMin}, map[string]any{"img_id": "ubuntu"}); got != nil {
		t.Errorf("no match: %v", got)
	}
	if got := matchImage([]*store.OSImage{{ID: "e", OSParams: map[string]string{"x": ""}}}, map[string]any{}); got != nil {
		t.Errorf("a missing parameter matched an empty value: %v", got)
	}
}
