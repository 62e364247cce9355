package instanceops

import "github.com/ganetimgr/ganetimgr/internal/i18n"

// Kind is an action on an instance; tracked jobs record it.
type Kind string

// The actions.
const (
	Start     Kind = "start"
	Shutdown  Kind = "shutdown"
	Reboot    Kind = "reboot"
	Reinstall Kind = "reinstall"
	Rename    Kind = "rename"
	Destroy   Kind = "destroy"
	Configure Kind = "configure"
	Owners    Kind = "owners"
	Lock      Kind = "lock"
	Isolate   Kind = "isolate"
	AllowFrom Kind = "allow_from"
	// Create is an application's creation job (tracked for its progress
	// only; no page offers it).
	Create Kind = "create"
)

// Kinds returns the actions a page offers, in display order (all but
// Create).
func Kinds() []Kind {
	return []Kind{Start, Shutdown, Reboot, Reinstall, Rename, Destroy, Configure, Owners, Lock, Isolate, AllowFrom}
}

// Valid reports whether k is a known action.
func (k Kind) Valid() bool {
	switch k {
	case Start, Shutdown, Reboot, Reinstall, Rename, Destroy, Configure, Owners, Lock, Isolate, AllowFrom, Create:
		return true
	}
	return false
}

// Busy says what an instance is doing while a job of this kind runs on it
// ("starting", "shutting down", ...), for the pages and for the refusal of
// other actions meanwhile.
func (k Kind) Busy() i18n.Msg {
	switch k {
	case Start:
		return i18n.M("instance_ops.busy.start")
	case Shutdown:
		return i18n.M("instance_ops.busy.shutdown")
	case Reboot:
		return i18n.M("instance_ops.busy.reboot")
	case Reinstall:
		return i18n.M("instance_ops.busy.reinstall")
	case Rename:
		return i18n.M("instance_ops.busy.rename")
	case Destroy:
		return i18n.M("instance_ops.busy.destroy")
	case Configure:
		return i18n.M("instance_ops.busy.configure")
	case Owners:
		return i18n.M("instance_ops.busy.owners")
	case Lock:
		return i18n.M("instance_ops.busy.lock")
	case Isolate:
		return i18n.M("instance_ops.busy.isolate")
	case AllowFrom:
		return i18n.M("instance_ops.busy.allow_from")
	case Create:
		return i18n.M("instance_ops.busy.create")
	}
	return i18n.M("instance_ops.busy.other")
}

// Label names the action (a button or a column), e.g. "Start".
func (k Kind) Label() i18n.Msg {
	switch k {
	case Start:
		return i18n.M("instance_ops.kind.start")
	case Shutdown:
		return i18n.M("instance_ops.kind.shutdown")
	case Reboot:
		return i18n.M("instance_ops.kind.reboot")
	case Reinstall:
		return i18n.M("instance_ops.kind.reinstall")
	case Rename:
		return i18n.M("instance_ops.kind.rename")
	case Destroy:
		return i18n.M("instance_ops.kind.destroy")
	case Configure:
		return i18n.M("instance_ops.kind.configure")
	case Owners:
		return i18n.M("instance_ops.kind.owners")
	case Lock:
		return i18n.M("instance_ops.kind.lock")
	case Isolate:
		return i18n.M("instance_ops.kind.isolate")
	case AllowFrom:
		return i18n.M("instance_ops.kind.allow_from")
	case Create:
		return i18n.M("instance_ops.kind.create")
	}
	return i18n.M("instance_ops.kind.other")
}
