package web

import (
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// auditLabels gives the history page the names of actions and outcomes in
// the reader's language ({{$.L.Msg ($.Data.ActionLabel .Action)}}). Every
// code of audit.Actions has its message "audit.action.<code>".
type auditLabels struct{}

// ActionLabel names an action code; an unknown code (written by a newer
// version) is shown as it is.
func (auditLabels) ActionLabel(code string) i18n.Msg {
	if m, ok := auditActionLabel(audit.Action(code)); ok {
		return m
	}
	return i18n.Stored(code)
}

// auditActionLabel is the message of an action, false for an unknown one.
func auditActionLabel(a audit.Action) (i18n.Msg, bool) {
	switch a {
	case audit.InstanceStart:
		return i18n.M("audit.action.instance.start"), true
	case audit.InstanceShutdown:
		return i18n.M("audit.action.instance.shutdown"), true
	case audit.InstanceReboot:
		return i18n.M("audit.action.instance.reboot"), true
	case audit.InstanceReinstall:
		return i18n.M("audit.action.instance.reinstall"), true
	case audit.InstanceRename:
		return i18n.M("audit.action.instance.rename"), true
	case audit.InstanceDestroy:
		return i18n.M("audit.action.instance.destroy"), true
	case audit.InstanceConfigure:
		return i18n.M("audit.action.instance.configure"), true
	case audit.InstanceOwnerAdd:
		return i18n.M("audit.action.instance.owner_add"), true
	case audit.InstanceOwnerDel:
		return i18n.M("audit.action.instance.owner_remove"), true
	case audit.InstanceLock:
		return i18n.M("audit.action.instance.lock"), true
	case audit.InstanceUnlock:
		return i18n.M("audit.action.instance.unlock"), true
	case audit.InstanceIsolate:
		return i18n.M("audit.action.instance.isolate"), true
	case audit.InstanceDeisolate:
		return i18n.M("audit.action.instance.deisolate"), true
	case audit.InstanceAllowFrom:
		return i18n.M("audit.action.instance.allow_from"), true
	case audit.InstanceConfirmReq:
		return i18n.M("audit.action.instance.confirm_request"), true
	case audit.InstanceJobEnd:
		return i18n.M("audit.action.instance.job_end"), true
	case audit.ApplicationApprove:
		return i18n.M("audit.action.application.approve"), true
	case audit.ApplicationRefuse:
		return i18n.M("audit.action.application.refuse"), true
	case audit.ApplicationDiscard:
		return i18n.M("audit.action.application.discard"), true
	case audit.ApplicationSubmit:
		return i18n.M("audit.action.application.submit"), true
	case audit.ApplicationFast:
		return i18n.M("audit.action.application.fast_create"), true
	case audit.ApplicationFile:
		return i18n.M("audit.action.application.file"), true
	case audit.ApplicationCreate:
		return i18n.M("audit.action.application.create"), true
	}
	return i18n.Msg{}, false
}

// OutcomeLabel names an outcome.
func (auditLabels) OutcomeLabel(o string) i18n.Msg {
	switch audit.Outcome(o) {
	case audit.OK:
		return i18n.M("audit.outcome.ok")
	case audit.Refused:
		return i18n.M("audit.outcome.refused")
	default:
		return i18n.M("audit.outcome.failed")
	}
}

// OutcomeClass is the style of an outcome's badge: refusals and failures
// stand out from the rest.
func (auditLabels) OutcomeClass(o string) string {
	switch audit.Outcome(o) {
	case audit.OK:
		return "state-running"
	case audit.Refused:
		return "badge-isolate"
	default:
		return "badge-lock"
	}
}
