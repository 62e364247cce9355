package instanceops

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/audit"
)

// kvmDefaults are the kvm parameters the test instances start with (a
// real cluster reports the filled-in defaults; the fake only what was set).
func kvmDefaults() map[string]any {
	return map[string]any{"boot_order": "disk", "cdrom_image_path": "", "nic_type": "paravirtual",
		"disk_type": "paravirtual", "use_localtime": false}
}

// TestConfigureKVM configures kvm instances on a fake cluster and checks
// what reaches Ganeti (only the changed hvparams), the needsreboot tag on
// a running instance only, the cache and audit afterwards, and that the
// rules of every action hold for the configuration too: owners and
// superusers only, admin lock and maintenance enforced on the server.
func TestConfigureKVM(t *testing.T) {
	t.Parallel()
	e := newConfirmEnv(t, confirmOptions{hypervisor: "kvm"})
	running, stopped := e.uniqueName("run"), e.uniqueName("stop")
	e.createInstance(running, true, []string{"ganetimgr:user:ann"}, kvmDefaults())
	e.createInstance(stopped, false, []string{"ganetimgr:user:ann"}, kvmDefaults())
	if c, ok := ConfigOf(e.cached(running)); !ok || c != (HVConfig{BootOrder: "disk", NICType: "paravirtual", DiskType: "paravirtual"}) {
		t.Fatalf("cached configuration %+v %v", c, ok)
	}

	// Bad input is refused before anything reaches the cluster.
	jobs := e.fake.JobCount()
	bad := []struct {
		c     HVConfig
		field string
	}{
		{HVConfig{BootOrder: "cdrom", CDROMURL: "ftp://mirror.example.org/a.iso", NICType: "paravirtual", DiskType: "paravirtual"}, FieldCDROMURL},
		{HVConfig{BootOrder: "cdrom", CDROMURL: "https://user:pw@mirror.example.org/a.iso", NICType: "paravirtual", DiskType: "paravirtual"}, FieldCDROMURL},
		{HVConfig{BootOrder: "cdrom", NICType: "paravirtual", DiskType: "paravirtual"}, FieldCDROMURL},
		{HVConfig{BootOrder: "floppy", NICType: "paravirtual", DiskType: "paravirtual"}, FieldBootOrder},
		{HVConfig{BootOrder: "disk", NICType: "paravirtual", DiskType: "paravirtual"}, ""},
	}
	for _, b := range bad {
		_, err := e.svc.Configure(e.ctx, req(e.ann), "c1", running, b.c)
		var r *Refusal
		if refusalCode(err) != Invalid || !errors.As(err, &r) || r.Field != b.field {
			t.Errorf("%+v: %v, want Invalid %q", b.c, err, b.field)
		}
	}
	if n := e.fake.JobCount(); n != jobs {
		t.Errorf("refused configurations made %d jobs", n-jobs)
	}

	// A running instance: the changed settings, then needsreboot.
	want := HVConfig{BootOrder: "cdrom", CDROMURL: "https://mirror.example.org/debian-12.iso", NICType: "e1000",
		DiskType: "scsi", UseLocalTime: true}
	job, err := e.svc.Configure(e.ctx, req(e.ann), "c1", running, want)
	if err != nil {
		t.Fatal(err)
	}
	job = e.waitTracked(job)
	op := e.jobOp(job.JobID, "OP_INSTANCE_SET_PARAMS")
	hv, _ := op["hvparams"].(map[string]any)
	if len(hv) != 5 || hv["boot_order"] != "cdrom" || hv["cdrom_image_path"] != want.CDROMURL ||
		hv["nic_type"] != "e1000" || hv["disk_type"] != "scsi" || hv["use_localtime"] != true {
		t.Errorf("sent hvparams %v", op["hvparams"])
	}
	in, err := e.client.Instance(e.ctx, running)
	if err != nil {
		t.Fatal(err)
	}
	if h := in.HvParams; h.BootOrder != "cdrom" || h.CdromImagePath != want.CDROMURL || h.NICType != "e1000" ||
		h.DiskType != "scsi" || !h.UseLocaltime {
		t.Errorf("cluster hvparams %s", h.Raw)
	}
	if !slices.Contains(in.Tags, "ganetimgr:needsreboot") {
		t.Errorf("running instance tags %v: no needsreboot", in.Tags)
	}
	deadline := time.Now().Add(10 * time.Second)
	for c := e.cached(running); ; c = e.cached(running) {
		if got, _ := ConfigOf(c); got == want && c.NeedsReboot {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache after the job: %+v needsreboot %v", c, c.NeedsReboot)
		}
		time.Sleep(25 * time.Millisecond)
	}
	a := e.audits(audit.InstanceConfigure)
	last := a[len(a)-1]
	if len(a) != len(bad)+1 || last.Outcome != "ok" || last.JobID != job.JobID || last.Username != "ann" ||
		!strings.Contains(last.Detail, "boot_order: disk -> cdrom") || !strings.Contains(last.Detail, "nic_type: paravirtual -> e1000") ||
		a[0].Outcome != "refused" {
		t.Errorf("audits %+v", a)
	}
	if job.Detail != last.Detail {
		t.Errorf("tracked detail %q, audit %q", job.Detail, last.Detail)
	}

	// A stopped instance: only the change, and no reminder.
	job, err = e.svc.Configure(e.ctx, req(e.ann), "c1", stopped, HVConfig{BootOrder: "disk", NICType: "rtl8139",
		DiskType: "paravirtual"})
	if err != nil {
		t.Fatal(err)
	}
	job = e.waitTracked(job)
	if hv, _ := e.jobOp(job.JobID, "OP_INSTANCE_SET_PARAMS")["hvparams"].(map[string]any); len(hv) != 1 || hv["nic_type"] != "rtl8139" {
		t.Errorf("sent hvparams %v", hv)
	}
	if tags, err := e.client.InstanceTags(e.ctx, stopped); err != nil || slices.Contains(tags, "ganetimgr:needsreboot") {
		t.Errorf("stopped instance tags %v %v", tags, err)
	}

	// Who may: not a helpdesk user, not a stranger; the admin lock stops
	// the owner but not a superuser; maintenance stops the owner too.
	c := HVConfig{BootOrder: "disk", NICType: "ne2k_pci", DiskType: "paravirtual"}
	if _, err := e.svc.Configure(e.ctx, req(e.helen), "c1", stopped, c); refusalCode(err) != ReadOnly {
		t.Errorf("helpdesk: %v", err)
	}
	if _, err := e.svc.Configure(e.ctx, req(e.bob), "c1", stopped, c); refusalCode(err) != NotFound {
		t.Errorf("stranger: %v", err)
	}
	e.setTags(stopped, []string{"ganetimgr:adminlock"}, nil)
	if _, err := e.svc.Configure(e.ctx, req(e.ann), "c1", stopped, c); refusalCode(err) != AdminLocked {
		t.Errorf("admin-locked: %v", err)
	}
	job, err = e.svc.Configure(e.ctx, req(e.boss), "c1", stopped, c)
	if err != nil {
		t.Fatalf("superuser on a locked instance: %v", err)
	}
	e.waitTracked(job)
	e.setTags(stopped, nil, []string{"ganetimgr:adminlock"})
	group := e.cached(stopped).NodeGroup
	if group == "" {
		t.Fatal("no node group cached")
	}
	if err := e.fake.SetGroupTags(group, []string{"locked"}); err != nil {
		t.Fatal(err)
	}
	e.sync()
	if _, err := e.svc.Configure(e.ctx, req(e.ann), "c1", stopped, HVConfig{BootOrder: "disk", NICType: "pcnet",
		DiskType: "paravirtual"}); refusalCode(err) != Maintenance {
		t.Errorf("maintenance: %v", err)
	}
}

// TestConfigureNotKVM refuses to configure an instance whose hypervisor
// has no such settings, with a clear message.
func TestConfigureNotKVM(t *testing.T) {
	t.Parallel()
	e := newConfirmEnv(t, confirmOptions{})
	name := e.uniqueName("fake")
	e.createInstance(name, true, []string{"ganetimgr:user:ann"}, nil)
	if _, ok := ConfigOf(e.cached(name)); ok {
		t.Error("a fake-hypervisor instance has a configuration")
	}
	jobs := e.fake.JobCount()
	_, err := e.svc.Configure(e.ctx, req(e.ann), "c1", name, HVConfig{BootOrder: "disk", NICType: "e1000", DiskType: "ide"})
	var r *Refusal
	if !errors.As(err, &r) || r.Code != WrongState || r.Msg.ID() != "instance_ops.config.unsupported" {
		t.Errorf("got %v", err)
	}
	if e.fake.JobCount() != jobs {
		t.Error("a job was made")
	}
	if _, err := e.client.Instance(e.ctx, name); err != nil {
		t.Fatal(err)
	}
	if a := e.audits(audit.InstanceConfigure); len(a) != 1 || a[0].Outcome != "refused" {
		t.Errorf("audits %+v", a)
	}
}
