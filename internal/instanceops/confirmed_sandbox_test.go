package instanceops

import (
	"slices"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/sandboxenv"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestSandboxReinstallRenameDestroy runs the confirmed actions on the real
// Ganeti sandbox, on an instance of its own, and observes each result on
// the cluster and in the cache: a reinstall keeping the OS (confirmed by
// a mailed link), a reinstall with a catalogue image (the sandbox's no-op
// OS with one of the parameters it declares), a rename refused while the
// instance runs and done once it is stopped, and a destroy.
func TestSandboxReinstallRenameDestroy(t *testing.T) {
	env := sandboxenv.Load(t, "GANETI_OS", "GANETI_NODE", "GANETI_NIC_LINK")
	e := newConfirmEnv(t, confirmOptions{sandbox: env})
	// Two catalogue images of the sandbox's no-op OS, told apart by the
	// parameter it declares.
	for _, v := range []string{"bookworm", "trixie"} {
		if _, err := e.st.CreateOSImage(e.ctx, store.OSImageInput{ID: v, Description: "Debian " + v,
			Provider: env["GANETI_OS"], OSParams: map[string]string{"image": v}, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	name, renamed := e.uniqueName("ops-confirm"), e.uniqueName("ops-renamed")
	r := e.instanceRequest(name, true, []string{"ganetimgr:user:ann"})
	r.OSParams = map[string]any{"image": "bookworm", "root_password": "not-an-image-parameter"}
	e.create(r, renamed)
	if _, ok := ConfigOf(e.cached(name)); ok {
		t.Error("the sandbox's fake-hypervisor instance has a configuration")
	}
	if _, err := e.svc.Configure(e.ctx, req(e.ann), "c1", name, HVConfig{BootOrder: "disk", NICType: "e1000",
		DiskType: "ide"}); refusalCode(err) != WrongState {
		t.Errorf("configure on the fake hypervisor: %v", err)
	}

	// Reinstall keeping the current image, confirmed by the mailed link:
	// the image whose parameter the instance has.
	if err := e.svc.RequestConfirmation(e.ctx, req(e.ann), "c1", name, Reinstall, ""); err != nil {
		t.Fatal(err)
	}
	token := e.tokenOf(e.smtp.WaitMessages(t, 1, 30*time.Second)[0].Text)
	job, err := e.svc.Confirm(e.ctx, req(e.ann), token)
	if err != nil {
		t.Fatal(err)
	}
	job = e.waitTracked(job)
	op := e.jobOp(job.JobID, "OP_INSTANCE_REINSTALL")
	if params, _ := op["osparams"].(map[string]any); op["os_type"] != env["GANETI_OS"] || params["image"] != "bookworm" {
		t.Errorf("reinstall opcode %v", op)
	}
	in, err := e.client.Instance(e.ctx, name)
	if err != nil || in.OS != env["GANETI_OS"] || in.AdminState != "up" {
		t.Fatalf("after the reinstall: %+v %v", in, err)
	}
	if _, err := e.svc.Confirm(e.ctx, req(e.ann), token); refusalCode(err) != NotFound {
		t.Errorf("the link worked twice: %v", err)
	}

	// Reinstall with the other image: its parameter is used, and recorded
	// on the instance in place of the old ones (Ganeti keeps a reinstall's
	// parameters for that installation only).
	job, err = e.svc.Reinstall(e.ctx, req(e.ann), "c1", name, "trixie")
	if err != nil {
		t.Fatal(err)
	}
	job = e.waitTracked(job)
	if params, _ := e.jobOp(job.JobID, "OP_INSTANCE_REINSTALL")["osparams"].(map[string]any); params["image"] != "trixie" {
		t.Errorf("image reinstall osparams %v", params)
	}
	deadline := time.Now().Add(confirmTimeout)
	for {
		params, err := instanceOSParams(e.ctx, e.client, name)
		if err != nil {
			t.Fatal(err)
		}
		if params["image"] == "trixie" {
			if _, ok := params["root_password"]; ok {
				t.Errorf("a parameter the image does not set stayed: %v", params)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance osparams %v", params)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if in, err = e.client.Instance(e.ctx, name); err != nil || in.AdminState != "up" {
		t.Fatalf("after the image reinstall: %+v %v", in, err)
	}

	// Rename: refused while running (nothing sent), done once stopped.
	if _, err := e.svc.Rename(e.ctx, req(e.ann), "c1", name, renamed); refusalCode(err) != WrongState {
		t.Fatalf("rename while running: %v", err)
	}
	id, err := e.client.ShutdownInstance(e.ctx, name, rapi.ShutdownOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.waitGaneti(id)
	e.refresh(name)
	job, err = e.svc.Rename(e.ctx, req(e.ann), "c1", name, renamed)
	if err != nil {
		t.Fatal(err)
	}
	job = e.waitTracked(job)
	if _, err := e.client.Instance(e.ctx, name); !rapi.IsNotFound(err) {
		t.Errorf("old name after the rename: %v", err)
	}
	if in, err = e.client.Instance(e.ctx, renamed); err != nil || !slices.Contains(in.Tags, "ganetimgr:user:ann") {
		t.Fatalf("new name after the rename: %+v %v", in, err)
	}
	e.waitCached(renamed, true)
	e.waitCached(name, false)
	if a := e.audits(audit.InstanceRename); len(a) != 2 || a[0].Outcome != "refused" || a[1].Outcome != "ok" ||
		a[1].Detail != renamed || a[1].JobID != job.JobID {
		t.Errorf("rename audits %+v", a)
	}

	// Destroy: gone from the cluster and the cache.
	job, err = e.svc.Destroy(e.ctx, req(e.ann), "c1", renamed)
	if err != nil {
		t.Fatal(err)
	}
	e.waitTracked(job)
	if _, err := e.client.Instance(e.ctx, renamed); !rapi.IsNotFound(err) {
		t.Errorf("after the destroy: %v", err)
	}
	e.waitCached(renamed, false)
	if a := e.audits(audit.InstanceDestroy); len(a) != 1 || a[0].Outcome != "ok" {
		t.Errorf("destroy audits %+v", a)
	}
}
