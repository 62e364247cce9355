package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// adminOSImagesCreate adds a catalogue image. The secret OS parameters are
// sealed by the service before they are stored; an invalid form is shown
// again (422) without them and nothing is written.
func (s *Server) adminOSImagesCreate(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	f := &osImageForm{}
	in := parseOSImageForm(r, f)
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_os_image_form", f)
		return
	}
	ctx := r.Context()
	im, err := s.apps.CreateImage(ctx, principalFrom(r), in)
	if s.osImageSaveFailed(w, r, f, err) {
		return
	}
	s.log.Info("os image added", "image", im.ID, "by", principalFrom(r).User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("appadmin.images.created"))
	http.Redirect(w, r, s.path(osImagesPath), http.StatusSeeOther)
}
