package web

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
)

// maxRejectReason bounds the explanation mailed with a rejection.
const maxRejectReason = 2000

// adminUsersReject rejects a pending registration; the applicant is mailed
// the optional reason, in their language, in the same transaction. The
// account stays (inactive) until its registration is deleted.
func (s *Server) adminUsersReject(w http.ResponseWriter, r *http.Request) {
	u := s.accountFromURL(w, r)
	if u == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	reason := strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get("reason"), "\r\n", "\n"))
	var bad i18n.Message
	switch {
	case utf8.RuneCountInString(reason) > maxRejectReason:
		bad = i18n.Message{Msg: i18n.M("adminacct.toolong"), Args: []any{"Max", maxRejectReason}}
	case strings.ContainsFunc(reason, func(c rune) bool { return unicode.IsControl(c) && c != '\n' && c != '\t' }):
		bad = i18n.Message{Msg: i18n.M("adminacct.control")}
	}
	if !bad.Msg.IsZero() {
		s.renderAdminUser(w, r, u.ID, http.StatusUnprocessableEntity, func(d *adminUserShowData) {
			d.Errors = d.Errors.add("reason", bad.Msg, bad.Args...)
			d.Reason = reason
		})
		return
	}
	ctx := r.Context()
	by := principalFrom(r).User.ID
	_, err := s.store.RejectUser(ctx, u.ID, by, s.mailAccountTx(u, mail.AccountRejected{Username: u.Username, Reason: reason})...)
	if s.accountActionFailed(w, r, u.ID, err) {
		return
	}
	s.forgetPrincipals(u.ID)
	s.log.Info("registration rejected", "user_id", u.ID, "by", by, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.users.rejected"))
	http.Redirect(w, r, s.adminUserPath(u.ID), http.StatusSeeOther)
}
