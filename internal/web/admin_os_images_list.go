package web

import "net/http"

// adminOSImagesList lists the operating system catalogue, enabled and
// disabled images, with the names (never the values) of their secret OS
// parameters.
func (s *Server) adminOSImagesList(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) {
		return
	}
	images, err := s.apps.Images(r.Context(), true)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_os_images", images)
}
