package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// adminOSImagesUpdate changes a catalogue image (not its id). A blank
// secret field keeps the stored secret parameters; values given replace
// them all. An invalid form is shown again (422) and nothing is written.
func (s *Server) adminOSImagesUpdate(w http.ResponseWriter, r *http.Request) {
	im := s.osImageFromURL(w, r)
	if im == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	f := &osImageForm{Editing: true, ID: im.ID, SecretNames: im.SecretNames}
	in := parseOSImageForm(r, f)
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_os_image_form", f)
		return
	}
	ctx := r.Context()
	p := principalFrom(r)
	_, err := s.apps.UpdateImage(ctx, p, im.ID, in)
	if s.osImageSaveFailed(w, r, f, err) {
		return
	}
	s.log.Info("os image changed", "image", im.ID, "secrets_kept", in.KeepSecrets, "by", p.User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("appadmin.images.updated"))
	http.Redirect(w, r, s.path(osImagesPath), http.StatusSeeOther)
}
