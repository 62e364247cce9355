package applications

import (
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Status is an application's state (see store.ApplicationStatus for the
// values and ganetimgr's codes).
type Status = store.ApplicationStatus

// Filed is the "from" status of a rule that files a new application.
const Filed Status = ""

// Role is who acts on an application; a Rule names the roles it allows.
type Role uint8

// Roles. A user may hold several (a reviewer who is also the applicant).
const (
	// RoleApplicant is the user who filed the application.
	RoleApplicant Role = 1 << iota
	// RoleReviewer holds change_application (or is a superuser).
	RoleReviewer
	// RoleSystem is ganetimgr itself: the submission job.
	RoleSystem
)

// Rule is one allowed status change.
type Rule struct {
	From, To Status
	// By are the roles that may make the change.
	By Role
	// NeedsComment: the change needs a comment (a refusal's reason, which
	// is mailed to the applicant).
	NeedsComment bool
	// NeedsPlacement: the change needs a cluster, node group, network and
	// disk template.
	NeedsPlacement bool
}

// rules is the one table of allowed transitions. Everything else (a
// reviewer creating a VM without review, an applicant approving their own
// application, anything leaving created, refused or discarded) is refused.
var rules = []Rule{
	// Filing: users apply; a reviewer creating a VM directly (fast
	// creation) files it approved, with its placement.
	{From: Filed, To: store.AppPending, By: RoleApplicant | RoleReviewer},
	{From: Filed, To: store.AppApproved, By: RoleReviewer, NeedsPlacement: true},
	// Review.
	{From: store.AppPending, To: store.AppApproved, By: RoleReviewer, NeedsPlacement: true},
	{From: store.AppPending, To: store.AppRefused, By: RoleReviewer, NeedsComment: true},
	{From: store.AppPending, To: store.AppDiscarded, By: RoleReviewer},
	// Submission: a background job, queued with the approval.
	{From: store.AppApproved, To: store.AppSubmitted, By: RoleReviewer | RoleSystem},
	{From: store.AppApproved, To: store.AppRefused, By: RoleReviewer, NeedsComment: true},
	{From: store.AppApproved, To: store.AppDiscarded, By: RoleReviewer},
	// The Ganeti job's outcome.
	{From: store.AppSubmitted, To: store.AppCreated, By: RoleSystem},
	{From: store.AppSubmitted, To: store.AppFailed, By: RoleSystem},
	// After a failure: submit again (possibly elsewhere), refuse, discard.
	{From: store.AppFailed, To: store.AppApproved, By: RoleReviewer, NeedsPlacement: true},
	{From: store.AppFailed, To: store.AppRefused, By: RoleReviewer, NeedsComment: true},
	{From: store.AppFailed, To: store.AppDiscarded, By: RoleReviewer},
}

// Rules returns the transition table (a copy).
func Rules() []Rule { return append([]Rule(nil), rules...) }

// Allowed returns the rule for from → to if one of roles may make it.
func Allowed(from, to Status, roles Role) (Rule, bool) {
	for _, r := range rules {
		if r.From == from && r.To == to {
			return r, r.By&roles != 0
		}
	}
	return Rule{}, false
}

// Next returns the statuses roles may move an application from from to,
// in table order (what a page offers).
func Next(from Status, roles Role) []Status {
	var out []Status
	for _, r := range rules {
		if r.From == from && r.By&roles != 0 {
			out = append(out, r.To)
		}
	}
	return out
}

// RolesOf returns the roles p holds towards a (nil a: towards a new
// application).
func RolesOf(p *auth.Principal, a *store.Application) Role {
	var r Role
	if p == nil || p.User == nil || !p.User.IsActive {
		return 0
	}
	if a == nil || a.ApplicantID == p.User.ID {
		r |= RoleApplicant
	}
	if CanReview(p) {
		r |= RoleReviewer
	}
	return r
}

// CanReview reports whether p reviews applications (change_application).
func CanReview(p *auth.Principal) bool { return p.Can(auth.ChangeApplication) }

// CanList reports whether p may list every application (view_applications
// or change_application).
func CanList(p *auth.Principal) bool {
	return p.Can(auth.ViewApplications) || p.Can(auth.ChangeApplication)
}

// CanView reports whether p may see a: their own, or as a lister.
func CanView(p *auth.Principal, a *store.Application) bool {
	if p == nil || p.User == nil || !p.User.IsActive || a == nil {
		return false
	}
	return a.ApplicantID == p.User.ID || CanList(p)
}

// StatusLabel returns the message naming a status.
func StatusLabel(s Status) i18n.Msg {
	switch s {
	case store.AppPending:
		return i18n.M("applications.status.pending")
	case store.AppApproved:
		return i18n.M("applications.status.approved")
	case store.AppSubmitted:
		return i18n.M("applications.status.submitted")
	case store.AppFailed:
		return i18n.M("applications.status.failed")
	case store.AppCreated:
		return i18n.M("applications.status.created")
	case store.AppRefused:
		return i18n.M("applications.status.refused")
	case store.AppDiscarded:
		return i18n.M("applications.status.discarded")
	}
	return i18n.M("applications.status.unknown")
}
