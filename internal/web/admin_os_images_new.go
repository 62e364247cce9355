package web

import "net/http"

// adminOSImagesNew shows the form for adding a catalogue image; ?provider=
// (from a cluster's OS list) fills in the Ganeti OS provider.
func (s *Server) adminOSImagesNew(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) {
		return
	}
	s.render(w, r, http.StatusOK, "admin_os_image_form", &osImageForm{Enabled: true,
		Provider: r.URL.Query().Get("provider")})
}
