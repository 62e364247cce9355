package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminUserDeleteData is the confirmation page of deleting a registration.
type adminUserDeleteData struct {
	User *store.User
}

// adminUsersDeleteConfirm asks before deleting a registration that was
// never approved. Approved accounts are never deleted (they may own
// instances and appear in logs): their page says so (409).
func (s *Server) adminUsersDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	u := s.accountFromURL(w, r)
	if u == nil {
		return
	}
	if u.Approval == store.ApprovalApproved {
		s.renderAdminUser(w, r, u.ID, http.StatusConflict, func(d *adminUserShowData) {
			d.Error = i18n.Message{Msg: i18n.M("adminacct.users.error.deleteapproved")}
		})
		return
	}
	s.render(w, r, http.StatusOK, "admin_user_delete", adminUserDeleteData{User: u})
}
