package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminOSImagesDelete deletes a catalogue image no application uses; one
// in use is refused (409) with the advice to disable it instead.
func (s *Server) adminOSImagesDelete(w http.ResponseWriter, r *http.Request) {
	im := s.osImageFromURL(w, r)
	if im == nil {
		return
	}
	ctx := r.Context()
	p := principalFrom(r)
	err := s.apps.DeleteImage(ctx, p, im.ID)
	switch {
	case errors.Is(err, store.ErrImageInUse):
		s.errorPage(w, r, http.StatusConflict, i18n.M("appadmin.images.in_use"))
		return
	case errors.Is(err, store.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, i18n.M("appadmin.images.not_found"))
		return
	case err != nil:
		s.applicationFailed(w, r, err)
		return
	}
	s.log.Info("os image deleted", "image", im.ID, "by", p.User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("appadmin.images.deleted"))
	http.Redirect(w, r, s.path(osImagesPath), http.StatusSeeOther)
}
