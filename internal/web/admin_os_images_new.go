package web

import "net/http"

// adminOSImagesNew shows the form for adding a catalogue image.
func (s *Server) adminOSImagesNew(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) {
		return
	}
	s.render(w, r, http.StatusOK, "admin_os_image_form", &osImageForm{Enabled: true})
}
