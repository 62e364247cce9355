package web

import (
	"net/http"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// applicationDiscard closes an application without mailing anyone; the
// comment is optional.
func (s *Server) applicationDiscard(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) || s.notReviewer(w, r, audit.ApplicationDiscard) {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	comment := strings.ReplaceAll(r.PostForm.Get("comment"), "\r\n", "\n")
	ctx := r.Context()
	p := principalFrom(r)
	a, err := s.apps.Discard(ctx, p, applicationIDFrom(r), comment)
	if errs, ok := validationErrors(err); ok {
		s.renderApplication(w, r, http.StatusUnprocessableEntity, func(d *applicationShowData) {
			d.Comment, d.Errors = comment, errs
		})
		return
	}
	if s.applicationFailed(w, r, err) {
		return
	}
	s.log.Info("application discarded", "application_id", a.ID, "by", p.User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("apppages.discarded"))
	http.Redirect(w, r, s.path(applications.ApplicationPath(a.ID)), http.StatusSeeOther)
}
