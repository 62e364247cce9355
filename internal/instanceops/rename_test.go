package instanceops

import (
	"errors"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestRenameChecks renames on a fake cluster: refused while running, and
// for a new name that is invalid, the same, or used by an instance of any
// cluster or an open application (nothing is sent then); done once stopped, with the
// name normalized, both names refreshed in the cache.
func TestRenameChecks(t *testing.T) {
	t.Parallel()
	e := newConfirmEnv(t, confirmOptions{confirm: "password"})
	name, other := e.uniqueName("old"), e.uniqueName("taken")
	e.createInstance(name, true, []string{"ganetimgr:user:ann"}, nil)
	e.createInstance(other, false, []string{"ganetimgr:user:bob"}, nil)
	// A name used on another cluster (as its cache has it).
	elsewhere := e.uniqueName("elsewhere")
	var c2 int64
	if err := e.pool.QueryRow(e.ctx, `INSERT INTO clusters (slug, hostname, port, rapi_username)
		VALUES ('c2', 'c2.example.org', 5080, 'x') RETURNING id`).Scan(&c2); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.PutCachedInstance(e.ctx, &store.CachedInstance{ClusterID: c2, Name: elsewhere, Hypervisor: "kvm"}); err != nil {
		t.Fatal(err)
	}
	wanted := e.uniqueName("wanted")
	if _, err := e.pool.Exec(e.ctx, `INSERT INTO applications (applicant_id, hostname, memory_mb, vcpus, disk_gb,
		os_name, terms_accepted_at) VALUES ($1, $2, 128, 1, 1, 'noop', now())`, e.bob.User.ID, wanted); err != nil {
		t.Fatal(err)
	}

	jobs := e.fake.JobCount()
	if _, err := e.svc.Rename(e.ctx, req(e.ann), "c1", name, "new.example.org"); refusalCode(err) != WrongState {
		t.Fatalf("rename while running: %v", err)
	}
	if e.fake.JobCount() != jobs {
		t.Error("a rename refused while running made a job")
	}
	id, err := e.client.ShutdownInstance(e.ctx, name, rapi.ShutdownOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.waitGaneti(id)
	e.refresh(name)
	jobs = e.fake.JobCount()
	for newName, msg := range map[string]string{"bad name": "instance_ops.rename.invalid", "": "instance_ops.rename.required",
		name: "instance_ops.rename.same", other: "instance_ops.rename.in_use", elsewhere: "instance_ops.rename.in_use",
		wanted: "instance_ops.rename.in_use_application"} {
		_, err := e.svc.Rename(e.ctx, req(e.ann), "c1", name, newName)
		var r *Refusal
		if !errors.As(err, &r) || r.Code != Invalid || r.Field != FieldNewName || r.Msg.ID() != msg {
			t.Errorf("%q: %v, want %s", newName, err, msg)
		}
	}
	if _, err := e.svc.Rename(e.ctx, req(e.bob), "c1", name, "x.example.org"); refusalCode(err) != NotFound {
		t.Errorf("a stranger's rename: %v", err)
	}
	if e.fake.JobCount() != jobs {
		t.Error("a refused rename made a job")
	}

	job, err := e.svc.Rename(e.ctx, req(e.ann), "c1", name, " Renamed-"+name[len("old-"):]+". ")
	if err != nil {
		t.Fatal(err)
	}
	want := "renamed-" + name[len("old-"):]
	if job.Detail != want {
		t.Errorf("tracked detail %q, want %q", job.Detail, want)
	}
	job = e.waitTracked(job)
	if op := e.jobOp(job.JobID, "OP_INSTANCE_RENAME"); op["new_name"] != want || op["ip_check"] != false || op["name_check"] != false {
		t.Errorf("rename opcode %v", op)
	}
	if _, err := e.client.Instance(e.ctx, want); err != nil {
		t.Errorf("new name: %v", err)
	}
	e.waitCached(want, true)
	e.waitCached(name, false)
	a := e.audits(audit.InstanceRename)
	if last := a[len(a)-1]; last.Outcome != "ok" || last.Detail != want || last.Instance != name {
		t.Errorf("audit %+v", last)
	}
}
