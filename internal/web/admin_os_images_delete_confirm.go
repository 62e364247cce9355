package web

import "net/http"

// adminOSImagesDeleteConfirm asks before deleting a catalogue image.
func (s *Server) adminOSImagesDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	im := s.osImageFromURL(w, r)
	if im == nil {
		return
	}
	s.render(w, r, http.StatusOK, "admin_os_image_delete", im)
}
