package web

import (
	"strconv"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// ownerKinds are the actions of an instance's owners (the power buttons
// and the confirmed actions), which one reason may disable all at once.
var ownerKinds = []instanceops.Kind{instanceops.Start, instanceops.Shutdown, instanceops.Reboot,
	instanceops.Reinstall, instanceops.Rename, instanceops.Destroy}

// shutdownTimeouts are the offered shutdown timeouts in seconds (0:
// Ganeti's default); the form accepts any whole number up to an hour.
var shutdownTimeouts = []int{0, 10, 60, 300, 900}

// maxShutdownTimeout bounds the shutdown timeout, in seconds.
const maxShutdownTimeout = 3600

// instanceActions is the actions part of the instance page, from the
// service's View: what the user may do now, and why not the rest.
type instanceActions struct {
	// URL is the instance page's path; action paths are URL + action.
	URL string
	// Notice is the one reason that disables every owner action (a job
	// running, the admin lock, maintenance, read-only access); when it is
	// set the page shows it instead of a reason per action.
	Notice i18n.Msg
	// NoticeBusy: the notice is what a running job does.
	NoticeBusy bool
	// Problem is the refusal or invalid input being answered, nil on GET.
	Problem *actionProblem
	// Job is the instance's latest tracked job, nil when none.
	Job *jobProgress
	// Config is the configuration form, nil when the hypervisor has no
	// such settings.
	Config *hvConfigView
	// Timeouts are the shutdown timeout choices, in seconds.
	Timeouts []int
	// AllowFrom are the addresses allowed while isolated.
	AllowFrom []string
	// Admin: the user holds can_lock or can_isolate here (the
	// administrative card is shown).
	Admin              bool
	Locked, Isolated   bool
	OwnerUsers, Groups []string

	refusals map[instanceops.Kind]*instanceops.Refusal
}

// Allowed reports whether action k is allowed now.
func (a *instanceActions) Allowed(k string) bool {
	rf, known := a.refusals[instanceops.Kind(k)]
	return known && rf == nil
}

// Reason is why action k is refused ("" message when it is allowed).
func (a *instanceActions) Reason(k string) i18n.Msg {
	if rf := a.refusals[instanceops.Kind(k)]; rf != nil {
		return refusalMessage(rf).Msg
	}
	return i18n.Msg{}
}

// Explain reports whether the page shows action k's own reason in place
// of its button: it is refused, the refusal is not simply that the user
// may never do it, and the panel's notice does not already say why.
func (a *instanceActions) Explain(k string) bool {
	rf := a.refusals[instanceops.Kind(k)]
	if rf == nil || rf.Code == instanceops.NotPermitted {
		return false
	}
	return a.Notice.IsZero() || refusalMessage(rf).Msg != a.Notice
}

// IsBusy reports whether action k is refused because a job runs on the
// instance (its reason is then what the job does).
func (a *instanceActions) IsBusy(k string) bool {
	rf := a.refusals[instanceops.Kind(k)]
	return rf != nil && rf.Code == instanceops.JobPending
}

// OwnerKinds are the owner actions, in the order of the panel.
func (a *instanceActions) OwnerKinds() []string {
	out := make([]string, len(ownerKinds))
	for i, k := range ownerKinds {
		out[i] = string(k)
	}
	return out
}

// AnyExplained reports whether some owner action shows its own reason.
func (a *instanceActions) AnyExplained() bool {
	for _, k := range ownerKinds {
		if a.Explain(string(k)) {
			return true
		}
	}
	return false
}

// KindName is the name of action k.
func (a *instanceActions) KindName(k string) i18n.Msg { return instanceops.Kind(k).Label() }

// Bad reports whether the problem being answered is about field f of
// action k (the field is marked invalid).
func (a *instanceActions) Bad(k, f string) bool { return a.Problem.FieldIs(k, f) }

// Answering reports whether the page answers action k's form.
func (a *instanceActions) Answering(k string) bool { return a.Problem.Is(k) }

// Posted is what was posted in field f of action k's form, when the page
// answers that form ("" otherwise).
func (a *instanceActions) Posted(k, f string) string { return a.Problem.Value(k, f) }

// Permitted reports whether the user may ever do action k on this
// instance (the refusal, if any, is not "not permitted" nor "read only"):
// the administrative buttons are offered only to them.
func (a *instanceActions) Permitted(k string) bool {
	rf, known := a.refusals[instanceops.Kind(k)]
	if !known {
		return false
	}
	return rf == nil || (rf.Code != instanceops.NotPermitted && rf.Code != instanceops.ReadOnly)
}

// TimeoutLabel words a shutdown timeout choice.
func (a *instanceActions) TimeoutLabel(seconds int) i18n.Message {
	switch {
	case seconds == 0:
		return i18n.Message{Msg: i18n.M("instanceactions.shutdown.timeout.default")}
	case seconds%60 == 0:
		return i18n.Message{Msg: i18n.M("instanceactions.shutdown.timeout.minutes"), Args: []any{"N", seconds / 60}}
	default:
		return i18n.Message{Msg: i18n.M("instanceactions.shutdown.timeout.seconds"), Args: []any{"N", seconds}}
	}
}

// hvConfigView is the configuration form: the current (or just posted)
// settings, the choices, and whether the user may change them.
type hvConfigView struct {
	instanceops.HVConfig
	Editable                        bool
	BootOrders, NICTypes, DiskTypes []string
}

// instanceActionsOf prepares the actions part of the page from the
// service's view; pb is the problem being answered (nil on GET).
func (s *Server) instanceActionsOf(loc *i18n.Localizer, v *instanceops.View, pb *actionProblem) *instanceActions {
	in := v.Instance
	a := &instanceActions{URL: s.instancePath(in.ClusterSlug, in.Name), Problem: pb, Timeouts: shutdownTimeouts,
		Locked: in.AdminLock, Isolated: in.Isolate, OwnerUsers: in.OwnerUsers, Groups: in.OwnerGroups,
		refusals: map[instanceops.Kind]*instanceops.Refusal{}}
	for _, k := range instanceops.Kinds() {
		a.refusals[k] = v.Refusals[k]
	}
	a.Notice = commonReason(a.refusals)
	a.NoticeBusy = !a.Notice.IsZero() && a.IsBusy(string(instanceops.Start))
	a.Admin = a.Permitted(string(instanceops.Lock)) || a.Permitted(string(instanceops.Isolate))
	prefix := s.cfg.TagPrefix + ":whitelist_ip:"
	for _, t := range in.Tags {
		if ip, ok := strings.CutPrefix(t, prefix); ok {
			a.AllowFrom = append(a.AllowFrom, ip)
		}
	}
	if c, ok := instanceops.ConfigOf(in); ok {
		if pb.Is(string(instanceops.Configure)) {
			c = postedConfig(pb)
		}
		a.Config = &hvConfigView{HVConfig: c, Editable: a.Allowed(string(instanceops.Configure)),
			BootOrders: instanceops.BootOrders, NICTypes: instanceops.NICTypes, DiskTypes: instanceops.DiskTypes}
	}
	if v.Last != nil {
		a.Job = s.jobProgressOf(loc, v.Last)
	}
	return a
}

// commonReason returns the reason every owner action is refused for,
// when it is one and the same and not about the machine's power state
// (which differs per action); the zero Msg otherwise.
func commonReason(refusals map[instanceops.Kind]*instanceops.Refusal) i18n.Msg {
	var first *instanceops.Refusal
	for _, k := range ownerKinds {
		rf := refusals[k]
		if rf == nil || rf.Code == instanceops.WrongState || rf.Code == instanceops.Invalid {
			return i18n.Msg{}
		}
		if first == nil {
			first = rf
		} else if rf.Code != first.Code || rf.Msg != first.Msg {
			return i18n.Msg{}
		}
	}
	if first == nil {
		return i18n.Msg{}
	}
	return refusalMessage(first).Msg
}

// postedConfig is the configuration form as it was posted.
func postedConfig(pb *actionProblem) instanceops.HVConfig {
	k := string(instanceops.Configure)
	return instanceops.HVConfig{BootOrder: pb.Value(k, "boot_order"), CDROMURL: pb.Value(k, "cdrom_url"),
		NICType: pb.Value(k, "nic_type"), DiskType: pb.Value(k, "disk_type"), UseLocalTime: pb.Value(k, "use_localtime") == "on"}
}

// jobProgress is a tracked job as the progress area shows it (template
// "instance_job", also served alone as a fragment and in the event
// stream).
type jobProgress struct {
	L   *i18n.Localizer
	Job *store.InstanceJob
	// What the job does, in words: "Shutting down" while it runs, the
	// action's name once it ended.
	What   i18n.Msg
	Status i18n.Msg
	// Success: it ended well.
	Success bool
	// PageURL is the instance page; EventsURL the event stream of the
	// job's progress; NextURL where to go once it ended (the instance
	// page, its new name's page after a rename, the list after a
	// destroy).
	PageURL, EventsURL, NextURL string
}

// jobProgressOf prepares a tracked job for the progress area.
func (s *Server) jobProgressOf(loc *i18n.Localizer, j *store.InstanceJob) *jobProgress {
	k := instanceops.Kind(j.Kind)
	page := s.instancePath(j.ClusterSlug, j.Instance)
	jp := &jobProgress{L: loc, Job: j, What: k.Busy(), Status: jobStatusName(j.Status),
		Success: j.Status == "success", PageURL: page, NextURL: page,
		EventsURL: page + "jobs/" + strconv.FormatInt(j.ID, 10) + "/events"}
	if j.Finished() {
		jp.What = k.Label()
	}
	if jp.Success {
		switch k {
		case instanceops.Destroy:
			jp.NextURL = s.path("/instances/")
		case instanceops.Rename:
			if j.Detail != "" {
				jp.NextURL = s.instancePath(j.ClusterSlug, j.Detail)
			}
		}
	}
	return jp
}

// jobStatusName is a tracked job's status in words.
func jobStatusName(status string) i18n.Msg {
	switch status {
	case store.JobSubmitting:
		return i18n.M("instanceactions.job.status.submitting")
	case "queued":
		return i18n.M("instanceactions.job.status.queued")
	case "waiting":
		return i18n.M("instanceactions.job.status.waiting")
	case "running":
		return i18n.M("instanceactions.job.status.running")
	case "canceling":
		return i18n.M("instanceactions.job.status.canceling")
	case "success":
		return i18n.M("instanceactions.job.status.success")
	case "error":
		return i18n.M("instanceactions.job.status.error")
	case "canceled":
		return i18n.M("instanceactions.job.status.canceled")
	case store.JobLost:
		return i18n.M("instanceactions.job.status.lost")
	}
	return i18n.M("instanceactions.job.status.unknown")
}
