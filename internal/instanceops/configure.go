package instanceops

import (
	"context"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Configure changes an instance's hypervisor parameters from the
// configuration form: boot order, CD-ROM image, NIC type, disk type and
// local time (kvm's boot_order, cdrom_image_path, nic_type, disk_type and
// use_localtime; only the changed ones are sent). The rules of every
// action apply (Decide: owners and superusers; admin lock and maintenance
// block it). An instance whose hypervisor has no such settings is
// WrongState; bad or unchanged values are Invalid (configChanges). The
// changes take effect at the next boot: on a running instance the tag
// <prefix>:needsreboot is added as well (a job of its own, queued behind
// the modification), and the follower removes it after the next
// successful reboot. The audit entry and the tracked job say what
// changed ("boot_order: disk -> cdrom").
func (s *Service) Configure(ctx context.Context, req Request, slug, name string, c HVConfig) (*store.InstanceJob, error) {
	// The detail is written before the instance is claimed; it is worked
	// out on the instance as the cache has it now, and the changes sent
	// are worked out again on the fresh state the action is decided on.
	detail := ""
	if t, err := s.load(ctx, req.Principal, slug, name); err == nil && t.exists() {
		if cur, ok := ConfigOf(t.state.Instance); ok {
			if changes, r := configChanges(cur, c); r == nil {
				detail = describeChanges(changes)
			}
		}
	} else if err != nil {
		return nil, err
	}
	var changes []hvChange
	a := action{kind: Configure, audit: audit.InstanceConfigure, detail: detail}
	a.check = func(st State) *Refusal {
		cur, ok := ConfigOf(st.Instance)
		if !ok {
			return refuse(WrongState, i18n.M("instance_ops.config.unsupported"))
		}
		var r *Refusal
		changes, r = configChanges(cur, c)
		return r
	}
	a.call = func(ctx context.Context, cl RAPI, in *store.CachedInstance) (rapi.JobID, error) {
		id, err := cl.ModifyInstance(ctx, in.Name, rapi.InstanceModify{HvParams: hvParams(changes)})
		if err != nil || !in.OperState || in.NeedsReboot {
			return id, err
		}
		// A reason of its own: the action's marker must find the
		// modification's job, not this one.
		tctx := rapi.WithReason(ctx, "ganetimgr:needsreboot")
		if _, err := cl.AddInstanceTags(tctx, in.Name, []string{s.codec.NeedsReboot()}); err != nil {
			// The modification is under way; only the reminder is missing.
			s.log.WarnContext(ctx, "tagging the instance needsreboot failed", "instance", in.Name, "error", err)
		}
		return id, nil
	}
	return s.runAction(ctx, req, slug, name, a)
}
