package web

import (
	"slices"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountLabels gives the account administration templates the names of
// account states, list filters and permissions in the reader's language.
// Pages embed it in their data: {{$.L.Msg ($.Data.StateLabel .State)}}.
type accountLabels struct{}

// StateLabel names an account state.
func (accountLabels) StateLabel(st store.AccountState) i18n.Msg {
	switch st {
	case store.StateActive:
		return i18n.M("adminacct.state.active")
	case store.StateInactive:
		return i18n.M("adminacct.state.inactive")
	case store.StateUnverified:
		return i18n.M("adminacct.state.unverified")
	case store.StatePending:
		return i18n.M("adminacct.state.pending")
	default:
		return i18n.M("adminacct.state.rejected")
	}
}

// FilterLabel names a user list filter.
func (accountLabels) FilterLabel(f store.UserFilter) i18n.Msg {
	switch f {
	case store.FilterActive:
		return i18n.M("adminacct.filter.active")
	case store.FilterInactive:
		return i18n.M("adminacct.filter.inactive")
	case store.FilterPending:
		return i18n.M("adminacct.filter.pending")
	case store.FilterUnverified:
		return i18n.M("adminacct.filter.unverified")
	case store.FilterRejected:
		return i18n.M("adminacct.filter.rejected")
	case store.FilterSuperuser:
		return i18n.M("adminacct.filter.superuser")
	default:
		return i18n.M("adminacct.filter.all")
	}
}

// PermissionLabel describes a permission (the code name is shown beside it).
func (accountLabels) PermissionLabel(p string) i18n.Msg {
	switch auth.Permission(p) {
	case auth.ViewInstances:
		return i18n.M("adminacct.perm.view_instances")
	case auth.CanLock:
		return i18n.M("adminacct.perm.can_lock")
	case auth.CanIsolate:
		return i18n.M("adminacct.perm.can_isolate")
	case auth.ViewAllGraphs:
		return i18n.M("adminacct.perm.view_all_graphs")
	case auth.ViewApplications:
		return i18n.M("adminacct.perm.view_applications")
	case auth.ChangeApplication:
		return i18n.M("adminacct.perm.change_application")
	case auth.CanViewNotif:
		return i18n.M("adminacct.perm.can_view_notif")
	default:
		return i18n.M("adminacct.perm.unknown")
	}
}

// permissionChoice is one permission's checkbox.
type permissionChoice struct {
	Name    string
	Checked bool // granted directly (to the user or the group)
	// Inherited: the user holds it through a group (user page only).
	Inherited bool
}

// permissionChoices lists every permission, checking those in granted and
// marking those in effective but not granted as inherited.
func permissionChoices(granted, effective []string) []permissionChoice {
	out := make([]permissionChoice, 0, len(auth.Permissions()))
	for _, p := range auth.Permissions() {
		c := permissionChoice{Name: string(p), Checked: slices.Contains(granted, string(p))}
		c.Inherited = !c.Checked && slices.Contains(effective, string(p))
		out = append(out, c)
	}
	return out
}
