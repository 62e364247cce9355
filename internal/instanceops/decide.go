package instanceops

import (
	"slices"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// State is what deciding needs about an instance, as the cluster cache
// and the tracked jobs last saw it.
type State struct {
	Instance *store.CachedInstance
	// Maintenance: the instance's node group is tagged "locked".
	Maintenance bool
	// Pending is the instance's unfinished tracked job, nil if none.
	Pending *store.InstanceJob
	// Groups are the names of the groups the principal belongs to (an
	// instance tagged for one of them is the principal's).
	Groups []string
}

// Owns reports whether p owns the instance: it is tagged for p's username
// or for a group p belongs to (st.Groups). An inactive account owns
// nothing.
func (st State) Owns(p *auth.Principal) bool {
	if st.Instance == nil || p == nil || p.User == nil || !p.User.IsActive {
		return false
	}
	if slices.Contains(st.Instance.OwnerUsers, p.User.Username) {
		return true
	}
	for _, g := range st.Instance.OwnerGroups {
		if slices.Contains(st.Groups, g) {
			return true
		}
	}
	return false
}

// running reports whether the instance actually runs.
func (st State) running() bool { return st.Instance.OperState }

// adminUp reports whether the instance is marked to run.
func (st State) adminUp() bool { return st.Instance.AdminState == "up" }

// ownerAction reports whether k is one of the actions of owners (and
// superusers), which an admin lock blocks.
func ownerAction(k Kind) bool {
	switch k {
	case Start, Shutdown, Reboot, Reinstall, Rename, Destroy, Configure, Owners:
		return true
	}
	return false
}

// Decide says whether p may do k to the instance of st now: nil when
// allowed, else why not. It is pure (no I/O); the server calls it for
// every action, configuration included.
//
// The rules, in the order they are checked:
//   - Visible: an owner, a view_instances holder or a superuser; anyone
//     else gets NotFound, as for an instance that does not exist.
//   - Permission: Start, Shutdown, Reboot, Reinstall, Rename, Destroy,
//     Configure and Owners are for owners and superusers (a visible
//     non-owner gets ReadOnly). Lock needs can_lock and Isolate can_isolate,
//     each with view_instances (superusers hold all); otherwise
//     NotPermitted. AllowFrom is for owners and can_isolate holders.
//   - Maintenance (the node group is tagged locked) blocks every action
//     for everyone but superusers.
//   - An admin lock blocks the owners' actions (and AllowFrom by an owner
//     without can_isolate) for everyone but superusers.
//   - A tracked job still running blocks every action for everyone
//     (JobPending, with what the instance is doing).
//   - WrongState: Start when running; Shutdown when marked down and not
//     running; Reboot when not running; Rename unless stopped (not running
//     and marked down); AllowFrom unless isolated.
//
// Isolation itself blocks nothing: the nodes enforce it on the network.
func Decide(p *auth.Principal, st State, k Kind) *Refusal {
	in := st.Instance
	if in == nil || p == nil || p.User == nil || !p.User.IsActive || !k.Valid() || k == Create {
		return notFound()
	}
	super := p.IsSuperuser()
	owner := st.Owns(p)
	helpdesk := p.Can(auth.ViewInstances)
	if !owner && !helpdesk {
		return notFound()
	}

	switch {
	case ownerAction(k):
		if !owner && !super {
			return readOnly()
		}
	case k == Lock:
		if !p.Can(auth.CanLock) || !helpdesk {
			return notPermitted()
		}
	case k == Isolate:
		if !p.Can(auth.CanIsolate) || !helpdesk {
			return notPermitted()
		}
	case k == AllowFrom:
		if !owner && !p.Can(auth.CanIsolate) {
			return readOnly()
		}
	}

	if st.Maintenance && !super {
		return maintenance()
	}
	if in.AdminLock && !super && (ownerAction(k) || (k == AllowFrom && !p.Can(auth.CanIsolate))) {
		return adminLocked()
	}
	if st.Pending != nil && !st.Pending.Finished() {
		return &Refusal{Code: JobPending, Msg: Kind(st.Pending.Kind).Busy()}
	}

	switch k {
	case Start:
		if st.running() {
			return refuse(WrongState, i18n.M("instance_ops.refusal.running"))
		}
	case Shutdown:
		if !st.running() && !st.adminUp() {
			return refuse(WrongState, i18n.M("instance_ops.refusal.stopped"))
		}
	case Reboot:
		if !st.running() {
			return refuse(WrongState, i18n.M("instance_ops.refusal.not_running"))
		}
	case Rename:
		if st.running() || st.adminUp() {
			return refuse(WrongState, i18n.M("instance_ops.refusal.not_stopped"))
		}
	case AllowFrom:
		if !in.Isolate {
			return refuse(WrongState, i18n.M("instance_ops.refusal.not_isolated"))
		}
	}
	return nil
}
