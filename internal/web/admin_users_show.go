package web

import (
	"net/http"
	"slices"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminUserShowData is an account's administration page: its facts,
// groups, permissions and the actions its state allows. It is also the
// page where a registration is approved or rejected.
type adminUserShowData struct {
	accountLabels
	Detail *store.UserDetail
	State  store.AccountState
	// Self: the administrator is looking at their own account.
	Self bool
	// Groups are every group, for the membership form.
	Groups      []store.Group
	Permissions []permissionChoice
	// Errors are the forms' field errors ("groups", "permissions",
	// "reason"); Error is about a refused action.
	Errors fieldErrors
	Error  i18n.Message
	// Reason is the rejection reason as typed, shown back with an error.
	Reason string
}

// MemberOf reports whether the account belongs to the group (for the
// template).
func (d *adminUserShowData) MemberOf(id int64) bool {
	return slices.ContainsFunc(d.Detail.Groups, func(g store.Group) bool { return g.ID == id })
}

// HasErrors reports whether the page shows an error.
func (d *adminUserShowData) HasErrors() bool { return len(d.Errors) > 0 || !d.Error.Msg.IsZero() }

// adminUsersShow shows an account to the administrators.
func (s *Server) adminUsersShow(w http.ResponseWriter, r *http.Request) {
	u := s.accountFromURL(w, r)
	if u == nil {
		return
	}
	s.renderAdminUser(w, r, u.ID, http.StatusOK, nil)
}

// renderAdminUser renders the account's page with a status; edit, when
// not nil, adds errors or typed values to the page's data first.
func (s *Server) renderAdminUser(w http.ResponseWriter, r *http.Request, id int64, status int, edit func(*adminUserShowData)) {
	ctx := r.Context()
	det, err := s.store.UserDetail(ctx, id)
	if s.loadFailed(w, r, err) {
		return
	}
	d := &adminUserShowData{Detail: det, State: det.User.State(), Self: principalFrom(r).User.ID == id}
	if d.Groups, err = s.store.GroupChoices(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Permissions = permissionChoices(det.DirectPermissions, det.EffectivePermissions)
	if edit != nil {
		edit(d)
	}
	s.render(w, r, status, "admin_user", d)
}
