package web

import "net/http"

// adminOSImagesEdit shows the form for changing a catalogue image; its
// secret OS parameters are named, their values never shown.
func (s *Server) adminOSImagesEdit(w http.ResponseWriter, r *http.Request) {
	im := s.osImageFromURL(w, r)
	if im == nil {
		return
	}
	s.render(w, r, http.StatusOK, "admin_os_image_form", osImageFormOf(im))
}
